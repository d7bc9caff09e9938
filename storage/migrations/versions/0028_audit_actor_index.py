"""an index on the audit log's actor

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 01:20:00

A deleted login's own log entries lose their addresses (`forget_login_entries`), and a login's data export lists
them (`login_entries`): both look them up by actor, which without an index read every entry without a customer
(every login writes one): 0.4 s a deleted login at a million of them, on SQLite under its one write lock.
"""

from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_auditentry_actor', 'auditentry', ['actor'])


def downgrade() -> None:
    op.drop_index('ix_auditentry_actor', table_name='auditentry')
