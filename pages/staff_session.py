"""The staff session, kept apart from a customer session in the same browser.

After the password the session is only `pending` (it may enrol an authenticator or enter a code); after
the second factor it is `verified`. Like the customers', it ends after the profile's idle minutes, and a
locked account or a changed password ends it at the next page or action.
"""

from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from nicegui import app, ui

from domain.clock import Clock
from domain.errors import SessionEnded
from domain.staff import StaffGrant, staff_session
from pages.once import sending
from pages.session import TOUCH_SECONDS
from service.runner import Portal

T = TypeVar('T')

KEYS = ('staff_id', 'staff_epoch', 'staff_verified', 'staff_active', 'staff_role', 'staff_name', 'staff_must_change')


@dataclass(frozen=True)
class StaffMe:
    staff_id: int
    role: str
    name: str
    verified: bool
    must_change_password: bool

    @property
    def admin(self) -> bool:
        return self.role == 'admin'


def start(grant: StaffGrant, clock: Clock) -> None:
    app.storage.user.update(
        staff_id=grant.staff_id,
        staff_epoch=grant.epoch,
        staff_verified=grant.verified,
        staff_active=clock.now().timestamp(),
        staff_role=grant.role,
        staff_name=grant.name,
        staff_must_change=grant.must_change_password,
    )


def login(me: StaffMe) -> tuple[int, int]:
    """This browser's staff login as `portal.act` checks it (`staff_login`): for the steps of a session not yet
    verified (the code, the enrolment), which must end with it too (a password changed or an account locked
    meanwhile). Another staff member's login in this browser since, or none, does not match."""
    storage = app.storage.user
    return me.staff_id, storage['staff_epoch'] if storage.get('staff_id') == me.staff_id else -1


def end() -> None:
    for key in KEYS:
        app.storage.user.pop(key, None)


async def current(portal: Portal) -> StaffMe | None:
    storage = app.storage.user
    if 'staff_id' not in storage:
        return None
    if _idle_ended(portal):
        return None
    staff = await portal.read(staff_session, storage['staff_id'], storage['staff_epoch'])
    if staff is None:
        end()
        return None
    storage['staff_active'] = portal.clock.now().timestamp()
    return StaffMe(
        staff.id or 0,
        staff.role,
        staff.name,
        bool(storage.get('staff_verified')),
        bool(storage.get('staff_must_change')),
    )


def idle_seconds(clock: Clock) -> float:
    return clock.now().timestamp() - float(app.storage.user.get('staff_active', 0))


def touch(clock: Clock, limit_seconds: float | None = None) -> None:
    """Activity on an open page (as the customers' `pages.session.touch`): the idle clock starts again, at most one
    write per TOUCH_SECONDS, not once the page has been idle past `limit_seconds`."""
    storage = app.storage.user
    idle = idle_seconds(clock)
    if 'staff_id' in storage and idle >= TOUCH_SECONDS and (limit_seconds is None or idle <= limit_seconds):
        storage['staff_active'] = clock.now().timestamp()


def _idle_ended(portal: Portal) -> bool:
    """Ends the staff session when the browser has been idle longer than the profile allows."""
    storage = app.storage.user
    if (
        portal.clock.now().timestamp() - float(storage.get('staff_active', 0))
        <= portal.profile.session.idle_minutes * 60
    ):
        return False
    end()
    storage['staff_idle_logout'] = True
    return True


async def valid(portal: Portal, me: StaffMe, admin: bool = False) -> bool:
    """Whether this is still the browser's valid, verified staff session (an admin's, with `admin`): for a plain HTTP
    request of this browser (an upload, a download) and the import, whose work is no query of its own."""
    now = await current(portal)
    return now is not None and now.staff_id == me.staff_id and now.verified and (now.admin or not admin)


async def read(portal: Portal, me: StaffMe, query: Callable[..., T], *args: Any) -> T | None:
    """For handlers that only read: `portal.read` while this is still the browser's valid, verified staff session,
    checked in the query's transaction as `act` checks a change; else back to the staff login (None: for queries
    that never answer None)."""
    ran, result = await _while_logged_in(portal, me, lambda login: portal.read(query, *args, staff_login=login))
    return result if ran else None


async def act(portal: Portal, me: StaffMe, use_case: Callable[..., T], *args: Any, address: str = '') -> T | None:
    """For handlers that change something: `portal.act` while this is still the browser's valid, verified staff
    session, the login checked in the use case's transaction; else back to the staff login (None). For a use case
    that returns nothing, `done`."""
    ran, result = await _while_logged_in(
        portal, me, lambda login: portal.act(use_case, *args, address=address, staff_login=login), (use_case, args)
    )
    return result if ran else None


async def done(portal: Portal, me: StaffMe, use_case: Callable[..., object], *args: Any, address: str = '') -> bool:
    """`act` for a use case that returns nothing: whether it ran."""
    ran, _ = await _while_logged_in(
        portal, me, lambda login: portal.act(use_case, *args, address=address, staff_login=login), (use_case, args)
    )
    return ran


async def _while_logged_in(
    portal: Portal,
    me: StaffMe,
    work: Callable[[tuple[int, int]], Awaitable[T]],
    change: tuple[object, tuple[Any, ...]] | None = None,
) -> tuple[bool, T | None]:
    """`work(staff_login)` (a use case or a query that checks the login in its transaction) while this browser's
    staff session is verified and not idle; whether it ran, and its result. A `change` (use case, arguments) is not
    sent again while it runs (a double click)."""
    storage = app.storage.user
    if storage.get('staff_id') != me.staff_id or not storage.get('staff_verified') or _idle_ended(portal):
        ui.navigate.to('/verwaltung')
        return False, None
    with sending(*change) if change else nullcontext(True) as first:
        if not first:
            return False, None
        try:
            result = await work((me.staff_id, storage['staff_epoch']))
        except SessionEnded:
            end()
            ui.navigate.to('/verwaltung')
            return False, None
    storage['staff_active'] = portal.clock.now().timestamp()
    return True, result
