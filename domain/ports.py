"""What the use cases need from the outside world, as protocols that `storage/` implements, and the plain values some of
them return. The throttle's repository protocol is in domain.throttle, beside the counting that uses it."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Protocol

from sqlmodel import SQLModel

from domain.clock import local_day
from domain.model import (
    ApiToken,
    AuditEntry,
    BankAccount,
    Bill,
    BillingInformation,
    ContactAnswer,
    ContactMessage,
    Contract,
    ContractRequest,
    Customer,
    InboxMessage,
    InstallmentPlan,
    KnownDevice,
    Meter,
    MeterReading,
    OneTimeToken,
    OutboxMail,
    PortalUser,
    Price,
    ReadingCode,
    ReadingReminder,
    RecoveryCode,
    ResetRequest,
    ReviewItem,
    StaffUser,
)
from domain.profile import UtilityProfile
from domain.throttle import ThrottleRepository


@dataclass(frozen=True)
class Target:
    """A self-read meter in supply and whom to tell about it."""

    customer_id: int
    customer_number: str
    meter_id: int
    meter_number: str
    email: str  # the login's, else the contact email; '' when there is none
    reminders_off: bool
    language: str = 'de'  # the login's last; German to a contact email


@dataclass(frozen=True)
class ReminderLine:
    """A reading reminder queued, as staff see it in the list of who got which."""

    queued_at: datetime
    customer_number: str
    meter_number: str
    kind: str
    email: str
    period_end: date


@dataclass(frozen=True)
class BillingInputs:
    """What the billing run computes a chunk of contracts' bills from, read at once (BillingRepository.inputs):
    each mapping keyed by the id named, its lists in the order of time (readings by day, prices by start)."""

    contracts: dict[int, tuple[Contract, Customer | None]]  # by contract id, with its customer
    meters: dict[int, list[Meter]]  # by contract id, by meter number
    readings: dict[int, list[MeterReading]]  # by meter id
    prices: dict[str, list[Price]]  # by tariff code
    payments: dict[int, list[tuple[date, Decimal]]]  # by contract id: (paid on, amount)
    plans: dict[int, list[InstallmentPlan]]  # by contract id
    mandates: dict[int, str] = field(default_factory=dict)  # by customer id: the SEPA mandate in force, its reference


@dataclass(frozen=True)
class BillRecipient:
    """Whom an issued bill concerns (BillingRepository.recipients): the contract's customer, whether that customer
    reads bills in the portal's inbox, and the login's email for the notice."""

    customer_id: int
    contract_number: str
    paperless: bool
    email: str | None
    language: str = 'de'  # the login's last (the messages about the bill are written in it)


@dataclass(frozen=True)
class MailMessage:
    recipient: str
    subject: str
    text: str
    html: str
    unsubscribe: str = ''  # a bulk mail's one-click opt-out URL (List-Unsubscribe, RFC 8058)


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...
    @property
    def dummy_hash(self) -> str: ...


class CustomerRepository(Protocol):
    def get(self, customer_id: int) -> Customer | None: ...
    def by_number(self, customer_number: str) -> Customer | None: ...
    def meter_numbers(self, customer_id: int, removed_since: date) -> set[str]: ...  # but those removed before
    def last_bill_numbers(self, customer_id: int) -> set[str]: ...  # of each contract
    def has_annual_bill(self, customer_id: int) -> bool: ...
    def contracts(self, customer_id: int) -> list[Contract]: ...
    def meters(self, contract_ids: list[int]) -> list[Meter]: ...
    def hold_contract(self, contract_id: int) -> None: ...  # its row, until the commit (two requests at once)


class UserRepository(Protocol):
    def get(self, user_id: int) -> PortalUser | None: ...
    def by_email(self, email: str) -> PortalUser | None: ...
    def hold(self, user_id: int) -> PortalUser | None:
        """The login as stored now (the object refreshed), its row held till commit."""
        ...

    def add(self, user: PortalUser) -> PortalUser: ...
    def delete(self, user: PortalUser) -> None: ...
    def customer_ids(self, user_id: int) -> list[int]: ...
    def owner_of(self, customer_id: int) -> int | None: ...
    def owner_email(self, customer_id: int) -> str | None: ...
    def owner_language(self, customer_id: int) -> str: ...  # the login's last language; 'de' without a login
    def link(self, user_id: int, customer_id: int, at: datetime) -> None: ...
    def unconfirmed_since(self, before: datetime) -> list[PortalUser]: ...
    def claim_totp_step(self, user: PortalUser, step: int) -> bool: ...  # False: that step (or a later) was used


class TokenRepository(Protocol):
    def add(self, token: OneTimeToken) -> OneTimeToken: ...
    def find(self, purpose: str, digest: str) -> OneTimeToken | None: ...
    def latest(self, user_id: int, purpose: str) -> OneTimeToken | None: ...
    def revoke(self, user_id: int, purposes: tuple[str, ...], at: datetime) -> None: ...

    def claim(self, token: OneTimeToken, at: datetime) -> bool:
        """Mark the token used unless another request did meanwhile (the same link or temporary password twice at
        once): True only for the one that did."""
        ...

    def count_failure(self, token: OneTimeToken) -> int:
        """One more wrong attempt at the token (a PIN), counted in the database: attempts made at the same moment
        each count. The count now."""
        ...


class MeterRepository(Protocol):
    def of_customer(self, customer_id: int) -> list[tuple[Contract, Meter]]: ...
    def readings(self, meter_id: int) -> list[MeterReading]: ...
    def lock(self, meter_id: int) -> None: ...  # until the commit: one submission per meter at a time
    def add_reading(self, reading: MeterReading) -> None: ...
    def add_estimates(self, estimates: list[tuple[str, str, date, Decimal]]) -> None:
        """Estimated readings (meter number, register, day, value) a bill closed its period with, where that day
        has no reading of the register yet."""
        ...

    def delete_reading(self, reading: MeterReading) -> None: ...
    def reading_by_id(self, reading_id: int) -> MeterReading | None: ...
    def self_read(self, first: date, last: date) -> list[tuple[str, Contract, Meter]]: ...  # in supply then
    def end_codes(self, meter_id: int, at: datetime, kind: str) -> None: ...  # the unused ones of that kind
    def add_code(self, code: ReadingCode) -> None: ...
    def use_code(self, code: ReadingCode, at: datetime) -> bool:
        """Mark the code used unless another submission did meanwhile (the same letter's code twice at once): True
        only for the one that did."""
        ...

    def by_code(self, digest: str) -> tuple[Contract, Meter, ReadingCode] | None: ...


class BillingRepository(Protocol):
    def plans(self, contract_id: int) -> list[InstallmentPlan]: ...
    def set_plans(self, plans: list[InstallmentPlan]) -> None: ...
    def price(self, tariff_code: str, on: date) -> Price | None: ...
    def prices(self, tariff_code: str) -> list[Price]: ...
    def payment_amounts(self, contract_id: int, start: date, end: date) -> list[Decimal]: ...
    def bills(self, contract_ids: list[int]) -> list[Bill]: ...
    def contract(self, contract_id: int) -> Contract: ...
    def recipients(self, contract_ids: list[int]) -> dict[int, BillRecipient]: ...  # by contract id
    def inputs(self, contract_ids: list[int], paid_from: date, paid_until: date) -> BillingInputs: ...
    def next_number(self, series: str, count: int = 1) -> int: ...
    def add_bills(self, bills: list[Bill]) -> None: ...  # each with its id after
    def bill_by_number(self, number: str) -> Bill | None: ...
    def lock_bill(self, number: str) -> None: ...  # until the transaction ends
    def replacement_of(self, bill_id: int) -> Bill | None: ...
    def add_review(self, item: ReviewItem) -> None: ...
    def open_reviews(self, customer_id: int) -> list[ReviewItem]: ...


class CustomerDataRepository(Protocol):
    def save(self, row: SQLModel) -> None: ...  # with its id after
    def add(self, rows: Sequence[SQLModel]) -> None: ...  # written at the commit
    def bank_account(self, customer_id: int) -> BankAccount | None: ...
    def earlier_bank_accounts(self, customer_id: int) -> list[BankAccount]: ...  # superseded, oldest first
    def inbox(self, customer_id: int) -> list[InboxMessage]: ...
    def unread(self, customer_ids: list[int]) -> int: ...
    def contact_messages(self, customer_id: int) -> list[ContactMessage]: ...
    def audit_entries(self, customer_id: int) -> list[AuditEntry]: ...
    def login_entries(self, actor: str, since: datetime) -> list[AuditEntry]: ...  # no customer's
    def forget_login_entries(self, actor: str) -> None:
        """The login's own entries (no customer's) keep when and what, not the address nor the details."""
        ...


class StaffRepository(Protocol):
    def get(self, staff_id: int) -> StaffUser | None: ...
    def by_email(self, email: str) -> StaffUser | None: ...
    def add(self, staff: StaffUser) -> None: ...
    def all(self) -> list[StaffUser]: ...
    def replace_recovery_codes(self, staff_id: int, codes: list[RecoveryCode]) -> None: ...
    def unused_recovery_code(self, staff_id: int, digest: str) -> RecoveryCode | None: ...
    def hold_admins(self) -> None: ...  # the admins' rows, until the commit
    def claim_totp_step(self, staff: StaffUser, step: int) -> bool: ...  # False: that step (or a later) was used
    def use_recovery_code(self, code: RecoveryCode, at: datetime) -> bool: ...  # False: used meanwhile
    def known_device(self, staff_id: int, digest: str) -> bool: ...
    def remember_device(self, staff_id: int, digest: str, at: datetime) -> None: ...


class DeskRepository(Protocol):
    def forget_mails(self, recipient: str | None = None, before: datetime | None = None) -> int:
        """Delete the mails sent, given up or withdrawn (never a queued one): to `recipient`, or made before
        `before`; how many."""
        ...

    def search(self, text: str, limit: int) -> list[Customer]: ...
    def recent_readings(self, customer_id: int, limit: int) -> list[tuple[str, MeterReading]]: ...
    def audit_of(self, customer_id: int, limit: int, leaving_out: str = '') -> list[AuditEntry]: ...
    def pending_login(self, customer_id: int) -> PortalUser | None: ...
    def undelivered(self, address: str) -> OutboxMail | None:
        """The newest mail to the address that went out or was given up, if it was given up."""
        ...

    def contact_messages(
        self, status: str | None, topic: str | None, staff_id: int | None, oldest_first: bool = True
    ) -> list[ContactMessage]: ...
    def contact_message(self, message_id: int) -> ContactMessage | None: ...
    def contact_answers(self, message_ids: list[int]) -> dict[int, list[ContactAnswer]]: ...  # oldest first
    def reviews(self, status: str | None) -> list[ReviewItem]: ...  # the oldest 500
    def open_reviews(self, kind: str) -> list[ReviewItem]: ...  # all open ones of the kind, oldest first
    def review(self, item_id: int) -> ReviewItem | None: ...
    def reviews_of(self, customer_id: int) -> list[ReviewItem]: ...  # all, decided or not, by time
    def claim_review(self, item_id: int, status: str) -> bool:
        """As `ContractRequestRepository.claim`, for an item staff review."""
        ...

    def changes(
        self, kinds: tuple[str, ...], since: datetime | None, open_only: bool, limit: int
    ) -> list[tuple[AuditEntry, str, bool]]: ...
    def mark_changes(self, audit_ids: list[int], staff_id: int, at: datetime, kinds: tuple[str, ...]) -> int: ...


class ApiRepository(Protocol):
    def add(self, token: ApiToken) -> None: ...
    def get(self, token_id: int) -> ApiToken | None: ...
    def held(self, token_id: int) -> ApiToken | None: ...  # read with its row held against a revocation till commit
    def by_digest(self, digest: str) -> ApiToken | None: ...
    def all(self) -> list[ApiToken]: ...
    def hold_feed(self, token_id: int) -> ApiToken | None:
        """The token, its row held; until the commit, every change with an id taken is committed and none new."""
        ...

    def last_change_id(self, kinds: tuple[str, ...]) -> int: ...
    def changes_after(self, after: int, kinds: tuple[str, ...], limit: int) -> list[tuple[AuditEntry, str]]: ...


class ContractRequestRepository(Protocol):
    def add(self, request: ContractRequest) -> None:
        """Stored at once: the id is the reference the customer gets."""
        ...

    def get(self, request_id: int) -> ContractRequest | None: ...
    def claim(self, request_id: int, status: str) -> bool:
        """Give an open request its new status in this transaction; False when it is no longer open (another
        transaction settled it first: this one waited for it)."""
        ...

    def listing(self, status: str | None, limit: int, oldest_first: bool = False) -> list[ContractRequest]:
        """Newest first, or oldest first."""
        ...

    def of_customer(self, customer_id: int) -> list[ContractRequest]: ...


class InformationRepository(Protocol):
    """Billing information entries (§40b EnWG)."""

    def add(self, entry: BillingInformation) -> None:
        """Stored at once: the id names its PDF."""
        ...

    def exists(self, key: str) -> bool: ...
    def get(self, entry_id: int) -> BillingInformation | None: ...
    def of_customer(self, customer_id: int) -> list[BillingInformation]:
        """Newest first."""
        ...

    def candidates(self, today: date) -> list[int]:
        """The contracts that may get an entry: online customers' electricity and gas contracts, not ended."""
        ...


