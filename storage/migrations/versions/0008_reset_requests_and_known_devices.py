"""reset requests worked off the request path, and known devices

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from domain.types import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'resetrequest',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('requested_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('resetrequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resetrequest_requested_at'), ['requested_at'], unique=False)
    op.create_table(
        'knowndevice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['portaluser.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('knowndevice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowndevice_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowndevice_digest'), ['digest'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('knowndevice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowndevice_digest'))
        batch_op.drop_index(batch_op.f('ix_knowndevice_user_id'))
    op.drop_table('knowndevice')
    with op.batch_alter_table('resetrequest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resetrequest_requested_at'))
    op.drop_table('resetrequest')
