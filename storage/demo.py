"""A believable demo utility: customers, contracts, meters, three years of readings, bills imported from the
billing system for the years before, prices with a mid-year change, installments and payments. The last
year's bills are left to the portal's own billing run (`bill_last_year`), so that the demo's bills have PDFs.
Deterministic (seeded), and fast enough for 150,000 customers: rows go in with bulk Core inserts in one
transaction.
"""

import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, insert, select
from sqlmodel import SQLModel

from domain.clock import local_day
from domain.identifiers import malo_check_digit
from domain.model import (
    Bill,
    Contract,
    Customer,
    InstallmentPlan,
    Meter,
    MeterReading,
    Payment,
    PortalUser,
    Price,
    UserCustomer,
)
from domain.ports import PasswordHasher
from domain.profile import UtilityProfile
from storage.demo_material import ALTERNATIVES, COMMODITIES, FIRST, LAST, STREETS

if TYPE_CHECKING:
    from storage.bill_run import RunSummary

DEMO_LOGIN = 'demo@kundenportal.example'
DEMO_PASSWORD = 'Demo-Zugang-2026!'


@dataclass
class DemoSummary:
    customers: int = 0
    contracts: int = 0
    rows: int = 0
    seconds: float = 0.0
    unregistered: list[tuple[str, str, str]] = field(default_factory=list)

    def describe(self) -> str:
        lines = [
            f'Demo data: {self.customers} customers, {self.contracts} contracts, {self.rows} rows '
            f'in {self.seconds:.1f} s.',
            f'Demo login (three customer numbers): {DEMO_LOGIN} / {DEMO_PASSWORD}',
            'Not yet registered, for trying the registration (customer number · meter number · bill number):',
        ]
        lines += [f'  {c} · {m} · {b}' for c, m, b in self.unregistered]
        return '\n'.join(lines)


def has_customers(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(select(func.count()).select_from(Customer)).scalar())


def demo_years(today: date) -> tuple[int, int, int]:
    """The three years with readings and bills: the last one is the year before `today`'s."""
    return today.year - 3, today.year - 2, today.year - 1


def build_demo(
    engine: Engine,
    profile: UtilityProfile,
    customers: int,
    hasher: PasswordHasher,
    now: datetime,
    seed: int = 2026,
    chunk: int = 5000,
) -> DemoSummary:
    """Insert the demo utility as of `now` in chunks of customers, in one transaction, with flat memory use."""
    started = time.perf_counter()
    rows = _Rows(profile, random.Random(seed), now)
    summary = DemoSummary(customers=customers)
    with engine.begin() as connection:
        for first in range(1, customers + 1, chunk):
            for serial in range(first, min(first + chunk, customers + 1)):
                rows.add_customer(serial)
            summary.rows += rows.flush(connection)
        rows.add_prices()
        rows.add_demo_login(hasher)
        summary.rows += rows.flush(connection)
    summary.contracts, summary.unregistered = rows.contract_count, rows.samples
    summary.seconds = time.perf_counter() - started
    return summary


def _bulk_insert(connection, table: type[SQLModel], values: list[dict], batch: int = 20000) -> None:
    statement = insert(table.__table__)  # type: ignore[attr-defined]  # SQLModel does not type __table__
    for start in range(0, len(values), batch):
        connection.execute(statement, values[start : start + batch])


