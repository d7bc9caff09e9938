"""the language a contract request and a contact message were made in

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 01:20:00

Staff answer them later, from pages shown in the clerk's language: the request keeps the customer's, so that the
answer's mail is written in it (a clerk on the English pages answered a German cancellation with an English mail
that carried the German title and verdict).
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ('contractrequest', 'contactmessage'):
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column('language', sa.String(length=2), nullable=False, server_default='de'))


def downgrade() -> None:
    for name in ('contractrequest', 'contactmessage'):
        with op.batch_alter_table(name) as table:
            table.drop_column('language')
