"""Repositories over one SQLModel session: customers, meters and readings, billing, and the customers' own data.
Those of logins are in storage.logins, the back office's in storage.back_office, the scheduled notices' in
storage.notices (and the exports', the contract requests' beside them). They never commit: the unit of work does,
once."""

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import BindParameter, bindparam, insert
from sqlalchemy import select as columns  # five columns: sqlmodel.select is typed for four
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, delete, func, select, update

from domain.identifiers import normalise
from domain.model import (
    AuditEntry,
    BankAccount,
    Bill,
    BillSeries,
    ContactMessage,
    Contract,
    Customer,
    InboxMessage,
    InstallmentPlan,
    Meter,
    MeterReading,
    Payment,
    PortalUser,
    Price,
    ReadingCode,
    ReviewItem,
    UserCustomer,
    id_of,
)
from domain.ports import BillingInputs, BillRecipient
from storage.claims import set_once

# The statements of what customers do most (open their pages, submit a reading), built once with parameters: building
# a select costs more than SQLite running it (bench/load.py). The others are built where they are used.
ID: BindParameter = bindparam('id')
CUSTOMER: BindParameter = bindparam('customer')
CONTRACT: BindParameter = bindparam('contract')
METER: BindParameter = bindparam('meter')
ON: BindParameter = bindparam('on')
Row = TypeVar('Row')
Key = TypeVar('Key')
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
PLANS = select(InstallmentPlan).where(InstallmentPlan.contract_id == CONTRACT).order_by(col(InstallmentPlan.valid_from))
PLANS_OF = (
    select(InstallmentPlan)
    .where(col(InstallmentPlan.contract_id).in_(bindparam('contracts', expanding=True)))
    .order_by(col(InstallmentPlan.valid_from))
)
PRICE = (
    select(Price)
    .where(Price.tariff_code == bindparam('tariff'), col(Price.valid_from) <= ON)
    .order_by(col(Price.valid_from).desc())
    .limit(1)
)
PAYMENT_AMOUNTS = (
    select(col(Payment.amount))
    .where(
        Payment.contract_id == CONTRACT,
        col(Payment.paid_on) >= bindparam('start'),
        col(Payment.paid_on) <= bindparam('end'),
    )
    .order_by(col(Payment.paid_on))
)


