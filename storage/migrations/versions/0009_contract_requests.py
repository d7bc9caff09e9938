"""contract requests: cancellation, move, tariff change

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from domain.types import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'contractrequest',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('received_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('contract_id', sa.Integer(), nullable=True),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('content', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column('effective', sa.Date(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id']),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('contractrequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contractrequest_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_contractrequest_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contractrequest_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contractrequest_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contractrequest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contractrequest_status'))
        batch_op.drop_index(batch_op.f('ix_contractrequest_contract_id'))
        batch_op.drop_index(batch_op.f('ix_contractrequest_customer_id'))
        batch_op.drop_index(batch_op.f('ix_contractrequest_kind'))
    op.drop_table('contractrequest')
