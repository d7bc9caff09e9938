"""staff accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 08:34:35.090492
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import domain.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staffuser',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('must_change_password', sa.Boolean(), nullable=False),
        sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('totp_enabled', sa.Boolean(), nullable=False),
        sa.Column('totp_last_step', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', domain.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_login_at', domain.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('session_epoch', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('staffuser', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staffuser_email'), ['email'], unique=True)

    op.create_table(
        'recoverycode',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('used_at', domain.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['staff_id'],
            ['staffuser.id'],
        ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('recoverycode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recoverycode_staff_id'), ['staff_id'], unique=False)

    with op.batch_alter_table('contactmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('answered_at', domain.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_contactmessage_staff_id', 'staffuser', ['staff_id'], ['id'])

    with op.batch_alter_table('reviewitem', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', domain.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False, server_default='')
        )
        batch_op.create_foreign_key('fk_reviewitem_decided_by', 'staffuser', ['decided_by'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('reviewitem', schema=None) as batch_op:
        batch_op.drop_constraint('fk_reviewitem_decided_by', type_='foreignkey')
        batch_op.drop_column('decision_note')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by')

    with op.batch_alter_table('contactmessage', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contactmessage_staff_id', type_='foreignkey')
        batch_op.drop_column('answered_at')
        batch_op.drop_column('answer')
        batch_op.drop_column('staff_id')

    with op.batch_alter_table('recoverycode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recoverycode_staff_id'))

    op.drop_table('recoverycode')
    with op.batch_alter_table('staffuser', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staffuser_email'))

    op.drop_table('staffuser')
