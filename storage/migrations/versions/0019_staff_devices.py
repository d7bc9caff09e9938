"""the browsers staff members logged in from

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 01:45:00

Twenty wrong passwords from anywhere held a staff account back for everyone, its owner in the office too: anyone
who knew a staff address could lock the back office. A browser the staff member logged in from before passes that
hold with the right password, as a customer's does (`knowndevice`).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from domain.types import UTCDateTime

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staffdevice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staffuser.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('staffdevice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staffdevice_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staffdevice_digest'), ['digest'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staffdevice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staffdevice_digest'))
        batch_op.drop_index(batch_op.f('ix_staffdevice_staff_id'))
    op.drop_table('staffdevice')
