"""The unit of work: one session, repositories on it, rolled back unless the use case commits."""

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from domain.errors import ConcurrentChange, StorageUnavailable
from domain.model import AuditEntry, OutboxMail
from domain.ports import (
    ApiRepository,
    BillingRepository,
    ContractRequestRepository,
    CustomerDataRepository,
    CustomerRepository,
    DeskRepository,
    DeviceRepository,
    ExportRepository,
    InformationRepository,
    MailMessage,
    MeterRepository,
    ReminderRepository,
    ResetRepository,
    SettingsRepository,
    StaffRepository,
    TokenRepository,
    UnitOfWork,
    UserRepository,
)
from domain.throttle import ThrottleRepository
from storage.back_office import SqlApi, SqlDesk, SqlSettings, SqlStaff
from storage.billing_repository import SqlBilling
from storage.contract_requests import SqlContractRequests
from storage.exports import SqlExports
from storage.feed_lock import hold_changes
from storage.logins import SqlDevices, SqlResets, SqlThrottles, SqlTokens, SqlUsers
from storage.notices import SqlInformation, SqlReminders
from storage.repositories import SqlCustomerData, SqlCustomers, SqlMeters, column_values

AUDIT_INSERT = insert(AuditEntry.__table__)  # type: ignore[attr-defined]  # SQLModel does not type __table__
MAIL_INSERT = insert(OutboxMail.__table__)  # type: ignore[attr-defined]  # SQLModel does not type __table__


class SqlUnitOfWork:
    # Declared as the protocols' types (domain.ports, domain.throttle): mypy checks each Sql… repository against its
    # protocol where __enter__ assigns it.
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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> 'SqlUnitOfWork':
        self.session = Session(self.engine, expire_on_commit=False)
        self._audit: list[dict[str, Any]] = []
        self._mails: list[dict[str, Any]] = []
        self.queued = False
        self.customers = SqlCustomers(self.session)
        self.users = SqlUsers(self.session)
        self.tokens = SqlTokens(self.session)
        self.throttles = SqlThrottles(self.session)
        self.meters = SqlMeters(self.session)
        self.billing = SqlBilling(self.session)
        self.data = SqlCustomerData(self.session)
        self.staff = SqlStaff(self.session)
        self.desk = SqlDesk(self.session)
        self.api = SqlApi(self.session)
        self.settings = SqlSettings(self.session)
        self.exports = SqlExports(self.session)
        self.resets = SqlResets(self.session)
        self.devices = SqlDevices(self.session)
        self.contract_requests = SqlContractRequests(self.session)
        self.information = SqlInformation(self.session)
        self.reminders = SqlReminders(self.session)
        return self

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        # close() rolls back whatever was not committed; unlike rollback() it leaves loaded objects readable
        try:
            self.session.close()
        except DBAPIError:
            if error is None:
                raise
        if isinstance(error, OperationalError) or (isinstance(error, DBAPIError) and error.connection_invalidated):
            # the database went away (restart, failover): the caller gets a domain answer, the pool reconnects
            raise StorageUnavailable() from error
        if isinstance(error, IntegrityError):  # a unique key taken by a concurrent transaction a moment earlier
            raise ConcurrentChange() from error

    def commit(self) -> None:
        queued = bool(self._mails) or self.session.info.pop('queued', False)
        if self._audit:
            hold_changes(self.session)  # the feed reads ids once they are committed (storage/feed_lock.py)
        for statement, rows in ((AUDIT_INSERT, self._audit), (MAIL_INSERT, self._mails)):
            if rows:
                self.session.execute(statement, rows)
        self._audit, self._mails = [], []
        self.session.commit()
        self.queued = self.queued or queued

    def audit(self, entry: AuditEntry) -> None:
        """Written at commit with one plain INSERT (no ORM unit of work: every change writes one)."""
        self._audit.append(column_values(entry))

    def queue_mail(self, message: MailMessage, at: datetime, not_before: datetime | None = None) -> None:
        """The mail is queued in the same transaction as the change it confirms (written at commit): both or
        neither. `not_before`: sent from then (reminders spread at the relay's rate)."""
        self._mails.append(
            {
                'created_at': at,
                'recipient': message.recipient,
                'subject': message.subject,
                'text': message.text,
                'html': message.html,
                'next_attempt_at': not_before or at,
                'unsubscribe': message.unsubscribe,
            }
        )  # the rest: defaults


_: type[UnitOfWork] = SqlUnitOfWork  # for mypy: a signature drifting from the protocol fails the type check
