"""Repositories of the back office and what staff set up: staff logins and their codes, the service desk's customer
search and review items, the billing system's API tokens and its feed of changes, and the settings staff change."""

import re
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, func, select, update

from domain.identifiers import normalise
from domain.model import (
    ApiToken,
    AuditEntry,
    ChangeMark,
    ContactAnswer,
    ContactMessage,
    Contract,
    Customer,
    Meter,
    MeterReading,
    OneTimeToken,
    OutboxMail,
    PortalUser,
    RecoveryCode,
    ReviewItem,
    Setting,
    StaffDevice,
    StaffUser,
    UserCustomer,
)
from storage.claims import claimed, set_once
from storage.feed_lock import hold_changes


class SqlStaff:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, staff_id: int) -> StaffUser | None:
        return self.session.get(StaffUser, staff_id)

    def known_device(self, staff_id: int, digest: str) -> bool:
        query = select(StaffDevice.id).where(StaffDevice.staff_id == staff_id, StaffDevice.digest == digest)
        return self.session.exec(query).first() is not None

    def remember_device(self, staff_id: int, digest: str, at: datetime) -> None:
        query = select(StaffDevice).where(StaffDevice.staff_id == staff_id, StaffDevice.digest == digest)
        known = self.session.exec(query).first() or StaffDevice(
            staff_id=staff_id, digest=digest, created_at=at, last_used_at=at
        )
        known.last_used_at = at
        self.session.add(known)

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

    def hold_admins(self) -> None:
        """A write to every admin's row that changes nothing: PostgreSQL locks the rows, SQLite takes its write lock,
        so a second transaction doing the same waits here, before it has read anything, until the first commits."""
        self.session.exec(
            update(StaffUser)
            .where(col(StaffUser.role) == 'admin')
            .values(session_epoch=StaffUser.session_epoch)
            .execution_options(synchronize_session=False)
        )
        for row in list(self.session.identity_map.values()):  # read again after the wait: a colleague's lock
            if isinstance(row, StaffUser):
                self.session.expire(row)

    def claim_totp_step(self, staff: StaffUser, step: int) -> bool:
        """`UPDATE … WHERE last step < step`: of two logins with the same code at the same moment one gets it (a
        plain read of the last step let both through)."""
        last = col(StaffUser.totp_last_step)
        return set_once(self.session, staff, 'totp_last_step', step, or_(last.is_(None), last < step))

    def use_recovery_code(self, code: RecoveryCode, at: datetime) -> bool:
        return set_once(self.session, code, 'used_at', at, col(RecoveryCode.used_at).is_(None))


_WORDS = re.compile(r'[\s,;]+')


def _like(text: str) -> str:
    """A LIKE pattern finding the text as typed: `%`, `_` and the escape itself not as LIKE's wildcards."""
    return '%' + text.replace('\\', '\\\\').replace('%', '\\%').replace('_', '\\_') + '%'


def _folded(column: ColumnElement) -> ColumnElement:
    """Lower case with ß as ss, as a query is folded: "Weiß" is found by "Weiss" and "WEISS"."""
    return func.replace(func.lower(column), 'ß', 'ss')


