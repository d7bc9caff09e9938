"""The portal's data: master data imported from the billing system, and what the portal itself holds.

Tables are SQLModel classes so that domain rules and storage share one definition; relations are plain
foreign keys, read through repositories. Money is `Money` (2 places), consumption `Quantity` (3 places),
instants `UTCDateTime` (aware, UTC).
"""

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from domain.types import Money, Quantity, Rate, UTCDateTime


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _Row) -> int:
    """The row's id. Every row read through a repository has one, and so has a new row once added and flushed;
    the models say `int | None` only because a row has none before that. Using a row without one is a bug."""
    if row.id is None:
        raise ValueError(f'{type(row).__name__} has no id yet: it was neither read nor added and flushed')
    return row.id


def _at(**kw: Any) -> Any:  # Any, as sqlmodel.Field returns: the attribute's type is the one annotated
    return Field(sa_column=Column(UTCDateTime(), **kw))


def _money(**kw: Any) -> Any:
    return Field(sa_column=Column(Money(), **kw))


class Setting(SQLModel, table=True):
    """A utility setting overriding the profile file (edited by staff in the back office)."""

    key: str = Field(primary_key=True, max_length=100)
    value: str


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_number: str = Field(unique=True, index=True, max_length=20)
    salutation: str = Field(default='', max_length=20)
    first_name: str = Field(default='', max_length=100)
    last_name: str = Field(default='', max_length=100)
    company: str = Field(default='', max_length=200)  # a business customer: its bills are e-invoices (§9)
    vat_id: str = Field(default='', max_length=20)  # USt-IdNr., e.g. DE123456789
    leitweg_id: str = Field(default='', max_length=46)  # a public body's routing ID: its bills are XRechnung
    information_months: int | None = None  # billing information every 1, 3 or 6 months; None: the default (§9)
    reminders_off: bool = False  # no reading reminders by mail (docs/domain.md §10): opted out
    street: str = Field(default='', max_length=200)
    house_number: str = Field(default='', max_length=20)
    postal_code: str = Field(default='', max_length=10)
    city: str = Field(default='', max_length=100)
    email: str = Field(default='', max_length=254)
    phone: str = Field(default='', max_length=50)
    paperless: bool = False

    @property
    def display_name(self) -> str:
        person = ' '.join(p for p in (self.salutation, self.first_name, self.last_name) if p)
        return self.company or person

    @property
    def address(self) -> str:
        return f'{self.street} {self.house_number}, {self.postal_code} {self.city}'.strip(' ,')

    @property
    def postal_lines(self) -> tuple[str, str]:
        """The address as a letter's window shows it: street and number, postal code and city."""
        return f'{self.street} {self.house_number}'.strip(), f'{self.postal_code} {self.city}'.strip()


