"""reading reminders: who got which, the opt-out, and the outbox claimed by due time

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 00:10:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from domain.types import UTCDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'readingreminder',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('meter_id', sa.Integer(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('queued_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id']),
        sa.ForeignKeyConstraint(['meter_id'], ['meter.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    with op.batch_alter_table('readingreminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_readingreminder_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_readingreminder_period_end'), ['period_end'], unique=False)
        batch_op.create_index('ix_readingreminder_meter', ['meter_id', 'period_end', 'kind'], unique=False)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_off', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('outboxmail', schema=None) as batch_op:
        batch_op.create_index('ix_outboxmail_due', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outboxmail', schema=None) as batch_op:
        batch_op.drop_index('ix_outboxmail_due')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('reminders_off')
    with op.batch_alter_table('readingreminder', schema=None) as batch_op:
        batch_op.drop_index('ix_readingreminder_meter')
        batch_op.drop_index(batch_op.f('ix_readingreminder_period_end'))
        batch_op.drop_index(batch_op.f('ix_readingreminder_customer_id'))
    op.drop_table('readingreminder')
