"""The billing-system CSV files (docs/domain.md §7): columns, natural keys, and how a row becomes a record.

Each converter takes the row (column → text) and the lookups of already imported parents, and returns
the record's column values or raises RowProblem (a ValueError) with the reason. Values are checked strictly: a file
either imports whole or not at all, so a half-understood row must fail loudly. Every identifier must match a
strict pattern (letters, digits, `-` and `_`: never a path), and every number must be finite and within the range
its column allows (docs/import-format.md), whether it comes from a file or from the API.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlmodel import SQLModel

from domain.clock import FIRST_DAY, LAST_DAY
from domain.identifiers import is_digits, is_leitweg_id, is_malo_id, is_vat_id, looks_like_email, normalise
from domain.model import Bill, Contract, Customer, InstallmentPlan, Meter, MeterReading, Payment, Price
from domain.stored import PDF_FILE
from storage.import_problems import RowProblem

Row = dict[str, str]
REGISTERS = ('1.8.0', '1.8.1', '1.8.2', '2.8.0')  # OBIS codes the portal knows
NUMBER = re.compile(r'-?\d{1,15}(\.\d{1,9})?')  # a plain decimal: no exponent, no NaN, no Infinity
IDENTIFIER = re.compile(r'[A-Za-z0-9][A-Za-z0-9_-]*')
# The ranges numbers from the billing system must keep (docs/import-format.md).
PRICE = (Decimal(0), Decimal(100))  # € per kWh or m³, net
BASE_PRICE = (Decimal(0), Decimal(100_000))  # € per year, net
AMOUNT = (Decimal(0), Decimal(100_000))  # an installment or a payment, €
BILL_AMOUNT = (Decimal(-10_000_000), Decimal(10_000_000))  # a bill's gross amount, € (negative: a credit)
METER_VALUE = (Decimal(0), Decimal(10) ** 12)
# Spaces other than the ASCII one (a non-breaking space `Am\xa0Markt` from a spreadsheet or billing system) are no
# control characters: taken as the plain space staff see.
SPACES = str.maketrans(
    dict.fromkeys('\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000', ' ')
)


@dataclass
class Lookups:
    """Natural key → id of the parents, filled as the files are imported in dependency order."""

    customers: dict[str, int]
    contracts: dict[str, int]
    meters: dict[str, int]
    registers: dict[int, str] = field(default_factory=dict)  # meter id → its registers (`1.8.1,1.8.2`)


@dataclass(frozen=True)
class Kind:
    file: str
    table: type[SQLModel]
    columns: tuple[str, ...]
    key: tuple[str, ...]
    convert: Callable[[Row, Lookups], dict]
    lookup: str = ''  # which Lookups map this file's records feed (key column → id)
    optional: tuple[str, ...] = ()  # columns a file or an API row may leave out (empty then)
    kept: tuple[str, ...] = ()  # columns an otherwise unchanged row leaves as stored when empty (a PDF delivered)


def text(row: Row, column: str, limit: int = 200, required: bool = False) -> str:
    value = (row.get(column) or '').strip()
    if not value.isprintable():  # every character (an empty text is printable)
        value = value.translate(SPACES).strip()
        if not value.isprintable():
            raise RowProblem('control', column=column)
    if required and not value:
        raise RowProblem('empty', column=column)
    if len(value) > limit:
        raise RowProblem('too_long', column=column, limit=limit)
    return value


def day(row: Row, column: str, required: bool = True) -> date | None:
    value = text(row, column)
    if not value:
        if required:
            raise RowProblem('empty', column=column)
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise RowProblem('not_a_date', column=column, value=repr(value)) from None
    if not FIRST_DAY <= parsed <= LAST_DAY:  # every payment the portal holds: the data export reads this span
        raise RowProblem('outside', column=column, value=repr(value), low=FIRST_DAY, high=LAST_DAY)
    return parsed


def decimal(row: Row, column: str, low: Decimal | int, high: Decimal | int, required: bool = True) -> Decimal | None:
    """A finite decimal number from `low` to `high` (NaN, Infinity and `1e999999` are refused, not stored)."""
    value = text(row, column, 40)
    if not value:
        if required:
            raise RowProblem('empty', column=column)
        return None
    if ',' in value:
        raise RowProblem('comma', column=column, value=repr(value))
    if not NUMBER.fullmatch(value):
        raise RowProblem('not_a_number', column=column, value=repr(value))
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise RowProblem('not_a_number', column=column, value=repr(value)) from None
    if not low <= number <= high:
        raise RowProblem('outside', column=column, value=repr(value), low=low, high=high)
    return number


def identifier(row: Row, column: str, limit: int, required: bool = True) -> str:
    """A number or code from the billing system: letters, digits, `-` and `_`, starting with a letter or digit.
    Never a path: such values name nothing on disk (stored documents are named by the portal)."""
    value = text(row, column, limit, required=required)
    if value and not IDENTIFIER.fullmatch(value):
        raise RowProblem('identifier', column=column, value=repr(value))
    return value


def normalised(row: Row, column: str, limit: int) -> str:
    """An identifier compared without spaces, dots, dashes and slashes (customer, contract and meter numbers)."""
    value = normalise(text(row, column, limit, required=True))
    if not value or not IDENTIFIER.fullmatch(value):
        raise RowProblem('number', column=column, value=repr(row.get(column)))
    return value


def whole(row: Row, column: str, default: int | None = None, low: int = 0, high: int = 10**6) -> int:
    value = text(row, column)
    if not value and default is not None:
        return default
    if not is_digits(value) or not low <= int(value) <= high:
        raise RowProblem('not_whole', column=column, value=repr(value), low=low, high=high)
    return int(value)


def pdf_file(row: Row) -> str:
    """The name of a PDF beside the CSV file (a name, not a path); the portal stores it under a name of its own."""
    value = text(row, 'pdf_file', 100)
    if value and not PDF_FILE.fullmatch(value):
        raise RowProblem('pdf_name', value=repr(value))
    return value


def choice(row: Row, column: str, allowed: tuple[str, ...]) -> str:
    value = text(row, column)
    if value not in allowed:
        raise RowProblem('choice', column=column, value=repr(value), allowed=', '.join(allowed))
    return value


def parent(row: Row, column: str, known: dict[str, int], normalised: bool = True) -> int:
    value = normalise(text(row, column)) if normalised else text(row, column)
    if value not in known:
        raise RowProblem('unknown', column=column, value=repr(value))
    return known[value]


def after(later: date | None, earlier: date | None, column: str, other: str) -> date | None:
    """`later`, unless both are given and it lies before `earlier`."""
    if later is not None and earlier is not None and later < earlier:
        raise RowProblem('before', column=column, later=later.isoformat(), other=other, earlier=earlier.isoformat())
    return later


def _customer(row: Row, _: Lookups) -> dict:
    email = text(row, 'email', 254).lower()
    if email and not looks_like_email(email):
        raise RowProblem('email', value=repr(email))
    return {
        'customer_number': normalised(row, 'customer_number', 20),
        **{c: text(row, c, 100) for c in ('first_name', 'last_name', 'city')},
        'salutation': text(row, 'salutation', 20),  # each as long as its column holds (PostgreSQL refuses more)
        'street': text(row, 'street'),
        'phone': text(row, 'phone', 50),
        'company': text(row, 'company'),
        'house_number': text(row, 'house_number', 20),
        'postal_code': text(row, 'postal_code', 10),
        'email': email,
        'paperless': choice(row, 'paperless', ('0', '1')) == '1',
        **_business(row),
    }


def _business(row: Row) -> dict:
    """A business customer's VAT ID and a public body's Leitweg-ID (its bills are e-invoices, docs/domain.md §9)."""
    vat_id, leitweg_id = normalise(text(row, 'vat_id', 20)), text(row, 'leitweg_id', 46).upper()
    if vat_id and not is_vat_id(vat_id):
        raise RowProblem('vat_id', value=repr(vat_id))
    if leitweg_id and not is_leitweg_id(leitweg_id):
        raise RowProblem('leitweg_id', value=repr(leitweg_id))
    if (vat_id or leitweg_id) and not text(row, 'company'):
        raise RowProblem('company')
    return {'vat_id': vat_id, 'leitweg_id': leitweg_id}


def _contract(row: Row, known: Lookups) -> dict:
    malo = text(row, 'malo_id')
    if malo and not is_malo_id(malo):
        raise RowProblem('malo_id', value=repr(malo))
    return {
        'contract_number': normalised(row, 'contract_number', 20),
        'customer_id': parent(row, 'customer_number', known.customers),
        'commodity': choice(row, 'commodity', ('electricity', 'gas', 'water', 'heat')),
        'tariff_code': identifier(row, 'tariff_code', 40),
        'start_date': (start := day(row, 'start_date')),
        'end_date': after(day(row, 'end_date', required=False), start, 'end_date', 'start_date'),
        'malo_id': malo,
        'notice_period_weeks': whole(row, 'notice_period_weeks', 4, 0, 104),
        'billing_month': whole(row, 'billing_month', 12, 1, 12),
        'supply_address': text(row, 'supply_address', 200),
    }


def _meter(row: Row, known: Lookups) -> dict:
    registers = text(row, 'registers') or '1.8.0'
    named = [r.strip() for r in registers.split(',')]
    if any(r not in REGISTERS for r in named) or len(set(named)) < len(named):
        raise RowProblem('registers', value=repr(registers))
    return {
        'meter_number': normalised(row, 'meter_number', 40),
        'contract_id': parent(row, 'contract_number', known.contracts),
        'kind': choice(row, 'kind', ('manual', 'radio', 'smart', 'load_profile')),
        'registers': ','.join(r.strip() for r in registers.split(',')),
        'pre_decimal_digits': whole(row, 'pre_decimal_digits', 6, 1, 12),
        'installed_on': (installed := day(row, 'installed_on', required=False)),
        'removed_on': after(day(row, 'removed_on', required=False), installed, 'removed_on', 'installed_on'),
        'z_number': decimal(row, 'z_number', Decimal('0.5'), Decimal('1.5'), required=False),
        'calorific_value': decimal(row, 'calorific_value', Decimal(5), Decimal(15), required=False),
    }


def _reading(row: Row, known: Lookups) -> dict:
    given = text(row, 'register')
    register = given or '1.8.0'
    if register not in REGISTERS:
        raise RowProblem('register', value=repr(register))
    meter_id = parent(row, 'meter_number', known.meters)
    registers = known.registers.get(meter_id)
    # an empty register is the single-rate one: not on a two-rate meter (a code given is taken as written: a full
    # export may hold the readings of a meter's registers before it was set to two rates)
    if not given and registers is not None and '1.8.0' not in registers.split(','):
        raise RowProblem('register_empty', registers=registers)
    return {
        'meter_id': meter_id,
        'obis': register,
        'reading_date': day(row, 'reading_date'),
        'value': decimal(row, 'value', *METER_VALUE),
        'source': choice(row, 'source', ('customer', 'utility', 'remote', 'estimated')),
    }


def _price(row: Row, _: Lookups) -> dict:
    return {
        'tariff_code': identifier(row, 'tariff_code', 40),
        'valid_from': day(row, 'valid_from'),
        'unit': choice(row, 'unit', ('kWh', 'm3')),
        'working_price_net': decimal(row, 'working_price_net', *PRICE),
        'base_price_net_per_year': decimal(row, 'base_price_net_per_year', *BASE_PRICE),
        'vat_rate': decimal(row, 'vat_rate', Decimal(0), Decimal('0.99')),
    }


def _installment(row: Row, known: Lookups) -> dict:
    return {
        'contract_id': parent(row, 'contract_number', known.contracts),
        'valid_from': day(row, 'valid_from'),
        'amount': decimal(row, 'amount', *AMOUNT),
        'due_day': whole(row, 'due_day', 15, 1, 28),
        'per_year': whole(row, 'per_year', 12, 1, 12),
    }


def _payment(row: Row, known: Lookups) -> dict:
    return {
        'contract_id': parent(row, 'contract_number', known.contracts),
        'paid_on': day(row, 'paid_on'),
        'amount': decimal(row, 'amount', -AMOUNT[1], AMOUNT[1]),  # negative: a refund
    }


def _bill(row: Row, known: Lookups) -> dict:
    start, end = day(row, 'period_start'), day(row, 'period_end')
    if start and end and end < start:
        raise RowProblem('period')
    return {
        'bill_number': identifier(row, 'bill_number', 30),
        'contract_id': parent(row, 'contract_number', known.contracts),
        'bill_date': day(row, 'bill_date'),
        'period_start': start,
        'period_end': end,
        'kind': choice(row, 'kind', ('annual', 'final', 'correction')),
        'amount_gross': decimal(row, 'amount_gross', *BILL_AMOUNT),
        'pdf_path': pdf_file(row),
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
            'vat_id',
            'leitweg_id',
        ),
        ('customer_number',),
        _customer,
        'customers',
        optional=('vat_id', 'leitweg_id'),
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
            'supply_address',
        ),
        ('contract_number',),
        _contract,
        'contracts',
        optional=('supply_address',),
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
        kept=('pdf_path', 'xml_path'),  # a copy staff uploaded, a PDF or XML posted earlier: the same row keeps it
    ),
)
