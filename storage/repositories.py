"""Repositories over one SQLModel session: customers, meters and readings, and the customers' own data. Billing's
is in storage.billing_repository, those of logins in storage.logins, the back office's in storage.back_office, the
scheduled notices' in storage.notices (and the exports', the contract requests' beside them). They never commit:
the unit of work does, once."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BindParameter, ColumnElement, bindparam, insert, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, delete, func, select, update

from domain.identifiers import normalise
from domain.model import (
    AuditEntry,
    BankAccount,
    Bill,
    ContactMessage,
    Contract,
    Customer,
    InboxMessage,
    Meter,
    MeterReading,
    ReadingCode,
)
from storage.claims import set_once

# The statements of what customers do most (open their pages, submit a reading), built once with parameters: building
# a select costs more than SQLite running it (bench/load.py). The others are built where they are used.
ID: BindParameter = bindparam('id')
CUSTOMER: BindParameter = bindparam('customer')
CONTRACT: BindParameter = bindparam('contract')
METER: BindParameter = bindparam('meter')
ON: BindParameter = bindparam('on')
CUSTOMER_BY_ID = select(Customer).where(Customer.id == ID)
CONTRACTS = select(Contract).where(Contract.customer_id == CUSTOMER).order_by(col(Contract.start_date))
METERS = (
    select(Meter)
    .where(col(Meter.contract_id).in_(bindparam('contracts', expanding=True)))
    .order_by(col(Meter.meter_number))
)
METERS_OF_CUSTOMER = (
    select(Contract, Meter)
    .join(Meter, col(Meter.contract_id) == Contract.id)
    .where(Contract.customer_id == CUSTOMER)
    .order_by(col(Contract.start_date), col(Meter.meter_number))
)
METER_LOCK = select(Meter.id).where(Meter.id == METER).with_for_update()
READINGS = select(MeterReading).where(MeterReading.meter_id == METER).order_by(col(MeterReading.reading_date))
_READING = MeterReading.__table__  # type: ignore[attr-defined]  # SQLModel does not type __table__
READING_INSERT = insert(_READING).returning(_READING.c.id)
READING_DELETE = delete(_READING).where(_READING.c.id == bindparam('reading'))


def column_values(row: SQLModel) -> dict[str, object]:
    """A model object's columns but its id, for a plain INSERT."""
    return {
        column.key: getattr(row, column.key)
        for column in row.__table__.columns  # type: ignore[attr-defined]  # SQLModel does not type __table__
        if column.key != 'id'
    }


class SqlCustomers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, customer_id: int) -> Customer | None:
        return self.session.exec(CUSTOMER_BY_ID, params={'id': customer_id}).first()

    def hold_contract(self, contract_id: int) -> None:
        """The contract's row held to the end of the transaction: on PostgreSQL its row lock, on SQLite the one write
        lock (an UPDATE that changes nothing, as `SqlBilling.lock_bill`)."""
        self.session.execute(
            update(Contract)
            .where(col(Contract.id) == contract_id)
            .values(id=Contract.id)
            .execution_options(synchronize_session=False)
        )

    def by_number(self, customer_number: str) -> Customer | None:
        return self.session.exec(select(Customer).where(Customer.customer_number == customer_number)).first()

    def meter_numbers(self, customer_id: int, removed_since: date) -> set[str]:
        """The numbers of the customer's meters, but those removed, or whose contract ended, on `removed_since` or
        before (a meter stays in the flat when its customer moves out: the next tenant reads its number)."""
        query = (
            select(Meter.meter_number)
            .join(Contract)
            .where(
                Contract.customer_id == customer_id,
                or_(col(Meter.removed_on).is_(None), col(Meter.removed_on) > removed_since),
                or_(col(Contract.end_date).is_(None), col(Contract.end_date) > removed_since),
            )
        )
        return set(self.session.exec(query))

    def last_bill_numbers(self, customer_id: int) -> set[str]:
        """The number of each of the customer's contracts' last bill (by date; of one day, the last stored) and of
        its last annual bill (the one the form points to, also when a correction or final bill came after it)."""
        query = (
            select(Bill.contract_id, Bill.bill_number, Bill.kind)
            .join(Contract)
            .where(Contract.customer_id == customer_id)
            .order_by(col(Bill.contract_id), col(Bill.bill_date).desc(), col(Bill.id).desc())
        )
        last: dict[int, str] = {}
        last_annual: dict[int, str] = {}
        for contract_id, number, kind in self.session.exec(query):
            last.setdefault(contract_id, normalise(number))
            if kind == 'annual':
                last_annual.setdefault(contract_id, normalise(number))
        return set(last.values()) | set(last_annual.values())

    def has_annual_bill(self, customer_id: int) -> bool:
        query = select(Bill.id).join(Contract).where(Contract.customer_id == customer_id, Bill.kind == 'annual')
        return self.session.exec(query.limit(1)).first() is not None

    def contracts(self, customer_id: int) -> list[Contract]:
        return list(self.session.exec(CONTRACTS, params={'customer': customer_id}))

    def meters(self, contract_ids: list[int]) -> list[Meter]:
        if not contract_ids:
            return []
        return list(self.session.exec(METERS, params={'contracts': contract_ids}))