class SqlDesk:
    """The staff's look at customers: search, recent readings and changes, pending registrations."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def search(self, text: str, limit: int) -> list[Customer]:
        pattern = _like(text.lower())  # an address like ma_x@…: its `_` as typed
        by_login = (
            select(UserCustomer.customer_id)
            .join(PortalUser, col(PortalUser.id) == UserCustomer.user_id)
            .where(func.lower(PortalUser.email).like(pattern, escape='\\'))
        )
        by_meter = (
            select(Contract.customer_id)
            .join(Meter, col(Meter.contract_id) == Contract.id)
            .where(Meter.meter_number == normalise(text))
        )
        # a name by each of its words in any order ("Strauß, Erika" as on every list) and ß as ss ("STRAUSS")
        words = [_like(word.replace('ß', 'ss')) for word in _WORDS.split(text.lower()) if word] or [pattern]
        name = _folded(func.coalesce(Customer.first_name, '') + ' ' + func.coalesce(Customer.last_name, ''))
        company = _folded(func.coalesce(Customer.company, ''))
        query = select(Customer).where(
            (col(Customer.customer_number) == normalise(text))
            | and_(*(name.like(word, escape='\\') for word in words))
            | and_(*(company.like(word, escape='\\') for word in words))
            | func.lower(Customer.email).like(pattern, escape='\\')
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

    def audit_of(self, customer_id: int, limit: int, leaving_out: str = '') -> list[AuditEntry]:
        query = (
            select(AuditEntry)
            .where(AuditEntry.customer_id == customer_id, AuditEntry.action != leaving_out)
            .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
            .limit(limit)
        )
        return list(self.session.exec(query))

    def contact_messages(
        self, status: str | None, topic: str | None, staff_id: int | None, limit: int, oldest_first: bool = True
    ) -> list[ContactMessage]:
        query = select(ContactMessage)
        if status is not None:
            query = query.where(ContactMessage.status == status)
        if topic is not None:
            query = query.where(ContactMessage.topic == topic)
        if staff_id is not None:
            query = query.where(ContactMessage.staff_id == staff_id)
        at, number = col(ContactMessage.created_at), col(ContactMessage.id)
        touched = func.coalesce(col(ContactMessage.answered_at), at)  # a message answered this morning: at the top
        query = query.order_by(at, number) if oldest_first else query.order_by(touched.desc(), number.desc())
        return list(self.session.exec(query.limit(limit)))

    def contact_answers(self, message_ids: list[int]) -> dict[int, list[ContactAnswer]]:
        found: dict[int, list[ContactAnswer]] = {}
        if message_ids:
            query = select(ContactAnswer).where(col(ContactAnswer.message_id).in_(message_ids))
            for answer in self.session.exec(query.order_by(col(ContactAnswer.created_at), col(ContactAnswer.id))):
                found.setdefault(answer.message_id, []).append(answer)
        return found

    def contact_message(self, message_id: int) -> ContactMessage | None:
        return self.session.get(ContactMessage, message_id)

    def reviews(self, status: str | None, limit: int) -> list[ReviewItem]:
        query = select(ReviewItem)
        if status is not None:
            query = query.where(ReviewItem.status == status)
        return list(self.session.exec(query.order_by(col(ReviewItem.created_at), col(ReviewItem.id)).limit(limit)))

    def open_reviews(self, kind: str) -> list[ReviewItem]:
        query = select(ReviewItem).where(ReviewItem.status == 'open', ReviewItem.kind == kind)
        return list(self.session.exec(query.order_by(col(ReviewItem.created_at))))

    def review(self, item_id: int) -> ReviewItem | None:
        return self.session.get(ReviewItem, item_id)

    def reviews_of(self, customer_id: int) -> list[ReviewItem]:
        query = select(ReviewItem).where(ReviewItem.customer_id == customer_id)
        return list(self.session.exec(query.order_by(col(ReviewItem.created_at))))

    def decided_with_photo(self, before: datetime) -> list[ReviewItem]:
        query = select(ReviewItem).where(
            ReviewItem.status != 'open',
            # a review withdrawn (its reading replaced the same day) has no decision time: from its creation
            func.coalesce(col(ReviewItem.decided_at), col(ReviewItem.created_at)) < before,
            col(ReviewItem.details).contains('photo=photos/', autoescape=True),
        )
        return list(self.session.exec(query.order_by(col(ReviewItem.id)).limit(1000)))  # the rest in an hour

    def reviews_with(self, photo: str) -> list[ReviewItem]:
        query = select(ReviewItem).where(col(ReviewItem.details).contains(f'photo={photo}', autoescape=True))
        return list(self.session.exec(query))

    def claim_review(self, item_id: int, status: str) -> bool:
        return claimed(self.session, ReviewItem, item_id, status)

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
        known = sorted(i for i in self.session.exec(query) if i is not None)  # None only to the type checker
        if not known:
            return 0
        # a colleague marking the same change at the same moment: one of the two marks it, the other finds it marked
        table = ChangeMark.__table__  # type: ignore[attr-defined]  # SQLModel does not type __table__
        insert_rows = (pg_insert if self.session.get_bind().dialect.name == 'postgresql' else sqlite_insert)(table)
        rows = [{'audit_id': i, 'staff_id': staff_id, 'marked_at': at} for i in known]
        statement = insert_rows.values(rows).on_conflict_do_nothing(index_elements=['audit_id'])
        return len(self.session.execute(statement.returning(table.c.audit_id)).all())

    def forget_mails(self, recipient: str | None = None, before: datetime | None = None) -> int:
        done = col(OutboxMail.status).in_(('sent', 'failed'))
        # the newest mail sent or given up to each address stays, without its text: `undelivered` looks at it (the
        # clean-up keeps it only for an address a login or a customer still has)
        newest = select(func.max(OutboxMail.id)).where(done).group_by(col(OutboxMail.recipient))
        finished = col(OutboxMail.status).in_(('sent', 'failed', 'withdrawn'))
        chosen: list[ColumnElement[bool]] = [finished]
        if recipient is not None:
            chosen.append(col(OutboxMail.recipient) == recipient)
            newest = newest.where(col(OutboxMail.recipient) == recipient)  # that address's rows only (an index)
        if before is not None:
            chosen.append(col(OutboxMail.created_at) < before)
            in_use = or_(
                col(OutboxMail.recipient).in_(select(PortalUser.email)),
                col(OutboxMail.recipient).in_(select(Customer.email).where(col(Customer.email) != '')),
            )
            newest = newest.where(in_use)
        kept = col(OutboxMail.id).in_(newest)
        blank = update(OutboxMail).where(*chosen, kept, col(OutboxMail.text) != '').values(text='', html='')
        self.session.exec(blank)
        return self.session.exec(delete(OutboxMail).where(*chosen, ~kept)).rowcount

    def undelivered(self, address: str) -> OutboxMail | None:
        done = col(OutboxMail.status).in_(('sent', 'failed'))
        query = select(OutboxMail).where(OutboxMail.recipient == address, done).order_by(col(OutboxMail.id).desc())
        newest = self.session.exec(query.limit(1)).first()
        return newest if newest is not None and newest.status == 'failed' else None

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

    def held(self, token_id: int) -> ApiToken | None:
        """PostgreSQL: FOR SHARE, a revocation waits for this transaction (SQLite writes one transaction at a time)."""
        query = select(ApiToken).where(col(ApiToken.id) == token_id).with_for_update(read=True)
        return self.session.exec(query).first()

    def get(self, token_id: int) -> ApiToken | None:
        return self.session.get(ApiToken, token_id)

    def by_digest(self, digest: str) -> ApiToken | None:
        return self.session.exec(select(ApiToken).where(ApiToken.digest == digest)).first()

    def all(self) -> list[ApiToken]:
        return list(self.session.exec(select(ApiToken).order_by(col(ApiToken.id))))

    def hold_feed(self, token_id: int) -> ApiToken | None:
        """The token's row held for its cursor, then every change whose id is taken committed and no new one taking
        an id until this transaction ends (PostgreSQL hands out ids before the commit: a change committed after a
        later one would fall below a cursor already answered; SQLite writes one transaction at a time)."""
        token = self.session.exec(select(ApiToken).where(col(ApiToken.id) == token_id).with_for_update()).first()
        hold_changes(self.session, exclusive=True)
        return token

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

    def create(self, key: str, value: str) -> bool:
        """A key not there yet: False when it is (another transaction made it first; PostgreSQL waits for it)."""
        insert = pg_insert if self.session.get_bind().dialect.name == 'postgresql' else sqlite_insert
        statement = insert(Setting).values(key=key, value=value).on_conflict_do_nothing().returning(col(Setting.key))
        return self.session.execute(statement).first() is not None

    def replace(self, key: str, old: str, new: str) -> bool:
        """`key` from `old` to `new` only while it holds `old`: False when another transaction changed it since it
        was read (PostgreSQL checks the row again after waiting for that transaction's lock)."""
        statement = update(Setting).where(col(Setting.key) == key, col(Setting.value) == old).values(value=new)
        return int(self.session.execute(statement).rowcount) == 1  # type: ignore[attr-defined]
