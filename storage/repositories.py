"""Repositories over one SQLModel session. They never commit: the unit of work does, once."""

import hashlib
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BindParameter, bindparam, insert
from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel, col, delete, func, or_, select, update

from domain.identifiers import normalise
from domain.model import (
    ApiToken,
    AuditEntry,
    BankAccount,
    Bill,
    BillingInformation,
    BillSeries,
    ChangeMark,
    ContactMessage,
    Contract,
    Customer,
    InboxMessage,
    InstallmentPlan,
    KnownDevice,
    Meter,
    MeterReading,
    OneTimeToken,
    Payment,
    PortalUser,
    Price,
    ReadingCode,
    ReadingReminder,
    RecoveryCode,
    ReviewItem,
    Setting,
    StaffUser,
    Throttle,
    UserCustomer,
)
from domain.reminders import ReminderLine, Target
from domain.throttle import ThrottleState

# The statements of what customers do most (open their pages, submit a reading), built once with parameters: building
# a select costs more than SQLite running it (bench/load.py). The others are built where they are used.
ID: BindParameter = bindparam('id')
CUSTOMER: BindParameter = bindparam('customer')
CONTRACT: BindParameter = bindparam('contract')
METER: BindParameter = bindparam('meter')
USER: BindParameter = bindparam('user')
ON: BindParameter = bindparam('on')
CUSTOMER_BY_ID = select(Customer).where(Customer.id == ID)
CUSTOMERS_OF_USER = select(UserCustomer.customer_id).where(UserCustomer.user_id == USER).order_by(col(UserCustomer.id))
OWNER = select(UserCustomer.user_id).where(UserCustomer.customer_id == CUSTOMER).limit(1)
OWNER_EMAIL = (
    select(PortalUser.email)
    .join(UserCustomer, col(UserCustomer.user_id) == PortalUser.id)
    .where(UserCustomer.customer_id == CUSTOMER)
    .limit(1)
)
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

    def bill_numbers(self, customer_id: int) -> set[str]:
        query = select(Bill.bill_number).join(Contract).where(Contract.customer_id == customer_id)
        return {normalise(number) for number in self.session.exec(query)}

    def has_annual_bill(self, customer_id: int) -> bool:
        query = select(Bill.id).join(Contract).where(Contract.customer_id == customer_id, Bill.kind == 'annual')
        return self.session.exec(query.limit(1)).first() is not None

    def contracts(self, customer_id: int) -> list[Contract]:
        return list(self.session.exec(CONTRACTS, params={'customer': customer_id}))

    def meters(self, contract_ids: list[int]) -> list[Meter]:
        if not contract_ids:
            return []
        return list(self.session.exec(METERS, params={'contracts': contract_ids}))


class SqlUsers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> PortalUser | None:
        """From the session's identity map when this transaction has loaded the login already (a submission checks
        the session, then mails the customer's owner: mostly the same login)."""
        return self.session.get(PortalUser, user_id)

    def by_email(self, email: str) -> PortalUser | None:
        return self.session.exec(select(PortalUser).where(PortalUser.email == email)).first()

    def add(self, user: PortalUser) -> PortalUser:
        self.session.add(user)
        self.session.flush()
        return user

    def delete(self, user: PortalUser) -> None:
        self.session.exec(delete(UserCustomer).where(col(UserCustomer.user_id) == user.id))
        self.session.exec(delete(OneTimeToken).where(col(OneTimeToken.user_id) == user.id))
        self.session.exec(delete(KnownDevice).where(col(KnownDevice.user_id) == user.id))
        self.session.delete(user)
        self.session.flush()

    def customer_ids(self, user_id: int) -> list[int]:
        return list(self.session.exec(CUSTOMERS_OF_USER, params={'user': user_id}))

    def owner_of(self, customer_id: int) -> int | None:
        return self.session.exec(OWNER, params={'customer': customer_id}).first()

    def owner_email(self, customer_id: int) -> str | None:
        """The login email of the customer's portal account, in one query (no PortalUser object to build)."""
        return self.session.exec(OWNER_EMAIL, params={'customer': customer_id}).first()

    def link(self, user_id: int, customer_id: int, at: datetime) -> None:
        self.session.add(UserCustomer(user_id=user_id, customer_id=customer_id, linked_at=at))
        self.session.flush()

    def unconfirmed_since(self, before: datetime) -> list[PortalUser]:
        query = select(PortalUser).where(PortalUser.state == 'pending', col(PortalUser.created_at) < before)
        return list(self.session.exec(query))


