"""whose a reading code is, and what made it

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 06:30:00

A code was bound to the meter alone: when the meter went to the next tenant's contract, the old tenant's mailed
code opened the new tenant's readings. And the paper letters' codes, issued after a reminder had been mailed,
ended the reminder's code, whose link then answered "Code ungültig". A code now names its customer (filled in from
the meter's contract for the codes made since that contract began; an older one ends) and its kind: `letter` or
`reminder` (a code made with a reminder).
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
    # a code made since the meter's contract began is that contract's customer's; one made before it was another
    # holder's (a tenant's who moved out), who is not known: it ends
    op.execute(
        'UPDATE readingcode SET customer_id = (SELECT contract.customer_id FROM meter JOIN contract '
        'ON contract.id = meter.contract_id WHERE meter.id = readingcode.meter_id '
        'AND readingcode.created_at >= contract.start_date)'
    )
    op.execute('UPDATE readingcode SET expires_at = created_at WHERE customer_id IS NULL AND used_at IS NULL')
    # a code mailed with a reminder was made in the reminder's transaction: the letters' codes must not end it
    op.execute(
        "UPDATE readingcode SET kind = 'reminder' WHERE EXISTS (SELECT 1 FROM readingreminder "
        'WHERE readingreminder.meter_id = readingcode.meter_id AND readingreminder.queued_at = readingcode.created_at)'
    )


def downgrade() -> None:
    with op.batch_alter_table('readingcode') as table:
        table.drop_constraint('fk_readingcode_customer_id_customer', type_='foreignkey')
        table.drop_column('kind')
        table.drop_column('customer_id')
