"""change marks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 08:48:42.424926
"""

import sqlalchemy as sa
from alembic import op

import domain.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'changemark',
        sa.Column('audit_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('marked_at', domain.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['audit_id'],
            ['auditentry.id'],
        ),
        sa.ForeignKeyConstraint(
            ['staff_id'],
            ['staffuser.id'],
        ),
        sa.PrimaryKeyConstraint('audit_id'),
    )


def downgrade() -> None:
    op.drop_table('changemark')