class Contract(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    contract_number: str = Field(unique=True, index=True, max_length=20)
    customer_id: int = Field(foreign_key='customer.id', index=True)
    commodity: str = Field(max_length=20)  # electricity, gas, water, heat
    tariff_code: str = Field(max_length=40)
    start_date: date
    end_date: date | None = None
    malo_id: str = Field(default='', max_length=11)
    notice_period_weeks: int = 4
    billing_month: int = 12
    # the Lieferstelle (supply point) as the billing system writes it; empty: the customer's postal address
    supply_address: str = Field(default='', max_length=200, sa_column_kwargs={'server_default': ''})


class Meter(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    meter_number: str = Field(unique=True, index=True, max_length=40)  # normalised
    contract_id: int = Field(foreign_key='contract.id', index=True)
    kind: str = Field(default='manual', max_length=20)  # manual, radio, smart, load_profile
    registers: str = Field(default='1.8.0', max_length=60)  # OBIS codes, comma separated
    pre_decimal_digits: int = 6
    installed_on: date | None = None
    removed_on: date | None = None
    z_number: Decimal | None = Field(default=None, sa_column=Column(Rate()))
    calorific_value: Decimal | None = Field(default=None, sa_column=Column(Rate()))


class MeterReading(SQLModel, table=True):
    __table_args__ = (UniqueConstraint('meter_id', 'obis', 'reading_date'),)  # also the index by meter
    id: int | None = Field(default=None, primary_key=True)
    meter_id: int = Field(foreign_key='meter.id')
    obis: str = Field(default='1.8.0', max_length=10)  # register, e.g. 1.8.1 = HT
    reading_date: date
    value: Decimal = Field(sa_column=Column(Quantity(), nullable=False))
    source: str = Field(default='utility', max_length=20)  # customer, utility, remote, estimated
    plausibility: str = Field(default='', max_length=20)
    reason: str = Field(default='', max_length=500)
    submitted_at: datetime | None = _at()


class Price(SQLModel, table=True):
    __table_args__ = (UniqueConstraint('tariff_code', 'valid_from'),)  # also the index by tariff
    id: int | None = Field(default=None, primary_key=True)
    tariff_code: str = Field(max_length=40)
    valid_from: date
    unit: str = Field(default='kWh', max_length=5)
    working_price_net: Decimal = Field(sa_column=Column(Rate(), nullable=False))
    base_price_net_per_year: Decimal = _money(nullable=False)
    vat_rate: Decimal = Field(sa_column=Column(Rate(), nullable=False))


class InstallmentPlan(SQLModel, table=True):
    """Abschlag (monthly installment) plan of a contract, valid from a date."""

    __table_args__ = (UniqueConstraint('contract_id', 'valid_from'),)  # also the index by contract
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key='contract.id')
    valid_from: date
    amount: Decimal = _money(nullable=False)
    due_day: int = 15
    per_year: int = 12


class Payment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint('contract_id', 'paid_on'),)  # also the index by contract
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key='contract.id')
    paid_on: date
    amount: Decimal = _money(nullable=False)


class Bill(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    bill_number: str = Field(unique=True, index=True, max_length=30)
    contract_id: int = Field(foreign_key='contract.id', index=True)
    bill_date: date
    period_start: date
    period_end: date
    kind: str = Field(default='annual', max_length=20)  # annual, final, correction
    amount_gross: Decimal = _money(nullable=False)
    pdf_path: str = Field(default='', max_length=300)
    xml_path: str = Field(default='', max_length=300)  # an e-invoice's CII XML (also embedded in its PDF)
    # bills the portal computes itself (imported bills leave these empty):
    balance: Decimal | None = _money()  # positive: to pay; negative: credit
    due_date: date | None = None
    run_key: str | None = Field(default=None, unique=True, max_length=40)  # contract:period_end, never twice
    replaces_id: int | None = Field(default=None, foreign_key='bill.id')
    details: str = ''  # the bill's contents as JSON, to render its PDF again


class BillingInformation(SQLModel, table=True):
    """An Abrechnungsinformation (§40b EnWG, docs/domain.md §9): consumption, cost and installments of the billing
    year so far and its projected result, as of `through`; no demand for payment. One per contract and day."""

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key='contract.id', index=True)
    customer_id: int = Field(foreign_key='customer.id', index=True)
    through: date
    made_at: datetime = _at(nullable=False)
    key: str = Field(unique=True, max_length=40)  # contract:through, never twice
    projected_result: Decimal = _money(nullable=False)  # positive: a back-payment expected; negative: a credit
    pdf_path: str = Field(default='', max_length=300)
    details: str = ''  # the contents as JSON, to render its PDF


class ReadingReminder(SQLModel, table=True):
    """A reading reminder mailed to a customer (docs/domain.md §10): for staff, who got which, and never twice."""

    __table_args__ = (Index('ix_readingreminder_meter', 'meter_id', 'period_end', 'kind'),)  # who is reminded

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key='customer.id', index=True)
    meter_id: int = Field(foreign_key='meter.id')
    period_end: date = Field(index=True)
    kind: str = Field(max_length=10)  # start: the period began; final: 7 days left, not read yet
    email: str = Field(max_length=254)
    queued_at: datetime = _at(nullable=False)
    key: str = Field(unique=True, max_length=60)  # meter:customer:period_end:kind


