"""api tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 08:50:22.314637
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import domain.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'apitoken',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('created_at', domain.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', domain.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', domain.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('cursor', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['created_by'],
            ['staffuser.id'],
        ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('digest'),
    )


def downgrade() -> None:
    op.drop_table('apitoken')
