"""The billing repository over one SQLModel session (`BillingRepository` of domain/ports.py): prices, payments,
installment plans, bill numbers and bills, and a billing run's chunk read at once (`inputs`). It never commits: the
unit of work does, once."""

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import bindparam
from sqlalchemy import select as columns  # five columns: sqlmodel.select is typed for four
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from domain.model import (
    BankAccount,
    Bill,
    BillSeries,
    Contract,
    Customer,
    InstallmentPlan,
    Meter,
    MeterReading,
    Payment,
    PortalUser,
    Price,
    ReviewItem,
    UserCustomer,
    id_of,
)
from domain.repository_ports import BillingInputs, BillRecipient
from storage.repositories import CONTRACT, METERS, ON

Row = TypeVar('Row')
Key = TypeVar('Key')
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
        by_day = (col(Bill.bill_date).desc(), col(Bill.id).desc())  # a correction issued the same day comes first
        query = select(Bill).where(col(Bill.contract_id).in_(contract_ids)).order_by(*by_day)
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
                col(PortalUser.language),
            )
            .join(Customer, col(Customer.id) == Contract.customer_id, isouter=True)
            .join(UserCustomer, col(UserCustomer.customer_id) == Contract.customer_id, isouter=True)
            .join(PortalUser, col(PortalUser.id) == UserCustomer.user_id, isouter=True)
            .where(col(Contract.id).in_(contract_ids))
        )
        return {
            contract_id: BillRecipient(customer_id, number, bool(paperless), email, language or 'de')
            for contract_id, customer_id, number, paperless, email, language in self.session.execute(query)
        }

    def inputs(self, contract_ids: list[int], paid_from: date, paid_until: date) -> BillingInputs:
        """Seven queries for a chunk of the billing run instead of eight for each of its contracts."""
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
        customer_ids = [id_of(customer) for _, customer in contracts.values() if customer is not None]
        mandates = select(col(BankAccount.customer_id), col(BankAccount.mandate_reference)).where(
            col(BankAccount.customer_id).in_(customer_ids),
            col(BankAccount.superseded_at).is_(None),
            col(BankAccount.mandate_granted_at).is_not(None),
            col(BankAccount.mandate_revoked_at).is_(None),
        )
        return BillingInputs(
            contracts=contracts,
            meters=meters,
            readings=_grouped(self.session.exec(readings), lambda reading: reading.meter_id),
            prices=_grouped(self.session.exec(prices), lambda price: price.tariff_code),
            payments=payments,
            plans=_grouped(plans, _contract_id),
            mandates=dict(self.session.exec(mandates).all()),
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

    def lock_bill(self, number: str) -> None:
        """The bill's row held to the end of the transaction: on PostgreSQL its row lock, on SQLite the one write
        lock (an UPDATE that changes nothing; a SELECT … FOR UPDATE would take none there)."""
        self.session.execute(
            update(Bill)
            .where(col(Bill.bill_number) == number)
            .values(id=Bill.id)
            .execution_options(synchronize_session=False)
        )

    def replacement_of(self, bill_id: int) -> Bill | None:
        return self.session.exec(select(Bill).where(Bill.replaces_id == bill_id)).first()

    def add_review(self, item: ReviewItem) -> None:
        self.session.add(item)
        self.session.flush()

    def open_reviews(self, customer_id: int) -> list[ReviewItem]:
        query = select(ReviewItem).where(ReviewItem.customer_id == customer_id, ReviewItem.status == 'open')
        return list(self.session.exec(query))
