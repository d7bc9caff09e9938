"""login addresses in Unicode NFC

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 00:30:00

A login's address is compared in Unicode NFC from now on ('ü' typed as one character or as 'u' and a combining
mark, as some systems paste it, is one address): an address stored otherwise is rewritten in NFC, so that its owner
still logs in. One whose NFC form another login already has is left as it is (that login is the one the address
now reaches).
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    for table in ('portaluser', 'staffuser'):
        rows = connection.execute(sa.text(f'SELECT id, email FROM {table}')).all()
        taken = {email for _, email in rows}
        for row_id, email in rows:
            nfc = unicodedata.normalize('NFC', email)
            if nfc != email and nfc not in taken:
                connection.execute(
                    sa.text(f'UPDATE {table} SET email = :email WHERE id = :id'), {'email': nfc, 'id': row_id}
                )
                taken.add(nfc)


def downgrade() -> None:
    """The NFC form is the same address: nothing to undo."""
