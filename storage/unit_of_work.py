"""The unit of work: one session, repositories on it, rolled back unless the use case commits."""

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from domain.errors import ConcurrentChange, StorageUnavailable
from domain.model import AuditEntry, OutboxMail
from domain.ports import MailMessage
from storage.repositories import (
    SqlApi,
    SqlBilling,
    SqlCustomerData,
    SqlCustomers,
    SqlDesk,
    SqlMeters,
    SqlSettings,
    SqlStaff,
    SqlThrottles,
    SqlTokens,
    SqlUsers,
)


class SqlUnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> 'SqlUnitOfWork':
        self.session = Session(self.engine, expire_on_commit=False)
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
        self.session.commit()

    def audit(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    def queue_mail(self, message: MailMessage, at: datetime) -> None:
        """The mail is queued in the same transaction as the change it confirms: both or neither."""
        self.session.add(OutboxMail(created_at=at, recipient=message.recipient, subject=message.subject,
                                    text=message.text, html=message.html, next_attempt_at=at))
