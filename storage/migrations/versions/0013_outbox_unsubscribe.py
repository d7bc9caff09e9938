"""outbox: a bulk mail's List-Unsubscribe URL

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 00:50:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outboxmail', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('unsubscribe', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('outboxmail', schema=None) as batch_op:
        batch_op.drop_column('unsubscribe')
