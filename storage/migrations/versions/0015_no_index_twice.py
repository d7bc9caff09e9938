"""indexes that another index already gives

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 15:30:00

A unique key or an index whose first column is X is also an index by X: the single-column indexes below only cost
every insert an update more (an import of 150,000 customers writes 1.2 million readings and installments).
"""

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# index → (table, column); each covered by the table's unique key or compound index starting with that column
TWICE = {
    'ix_meterreading_meter_id': ('meterreading', 'meter_id'),
    'ix_price_tariff_code': ('price', 'tariff_code'),
    'ix_installmentplan_contract_id': ('installmentplan', 'contract_id'),
    'ix_payment_contract_id': ('payment', 'contract_id'),
    'ix_outboxmail_status': ('outboxmail', 'status'),
}


def upgrade() -> None:
    for name, (table, _) in TWICE.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, (table, column) in TWICE.items():
        op.create_index(name, table, [column], unique=False)