class SqlTokens:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: OneTimeToken) -> OneTimeToken:
        self.session.add(token)
        self.session.flush()
        return token

    def find(self, purpose: str, digest: str) -> OneTimeToken | None:
        query = select(OneTimeToken).where(OneTimeToken.purpose == purpose, OneTimeToken.digest == digest)
        return self.session.exec(query).first()

    def latest(self, user_id: int, purpose: str) -> OneTimeToken | None:
        query = (
            select(OneTimeToken)
            .where(OneTimeToken.user_id == user_id, OneTimeToken.purpose == purpose)
            .order_by(col(OneTimeToken.id).desc())
        )
        return self.session.exec(query.limit(1)).first()

    def revoke(self, user_id: int, purposes: tuple[str, ...], at: datetime) -> None:
        self.session.exec(
            update(OneTimeToken)
            .where(
                col(OneTimeToken.user_id) == user_id,
                col(OneTimeToken.purpose).in_(purposes),
                col(OneTimeToken.used_at).is_(None),
            )
            .values(used_at=at)
        )

    def claim(self, token: OneTimeToken, at: datetime) -> bool:
        """The login's row is locked first (PostgreSQL): every change of a login takes its row before its tokens'
        (a password change revokes the reset links), so two of them cannot wait for each other."""
        assert token.id is not None
        self.session.exec(select(PortalUser.id).where(PortalUser.id == token.user_id).with_for_update())
        claimed = self.session.exec(
            update(OneTimeToken)
            .where(col(OneTimeToken.id) == token.id, col(OneTimeToken.used_at).is_(None))
            .values(used_at=at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            set_committed_value(token, 'used_at', at)  # as stored, without a second UPDATE at the flush
        return claimed == 1


class SqlThrottles:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _stored(key: str) -> str:
        """Keys hold what was guessed against (an email as typed): a long or odd one is kept as its hash."""
        if len(key) <= 200 and key.isprintable():
            return key
        return 'sha256:' + hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()

    def state(self, key: str) -> ThrottleState:
        """Read for a change: the row is locked until the transaction ends, so that two requests at once (fifteen
        quick clicks on "E-Mail erneut senden") count one after the other instead of both reading the old count.
        The row is made first if need be: on SQLite that write takes the database's write lock before the read."""
        stored = self._stored(key)
        table = Throttle.__table__  # type: ignore[attr-defined]  # SQLModel does not type __table__
        insert_row = (pg_insert if self.session.get_bind().dialect.name == 'postgresql' else sqlite_insert)(table)
        self.session.execute(insert_row.values(key=stored, failures=0).on_conflict_do_nothing(index_elements=['key']))
        row = self.session.exec(select(Throttle).where(Throttle.key == stored).with_for_update()).one()
        self.session.refresh(row)
        return ThrottleState(row.failures, row.window_start, row.locked_until)

    def peek(self, key: str) -> ThrottleState:
        row = self.session.exec(select(Throttle).where(Throttle.key == self._stored(key))).first()
        return ThrottleState() if row is None else ThrottleState(row.failures, row.window_start, row.locked_until)

    def prune(self, before: datetime) -> int:
        """Forget counts nobody has added to since `before` and that hold nothing back any more."""
        stale = (col(Throttle.window_start).is_(None) | (col(Throttle.window_start) < before)) & (
            col(Throttle.locked_until).is_(None) | (col(Throttle.locked_until) < before)
        )
        return self.session.exec(delete(Throttle).where(stale)).rowcount

    def save(self, key: str, state: ThrottleState) -> None:
        key = self._stored(key)
        row = self.session.get(Throttle, key) or Throttle(key=key)
        row.failures, row.window_start, row.locked_until = state.failures, state.window_start, state.locked_until
        self.session.add(row)
        self.session.flush()


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

    def set_plan(self, plan: InstallmentPlan) -> None:
        """Insert, or replace the amount of a plan already starting on that date."""
        existing = self.session.exec(
            select(InstallmentPlan).where(
                InstallmentPlan.contract_id == plan.contract_id, InstallmentPlan.valid_from == plan.valid_from
            )
        ).first()
        if existing is not None:
            existing.amount, existing.due_day, existing.per_year = plan.amount, plan.due_day, plan.per_year
            plan = existing
        self.session.add(plan)
        self.session.flush()

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

    def add_bill(self, bill: Bill) -> None:
        self.session.add(bill)
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


class SqlStaff:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, staff_id: int) -> StaffUser | None:
        return self.session.get(StaffUser, staff_id)

    def by_email(self, email: str) -> StaffUser | None:
        return self.session.exec(select(StaffUser).where(StaffUser.email == email)).first()

    def add(self, staff: StaffUser) -> None:
        self.session.add(staff)
        self.session.flush()

    def all(self) -> list[StaffUser]:
        return list(self.session.exec(select(StaffUser).order_by(col(StaffUser.name))))

    def replace_recovery_codes(self, staff_id: int, codes: list[RecoveryCode]) -> None:
        self.session.execute(delete(RecoveryCode).where(col(RecoveryCode.staff_id) == staff_id))
        self.session.add_all(codes)

    def unused_recovery_code(self, staff_id: int, digest: str) -> RecoveryCode | None:
        return self.session.exec(
            select(RecoveryCode).where(
                RecoveryCode.staff_id == staff_id, RecoveryCode.digest == digest, col(RecoveryCode.used_at).is_(None)
            )
        ).first()


class SqlDesk:
    """The staff's look at customers: search, recent readings and changes, pending registrations."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def search(self, text: str, limit: int) -> list[Customer]:
        pattern = f'%{text.lower()}%'
        by_login = (
            select(UserCustomer.customer_id)
            .join(PortalUser, col(PortalUser.id) == UserCustomer.user_id)
            .where(func.lower(PortalUser.email).like(pattern))
        )
        by_meter = (
            select(Contract.customer_id)
            .join(Meter, col(Meter.contract_id) == Contract.id)
            .where(Meter.meter_number == normalise(text))
        )
        name = func.lower(func.coalesce(Customer.first_name, '') + ' ' + func.coalesce(Customer.last_name, ''))
        query = select(Customer).where(
            (col(Customer.customer_number) == normalise(text))
            | name.like(pattern)
            | func.lower(Customer.company).like(pattern)
            | func.lower(Customer.email).like(pattern)
            | col(Customer.id).in_(by_login)
            | col(Customer.id).in_(by_meter)
        )
        return list(self.session.exec(query.order_by(col(Customer.customer_number)).limit(limit)))

    def recent_readings(self, customer_id: int, limit: int) -> list[tuple[str, MeterReading]]:
        query = (
            select(Meter.meter_number, MeterReading)
            .join(Meter, col(Meter.id) == MeterReading.meter_id)
            .join(Contract, col(Contract.id) == Meter.contract_id)
            .where(Contract.customer_id == customer_id)
            .order_by(col(MeterReading.reading_date).desc(), col(MeterReading.id).desc())
            .limit(limit)
        )
        return [(number, reading) for number, reading in self.session.exec(query)]

    def audit_of(self, customer_id: int, limit: int) -> list[AuditEntry]:
        query = (
            select(AuditEntry)
            .where(AuditEntry.customer_id == customer_id)
            .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
            .limit(limit)
        )
        return list(self.session.exec(query))

    def contact_messages(self, status: str | None, topic: str | None, staff_id: int | None) -> list[ContactMessage]:
        query = select(ContactMessage)
        if status is not None:
            query = query.where(ContactMessage.status == status)
        if topic is not None:
            query = query.where(ContactMessage.topic == topic)
        if staff_id is not None:
            query = query.where(ContactMessage.staff_id == staff_id)
        return list(self.session.exec(query.order_by(col(ContactMessage.created_at)).limit(500)))

    def contact_message(self, message_id: int) -> ContactMessage | None:
        return self.session.get(ContactMessage, message_id)

    def reviews(self, status: str | None) -> list[ReviewItem]:
        query = select(ReviewItem)
        if status is not None:
            query = query.where(ReviewItem.status == status)
        return list(self.session.exec(query.order_by(col(ReviewItem.created_at)).limit(500)))

    def review(self, item_id: int) -> ReviewItem | None:
        return self.session.get(ReviewItem, item_id)

    def changes(
        self, kinds: tuple[str, ...], since: datetime | None, open_only: bool, limit: int
    ) -> list[tuple[AuditEntry, str, bool]]:
        query = (
            select(AuditEntry, Customer.customer_number, ChangeMark.audit_id)
            .outerjoin(Customer, col(AuditEntry.customer_id) == Customer.id)
            .outerjoin(ChangeMark, col(ChangeMark.audit_id) == AuditEntry.id)
            .where(col(AuditEntry.action).in_(kinds))
        )
        if since is not None:
            query = query.where(col(AuditEntry.at) >= since)
        if open_only:
            query = query.where(col(ChangeMark.audit_id).is_(None))
        rows = self.session.exec(query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit))
        return [(entry, number or '', mark is not None) for entry, number, mark in rows]

    def mark_changes(self, audit_ids: list[int], staff_id: int, at: datetime, kinds: tuple[str, ...]) -> int:
        query = select(AuditEntry.id).where(col(AuditEntry.id).in_(audit_ids), col(AuditEntry.action).in_(kinds))
        known = {i for i in self.session.exec(query) if i is not None}  # primary keys: None only to the type checker
        marked = set(self.session.exec(select(ChangeMark.audit_id).where(col(ChangeMark.audit_id).in_(known))))
        new = known - marked
        self.session.add_all([ChangeMark(audit_id=i, staff_id=staff_id, marked_at=at) for i in sorted(new)])
        return len(new)

    def pending_login(self, customer_id: int) -> PortalUser | None:
        """A registration not yet confirmed: the customer is named in its open confirmation token."""
        query = (
            select(PortalUser)
            .join(OneTimeToken, col(OneTimeToken.user_id) == PortalUser.id)
            .where(
                PortalUser.state == 'pending',
                col(OneTimeToken.purpose).in_(('activation', 'pin')),
                OneTimeToken.payload == str(customer_id),
            )
            .order_by(col(OneTimeToken.created_at).desc())
        )
        return self.session.exec(query).first()


class SqlApi:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: ApiToken) -> None:
        self.session.add(token)
        self.session.flush()

    def get(self, token_id: int) -> ApiToken | None:
        return self.session.get(ApiToken, token_id)

    def by_digest(self, digest: str) -> ApiToken | None:
        return self.session.exec(select(ApiToken).where(ApiToken.digest == digest)).first()

    def all(self) -> list[ApiToken]:
        return list(self.session.exec(select(ApiToken).order_by(col(ApiToken.id))))

    def last_change_id(self, kinds: tuple[str, ...]) -> int:
        return self.session.exec(select(func.max(AuditEntry.id)).where(col(AuditEntry.action).in_(kinds))).one() or 0

    def changes_after(self, after: int, kinds: tuple[str, ...], limit: int) -> list[tuple[AuditEntry, str]]:
        query = (
            select(AuditEntry, Customer.customer_number)
            .outerjoin(Customer, col(AuditEntry.customer_id) == Customer.id)
            .where(col(AuditEntry.id) > after, col(AuditEntry.action).in_(kinds))
            .order_by(col(AuditEntry.id))
            .limit(limit)
        )
        return [(entry, number or '') for entry, number in self.session.exec(query)]


class SqlSettings:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str) -> str | None:
        row = self.session.get(Setting, key)
        return row.value if row is not None else None

    def set(self, key: str, value: str) -> None:
        row = self.session.get(Setting, key)
        if row is None:
            self.session.add(Setting(key=key, value=value))
        else:
            row.value = value
        self.session.flush()


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
                col(Contract.commodity).in_(('electricity', 'gas')),
                or_(col(Contract.end_date).is_(None), col(Contract.end_date) > today),
            )
            .order_by(col(Contract.id))
        )
        return [i for i in self.session.exec(query) if i is not None]


class SqlReminders:
    def __init__(self, session: Session) -> None:
        self.session = session

    def targets(
        self, after_meter_id: int, limit: int, period: tuple[date, date], kind: str, today: date
    ) -> list[Target]:
        start, period_end = period
        read = (
            select(MeterReading.id)
            .where(MeterReading.meter_id == Meter.id, col(MeterReading.reading_date) >= start)
            .exists()
        )
        reminded = (
            select(ReadingReminder.id)
            .where(
                ReadingReminder.meter_id == Meter.id,
                ReadingReminder.period_end == period_end,
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
            )
            .join(Contract, col(Contract.id) == Meter.contract_id)
            .join(Customer, col(Customer.id) == Contract.customer_id)
            .outerjoin(UserCustomer, col(UserCustomer.customer_id) == Customer.id)
            .outerjoin(PortalUser, col(PortalUser.id) == UserCustomer.user_id)
            .where(
                col(Meter.kind) == 'manual',
                col(Meter.removed_on).is_(None),
                or_(col(Contract.end_date).is_(None), col(Contract.end_date) > today),  # in supply, notice or not
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
        query = select(MeterReading.meter_id).where(
            col(MeterReading.meter_id).in_(meter_ids), col(MeterReading.reading_date) >= since
        )
        return set(self.session.exec(query.distinct()))

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
