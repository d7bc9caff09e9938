"""a contract's supply address (Lieferstelle)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 06:10:00

The bill names the supply point (§40 EnWG); it was the customer's postal address, which after a move is the new
one: the final bill for the old flat named the new flat. Empty for the contracts so far (the postal address, as
before, until the billing system sends it).
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contract') as table:
        table.add_column(sa.Column('supply_address', sa.String(length=200), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('contract') as table:
        table.drop_column('supply_address')