class _Rows:
    """Row dictionaries per table, with ids assigned here so that one pass suffices."""

    def __init__(self, profile: UtilityProfile, rnd: random.Random, now: datetime) -> None:
        self.profile, self.rnd, self.now = profile, rnd, now
        self.today = local_day(now)
        self.years = demo_years(self.today)
        self.tables: dict[type[SQLModel], list[dict]] = {
            t: []
            for t in (
                Customer,
                Contract,
                Meter,
                MeterReading,
                Price,
                InstallmentPlan,
                Payment,
                Bill,
                PortalUser,
                UserCustomer,
            )
        }
        self.household: list[int] = []
        self.samples: list[tuple[str, str, str]] = []
        self.water_only = profile.key.startswith('wasser')
        self.contract_count = self.bill_count = 0
        self.previous: dict | None = None

    def flush(self, connection) -> int:
        """Insert what has been generated so far (parents first) and forget it; returns the row count."""
        count = 0
        for table, values in self.tables.items():
            _bulk_insert(connection, table, values)
            count += len(values)
            values.clear()
        return count

    def add_demo_login(self, hasher: PasswordHasher) -> None:
        now = self.now
        self.tables[PortalUser].append(
            {
                'id': 1,
                'email': DEMO_LOGIN,
                'password_hash': hasher.hash(DEMO_PASSWORD),
                'state': 'active',
                'created_at': now,
                'confirmed_at': now,
                'must_change_password': False,
                'session_epoch': 0,
            }
        )
        self.tables[UserCustomer] += [{'user_id': 1, 'customer_id': cid, 'linked_at': now} for cid in self.household]

    def add_customer(self, serial: int) -> None:
        rnd = self.rnd
        salutation = rnd.choice(['Frau', 'Herr'])
        first, last = rnd.choice(FIRST[salutation]), rnd.choice(LAST)
        if serial in (1, 2, 3):  # the demo login's household: three customer numbers of one person
            salutation, first, last = 'Frau', 'Hannelore', 'Krüger'
        elif serial % 40 in (2, 3) and self.previous:  # more people with two or three accounts
            salutation, first, last = (self.previous[k] for k in ('salutation', 'first_name', 'last_name'))
        number = self.profile.account_id.make(1000 + serial)
        self.previous = {
            'id': serial,
            'customer_number': number,
            'salutation': salutation,
            'first_name': first,
            'last_name': last,
            'company': '',
            'street': rnd.choice(STREETS),
            'house_number': str(rnd.randint(1, 120)),
            'postal_code': self.profile.postal_code,
            'city': self.profile.city,
            'email': f'{first}.{last}{serial}@example.org'.lower(),
            'phone': f'0{rnd.randint(2000, 9999)} {rnd.randint(10000, 999999)}',
            'paperless': rnd.random() < 0.4,
        }
        self.tables[Customer].append(self.previous)
        if serial in (1, 2, 3):
            self.household.append(serial)
        kinds = ['water'] if self.water_only else self._commodities(serial)
        meter_number = bill_number = ''
        for commodity in kinds:
            meter_number, bill_number = self._contract(serial, commodity)
        if serial > 3 and len(self.samples) < 5 and serial % 7 == 0:
            self.samples.append((number, meter_number, bill_number))

    def _commodities(self, serial: int) -> list[str]:
        if serial % 10 == 0:
            return ['electricity', 'gas']
        if serial % 25 == 0:
            return ['electricity', 'heat']
        if serial % 13 == 0:
            return ['gas']
        return ['electricity', 'water'] if serial % 4 == 0 else ['electricity']

    def _contract(self, serial: int, commodity: str) -> tuple[str, str]:
        rnd = self.rnd
        tariff, _unit, (low, high), type_digit, vat, prices, base = COMMODITIES[commodity]
        self.contract_count += 1
        contract_id = self.contract_count
        ten = f'{rnd.randint(1, 9)}{rnd.randint(0, 10**9 - 1):09d}'
        self.tables[Contract].append(
            {
                'id': contract_id,
                'contract_number': f'V{contract_id:09d}',
                'customer_id': serial,
                'commodity': commodity,
                'tariff_code': tariff,
                'start_date': date(self.years[0] - 4 + serial % 4, 1 + serial % 12, 1),
                'end_date': None,
                'malo_id': f'{ten}{malo_check_digit(ten)}',
                'notice_period_weeks': 4,
                'billing_month': 12,
            }
        )
        kind = 'manual'
        if commodity == 'electricity' and serial % 17 == 0:
            kind = 'smart'
        elif commodity in ('water', 'heat') and serial % 5 == 0:
            kind = 'radio'
        registers = '1.8.1,1.8.2' if commodity == 'electricity' and serial % 9 == 0 else '1.8.0'
        meter_number = f'{type_digit}{rnd.choice(["EBZ", "ITR", "ELS", "DZG", "ESY"])}{contract_id:010d}'
        gas = commodity == 'gas'
        self.tables[Meter].append(
            {
                'id': contract_id,
                'meter_number': meter_number,
                'contract_id': contract_id,
                'kind': kind,
                'registers': registers,
                'pre_decimal_digits': 5 if commodity == 'water' else 6,
                'installed_on': date(self.years[0] - 5, 1, 1),
                'removed_on': None,
                'z_number': Decimal('0.9640') if gas else None,
                'calorific_value': Decimal('11.250') if gas else None,
            }
        )
        yearly = Decimal(rnd.randint(low, high))
        self._readings(contract_id, kind, registers.split(','), yearly, gas)
        bill_number = self._bills(contract_id, yearly, vat, prices, Decimal(base))
        self._installments(contract_id, yearly, vat, prices, Decimal(base))
        return meter_number, bill_number

    def _readings(self, meter_id: int, kind: str, registers: list[str], yearly: Decimal, gas: bool) -> None:
        volume = yearly / Decimal('10.845') if gas else yearly  # gas meters count m³
        for obis in registers:
            share = Decimal('0.6') if obis == '1.8.1' else Decimal('0.4') if obis == '1.8.2' else Decimal(1)
            value = Decimal(self.rnd.randint(1000, 40000))
            for year in (self.years[0] - 1, *self.years):
                value += (volume * share * Decimal(self.rnd.uniform(0.85, 1.15))).quantize(Decimal('1'))
                source = (
                    'remote' if kind != 'manual' else self.rnd.choice(['customer', 'customer', 'utility', 'estimated'])
                )
                self.tables[MeterReading].append(
                    {
                        'meter_id': meter_id,
                        'obis': obis,
                        'reading_date': date(year, 12, 31),
                        'value': value,
                        'source': source,
                        'plausibility': '',
                        'reason': '',
                        'submitted_at': None,
                    }
                )

    def _bills(self, contract_id: int, yearly: Decimal, vat: Decimal, prices: dict, base: Decimal) -> str:
        number = ''
        for year in self.years[:-1]:  # imported without PDF; the last year is billed by the portal
            net = yearly * Decimal(prices[year - self.today.year]) + base
            gross = (net * (1 + vat)).quantize(Decimal('0.01'), ROUND_HALF_UP)
            self.bill_count += 1
            number = f'RE{year}{self.bill_count:08d}'
            self.tables[Bill].append(
                {
                    'bill_number': number,
                    'contract_id': contract_id,
                    'bill_date': date(year + 1, 1, 20),
                    'period_start': date(year, 1, 1),
                    'period_end': date(year, 12, 31),
                    'kind': 'annual',
                    'amount_gross': gross,
                    'pdf_path': '',
                }
            )
        return number

    def _installments(self, contract_id: int, yearly: Decimal, vat: Decimal, prices: dict, base: Decimal) -> None:
        """The plan and the payments of the last billed year and of the current one (paid up to today)."""
        for year in (self.years[-1], self.today.year):
            annual = (yearly * Decimal(prices[year - self.today.year]) + base) * (1 + vat)
            amount = (annual / 12).quantize(Decimal('1'), ROUND_CEILING)
            self.tables[InstallmentPlan].append(
                {
                    'contract_id': contract_id,
                    'valid_from': date(year, 1, 1),
                    'amount': amount,
                    'due_day': 15,
                    'per_year': 12,
                }
            )
            for month in range(1, 13):
                if date(year, month, 15) <= self.today:
                    self.tables[Payment].append(
                        {'contract_id': contract_id, 'paid_on': date(year, month, 15), 'amount': amount}
                    )

    def add_prices(self) -> None:
        for tariff, unit, _, _, vat, prices, base in COMMODITIES.values():
            for offset, price in prices.items():
                self.tables[Price].append(
                    {
                        'tariff_code': tariff,
                        'valid_from': date(self.today.year + offset, 1, 1),
                        'unit': unit,
                        'working_price_net': Decimal(price),
                        'base_price_net_per_year': base,
                        'vat_rate': vat,
                    }
                )
        for tariff, unit, working, base in ALTERNATIVES:  # what /tarif offers besides the contracts' own
            self.tables[Price].append(
                {
                    'tariff_code': tariff,
                    'valid_from': date(self.today.year - 1, 1, 1),
                    'unit': unit,
                    'working_price_net': Decimal(working),
                    'base_price_net_per_year': base,
                    'vat_rate': Decimal('0.19'),
                }
            )
        self.tables[Price].append(
            {
                'tariff_code': 'STROM-BASIS',
                'valid_from': date(self.today.year, 7, 1),
                'unit': 'kWh',
                'working_price_net': Decimal('0.2650'),
                'base_price_net_per_year': '120.00',
                'vat_rate': Decimal('0.19'),
            }
        )


def bill_last_year(
    url: str, profile: UtilityProfile, secret: str, base_url: str, documents: Path, now: datetime
) -> 'RunSummary':
    """The portal's own bills for the demo's last year (with PDFs), as the billing run would make them: dated 20
    January, or today in the first days of the year."""
    from storage.bill_run import RunConfig, run

    today = local_day(now)
    last = demo_years(today)[-1]
    config = RunConfig(url, profile, secret, base_url, documents, last, min(date(last + 1, 1, 20), today), now)
    return run(config, progress=None)