class BillSeries(SQLModel, table=True):
    """A bill number series (e.g. RE2026) and its last number: unique and sequential (§ 14 UStG)."""

    name: str = Field(primary_key=True, max_length=20)
    last_number: int = 0


CURRENT = text('superseded_at IS NULL')


class BankAccount(SQLModel, table=True):
    """A customer's bank account as given in the portal, with its SEPA direct-debit mandate if granted.

    Rows are never changed but superseded: the one row without `superseded_at` is the current one (migration 0016).
    """

    __table_args__ = (
        Index('uq_bankaccount_current', 'customer_id', unique=True, sqlite_where=CURRENT, postgresql_where=CURRENT),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key='customer.id', index=True)
    holder: str = Field(max_length=70)
    iban: str = Field(max_length=34)
    mandate_reference: str = Field(default='', max_length=35)
    mandate_granted_at: datetime | None = _at()
    mandate_revoked_at: datetime | None = _at()
    created_at: datetime = _at(nullable=False)
    superseded_at: datetime | None = _at()


class InboxMessage(SQLModel, table=True):
    """A message or document from the utility in the customer's Posteingang (inbox)."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key='customer.id', index=True)
    created_at: datetime = _at(nullable=False)
    kind: str = Field(default='message', max_length=20)  # message, document, bill, answer
    subject: str = Field(max_length=200)
    body: str = Field(default='', max_length=10000)
    bill_id: int | None = Field(default=None, foreign_key='bill.id')
    document_path: str = Field(default='', max_length=300)  # a PDF from staff, relative to the documents folder
    read_at: datetime | None = _at()


class ContactMessage(SQLModel, table=True):
    """A message from the contact form, for the staff's inbox."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key='customer.id', index=True)
    user_id: int | None = Field(default=None, index=True)
    created_at: datetime = _at(nullable=False)
    topic: str = Field(max_length=40)
    subject: str = Field(max_length=200)
    message: str = Field(max_length=5000)
    status: str = Field(default='open', index=True, max_length=20)  # open, answered, closed
    staff_id: int | None = Field(default=None, foreign_key='staffuser.id')  # who took it ("mine")
    answer: str = Field(default='', max_length=5000)
    answered_at: datetime | None = _at()
    language: str = Field(default='de', max_length=2, sa_column_kwargs={'server_default': 'de'})  # for the answer


class ContactAnswer(SQLModel, table=True):
    """Each answer staff gave to a contact message (the message keeps its latest as `answer`)."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key='contactmessage.id', index=True)
    staff_id: int | None = Field(default=None, foreign_key='staffuser.id')  # None: answered before 05.12.2026
    created_at: datetime = _at(nullable=False)
    text: str = Field(max_length=5000)


class ReviewItem(SQLModel, table=True):
    """Something a customer asked for that staff decide on (e.g. an installment reduction beyond the limit)."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key='customer.id', index=True)
    contract_id: int | None = Field(default=None, foreign_key='contract.id')
    kind: str = Field(max_length=40)  # installment_reduction
    created_at: datetime = _at(nullable=False)
    details: str = Field(default='', max_length=2000)
    reason: str = Field(default='', max_length=1000)
    status: str = Field(default='open', index=True, max_length=20)  # open, accepted, rejected
    decided_by: int | None = Field(default=None, foreign_key='staffuser.id')
    decided_at: datetime | None = _at()
    decision_note: str = Field(default='', max_length=2000)
    language: str = Field(default='de', max_length=2, sa_column_kwargs={'server_default': 'de'})  # for the answer


