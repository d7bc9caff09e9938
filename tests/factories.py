"""Plain factory functions for test data: each test builds exactly what it needs."""

import re
from datetime import date
from decimal import Decimal
from itertools import count

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.model import (
    Bill,
    Contract,
    Customer,
    InstallmentPlan,
    Meter,
    MeterReading,
    OutboxMail,
    Payment,
    PortalUser,
    Price,
    UserCustomer,
    id_of,
)
from storage.hashing import Argon2Hasher
from tests import clock


def portal_today() -> date:
    """The portal's day (Europe/Berlin) at the pinned clock (tests/clock.py)."""
    return clock.today()


def last_year() -> int:
    """The calendar year before the pinned day's: the one with the customers' latest annual bills."""
    return portal_today().year - 1


def year_end(years_back: int = 1) -> date:
    """31 December of a year before the pinned day's (1: last year)."""
    return date(portal_today().year - years_back, 12, 31)


def annual_bill_date() -> date:
    """When the bills of `last_year()` are dated: 20 January, or the pinned day if that comes earlier."""
    return min(date(last_year() + 1, 1, 20), portal_today())


def year_start(today: date | None = None) -> date:
    """1 January of the (calendar) billing year containing the pinned day."""
    return date((today or portal_today()).year, 1, 1)


_serial = count(1)
PASSWORD = 'Sicheres-Passwort-7'
CHEAP_HASHER = Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1)  # argon2id, cheap for set-up
NUMBERS = {'stadtwerke-a': '4{:07d}', 'stadtwerke-b': 'IR{:08d}', 'wasserverband-c': '7{:06d}'}


def make_customer(
    engine: Engine,
    profile: str = 'stadtwerke-a',
    *,
    commodity: str = 'electricity',
    with_bill: bool = True,
    contract_start: date | None = None,
    **overrides,
) -> dict:
    """A customer with one contract, one meter and (by default) one annual bill; returns its numbers. The contract
    runs from six years before the portal's today, or from `contract_start` (a test that pins its own days)."""
    n = next(_serial)
    number = overrides.pop('customer_number', NUMBERS[profile].format(n + 100))
    meter_number = overrides.pop('meter_number', f'1EBZ01{n:08d}')
    with Session(engine) as session:
        customer = Customer(
            customer_number=number,
            salutation='Frau',
            first_name='Erika',
            last_name=overrides.pop('last_name', f'Mustermann{n}'),
            street=overrides.pop('street', 'Hauptstraße'),
            house_number=str(n),
            postal_code='27749',
            city='Aue-Süd',
            **overrides,
        )
        session.add(customer)
        session.flush()
        contract = Contract(
            contract_number=f'V{n:08d}',
            customer_id=id_of(customer),
            commodity=commodity,
            tariff_code='STROM-BASIS',
            start_date=contract_start or date(portal_today().year - 6, 1, 1),
            malo_id='41373559241',
        )
        session.add(contract)
        session.flush()
        session.add(Meter(meter_number=meter_number, contract_id=id_of(contract)))
        year = last_year()
        bill_number = f'RE{year}{n:06d}'
        if with_bill:
            session.add(
                Bill(
                    bill_number=bill_number,
                    contract_id=id_of(contract),
                    bill_date=annual_bill_date(),
                    period_start=date(year, 1, 1),
                    period_end=date(year, 12, 31),
                    amount_gross=Decimal('1123.60'),
                )
            )
        session.commit()
        return {
            'id': customer.id,
            'customer_number': number,
            'meter_number': meter_number,
            'bill_number': bill_number,
            'name': customer.display_name,
        }


def make_login(engine: Engine, customer_ids: list[int], email: str = '', password: str = PASSWORD, **overrides) -> dict:
    """An active portal login linked to the given customers."""
    email = email or f'kunde{next(_serial)}@example.org'
    with Session(engine) as session:
        fields = {'state': 'active', 'created_at': clock.now(), 'confirmed_at': clock.now(), **overrides}
        fields.setdefault('password_hash', CHEAP_HASHER.hash(password))  # or a given one (e.g. old parameters)
        user = PortalUser(email=email, **fields)
        session.add(user)
        session.flush()
        for customer_id in customer_ids:
            session.add(UserCustomer(user_id=id_of(user), customer_id=customer_id, linked_at=clock.now()))
        session.commit()
        return {'id': user.id, 'email': email, 'password': password}


