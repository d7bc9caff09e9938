"""every answer staff gave to a contact message

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 01:55:00

A second answer replaced the first in the staff's view (the customer's inbox kept both). The answers given so far
are taken over, each message's one kept answer, without the staff member who wrote it (not recorded then).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from domain.types import UTCDateTime

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'contactanswer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['contactmessage.id']),
        sa.ForeignKeyConstraint(['staff_id'], ['staffuser.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('contactanswer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contactanswer_message_id'), ['message_id'], unique=False)
    op.execute(
        'INSERT INTO contactanswer (message_id, created_at, text) '
        "SELECT id, answered_at, answer FROM contactmessage WHERE answer <> '' AND answered_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('contactanswer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contactanswer_message_id'))
    op.drop_table('contactanswer')
