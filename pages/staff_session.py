"""The staff session, kept apart from a customer session in the same browser.

After the password the session is only `pending` (it may enrol an authenticator or enter a code); after
the second factor it is `verified`. Like the customers', it ends after the profile's idle minutes, and a
locked account or a changed password ends it at the next page or action.
"""

import time
from dataclasses import dataclass

from nicegui import app, ui

from domain.staff import StaffGrant, staff_session
from pages.portal import Portal

KEYS = ('staff_id', 'staff_epoch', 'staff_verified', 'staff_active', 'staff_role', 'staff_name',
        'staff_must_change')


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


def start(grant: StaffGrant) -> None:
    app.storage.user.update(staff_id=grant.staff_id, staff_epoch=grant.epoch, staff_verified=grant.verified,
                            staff_active=time.time(), staff_role=grant.role, staff_name=grant.name,
                            staff_must_change=grant.must_change_password)


def end() -> None:
    for key in KEYS:
        app.storage.user.pop(key, None)


async def current(portal: Portal) -> StaffMe | None:
    storage = app.storage.user
    if 'staff_id' not in storage:
        return None
    if time.time() - float(storage.get('staff_active', 0)) > portal.profile.session.idle_minutes * 60:
        end()
        storage['staff_idle_logout'] = True
        return None
    staff = await portal.read(staff_session, storage['staff_id'], storage['staff_epoch'])
    if staff is None:
        end()
        return None
    storage['staff_active'] = time.time()
    return StaffMe(staff.id or 0, staff.role, staff.name, bool(storage.get('staff_verified')),
                   bool(storage.get('staff_must_change')))


async def still(portal: Portal, me: StaffMe) -> bool:
    """For handlers: is this still the browser's valid, verified staff session?"""
    now = await current(portal)
    if now is None or now.staff_id != me.staff_id or not now.verified:
        ui.navigate.to('/verwaltung')
        return False
    return True
