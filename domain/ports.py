"""What the use cases need from the outside world: the unit of work (its repositories' protocols are in
domain.repository_ports; the throttle's in domain.throttle, beside the counting that uses it), mail, hashing and
the documents folder as protocols that `storage/` implements, and the context a use case runs in."""

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol

from domain.clock import local_day
from domain.model import (
    AuditEntry,
)
from domain.profile import UtilityProfile
from domain.repository_ports import (
    ApiRepository,
    BillingRepository,
    ContractRequestRepository,
    CustomerDataRepository,
    CustomerRepository,
    DeskRepository,
    DeviceRepository,
    ExportRepository,
    InformationRepository,
    MeterRepository,
    ReminderRepository,
    ResetRepository,
    SettingsRepository,
    StaffRepository,
    TokenRepository,
    UserRepository,
)
from domain.throttle import ThrottleRepository


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
