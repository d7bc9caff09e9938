"""the language a review item was asked for in

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 06:00:00

Staff decide later, from pages in the clerk's language: the item keeps the customer's, so that the decision's inbox
message and mail are written in it (a customer on the English pages got "Wir haben zugestimmt.").
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reviewitem') as table:
        table.add_column(sa.Column('language', sa.String(length=2), nullable=False, server_default='de'))


def downgrade() -> None:
    with op.batch_alter_table('reviewitem') as table:
        table.drop_column('language')