def _grouped(rows: Iterable[Row], key: Callable[[Row], Key]) -> dict[Key, list[Row]]:
    """The rows by one of their columns, each group in the rows' order."""
    groups: dict[Key, list[Row]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def _contract_id(row: Meter | InstallmentPlan) -> int:
    return row.contract_id


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

    def by_number(self, customer_number: str) -> Customer | None:
        return self.session.exec(select(Customer).where(Customer.customer_number == customer_number)).first()

    def meter_numbers(self, customer_id: int) -> set[str]:
        query = select(Meter.meter_number).join(Contract).where(Contract.customer_id == customer_id)
        return set(self.session.exec(query))

    def last_bill_numbers(self, customer_id: int) -> set[str]:
        """The number of each of the customer's contracts' last bill (by date; of one day, the last stored)."""
        query = (
            select(Bill.contract_id, Bill.bill_number)
            .join(Contract)
            .where(Contract.customer_id == customer_id)
            .order_by(col(Bill.contract_id), col(Bill.bill_date).desc(), col(Bill.id).desc())
        )
        last: dict[int, str] = {}
        for contract_id, number in self.session.exec(query):
            last.setdefault(contract_id, normalise(number))
        return set(last.values())

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

    def delete_reading(self, reading: MeterReading) -> None:
        self.session.execute(READING_DELETE, {'reading': reading.id})
        if reading in self.session:
            self.session.expunge(reading)

    def delete_reading_by_id(self, reading_id: int) -> None:
        reading = self.session.get(MeterReading, reading_id)
        if reading is not None:
            self.delete_reading(reading)

    def self_read(self) -> list[tuple[str, Contract, Meter]]:
        """Customer number, contract and meter of every meter in supply that customers read themselves."""
        query = (
            select(Customer.customer_number, Contract, Meter)
            .join(Contract, col(Contract.customer_id) == Customer.id)
            .join(Meter, col(Meter.contract_id) == Contract.id)
            .where(col(Meter.kind) == 'manual', col(Meter.removed_on).is_(None), col(Contract.end_date).is_(None))
            .order_by(col(Customer.customer_number), col(Meter.meter_number))
        )
        return list(self.session.exec(query))

    def end_codes(self, meter_id: int, at: datetime) -> None:
        self.session.exec(
            update(ReadingCode)
            .where(col(ReadingCode.meter_id) == meter_id, col(ReadingCode.used_at).is_(None))
            .values(expires_at=at)
        )

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


class SqlBilling:
    def __init__(self, session: Session) -> None:
        self.session = session

    def plans(self, contract_id: int) -> list[InstallmentPlan]:
        return list(self.session.exec(PLANS, params={'contract': contract_id}))

    def set_plans(self, plans: list[InstallmentPlan]) -> None:
        """Insert each, or replace the amount of a plan of its contract already starting on that date (written at the
        commit); one query for the billing run's chunk."""
        if not plans:
            return
        contracts = list({plan.contract_id for plan in plans})
        starts = list({plan.valid_from for plan in plans})  # a chunk's plans start on a few days: only those are read
        query = PLANS_OF.where(col(InstallmentPlan.valid_from).in_(starts))
        existing = {(p.contract_id, p.valid_from): p for p in self.session.exec(query, params={'contracts': contracts})}
        for plan in plans:
            found = existing.get((plan.contract_id, plan.valid_from))
            if found is not None:
                found.amount, found.due_day, found.per_year = plan.amount, plan.due_day, plan.per_year
            else:
                self.session.add(plan)
                existing[plan.contract_id, plan.valid_from] = plan

    def price(self, tariff_code: str, on: date) -> Price | None:
        return self.session.exec(PRICE, params={'tariff': tariff_code, 'on': on}).first()

    def prices(self, tariff_code: str) -> list[Price]:
        query = select(Price).where(Price.tariff_code == tariff_code).order_by(col(Price.valid_from))
        return list(self.session.exec(query))

    def payment_amounts(self, contract_id: int, start: date, end: date) -> list[Decimal]:
        """The amounts only: no Payment objects to build (a reading submission's installment proposal reads them)."""
        return list(self.session.exec(PAYMENT_AMOUNTS, params={'contract': contract_id, 'start': start, 'end': end}))

    def bills(self, contract_ids: list[int]) -> list[Bill]:
        if not contract_ids:
            return []
        query = select(Bill).where(col(Bill.contract_id).in_(contract_ids)).order_by(col(Bill.bill_date).desc())
        return list(self.session.exec(query))

    def contract(self, contract_id: int) -> Contract:
        return self.session.get_one(Contract, contract_id)

    def contracts_with_customers(self, contract_ids: list[int]) -> dict[int, tuple[Contract, Customer | None]]:
        query = select(Contract, Customer).join(Customer, isouter=True).where(col(Contract.id).in_(contract_ids))
        return {id_of(contract): (contract, customer) for contract, customer in self.session.exec(query)}

    def recipients(self, contract_ids: list[int]) -> dict[int, BillRecipient]:
        """One query of five columns for a chunk of issued bills, no Contract or Customer objects built (they were a
        sixth of issuing a chunk), the login's email joined in (a query for each paperless customer before)."""
        query = (
            columns(
                col(Contract.id),
                col(Contract.customer_id),
                col(Contract.contract_number),
                col(Customer.paperless),
                col(PortalUser.email),
            )
            .join(Customer, col(Customer.id) == Contract.customer_id, isouter=True)
            .join(UserCustomer, col(UserCustomer.customer_id) == Contract.customer_id, isouter=True)
            .join(PortalUser, col(PortalUser.id) == UserCustomer.user_id, isouter=True)
            .where(col(Contract.id).in_(contract_ids))
        )
        return {
            contract_id: BillRecipient(customer_id, number, bool(paperless), email)
            for contract_id, customer_id, number, paperless, email in self.session.execute(query)
        }

    def inputs(self, contract_ids: list[int], paid_from: date, paid_until: date) -> BillingInputs:
        """Six queries for a chunk of the billing run instead of seven for each of its contracts."""
        contracts = self.contracts_with_customers(contract_ids)
        meters = _grouped(self.session.exec(METERS, params={'contracts': contract_ids}), _contract_id)
        meter_ids = [id_of(meter) for group in meters.values() for meter in group]
        readings = select(MeterReading).where(col(MeterReading.meter_id).in_(meter_ids))
        readings = readings.order_by(col(MeterReading.meter_id), col(MeterReading.reading_date), col(MeterReading.id))
        tariffs = {contract.tariff_code for contract, _ in contracts.values()}
        prices = select(Price).where(col(Price.tariff_code).in_(tariffs)).order_by(col(Price.valid_from))
        payments: dict[int, list[tuple[date, Decimal]]] = {}
        paid = (
            select(col(Payment.contract_id), col(Payment.paid_on), col(Payment.amount))
            .where(
                col(Payment.contract_id).in_(contract_ids),
                col(Payment.paid_on) >= paid_from,
                col(Payment.paid_on) <= paid_until,
            )
            .order_by(col(Payment.paid_on))
        )
        for contract_id, paid_on, amount in self.session.exec(paid):
            payments.setdefault(contract_id, []).append((paid_on, amount))
        plans = self.session.exec(PLANS_OF, params={'contracts': contract_ids})
        return BillingInputs(
            contracts=contracts,
            meters=meters,
            readings=_grouped(self.session.exec(readings), lambda reading: reading.meter_id),
            prices=_grouped(self.session.exec(prices), lambda price: price.tariff_code),
            payments=payments,
            plans=_grouped(plans, _contract_id),
        )

    def next_number(self, series: str, count: int = 1) -> int:
        """The first of the series' next `count` numbers, counted up in this transaction: concurrent runs wait for
        each other's commit (row lock), and a rolled-back bill gives its numbers back, so numbers stay gapless."""
        statement = (
            update(BillSeries)
            .where(col(BillSeries.name) == series)
            .values(last_number=BillSeries.last_number + count)
            .returning(col(BillSeries.last_number))
        )
        number = self.session.exec(statement).scalar()
        if number is None:
            try:
                with self.session.begin_nested():
                    self.session.add(BillSeries(name=series, last_number=0))
            except IntegrityError:
                pass  # another process created the series first
            number = self.session.exec(statement).scalar_one()  # the series exists now
        return int(number) - count + 1

    def add_bills(self, bills: list[Bill]) -> None:
        self.session.add_all(bills)
        self.session.flush()

    def bill_by_number(self, number: str) -> Bill | None:
        return self.session.exec(select(Bill).where(Bill.bill_number == number)).first()

    def replacement_of(self, bill_id: int) -> Bill | None:
        return self.session.exec(select(Bill).where(Bill.replaces_id == bill_id)).first()

    def add_review(self, item: ReviewItem) -> None:
        self.session.add(item)
        self.session.flush()

    def open_reviews(self, customer_id: int) -> list[ReviewItem]:
        query = select(ReviewItem).where(ReviewItem.customer_id == customer_id, ReviewItem.status == 'open')
        return list(self.session.exec(query))


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

    def login_entries(self, actor: str, since: datetime) -> list[AuditEntry]:
        query = (
            select(AuditEntry)
            .where(col(AuditEntry.customer_id).is_(None), AuditEntry.actor == actor, col(AuditEntry.at) >= since)
            .order_by(col(AuditEntry.id))
        )
        return list(self.session.exec(query))