class SqlMeters:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_customer(self, customer_id: int) -> list[tuple[Contract, Meter]]:
        return list(self.session.exec(METERS_OF_CUSTOMER, params={'customer': customer_id}))

    def lock(self, meter_id: int) -> None:
        """Row lock on PostgreSQL (SELECT … FOR UPDATE); SQLite has one writer at a time anyway."""
        self.session.exec(METER_LOCK, params={'meter': meter_id})

    def readings(self, meter_id: int) -> list[MeterReading]:
        return list(self.session.exec(READINGS, params={'meter': meter_id}))

    def add_reading(self, reading: MeterReading) -> None:
        """A plain INSERT (the ORM's unit of work cost more than the rest of a submission's writes together)."""
        reading.id = self.session.execute(READING_INSERT, column_values(reading)).scalar_one()

    def add_estimates(self, estimates: list[tuple[str, str, date, Decimal]]) -> None:
        if not estimates:
            return
        numbers = {number for number, _, _, _ in estimates}
        query = select(Meter.meter_number, Meter.id).where(col(Meter.meter_number).in_(numbers))
        ids = {number: meter_id for number, meter_id in self.session.exec(query).all()}
        rows = [
            {'meter_id': ids[number], 'obis': obis, 'reading_date': day, 'value': value, 'source': 'estimated'}
            for number, obis, day, value in estimates
            if ids.get(number) is not None
        ]
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        statement = (pg_insert if dialect == 'postgresql' else sqlite_insert)(_READING).values(rows)
        # a reading of that day (read meanwhile, or the estimate of the bill a correction replaces) stays as it is
        self.session.execute(statement.on_conflict_do_nothing(index_elements=['meter_id', 'obis', 'reading_date']))

    def delete_reading(self, reading: MeterReading) -> None:
        self.session.execute(READING_DELETE, {'reading': reading.id})
        if reading in self.session:
            self.session.expunge(reading)

    def reading_by_id(self, reading_id: int) -> MeterReading | None:
        return self.session.get(MeterReading, reading_id)

    def self_read(self, first: date, last: date) -> list[tuple[str, Contract, Meter]]:
        """Customer number, contract and meter of every meter that customers read themselves and that is in supply
        on some day from `first` to `last` (a reading letter's days)."""
        query = (
            select(Customer.customer_number, Contract, Meter)
            .join(Contract, col(Contract.customer_id) == Customer.id)
            .join(Meter, col(Meter.contract_id) == Contract.id)
            .where(col(Meter.kind) == 'manual', *supplied_on(first, last))
            .order_by(col(Customer.customer_number), col(Meter.meter_number))
        )
        return list(self.session.exec(query))

    def end_codes(self, meter_id: int, at: datetime, kind: str) -> None:
        unused = col(ReadingCode.used_at).is_(None)
        query = update(ReadingCode).where(col(ReadingCode.meter_id) == meter_id, unused, col(ReadingCode.kind) == kind)
        self.session.exec(query.values(expires_at=at))

    def add_code(self, code: ReadingCode) -> None:
        self.session.add(code)
        self.session.flush()

    def use_code(self, code: ReadingCode, at: datetime) -> bool:
        return set_once(self.session, code, 'used_at', at, col(ReadingCode.used_at).is_(None))

    def by_code(self, digest: str) -> tuple[Contract, Meter, ReadingCode] | None:
        query = (
            select(Contract, Meter, ReadingCode)
            .join(Meter, col(Meter.contract_id) == Contract.id)
            .join(ReadingCode, col(ReadingCode.meter_id) == Meter.id)
            .where(ReadingCode.digest == digest)
        )
        return self.session.exec(query).first()


