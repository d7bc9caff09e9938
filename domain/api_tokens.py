"""Tokens for the billing system's access to /api/v1, and the change feed it reads.

A token is shown once when an admin creates it; only its keyed digest is stored. `read` fetches changes,
`write` also upserts master data, prices, readings and bills. Each change reaches a consumer exactly
once: asking with a cursor acknowledges everything up to it, and asking without one continues from the
last acknowledged change.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

from domain import tokens
from domain.change_list import CHANGE_KINDS
from domain.errors import FieldRequired, NotAllowed, TooLong
from domain.i18n import label_of
from domain.model import ApiToken, AuditEntry
from domain.ports import Context, UnitOfWork
from domain.staff import active_staff, hold_admin

SCOPES = ('read', 'write')
PREFIX = 'kp_'


@dataclass(frozen=True)
class TokenRow:
    token_id: int
    name: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class Change:
    id: int
    at: datetime
    kind: str
    customer_number: str
    details: str


@dataclass(frozen=True)
class ChangePage:
    items: list[Change]
    cursor: int  # pass this back to acknowledge the page and get the next one
    has_more: bool


def create_token(uow: UnitOfWork, ctx: Context, staff_id: int, name: str, scope: str) -> str:
    hold_admin(uow, staff_id)  # a token made at the moment its admin is locked must not outlive the lock
    name = name.strip()
    if not name:
        raise FieldRequired('name', label=label_of('name'))
    if len(name) > 100:  # was cut without a word
        raise TooLong('name', max=100)
    if scope not in SCOPES:
        raise NotAllowed('scope')
    plain = PREFIX + secrets.token_urlsafe(32)
    uow.api.add(
        ApiToken(
            name=name,
            digest=tokens.digest(ctx.secret, plain),
            scope=scope,
            created_by=staff_id,
            created_at=ctx.now,
        )
    )
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'staff:{staff_id}',
            action='api_token_created',
            details=f'name={name} scope={scope}',
            address=ctx.address,
        )
    )
    uow.commit()
    return plain


def token_list(uow: UnitOfWork, staff_id: int) -> list[TokenRow]:
    """The billing system's tokens, for admins only (as creating and revoking them; the page was the only guard)."""
    if active_staff(uow, staff_id).role != 'admin':
        raise NotAllowed()
    return [
        TokenRow(t.id or 0, t.name, t.scope, t.created_at, t.last_used_at, t.revoked_at is not None)
        for t in uow.api.all()
    ]


def revoke_token(uow: UnitOfWork, ctx: Context, staff_id: int, token_id: int) -> None:
    hold_admin(uow, staff_id)
    token = uow.api.get(token_id)
    if token is None or token.revoked_at is not None:
        raise NotAllowed()
    token.revoked_at = ctx.now
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'staff:{staff_id}',
            action='api_token_revoked',
            details=f'name={token.name}',
            address=ctx.address,
        )
    )
    uow.commit()


def allows(token: ApiToken, needed: str) -> bool:
    return needed == 'read' or token.scope == 'write'


def authenticate(uow: UnitOfWork, ctx: Context, plain: str) -> ApiToken | None:
    """The token for this secret if it exists and is not revoked; None otherwise."""
    if not plain.startswith(PREFIX) or len(plain) > 100:
        return None
    token = uow.api.by_digest(tokens.digest(ctx.secret, plain))
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = ctx.now
    uow.commit()
    return token


def changes(uow: UnitOfWork, token_id: int, cursor: int | None, limit: int) -> ChangePage:
    token = uow.api.hold_feed(token_id)  # no change committed below the cursor answered (storage/feed_lock.py)
    if token is None or token.revoked_at is not None:  # revoked since the request was authenticated
        raise NotAllowed()
    # A cursor beyond the newest change acknowledges nothing that does not exist yet: answered back as it was, it
    # would skip every change made meanwhile (ids below it) without delivering it.
    last = uow.api.last_change_id(tuple(CHANGE_KINDS))
    if cursor is not None:
        cursor = min(cursor, last)
    if cursor is not None and cursor > token.cursor:  # everything up to the cursor was received
        token.cursor = cursor
    start = token.cursor if cursor is None else max(cursor, token.cursor)
    rows = uow.api.changes_after(start, tuple(CHANGE_KINDS), limit + 1)
    uow.commit()
    items = [Change(entry.id or 0, entry.at, entry.action, number, entry.details) for entry, number in rows[:limit]]
    return ChangePage(items, items[-1].id if items else start, len(rows) > limit)
