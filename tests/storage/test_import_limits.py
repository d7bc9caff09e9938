"""What the billing system's files and API rows may hold (storage/csv_kinds.py): every text as long as its column,
every day within the span the portal reads (domain/clock.py FIRST_DAY … LAST_DAY), on SQLite and PostgreSQL."""

import pytest
from sqlmodel import Session, select

from domain.clock import SystemClock
from domain.data_export import export_data
from domain.model import Contract, Customer
from storage.importer import import_rows
from tests.factories import make_customer, make_login
from tests.storage.conftest import run

CUSTOMER = {
    'customer_number': '40009999', 'salutation': 'Frau', 'first_name': 'Ida', 'last_name': 'Import', 'company': '',
    'street': 'Weg', 'house_number': '1', 'postal_code': '27749', 'city': 'Aue', 'email': '', 'phone': '',
    'paperless': '0',
}  # fmt: skip


def reading(meter_number: str, when: str) -> dict:
    return {'meter_number': meter_number, 'register': '1.8.0', 'reading_date': when, 'value': '1', 'source': 'utility'}


@pytest.mark.parametrize('when', ['9999-12-31', '2101-01-01', '1899-12-31', '0001-01-01'])
def test_a_day_outside_the_portal_s_span_is_a_row_error(engine, tmp_path, when):
    """A reading dated 9999-12-31 was stored, and every page of its customer that looks a year ahead failed (year
    10000): the login ended on the error page."""
    customer = make_customer(engine)
    result = import_rows(engine, tmp_path, SystemClock(), 'readings', [reading(customer['meter_number'], when)])
    assert result.created == 0
    assert result.errors == [(0, 'reading_date', f"reading_date '{when}' is not between 1900-01-01 and 2100-12-31")]


def test_every_payment_the_import_takes_is_in_the_customer_s_data_export(engine, tmp_path, uow, context):
    """The export read payments from 2000 on; the import took older ones."""
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']])
    with Session(engine) as session:
        number = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one().contract_number
    rows = [
        {'contract_number': number, 'paid_on': '1900-01-01', 'amount': '50.00'},
        {'contract_number': number, 'paid_on': '1999-12-15', 'amount': '50.00'},
        {'contract_number': number, 'paid_on': '2100-12-31', 'amount': '92.00'},
    ]
    assert import_rows(engine, tmp_path, SystemClock(), 'payments', rows).errors == []
    data = run(uow, export_data, context(), login['id'])
    assert sorted(str(p['paid_on']) for p in data['customers'][0]['payments']) == [r['paid_on'] for r in rows]


@pytest.mark.parametrize('column', [c for c in CUSTOMER if c not in ('paperless', 'customer_number')])
def test_a_customer_s_text_longer_than_its_column_is_a_row_error(engine, tmp_path, column):
    """The salutation (20) and the phone (50) were taken up to 100 characters: SQLite stored them, PostgreSQL
    refused the whole file with an error instead of naming the row."""
    length = Customer.__table__.c[column].type.length
    result = import_rows(engine, tmp_path, SystemClock(), 'customers', [{**CUSTOMER, column: '1' * (length + 1)}])
    assert result.created == 0 and [(i, c) for i, c, _ in result.errors] == [(0, column)]
    fits = import_rows(engine, tmp_path, SystemClock(), 'customers', [{**CUSTOMER, column: '1' * length}])
    assert fits.created == 1 or fits.errors[0][2] != f'{column} is longer than {length} characters'


def test_a_register_named_twice_on_a_meter_is_a_row_error(engine, tmp_path):
    """`1.8.0,1.8.0,…` passed (and could outgrow the column's 60 characters)."""
    customer = make_customer(engine)
    with Session(engine) as session:
        number = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one().contract_number
    meter = {
        'meter_number': 'M9', 'contract_number': number, 'kind': 'manual', 'registers': '1.8.0,1.8.0',
        'pre_decimal_digits': '', 'installed_on': '', 'removed_on': '', 'z_number': '', 'calorific_value': '',
    }  # fmt: skip
    result = import_rows(engine, tmp_path, SystemClock(), 'meters', [meter])
    assert [(i, c) for i, c, _ in result.errors] == [(0, 'registers')]
    assert import_rows(engine, tmp_path, SystemClock(), 'meters', [{**meter, 'registers': '1.8.1,1.8.2'}]).created == 1
