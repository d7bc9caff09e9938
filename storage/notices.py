"""Repositories of what the portal issues on its own schedule: billing information entries (§40b EnWG) and reading
reminders."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, or_, select, update

from domain.clock import BERLIN
from domain.identifiers import normalise
from domain.information import ENERGY
from domain.model import (
    BillingInformation,
    Contract,
    Customer,
    Meter,
    MeterReading,
    OutboxMail,
    PortalUser,
    ReadingReminder,
    UserCustomer,
)
from domain.repository_ports import ReminderLine, Target
from storage.repositories import supplied_on


class SqlInformation:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: BillingInformation) -> None:
        self.session.add(entry)
        self.session.flush()

    def exists(self, key: str) -> bool:
        return self.session.exec(select(BillingInformation.id).where(BillingInformation.key == key)).first() is not None

    def get(self, entry_id: int) -> BillingInformation | None:
        return self.session.get(BillingInformation, entry_id)

    def of_customer(self, customer_id: int) -> list[BillingInformation]:
        query = select(BillingInformation).where(BillingInformation.customer_id == customer_id)
        return list(self.session.exec(query.order_by(col(BillingInformation.through).desc())))

    def candidates(self, today: date) -> list[int]:
        query = (
            select(Contract.id)
            .join(Customer, col(Customer.id) == Contract.customer_id)
            .where(
                col(Customer.paperless).is_(True),
                col(Contract.commodity).in_(ENERGY),
                or_(col(Contract.end_date).is_(None), col(Contract.end_date) > today),
            )
            .order_by(col(Contract.id))
        )
        return [i for i in self.session.exec(query) if i is not None]


def not_installation_value() -> ColumnElement[bool]:
    """A meter's value on its installation day from the billing system (the fitter's, a new meter's 0 after an
    exchange in the period) is where the meter starts, not the period's reading: its customer has still to read."""
    return or_(
        col(Meter.installed_on).is_(None),
        col(MeterReading.reading_date) != Meter.installed_on,
        col(MeterReading.source) == 'customer',
    )


def read_by_its_holder(start: date) -> ColumnElement[bool]:
    """A reading of the period counts for the meter's customer now (its contract: the meter's) where that contract
    began before the period; where it began in the period, as a new tenant's to whom the billing system handed the
    meter on, only one taken after its first day (the move-in value is the previous holder's move-out value:
    domain/tenancy.py) — unless the same customer's contract before it at that supply address ended in the period (a
    renewal under a new contract number, `tenancy.held_since`)."""
    earlier = aliased(Contract)
    renewed = (
        select(earlier.id)
        .where(
            earlier.customer_id == Contract.customer_id,
            earlier.commodity == Contract.commodity,
            col(Contract.supply_address) != '',
            earlier.supply_address == Contract.supply_address,
            earlier.id != Contract.id,
            col(earlier.end_date) >= start - timedelta(days=1),
            col(earlier.end_date) <= Contract.start_date,
        )
        .correlate(Contract)  # the meter's contract two queries up (auto-correlation reaches only one)
        .exists()
    )
    return or_(col(Contract.start_date) <= start, col(MeterReading.reading_date) > Contract.start_date, renewed)


class SqlReminders:
    def __init__(self, session: Session) -> None:
        self.session = session

    def targets(
        self, after_meter_id: int, limit: int, period: tuple[date, date], kind: str, today: date
    ) -> list[Target]:
        start, _ = period
        read = (
            select(MeterReading.id)
            .where(
                MeterReading.meter_id == Meter.id,
                col(MeterReading.reading_date) >= start,
                col(MeterReading.source) != 'estimated',  # the bill run's closing estimate is no reading taken
                not_installation_value(),
                read_by_its_holder(start),
            )
            .exists()
        )
        # reminded of this kind since the period began: an end moved by staff meanwhile (26.01. → 31.01.) is the
        # same period, not a new one to remind everyone of again
        reminded = (
            select(ReadingReminder.id)
            .where(
                ReadingReminder.meter_id == Meter.id,
                ReadingReminder.customer_id == Customer.id,  # a previous tenant's is not the new one's
                col(ReadingReminder.queued_at) >= datetime.combine(start, time(0), tzinfo=BERLIN),
                ReadingReminder.kind == kind,
            )
            .exists()
        )
        query = (
            sa_select(
                col(Customer.id),
                col(Customer.customer_number),
                col(Meter.id),
                col(Meter.meter_number),
                func.coalesce(col(PortalUser.email), col(Customer.email)),
                col(Customer.reminders_off),
                func.coalesce(col(PortalUser.language), 'de'),
            )
            .join(Contract, col(Contract.id) == Meter.contract_id)
            .join(Customer, col(Customer.id) == Contract.customer_id)
            .outerjoin(UserCustomer, col(UserCustomer.customer_id) == Customer.id)
            .outerjoin(PortalUser, col(PortalUser.id) == UserCustomer.user_id)
            .where(
                col(Meter.kind) == 'manual',
                *supplied_on(today),  # in supply, notice or not
                col(Meter.id) > after_meter_id,
                col(Customer.reminders_off).is_(False),
                func.coalesce(col(PortalUser.email), col(Customer.email)) != '',
                ~reminded,  # an hourly run after the first finds nothing, in one query
                ~read,
            )
            .order_by(col(Meter.id))
            .limit(limit)
        )
        return [Target(*row) for row in self.session.execute(query)]

    def sent_keys(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        return set(self.session.exec(select(ReadingReminder.key).where(col(ReadingReminder.key).in_(keys))))

    def read_since(self, meter_ids: list[int], since: date) -> set[int]:
        if not meter_ids:
            return set()
        query = (
            select(MeterReading.meter_id)
            .join(Meter, col(Meter.id) == MeterReading.meter_id)
            .join(Contract, col(Contract.id) == Meter.contract_id)
            .where(
                col(MeterReading.meter_id).in_(meter_ids),
                col(MeterReading.reading_date) >= since,
                col(MeterReading.source) != 'estimated',
                not_installation_value(),
                read_by_its_holder(since),
            )
        )
        return set(self.session.exec(query.distinct()))

    def withdraw(self, unsubscribe: str) -> int:
        statement = (
            update(OutboxMail)
            .where(col(OutboxMail.status) == 'queued', col(OutboxMail.unsubscribe) == unsubscribe)
            .values(status='withdrawn')
        )
        return int(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def of_customer(self, customer_id: int) -> list[ReadingReminder]:
        query = select(ReadingReminder).where(ReadingReminder.customer_id == customer_id)
        return list(self.session.exec(query.order_by(col(ReadingReminder.id))))

    def forget_email(self, address: str) -> None:
        self.session.execute(update(ReadingReminder).where(col(ReadingReminder.email) == address).values(email=''))

    def add(self, reminder: ReadingReminder) -> None:
        self.session.add(reminder)

    def listing(self, customer_number: str, limit: int) -> list[ReminderLine]:
        query = (
            select(ReadingReminder, Customer.customer_number, Meter.meter_number)
            .join(Customer, col(Customer.id) == ReadingReminder.customer_id)
            .join(Meter, col(Meter.id) == ReadingReminder.meter_id)
            .order_by(col(ReadingReminder.id).desc())
            .limit(limit)
        )
        if customer_number:
            query = query.where(Customer.customer_number == normalise(customer_number))
        return [
            ReminderLine(r.queued_at, number, meter, r.kind, r.email, r.period_end)
            for r, number, meter in self.session.exec(query)
        ]
