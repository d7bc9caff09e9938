"""e-invoices: a business customer's VAT ID and Leitweg-ID, a bill's XML

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 23:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('vat_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('leitweg_id', sqlmodel.sql.sqltypes.AutoString(length=46), nullable=False, server_default='')
        )
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('xml_path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_column('xml_path')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('leitweg_id')
        batch_op.drop_column('vat_id')
