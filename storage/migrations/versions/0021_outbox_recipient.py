"""the outbox by recipient

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 04:00:00

The customer card says when the newest mail to a customer's address was not delivered (an unknown mailbox is
given up at once): it looks up that address's newest mail.
"""

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outboxmail', schema=None) as batch_op:
        batch_op.create_index('ix_outboxmail_recipient', ['recipient', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outboxmail', schema=None) as batch_op:
        batch_op.drop_index('ix_outboxmail_recipient')
