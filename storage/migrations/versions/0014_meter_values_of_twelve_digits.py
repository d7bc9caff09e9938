"""meter readings: values of meters that count with 12 digits before the point

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:00:00

A meter may count with up to 12 digits before the point (docs/import-format.md), but PostgreSQL's NUMERIC(14,3)
took only 11: such a reading was refused by the database. SQLite keeps the value as text and needs no change.
A downgrade fails while a reading of 10^11 or more is stored: it would not fit the narrower column.
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':  # a wider precision, same scale: no rewrite of the table
        op.alter_column('meterreading', 'value', type_=sa.Numeric(16, 3), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('meterreading', 'value', type_=sa.Numeric(14, 3), existing_nullable=False)