class ReadingCode(SQLModel, table=True):
    """A one-time code printed on the reading letter: enter a reading for exactly one meter without a login."""

    id: int | None = Field(default=None, primary_key=True)
    meter_id: int = Field(foreign_key='meter.id', index=True)
    digest: str = Field(index=True, max_length=64)
    created_at: datetime = _at(nullable=False)
    expires_at: datetime = _at(nullable=False)
    used_at: datetime | None = _at()
    # whose it is: it opens the meter only while the meter is on one of this customer's contracts
    customer_id: int | None = Field(default=None, foreign_key='customer.id')
    kind: str = Field(default='letter', max_length=10, sa_column_kwargs={'server_default': 'letter'})  # or reminder


def first_epoch() -> int:
    """A new login's session epoch, at random: SQLite gives a deleted login's id to the next login made, and a
    browser still holding the deleted login's id and epoch must not find the new login behind them. Below 2^30, so
    that raising it never leaves the column's range."""
    return secrets.randbelow(2**30)


class PortalUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)  # normalised (lower case)
    password_hash: str = Field(max_length=200)
    state: str = Field(default='pending', max_length=20)  # pending, active
    created_at: datetime = _at(nullable=False)
    confirmed_at: datetime | None = _at()
    last_login_at: datetime | None = _at()
    must_change_password: bool = False
    session_epoch: int = Field(default_factory=first_epoch)  # raised to end all sessions (password reset)
    totp_secret: str = Field(default='', max_length=200)  # optional second factor, sealed (see domain.totp)
    totp_enabled: bool = False
    # the pages' language at the last login: what the portal writes with nobody in front of it is written in it
    language: str = Field(default='de', max_length=2, sa_column_kwargs={'server_default': 'de'})
    totp_last_step: int = 0


class UserCustomer(SQLModel, table=True):
    """A customer account reachable under a login; each customer belongs to at most one login."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key='portaluser.id', index=True)
    customer_id: int = Field(foreign_key='customer.id', unique=True)
    linked_at: datetime = _at(nullable=False)


class OneTimeToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key='portaluser.id', index=True)
    purpose: str = Field(max_length=20)  # activation, pin, reset, email_change
    digest: str = Field(index=True, max_length=64)
    payload: str = Field(default='', max_length=300)
    created_at: datetime = _at(nullable=False)
    expires_at: datetime = _at(nullable=False)
    used_at: datetime | None = _at()
    failed_attempts: int = 0


class ResetRequest(SQLModel, table=True):
    """A "Passwort vergessen?" request, answered at once and worked off the request path (domain.password_reset
    `send_requested_resets`): known and unknown addresses take the same time."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=300)
    requested_at: datetime = _at(nullable=False, index=True)
    address: str = Field(default='', max_length=64)
    language: str = Field(default='de', max_length=2, sa_column_kwargs={'server_default': 'de'})  # for the mail


class StaffDevice(SQLModel, table=True):
    """A browser a staff member logged in from (as `KnownDevice`): with the right password it gets in even while
    guesses from elsewhere hold the staff account back."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key='staffuser.id', index=True)
    digest: str = Field(index=True, max_length=64)
    created_at: datetime = _at(nullable=False)
    last_used_at: datetime = _at(nullable=False)


class KnownDevice(SQLModel, table=True):
    """A browser that logged in successfully (a long-lived cookie; only its keyed digest is kept): with the right
    password it gets in even while failures from elsewhere hold the account back (docs/security.md)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key='portaluser.id', index=True)
    digest: str = Field(index=True, max_length=64)
    created_at: datetime = _at(nullable=False)
    last_used_at: datetime = _at(nullable=False)


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _at(nullable=False, index=True)
    actor: str = Field(index=True, max_length=60)  # user:12, staff:3, system, import
    action: str = Field(index=True, max_length=60)
    customer_id: int | None = Field(default=None, index=True)
    details: str = Field(default='', max_length=2000)
    address: str = Field(default='', max_length=60)


class ChangeMark(SQLModel, table=True):
    """A customer's change (an audit entry) marked by staff as taken over into the billing system.

    Kept beside the audit log, which is only ever appended to."""

    audit_id: int = Field(foreign_key='auditentry.id', primary_key=True)
    staff_id: int = Field(foreign_key='staffuser.id')
    marked_at: datetime = _at(nullable=False)


