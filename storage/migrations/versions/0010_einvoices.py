"""e-invoices: a business customer's VAT ID and Leitweg-ID, a bill's XML

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 23:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns already there are left as they are: until 03.12.2026 an SQLite portal with customers failed at 0012,
    # and Python's sqlite3 had committed these three ALTERs at once, leaving the version at 0009 with them added
    # (docs/operations.md, "Upgrade"). Such a database goes on from here.
    there = {(table, c['name']) for table in ('customer', 'bill') for c in sa.inspect(op.get_bind()).get_columns(table)}
    columns = {
        'customer': [('vat_id', 20), ('leitweg_id', 46)],
        'bill': [('xml_path', 300)],
    }
    for table, wanted in columns.items():
        missing = [(name, length) for name, length in wanted if (table, name) not in there]
        if not missing:
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, length in missing:
                batch_op.add_column(
                    sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False, server_default='')
                )


def downgrade() -> None:
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_column('xml_path')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('leitweg_id')
        batch_op.drop_column('vat_id')