class ReminderRepository(Protocol):
    """Reading reminders (docs/domain.md §10)."""

    def targets(
        self, after_meter_id: int, limit: int, period: tuple[date, date], kind: str, today: date
    ) -> list[Target]:
        """Self-read meters in supply (today; given notice or not) not read in the period and not yet reminded (this
        period and kind), of customers with an email who have not opted out, by meter id after `after_meter_id`."""
        ...

    def sent_keys(self, keys: list[str]) -> set[str]: ...
    def read_since(self, meter_ids: list[int], since: date) -> set[int]:
        """The meters among these with a reading dated `since` or later."""
        ...

    def add(self, reminder: ReadingReminder) -> None: ...
    def listing(self, customer_number: str, limit: int) -> list[ReminderLine]: ...
    def of_customer(self, customer_id: int) -> list[ReadingReminder]: ...
    def withdraw(self, unsubscribe: str) -> int:
        """Queued, unsent mails with this List-Unsubscribe link are not sent (status `withdrawn`); how many."""
        ...

    def forget_email(self, address: str) -> None:
        """The reminders' record keeps no more this (deleted login's) address."""
        ...


class ResetRepository(Protocol):
    def add(self, request: ResetRequest) -> None: ...
    def claim(self, limit: int) -> list[ResetRequest]:
        """The oldest requests, taken out of the queue (no other instance gets them)."""
        ...