class ApiToken(SQLModel, table=True):
    """Access for the billing system to /api/v1: scoped, stored as a keyed digest, revocable.

    `cursor` is the last change the consumer has acknowledged, so each change reaches it exactly once."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    digest: str = Field(unique=True, max_length=64)
    scope: str = Field(default='read', max_length=10)  # read, write (write includes read)
    created_by: int = Field(foreign_key='staffuser.id')
    created_at: datetime = _at(nullable=False)
    revoked_at: datetime | None = _at()
    last_used_at: datetime | None = _at()
    cursor: int = 0


class OutboxMail(SQLModel, table=True):
    # the sender claims what is due in order of due time: reminders spread over hours (docs/domain.md §10) do not
    # hold up a confirmation due now (also the index by status)
    # ... and the customer card looks up the newest mail to an address (was it delivered?)
    __table_args__ = (
        Index('ix_outboxmail_due', 'status', 'next_attempt_at'),
        Index('ix_outboxmail_recipient', 'recipient', 'id'),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _at(nullable=False)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    text: str
    html: str
    status: str = Field(default='queued', max_length=10)  # queued, sent, failed, withdrawn (a reminder after opt-out)
    attempts: int = 0
    next_attempt_at: datetime = _at(nullable=False)
    sent_at: datetime | None = _at()
    last_error: str = Field(default='', max_length=500)
    unsubscribe: str = Field(default='', max_length=500)  # List-Unsubscribe URL of a bulk mail (reminders)


class StaffUser(SQLModel, table=True):
    """A member of the utility's staff: `service` (customer service) or `admin` (also settings, staff, imports).

    Two factors are mandatory: the password and a TOTP code (secret stored encrypted with the storage secret)."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)
    name: str = Field(max_length=120)
    role: str = Field(default='service', max_length=20)  # service, admin
    password_hash: str = Field(max_length=200)
    must_change_password: bool = True
    password_set_at: datetime | None = _at()  # when the password was set (None: at created_at); a start password ages
    totp_secret: str = Field(default='', max_length=200)  # encrypted; empty until enrolled
    totp_enabled: bool = False
    totp_last_step: int = 0  # a code is accepted once (no replay within its 30 s)
    active: bool = True
    created_at: datetime = _at(nullable=False)
    last_login_at: datetime | None = _at()
    session_epoch: int = 0


class RecoveryCode(SQLModel, table=True):
    """A single-use second factor for a staff member who lost the authenticator; shown once, stored hashed."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key='staffuser.id', index=True)
    digest: str = Field(max_length=64)
    used_at: datetime | None = _at()


class Throttle(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=300)
    failures: int = 0
    window_start: datetime | None = _at()
    locked_until: datetime | None = _at()


class ContractRequest(SQLModel, table=True):
    """A declaration about a contract (docs/domain.md §8): a Kündigung (cancellation), an Umzug (move) or a
    Tarifwechsel (tariff change), kept as received until staff or the billing system settle it. A cancellation may
    come from anyone (§312k BGB): its customer is unknown when the numbers given match none."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True, max_length=20)  # cancellation, move, tariff_change
    received_at: datetime = _at(nullable=False)
    customer_id: int | None = Field(default=None, foreign_key='customer.id', index=True)
    contract_id: int | None = Field(default=None, foreign_key='contract.id', index=True)
    email: str = Field(default='', max_length=300)  # where the confirmation and the answer go
    content: str = Field(default='{}', max_length=4000)  # JSON: the fields as declared
    effective: date | None = None  # cancellation: the end; move: the move-out; tariff change: the start
    status: str = Field(default='open', index=True, max_length=20)  # open, accepted, rejected
    decided_at: datetime | None = _at()
    decided_by: str = Field(default='', max_length=80)  # staff:<id> or api:<token name>
    answer: str = Field(default='', max_length=2000)
    language: str = Field(default='de', max_length=2, sa_column_kwargs={'server_default': 'de'})  # for the answer
