"""billing information (§40b EnWG): the entries and each customer's chosen interval

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 23:45:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from domain.types import Money, UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'billinginformation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('through', sa.Date(), nullable=False),
        sa.Column('made_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('projected_result', Money(precision=14, scale=2), nullable=False),
        sa.Column('pdf_path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('details', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id']),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    with op.batch_alter_table('billinginformation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billinginformation_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billinginformation_customer_id'), ['customer_id'], unique=False)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('information_months', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('information_months')
    with op.batch_alter_table('billinginformation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billinginformation_customer_id'))
        batch_op.drop_index(batch_op.f('ix_billinginformation_contract_id'))
    op.drop_table('billinginformation')
