"""one current bank account per customer

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 19:10:00

"Bankverbindung speichern" sent twice at once (a double click, two tabs) let both requests supersede the same old
account and each add a new one: two current accounts with two active mandates. A partial unique index keeps one;
the second request fails with ConcurrentChange and saves nothing. Accounts made so by the race before are put
right first: the newest stays current.
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

CURRENT = sa.text('superseded_at IS NULL')


def upgrade() -> None:
    op.execute(  # superseded as the portal supersedes: its mandate revoked with it
        'UPDATE bankaccount SET superseded_at = created_at, mandate_revoked_at = CASE WHEN mandate_granted_at IS '
        'NOT NULL AND mandate_revoked_at IS NULL THEN created_at ELSE mandate_revoked_at END '
        'WHERE superseded_at IS NULL AND EXISTS ('
        'SELECT 1 FROM bankaccount AS newer WHERE newer.customer_id = bankaccount.customer_id '
        'AND newer.superseded_at IS NULL AND newer.id > bankaccount.id)'
    )
    op.create_index(
        'uq_bankaccount_current',
        'bankaccount',
        ['customer_id'],
        unique=True,
        sqlite_where=CURRENT,
        postgresql_where=CURRENT,
    )


def downgrade() -> None:
    op.drop_index('uq_bankaccount_current', table_name='bankaccount')