class SqlCustomerData:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, row: SQLModel) -> None:
        self.session.add(row)
        self.session.flush()

    def add(self, rows: Sequence[SQLModel]) -> None:
        self.session.add_all(rows)

    def bank_account(self, customer_id: int) -> BankAccount | None:
        query = (
            select(BankAccount)
            .where(BankAccount.customer_id == customer_id, col(BankAccount.superseded_at).is_(None))
            .order_by(col(BankAccount.id).desc())
        )
        return self.session.exec(query.limit(1)).first()

    def earlier_bank_accounts(self, customer_id: int) -> list[BankAccount]:
        query = (
            select(BankAccount)
            .where(BankAccount.customer_id == customer_id, col(BankAccount.superseded_at).is_not(None))
            .order_by(col(BankAccount.id))
        )
        return list(self.session.exec(query))

    def mark_read(self, message: InboxMessage, at: datetime) -> bool:
        return set_once(self.session, message, 'read_at', at, col(InboxMessage.read_at).is_(None))

    def inbox(self, customer_id: int) -> list[InboxMessage]:
        query = (
            select(InboxMessage)
            .where(InboxMessage.customer_id == customer_id)
            .order_by(col(InboxMessage.created_at).desc(), col(InboxMessage.id).desc())
        )
        return list(self.session.exec(query))

    def unread(self, customer_ids: list[int]) -> int:
        if not customer_ids:
            return 0
        query = (
            select(func.count())
            .select_from(InboxMessage)
            .where(col(InboxMessage.customer_id).in_(customer_ids), col(InboxMessage.read_at).is_(None))
        )
        return int(self.session.exec(query).one())

    def contact_messages(self, customer_id: int) -> list[ContactMessage]:
        query = (
            select(ContactMessage)
            .where(ContactMessage.customer_id == customer_id)
            .order_by(col(ContactMessage.created_at).desc())
        )
        return list(self.session.exec(query))

    def audit_entries(self, customer_id: int) -> list[AuditEntry]:
        query = select(AuditEntry).where(AuditEntry.customer_id == customer_id).order_by(col(AuditEntry.id))
        return list(self.session.exec(query))

    def forget_login_entries(self, actor: str) -> None:
        own = update(AuditEntry).where(col(AuditEntry.customer_id).is_(None), col(AuditEntry.actor) == actor)
        self.session.exec(own.values(address='', details=''))

    def login_entries(self, actor: str, since: datetime) -> list[AuditEntry]:
        query = (
            select(AuditEntry)
            .where(col(AuditEntry.customer_id).is_(None), AuditEntry.actor == actor, col(AuditEntry.at) >= since)
            .order_by(col(AuditEntry.id))
        )
        return list(self.session.exec(query))


def supplied_on(first: date, last: date | None = None) -> tuple[ColumnElement[bool], ...]:
    """`domain.readings.in_supply` as SQL, on `first` (or on some day from `first` to `last`): the meter installed
    and not yet removed, its contract begun and not yet ended."""
    return (
        col(Contract.start_date) <= (last or first),
        or_(col(Meter.installed_on).is_(None), col(Meter.installed_on) <= (last or first)),
        or_(col(Meter.removed_on).is_(None), col(Meter.removed_on) >= first),
        or_(col(Contract.end_date).is_(None), col(Contract.end_date) >= first),
    )
