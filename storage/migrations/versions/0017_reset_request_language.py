"""the language a "Passwort vergessen?" request was made in

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:30:00

The reset mail is made later by the background, which has no visitor: the request keeps the visitor's language so
that an English visitor gets the link in English.
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('resetrequest') as table:
        table.add_column(sa.Column('language', sa.String(length=2), nullable=False, server_default='de'))


def downgrade() -> None:
    with op.batch_alter_table('resetrequest') as table:
        table.drop_column('language')
