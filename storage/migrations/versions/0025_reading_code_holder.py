"""whose a reading code is, and what made it

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 06:30:00

A code was bound to the meter alone: when the meter went to the next tenant's contract, the old tenant's mailed
code opened the new tenant's readings. And the paper letters' codes, issued after a reminder had been mailed,
ended the reminder's code, whose link then answered "Code ungültig". A code now names its customer and its kind:
`reminder` (filled in from the reminder it was mailed with) or `letter` (the customer of the meter's contract).
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('readingcode') as table:
        table.add_column(sa.Column('customer_id', sa.Integer(), nullable=True))
        table.add_column(sa.Column('kind', sa.String(length=10), nullable=False, server_default='letter'))
        table.create_foreign_key('fk_readingcode_customer_id_customer', 'customer', ['customer_id'], ['id'])
    # a code mailed with a reminder was made in the reminder's transaction, which names its customer (a tenant who
    # has moved out since, whose code must not open the next tenant's meter); the letters' codes must not end it
    reminder = (
        'FROM readingreminder WHERE readingreminder.meter_id = readingcode.meter_id '
        'AND readingreminder.queued_at = readingcode.created_at'
    )
    whose = f'(SELECT MIN(readingreminder.customer_id) {reminder})'
    op.execute(f"UPDATE readingcode SET kind = 'reminder', customer_id = {whose} WHERE EXISTS (SELECT 1 {reminder})")
    # a letter's code went by post to the meter's address: its customer is the meter's contract's (also a code
    # printed before that contract began, for the tenant moving in)
    op.execute(
        'UPDATE readingcode SET customer_id = (SELECT contract.customer_id FROM meter JOIN contract '
        "ON contract.id = meter.contract_id WHERE meter.id = readingcode.meter_id) WHERE kind = 'letter'"
    )


def downgrade() -> None:
    with op.batch_alter_table('readingcode') as table:
        table.drop_constraint('fk_readingcode_customer_id_customer', type_='foreignkey')
        table.drop_column('kind')
        table.drop_column('customer_id')
