"""the language a login last signed in with

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 06:40:00

What the portal writes with no visitor in front of it (a bill's or a billing information's inbox message and mail
from the runs, a reading reminder, a mail staff cause) was German for every customer: it is now in the language the
customer last logged in with. German for the logins so far, until their next login.
"""

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('portaluser') as table:
        table.add_column(sa.Column('language', sa.String(length=2), nullable=False, server_default='de'))


def downgrade() -> None:
    with op.batch_alter_table('portaluser') as table:
        table.drop_column('language')
