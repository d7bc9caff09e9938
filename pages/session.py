"""The login session in NiceGUI's signed per-browser storage: who is logged in, which customer is selected.

Written only after a successful login (never for anonymous visitors). A page checks on every load that the
login still exists with the same session epoch (a password reset ends all sessions) and that the browser
has not been idle longer than the profile allows.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from nicegui import app, ui

from domain.accounts import SessionGrant, login_only
from domain.clock import Clock
from domain.errors import SessionEnded
from pages.once import sending
from service.runner import Portal

T = TypeVar('T')

KEYS = (
    'user_id',
    'epoch',
    'customer_id',
    'last_active',
    'must_change_password',
    'pending_user',
    'pending_since',
    'pending_epoch',
)


@dataclass(frozen=True)
class LoggedIn:
    user_id: int
    customer_id: int | None


def start(grant: SessionGrant, clock: Clock) -> None:
    storage = app.storage.user
    storage.pop('pending_user', None)
    storage.update(
        user_id=grant.user_id,
        epoch=grant.epoch,
        last_active=clock.now().timestamp(),
        customer_id=grant.customer_ids[0] if grant.customer_ids else None,
        must_change_password=grant.must_change_password,
    )


PENDING_SECONDS = 300  # the code must follow the password within five minutes


def await_code(grant: SessionGrant, clock: Clock) -> None:
    """The password was right; the session starts only after the second factor."""
    end()
    app.storage.user.update(
        pending_user=grant.user_id, pending_since=clock.now().timestamp(), pending_epoch=grant.epoch
    )


def pending_login() -> tuple[int, int]:
    """The login waiting for its code, as `portal.act` checks it (`login`): a password changed or reset meanwhile
    ends it, as it ends every session."""
    storage = app.storage.user
    return int(storage.get('pending_user', 0)), int(storage.get('pending_epoch', -1))


def awaiting_code(clock: Clock) -> int | None:
    storage = app.storage.user
    if (
        'pending_user' not in storage
        or clock.now().timestamp() - float(storage.get('pending_since', 0)) > PENDING_SECONDS
    ):
        return None
    return int(storage['pending_user'])


def end() -> None:
    for key in KEYS:
        app.storage.user.pop(key, None)


TOUCH_SECONDS = 5  # every write of the session storage is a file or Redis write: at most one per 5 s


def touch(clock: Clock, limit_seconds: float | None = None) -> None:
    """Activity: the idle clock starts again (at most one write per TOUCH_SECONDS); not once the browser has been
    idle past `limit_seconds` (a key pressed between the limit and the page's next check revived the session)."""
    storage = app.storage.user
    now = clock.now().timestamp()
    idle = now - float(storage.get('last_active', 0))
    if 'user_id' in storage and idle >= TOUCH_SECONDS and (limit_seconds is None or idle <= limit_seconds):
        storage['last_active'] = now


def idle_seconds(clock: Clock) -> float:
    return clock.now().timestamp() - float(app.storage.user.get('last_active', 0))


def select_customer(customer_id: int) -> None:
    app.storage.user['customer_id'] = customer_id


def set_epoch(epoch: int) -> None:
    app.storage.user['epoch'] = epoch
    app.storage.user['must_change_password'] = False


def login(me: LoggedIn) -> tuple[int, int]:
    """The page's login as `portal.act` and `portal.read` check it in their own transaction (`login=`): a page's
    reads raise `SessionEnded` when it ended after the page's first check (`protected_page` then leads the browser
    to the login), and a tab whose browser has logged in as someone else since reads nothing."""
    storage = app.storage.user
    return me.user_id, int(storage['epoch']) if storage.get('user_id') == me.user_id else -1


def must_change_password() -> bool:
    return bool(app.storage.user.get('must_change_password'))


async def act(portal: Portal, me: LoggedIn, use_case: Callable[..., T], *args: Any, address: str = '') -> T | None:
    """For handlers: `portal.act` while the page's login is still the browser's valid session, checked in the use
    case's transaction (one trip to the database); else back to the login (None).
    For a use case that returns nothing, `done`."""
    ran, result = await _while_logged_in(portal, me, use_case, args, address)
    return result if ran else None


async def done(portal: Portal, me: LoggedIn, use_case: Callable[..., object], *args: Any, address: str = '') -> bool:
    """`act` for a use case that returns nothing: whether it ran (False: the login had ended, back to the login)."""
    ran, _ = await _while_logged_in(portal, me, use_case, args, address)
    return ran


async def _while_logged_in(
    portal: Portal, me: LoggedIn, use_case: Callable[..., T], args: tuple[Any, ...], address: str
) -> tuple[bool, T | None]:
    if not _still_this_login(portal, me):
        return False, None
    with sending(use_case, args) as first:
        if not first:  # a double click: the first click's request is at work and answers on the page
            return False, None
        ran, result = await _checked(lambda login: portal.act(use_case, *args, address=address, login=login), me)
    if ran:
        touch(portal.clock)
    return ran, result


async def read(portal: Portal, me: LoggedIn, query: Callable[..., T], *args: Any) -> tuple[bool, T | None]:
    """For a handler that shows data again (a card after a change): `portal.read` while the page's login is still
    the browser's valid session, checked in the query's transaction; else back to the login (False, None)."""
    if not _still_this_login(portal, me):
        return False, None
    return await _checked(lambda login: portal.read(query, *args, login=login), me)


def _still_this_login(portal: Portal, me: LoggedIn) -> bool:
    """Whether the browser is still logged in as the page's login and not idle too long; else back to the login."""
    if app.storage.user.get('user_id') != me.user_id or _idle_ended(portal):
        ui.navigate.to('/')
        return False
    return True


async def _checked(run: Callable[[tuple[int, int]], Awaitable[T]], me: LoggedIn) -> tuple[bool, T | None]:
    """`run(login)`, the session checked in its transaction: one that ended meanwhile ends here too, and the
    browser goes to the login (False, None)."""
    try:
        return True, await run((me.user_id, app.storage.user['epoch']))
    except SessionEnded:
        end()
        ui.navigate.to('/')
        return False, None


def _idle_ended(portal: Portal) -> bool:
    """Ends the session when the browser has been idle longer than the profile allows."""
    if idle_seconds(portal.clock) <= portal.profile.session.idle_minutes * 60:
        return False
    end()
    app.storage.user['idle_logout'] = True  # shown once on the login page
    return True


async def fetch(portal: Portal, work: Callable[[LoggedIn, tuple[int, int]], Awaitable[T]]) -> tuple[bool, T | None]:
    """For downloads (plain HTTP requests of the browser): `work(me, login)` runs its use case with
    `login=login`, so that the session is checked in the download's own transaction, exactly as a change is
    (`act`), after the idle check. (False, None) when the login has ended, idle or elsewhere."""
    storage = app.storage.user
    if 'user_id' not in storage or _idle_ended(portal) or must_change_password():  # the temporary password first
        return False, None
    me = LoggedIn(storage['user_id'], storage.get('customer_id'))
    try:
        result = await work(me, (me.user_id, storage['epoch']))
    except SessionEnded:
        end()
        return False, None
    return True, result


async def valid(portal: Portal, me: LoggedIn) -> bool:
    """For a download of what the page already holds (a confirmation, a CSV): is the page's login still this
    browser's valid session (checked in the database, after the idle check)? If not, back to the login."""
    now = await current(portal)
    if now is None or now.user_id != me.user_id:
        ui.navigate.to('/')
        return False
    return True


async def current(portal: Portal) -> LoggedIn | None:
    """The logged-in user, or None (after ending a stale or idle session)."""
    found = await current_with(portal, login_only)
    return found[0] if found else None


async def current_with(portal: Portal, query: Callable[..., T]) -> tuple[LoggedIn, T] | None:
    """`current`, and `query(uow, user_id)` read in the transaction that checks the login (one trip to the database
    for what every page needs first); None after ending a stale or idle session."""
    storage = app.storage.user
    if 'user_id' not in storage or _idle_ended(portal):
        return None
    try:
        found = await portal.read(query, storage['user_id'], login=(storage['user_id'], storage['epoch']))
    except SessionEnded:
        end()
        return None
    touch(portal.clock)
    return LoggedIn(storage['user_id'], storage.get('customer_id')), found