def end_login_elsewhere(engine: Engine, login_id: int) -> None:
    """What a password reset in another browser does to a login: its sessions end."""
    with Session(engine) as session:
        account = session.get(PortalUser, login_id)
        assert account is not None
        account.session_epoch += 1
        session.add(account)
        session.commit()


def mails_to(engine: Engine, recipient: str) -> list[OutboxMail]:
    with Session(engine) as session:
        query = select(OutboxMail).where(OutboxMail.recipient == recipient).order_by(col(OutboxMail.id))
        return list(session.exec(query))


def last_mail(engine: Engine, recipient: str) -> OutboxMail:
    mails = mails_to(engine, recipient)
    assert mails, f'no mail to {recipient}'
    return mails[-1]


def link_in(text: str, path: str) -> str:
    match = re.search(rf'https?://\S+?({re.escape(path)}\S+)', text)
    assert match, f'no link to {path} in mail:\n{text}'
    return match.group(1)


def pin_in(text: str) -> str:
    match = re.search(r'PIN lautet: (\d{6})', text)
    assert match, f'no PIN in mail:\n{text}'
    return match.group(1)


def add_readings(
    engine: Engine, meter_number: str, *values: tuple[date, int], obis: str = '1.8.0', source: str = 'utility'
) -> None:
    with Session(engine) as session:
        meter = session.exec(select(Meter).where(Meter.meter_number == meter_number)).one()
        for when, value in values:
            session.add(
                MeterReading(meter_id=id_of(meter), obis=obis, reading_date=when, value=Decimal(value), source=source)
            )
        session.commit()


def set_meter(engine: Engine, meter_number: str, **fields) -> None:
    with Session(engine) as session:
        meter = session.exec(select(Meter).where(Meter.meter_number == meter_number)).one()
        for key, value in fields.items():
            setattr(meter, key, value)
        session.add(meter)
        session.commit()


def add_tariff(
    engine: Engine,
    customer_id: int,
    amount: str = '92',
    working_net: str = '0.2521',
    base_net: str = '121.01',
    per_year: int = 12,
    paid_months: int = 0,
) -> None:
    """Prices for the customer's contract (0.2521 × 1.19 ≈ 0.30 € gross) since last year, and an installment plan
    from 1 January of the pinned day's year with due day 15, the first `paid_months` of which are paid."""
    this_year = year_start()
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer_id)).first()
        assert contract is not None, f'customer {customer_id} has no contract'
        if session.exec(select(Price).where(Price.tariff_code == contract.tariff_code)).first() is None:
            session.add(
                Price(
                    tariff_code=contract.tariff_code,
                    valid_from=date(this_year.year - 1, 1, 1),
                    unit='kWh',
                    working_price_net=Decimal(working_net),
                    base_price_net_per_year=Decimal(base_net),
                    vat_rate=Decimal('0.19'),
                )
            )
        session.add(
            InstallmentPlan(
                contract_id=id_of(contract),
                valid_from=this_year,
                amount=Decimal(amount),
                due_day=15,
                per_year=per_year,
            )
        )
        for month in range(1, paid_months + 1):
            session.add(
                Payment(contract_id=id_of(contract), paid_on=date(this_year.year, month, 15), amount=Decimal(amount))
            )
        session.commit()


STAFF_PASSWORD = 'Verwaltung-Passwort-2026'


def make_staff(
    engine: Engine, email: str = 'service@stadtwerke.example', role: str = 'service', name: str = 'Sven Service'
):
    """An enrolled staff member with STAFF_PASSWORD; returns the authenticator (TOTP) to log in with."""
    import os

    import pyotp

    from domain.model import StaffUser
    from domain.totp import seal

    secret = pyotp.random_base32()
    with Session(engine) as session:
        session.add(
            StaffUser(
                email=email,
                name=name,
                role=role,
                password_hash=CHEAP_HASHER.hash(STAFF_PASSWORD),
                must_change_password=False,
                totp_enabled=True,
                totp_secret=seal(os.environ['KUNDENPORTAL_STORAGE_SECRET'], secret),
                created_at=clock.now(),
            )
        )
        session.commit()
    return pyotp.TOTP(secret)
