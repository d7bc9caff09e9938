"""The billing-system CSV files (docs/domain.md §7): columns, natural keys, and how a row becomes a record.

Each converter takes the row (column → text) and the lookups of already imported parents, and returns
the record's column values or raises ValueError with the reason. Values are checked strictly: a file
either imports whole or not at all, so a half-understood row must fail loudly.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlmodel import SQLModel

from domain.identifiers import is_email, is_malo_id, normalise
from domain.model import Bill, Contract, Customer, InstallmentPlan, Meter, MeterReading, Payment, Price

Row = dict[str, str]


@dataclass
class Lookups:
    """Natural key → id of the parents, filled as the files are imported in dependency order."""

    customers: dict[str, int]
    contracts: dict[str, int]
    meters: dict[str, int]


@dataclass(frozen=True)
class Kind:
    file: str
    table: type[SQLModel]
    columns: tuple[str, ...]
    key: tuple[str, ...]
    convert: Callable[[Row, Lookups], dict]
    lookup: str = ''  # which Lookups map this file's records feed (key column → id)


def text(row: Row, column: str, limit: int = 200, required: bool = False) -> str:
    value = (row.get(column) or '').strip()
    if not all(ch.isprintable() for ch in value):
        raise ValueError(f'{column} contains control characters')
    if required and not value:
        raise ValueError(f'{column} is empty')
    if len(value) > limit:
        raise ValueError(f'{column} is longer than {limit} characters')
    return value


def day(row: Row, column: str, required: bool = True) -> date | None:
    value = text(row, column)
    if not value:
        if required:
            raise ValueError(f'{column} is empty')
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f'{column} {value!r} is not an ISO date like 2026-11-22') from None


def decimal(row: Row, column: str, required: bool = True) -> Decimal | None:
    value = text(row, column)
    if not value:
        if required:
            raise ValueError(f'{column} is empty')
        return None
    if ',' in value:
        raise ValueError(f'{column} {value!r}: use a decimal point, not a comma')
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f'{column} {value!r} is not a number') from None


def whole(row: Row, column: str, default: int | None = None, low: int = 0, high: int = 10**6) -> int:
    value = text(row, column)
    if not value and default is not None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f'{column} {value!r} is not a whole number from {low} to {high}')
    return int(value)


def choice(row: Row, column: str, allowed: tuple[str, ...]) -> str:
    value = text(row, column)
    if value not in allowed:
        raise ValueError(f'{column} {value!r} is not one of {", ".join(allowed)}')
    return value


def parent(row: Row, column: str, known: dict[str, int], normalised: bool = True) -> int:
    value = normalise(text(row, column)) if normalised else text(row, column)
    if value not in known:
        raise ValueError(f'{column} {value!r} is unknown (import its file first)')
    return known[value]


def _customer(row: Row, _: Lookups) -> dict:
    email = text(row, 'email', 254).lower()
    if email and not is_email(email):
        raise ValueError(f'email {email!r} is not an email address')
    return {
        'customer_number': normalise(text(row, 'customer_number', 20, required=True)),
        **{c: text(row, c, 100) for c in ('salutation', 'first_name', 'last_name', 'street', 'city', 'phone')},
        'company': text(row, 'company'),
        'house_number': text(row, 'house_number', 20),
        'postal_code': text(row, 'postal_code', 10),
        'email': email,
        'paperless': choice(row, 'paperless', ('0', '1')) == '1',
    }


def _contract(row: Row, known: Lookups) -> dict:
    malo = text(row, 'malo_id')
    if malo and not is_malo_id(malo):
        raise ValueError(f'malo_id {malo!r} fails the MaLo-ID check digit')
    return {
        'contract_number': normalise(text(row, 'contract_number', 20, required=True)),
        'customer_id': parent(row, 'customer_number', known.customers),
        'commodity': choice(row, 'commodity', ('electricity', 'gas', 'water', 'heat')),
        'tariff_code': text(row, 'tariff_code', 40, required=True),
        'start_date': day(row, 'start_date'),
        'end_date': day(row, 'end_date', required=False),
        'malo_id': malo,
        'notice_period_weeks': whole(row, 'notice_period_weeks', 4, 0, 104),
        'billing_month': whole(row, 'billing_month', 12, 1, 12),
    }


def _meter(row: Row, known: Lookups) -> dict:
    registers = text(row, 'registers') or '1.8.0'
    if any(r.strip() not in ('1.8.0', '1.8.1', '1.8.2', '2.8.0') for r in registers.split(',')):
        raise ValueError(f'registers {registers!r}: use OBIS codes like 1.8.0 or 1.8.1,1.8.2')
    return {
        'meter_number': normalise(text(row, 'meter_number', 40, required=True)),
        'contract_id': parent(row, 'contract_number', known.contracts),
        'kind': choice(row, 'kind', ('manual', 'radio', 'smart', 'load_profile')),
        'registers': ','.join(r.strip() for r in registers.split(',')),
        'pre_decimal_digits': whole(row, 'pre_decimal_digits', 6, 1, 12),
        'installed_on': day(row, 'installed_on', required=False),
        'removed_on': day(row, 'removed_on', required=False),
        'z_number': decimal(row, 'z_number', required=False),
        'calorific_value': decimal(row, 'calorific_value', required=False),
    }


def _reading(row: Row, known: Lookups) -> dict:
    value = decimal(row, 'value')
    if value is None or value < 0:
        raise ValueError('value must not be negative')
    return {
        'meter_id': parent(row, 'meter_number', known.meters),
        'obis': text(row, 'register') or '1.8.0',
        'reading_date': day(row, 'reading_date'),
        'value': value,
        'source': choice(row, 'source', ('customer', 'utility', 'remote', 'estimated')),
    }


def _price(row: Row, _: Lookups) -> dict:
    vat = decimal(row, 'vat_rate')
    if vat is None or not Decimal(0) <= vat < 1:
        raise ValueError('vat_rate must be a fraction like 0.19')
    return {
        'tariff_code': text(row, 'tariff_code', 40, required=True),
        'valid_from': day(row, 'valid_from'),
        'unit': choice(row, 'unit', ('kWh', 'm3')),
        'working_price_net': decimal(row, 'working_price_net'),
        'base_price_net_per_year': decimal(row, 'base_price_net_per_year'),
        'vat_rate': vat,
    }


def _installment(row: Row, known: Lookups) -> dict:
    return {
        'contract_id': parent(row, 'contract_number', known.contracts),
        'valid_from': day(row, 'valid_from'),
        'amount': decimal(row, 'amount'),
        'due_day': whole(row, 'due_day', 15, 1, 28),
        'per_year': whole(row, 'per_year', 12, 1, 12),
    }


def _payment(row: Row, known: Lookups) -> dict:
    return {
        'contract_id': parent(row, 'contract_number', known.contracts),
        'paid_on': day(row, 'paid_on'),
        'amount': decimal(row, 'amount'),
    }


def _bill(row: Row, known: Lookups) -> dict:
    start, end = day(row, 'period_start'), day(row, 'period_end')
    if start and end and end < start:
        raise ValueError('period_end lies before period_start')
    return {
        'bill_number': text(row, 'bill_number', 30, required=True),
        'contract_id': parent(row, 'contract_number', known.contracts),
        'bill_date': day(row, 'bill_date'),
        'period_start': start,
        'period_end': end,
        'kind': choice(row, 'kind', ('annual', 'final', 'correction')),
        'amount_gross': decimal(row, 'amount_gross'),
        'pdf_path': text(row, 'pdf_file', 300),
    }


KINDS = (
    Kind(
        'customers.csv',
        Customer,
        (
            'customer_number',
            'salutation',
            'first_name',
            'last_name',
            'company',
            'street',
            'house_number',
            'postal_code',
            'city',
            'email',
            'phone',
            'paperless',
        ),
        ('customer_number',),
        _customer,
        'customers',
    ),
    Kind(
        'contracts.csv',
        Contract,
        (
            'contract_number',
            'customer_number',
            'commodity',
            'tariff_code',
            'start_date',
            'end_date',
            'malo_id',
            'notice_period_weeks',
            'billing_month',
        ),
        ('contract_number',),
        _contract,
        'contracts',
    ),
    Kind(
        'meters.csv',
        Meter,
        (
            'meter_number',
            'contract_number',
            'kind',
            'registers',
            'pre_decimal_digits',
            'installed_on',
            'removed_on',
            'z_number',
            'calorific_value',
        ),
        ('meter_number',),
        _meter,
        'meters',
    ),
    Kind(
        'readings.csv',
        MeterReading,
        ('meter_number', 'register', 'reading_date', 'value', 'source'),
        ('meter_id', 'obis', 'reading_date'),
        _reading,
    ),
    Kind(
        'prices.csv',
        Price,
        ('tariff_code', 'valid_from', 'unit', 'working_price_net', 'base_price_net_per_year', 'vat_rate'),
        ('tariff_code', 'valid_from'),
        _price,
    ),
    Kind(
        'installments.csv',
        InstallmentPlan,
        ('contract_number', 'valid_from', 'amount', 'due_day', 'per_year'),
        ('contract_id', 'valid_from'),
        _installment,
    ),
    Kind('payments.csv', Payment, ('contract_number', 'paid_on', 'amount'), ('contract_id', 'paid_on'), _payment),
    Kind(
        'bills.csv',
        Bill,
        ('bill_number', 'contract_number', 'bill_date', 'period_start', 'period_end', 'kind', 'amount_gross'),
        ('bill_number',),
        _bill,
    ),
)