class DeviceRepository(Protocol):
    def find(self, user_id: int, digest: str) -> KnownDevice | None: ...
    def remember(self, user_id: int, digest: str, at: datetime) -> None: ...
    def of_user(self, user_id: int) -> list[KnownDevice]: ...


class ExportRepository(Protocol):
    def submitted_readings(self, since: datetime) -> list[tuple[MeterReading, Meter, Contract]]: ...
    def changes(self, since: datetime, kinds: tuple[str, ...]) -> list[tuple[AuditEntry, str | None]]: ...


class SettingsRepository(Protocol):
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...


class DocumentFiles(Protocol):
    """Stored documents under the data folder, at names the portal chose; no path ever leaves that folder."""

    def locate(self, relative: str) -> Path | None:
        """The file, or None when it is missing or the name would lead outside the folder."""
        ...

    def store(self, relative: str, content: bytes) -> None: ...

    def remove(self, relative: str) -> None: ...


class UnitOfWork(Protocol):
    """One business transaction: nothing is kept unless `commit()` is called."""

    customers: CustomerRepository
    users: UserRepository
    tokens: TokenRepository
    throttles: ThrottleRepository
    meters: MeterRepository
    billing: BillingRepository
    data: CustomerDataRepository
    staff: StaffRepository
    desk: DeskRepository
    api: ApiRepository
    settings: SettingsRepository
    exports: ExportRepository
    resets: ResetRepository
    devices: DeviceRepository
    contract_requests: ContractRequestRepository
    information: InformationRepository
    reminders: ReminderRepository

    queued: bool  # set at commit when the transaction queued a mail or a password-reset request (work for the
    # background: the mail sender and the reset loop are woken only then)

    def __enter__(self) -> 'UnitOfWork': ...
    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
    def audit(self, entry: AuditEntry) -> None: ...
    def queue_mail(self, message: MailMessage, at: datetime, not_before: datetime | None = None) -> None:
        """Queued at `at`, sent from `not_before` (default: at once)."""
        ...


@dataclass
class Context:
    """Who acts, under which utility's rules, and when."""

    profile: UtilityProfile
    secret: str
    base_url: str
    hasher: PasswordHasher
    now: datetime  # from the portal's clock (`domain.clock`), the same instant for the whole use case
    address: str = ''

    @property
    def today(self) -> date:
        """The utility's day (Europe/Berlin) at `now`."""
        return local_day(self.now)
