"""when a staff member's password was set

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 04:30:00

A start password (given at creation or by an admin) is void after seven days. Empty for the accounts so far: their
password counts as set when the account was created.
"""

import sqlalchemy as sa
from alembic import op

from domain.types import UTCDateTime

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staffuser', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_set_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staffuser', schema=None) as batch_op:
        batch_op.drop_column('password_set_at')
