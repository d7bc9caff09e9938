"""customer totp and inbox documents

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:36.932644
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inboxmessage', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('document_path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False, server_default='')
        )

    with op.batch_alter_table('portaluser', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('totp_enabled', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('portaluser', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled')
        batch_op.drop_column('totp_secret')

    with op.batch_alter_table('inboxmessage', schema=None) as batch_op:
        batch_op.drop_column('document_path')
