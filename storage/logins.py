"""Repositories around logging in: the logins and the customer accounts they hold (SqlUsers), one-time tokens
(links, PINs, temporary passwords), the throttles' counts, "Passwort vergessen?" requests waiting for the
background, and the browsers a login is known from."""

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, delete, select, update

from domain.model import (
    KnownDevice,
    OneTimeToken,
    PortalUser,
    ResetRequest,
    Throttle,
    UserCustomer,
)
from domain.throttle import ThrottleState
from storage.claims import set_once

# Built once with parameters, as in storage.repositories.
CUSTOMER: BindParameter = bindparam('customer')
USER: BindParameter = bindparam('user')
CUSTOMERS_OF_USER = select(UserCustomer.customer_id).where(UserCustomer.user_id == USER).order_by(col(UserCustomer.id))
OWNER = select(UserCustomer.user_id).where(UserCustomer.customer_id == CUSTOMER).limit(1)
OWNER_EMAIL = (
    select(PortalUser.email)
    .join(UserCustomer, col(UserCustomer.user_id) == PortalUser.id)
    .where(UserCustomer.customer_id == CUSTOMER)
    .limit(1)
)


OWNER_LANGUAGE = (
    select(PortalUser.language)
    .join(UserCustomer, col(UserCustomer.user_id) == PortalUser.id)
    .where(UserCustomer.customer_id == CUSTOMER)
    .limit(1)
)


class SqlResets:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: ResetRequest) -> None:
        self.session.add(request)
        self.session.info['queued'] = True  # work for the reset loop (SqlUnitOfWork.commit)

    def claim(self, limit: int) -> list[ResetRequest]:
        query = select(ResetRequest).order_by(col(ResetRequest.id)).limit(limit).with_for_update(skip_locked=True)
        requests = list(self.session.exec(query))
        if not requests:
            return requests
        # only the requests this transaction deleted: on SQLite (no row locks) another process that read the same
        # ones a moment earlier has deleted them, and sent their mails
        statement = delete(ResetRequest).where(col(ResetRequest.id).in_([r.id for r in requests]))
        deleted = set(self.session.exec(statement.returning(col(ResetRequest.id))).scalars())
        return [r for r in requests if r.id in deleted]


class SqlDevices:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, user_id: int, digest: str) -> KnownDevice | None:
        query = select(KnownDevice).where(KnownDevice.user_id == user_id, KnownDevice.digest == digest)
        return self.session.exec(query).first()

    def of_user(self, user_id: int) -> list[KnownDevice]:
        query = select(KnownDevice).where(KnownDevice.user_id == user_id).order_by(col(KnownDevice.id))
        return list(self.session.exec(query))

    def remember(self, user_id: int, digest: str, at: datetime) -> None:
        known = self.find(user_id, digest)
        if known is None:
            self.session.add(KnownDevice(user_id=user_id, digest=digest, created_at=at, last_used_at=at))
        else:
            known.last_used_at = at
            self.session.add(known)


class SqlUsers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> PortalUser | None:
        """From the session's identity map when this transaction has loaded the login already (a submission checks
        the session, then mails the customer's owner: mostly the same login)."""
        return self.session.get(PortalUser, user_id)

    def by_email(self, email: str) -> PortalUser | None:
        return self.session.exec(select(PortalUser).where(PortalUser.email == email)).first()

    def hold(self, user_id: int) -> PortalUser | None:
        """The login as stored now, its row held till commit: an UPDATE that changes nothing takes it on both
        databases (on SQLite the write lock, which a SELECT outside a write does not)."""
        self.session.exec(update(PortalUser).where(col(PortalUser.id) == user_id).values(id=PortalUser.id))
        query = select(PortalUser).where(PortalUser.id == user_id).execution_options(populate_existing=True)
        return self.session.exec(query).first()

    def claim_totp_step(self, user: PortalUser, step: int) -> bool:
        """As the staff's (storage.back_office): of two logins with the same code at once, one gets it."""
        last = col(PortalUser.totp_last_step)
        return set_once(self.session, user, 'totp_last_step', step, or_(last.is_(None), last < step))

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

    def owner_language(self, customer_id: int) -> str:
        return self.session.exec(OWNER_LANGUAGE, params={'customer': customer_id}).first() or 'de'

    def owner_email(self, customer_id: int) -> str | None:
        """The login email of the customer's portal account, in one query (no PortalUser object to build)."""
        return self.session.exec(OWNER_EMAIL, params={'customer': customer_id}).first()

    def link(self, user_id: int, customer_id: int, at: datetime) -> None:
        self.session.add(UserCustomer(user_id=user_id, customer_id=customer_id, linked_at=at))
        self.session.flush()

    def unlink(self, user_id: int, customer_id: int) -> None:
        linked = (col(UserCustomer.user_id) == user_id) & (col(UserCustomer.customer_id) == customer_id)
        self.session.exec(delete(UserCustomer).where(linked))
        self.session.flush()

    def unconfirmed_since(self, before: datetime) -> list[PortalUser]:
        """Pending since before `before`, and no link or PIN sent since (one sent again is valid as long as it says)."""
        sent_since = (
            select(OneTimeToken.id)
            .where(
                col(OneTimeToken.user_id) == PortalUser.id,
                col(OneTimeToken.purpose).in_(('activation', 'pin')),
                col(OneTimeToken.created_at) >= before,
            )
            .exists()
        )
        pending = select(PortalUser).where(PortalUser.state == 'pending', col(PortalUser.created_at) < before)
        query = pending.where(~sent_since)
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

    def count_failure(self, token: OneTimeToken) -> int:
        assert token.id is not None
        attempts = col(OneTimeToken.failed_attempts)
        counted: int = self.session.execute(
            update(OneTimeToken)
            .where(col(OneTimeToken.id) == token.id)
            .values(failed_attempts=attempts + 1)
            .returning(attempts)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        set_committed_value(token, 'failed_attempts', counted)
        return counted


def _digest(text: str) -> str:
    return 'sha256:' + hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()


class SqlThrottles:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _stored(key: str) -> str:
        """Keys hold what was guessed against (an email as typed): a long or odd one is kept as its hash, the part
        before the last `|` (`login:pair:<email>|<address>`; an email may hold a `|` itself) hashed on its own, so that
        the holds of one login from every address are still found together (`starting`)."""
        if len(key) <= 200 and key.isprintable():
            return key
        if '|' not in key:
            return _digest(key)
        head, bar, tail = key.rpartition('|')
        return f'{_digest(head)}{bar}{_digest(tail)}'

    @staticmethod
    def _prefixes(prefix: str) -> tuple[str, ...]:
        """What keys starting with `prefix` (`…|`) may be stored as: as they are, or with their head hashed."""
        head, bar, _ = prefix.rpartition('|')
        return (prefix, f'{_digest(head)}{bar}') if bar else (prefix,)

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

    def starting(self, prefix: str) -> list[ThrottleState]:
        rows = self.session.exec(select(Throttle).where(self._starting(prefix)))
        return [ThrottleState(row.failures, row.window_start, row.locked_until) for row in rows]

    def forget_starting(self, prefix: str) -> None:
        self.session.exec(delete(Throttle).where(self._starting(prefix)))

    def _starting(self, prefix: str) -> Any:
        return or_(*(col(Throttle.key).startswith(p, autoescape=True) for p in self._prefixes(prefix)))

    def save(self, key: str, state: ThrottleState) -> None:
        key = self._stored(key)
        row = self.session.get(Throttle, key) or Throttle(key=key)
        row.failures, row.window_start, row.locked_until = state.failures, state.window_start, state.locked_until
        self.session.add(row)
        self.session.flush()
