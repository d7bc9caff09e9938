"""The utility's staff: accounts with roles, password plus TOTP (mandatory), recovery codes, sessions.

A staff login has two steps. The password step (throttled like the customers' login) gives a half session
that can only enrol an authenticator or enter a code; the code step (TOTP, or one of ten recovery codes
shown once and stored as keyed digests) gives the full session. TOTP secrets are stored encrypted with a
key derived from the storage secret, and each 30-second code is accepted once.
"""

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

from domain import throttle, tokens, totp
from domain.clock import later
from domain.errors import (
    EmailAlreadyRegistered,
    FieldRequired,
    InvalidCredentials,
    NotAllowed,
    SecondFactorInvalid,
    StartPasswordExpired,
    TooManyAttempts,
)
from domain.i18n import label_of
from domain.identifiers import is_digits, normalise_email
from domain.model import AuditEntry, RecoveryCode, StaffUser
from domain.passwords import check_password
from domain.ports import Context, UnitOfWork
from domain.profile import PasswordRule
from domain.registration import checked_email
from domain.running import hashing

ROLES = ('service', 'admin')
RECOVERY_CODES = 10
# Staff see every customer: their passwords follow a strict rule whatever the utility allows its customers.
STAFF_PASSWORDS = PasswordRule(min_length=12, require_classes=True)
# A start password not used within a week is void (ASVS 2.3.1): one handed over and forgotten, or written on a note,
# does not open the back office months later; an admin gives a new one (`new_start_password`).
START_PASSWORD_DAYS = 7


@dataclass(frozen=True)
class StaffGrant:
    """What the staff session holds: `verified` only after the second factor."""

    staff_id: int
    epoch: int
    role: str
    name: str
    enrolled: bool
    verified: bool
    must_change_password: bool
    device: str = ''  # the browser's staff device cookie, set at the password step (StaffDevice)


def _audit(uow: UnitOfWork, ctx: Context, actor: int | str, action: str, details: str = '') -> None:
    who = actor if isinstance(actor, str) else f'staff:{actor}'
    uow.audit(AuditEntry(at=ctx.now, actor=who, action=action, details=details[:2000], address=ctx.address))


@hashing
def create_staff(uow: UnitOfWork, ctx: Context, actor: int | str, email: str, name: str, role: str) -> str:
    """A new staff account; returns its initial password (shown once, to be changed at the first login)."""
    email = checked_email(email)
    name = name.strip()
    if not name:
        raise FieldRequired('name', label=label_of('name'))
    if role not in ROLES:
        raise NotAllowed('role')
    if isinstance(actor, int):
        hold_admin(uow, actor)
    if uow.staff.by_email(email) is not None:
        raise EmailAlreadyRegistered('email')
    initial = tokens.new_temporary_password()
    uow.staff.add(
        StaffUser(
            email=email,
            name=name[:120],
            role=role,
            password_hash=ctx.hasher.hash(initial),
            created_at=ctx.now,
            password_set_at=ctx.now,
        )
    )
    _audit(uow, ctx, actor, 'staff_created', f'email={email} role={role}')
    uow.commit()
    return initial


@hashing
def password_step(uow: UnitOfWork, ctx: Context, email: str, password: str, device: str = '') -> StaffGrant:
    """The password, throttled per staff account (from everywhere) and per address; a browser the staff member
    logged in from before (`device`, its cookie) passes the account's hold with the right password, so that guesses
    from elsewhere lock nobody out of the back office (docs/security.md 2.2.1, as the customers' login)."""
    email = normalise_email(email)
    keys = (f'staff:account:{email}', f'staff:address:{ctx.address}')
    held = [uow.throttles.peek(key) for key in keys]  # only looked at: no lock while hashing (domain.accounts.login)
    staff = uow.staff.by_email(email)
    known = bool(device) and staff is not None and uow.staff.known_device(staff.id or 0, _device(ctx, device))
    locked = [s for s in (held[1:] if known else held) if s.is_locked(ctx.now)]  # a known browser: the address only
    if locked:
        raise TooManyAttempts('password', minutes=max(s.minutes_left(ctx.now) for s in locked))
    known_hash = staff.password_hash if staff is not None else ctx.hasher.dummy_hash
    if not ctx.hasher.verify(known_hash, password) or staff is None or not staff.active:
        for key, policy in zip(keys, (throttle.LOGIN_PER_ACCOUNT, throttle.LOGIN_PER_ADDRESS), strict=True):
            state = uow.throttles.state(key)  # counted under the lock
            state.record_failure(policy, ctx.now)
            uow.throttles.save(key, state)
        uow.commit()
        raise InvalidCredentials()
    if not held[0].is_locked(ctx.now):  # a hold passed by a known browser stays for everyone else
        throttle.forgive(uow, keys[0], held[0])
    set_at = staff.password_set_at or staff.created_at
    if staff.must_change_password and ctx.now >= later(set_at, timedelta(days=START_PASSWORD_DAYS)):
        _audit(uow, ctx, staff.id or 0, 'staff_start_password_expired')
        uow.commit()
        raise StartPasswordExpired(days=START_PASSWORD_DAYS)
    device = device if known else tokens.new_link_token()  # this browser is known from now on
    uow.staff.remember_device(staff.id or 0, _device(ctx, device), ctx.now)
    _audit(uow, ctx, staff.id or 0, 'staff_password_ok')
    uow.commit()
    return replace(_grant(staff, verified=False), device=device)


def _device(ctx: Context, device: str) -> str:
    return tokens.digest(ctx.secret, f'staff-device:{device[:100]}')


def begin_enrolment(uow: UnitOfWork, ctx: Context, staff_id: int) -> totp.Enrolment:
    """A fresh secret for an authenticator app (only while none is enrolled)."""
    staff = active_staff(uow, staff_id)
    if staff.totp_enabled:
        raise NotAllowed()
    enrolment, staff.totp_secret = totp.new_enrolment(ctx.secret, staff.email, f'{ctx.profile.short_name} Verwaltung')
    _audit(uow, ctx, staff_id, 'staff_totp_begun')  # a new secret stored, not yet in force (as the customers')
    uow.commit()
    return enrolment


def confirm_enrolment(uow: UnitOfWork, ctx: Context, staff_id: int, code: str) -> tuple[StaffGrant, list[str]]:
    """The first code from the app proves the enrolment; returns the full session and the recovery codes."""
    staff = active_staff(uow, staff_id)
    if staff.totp_enabled or not staff.totp_secret:
        raise NotAllowed()
    _check_code(uow, ctx, staff, code, recovery=False)
    staff.totp_enabled = True
    codes = [f'{secrets.randbelow(10**10):010d}' for _ in range(RECOVERY_CODES)]
    uow.staff.replace_recovery_codes(
        staff_id, [RecoveryCode(staff_id=staff_id, digest=tokens.digest(ctx.secret, c)) for c in codes]
    )
    staff.last_login_at = ctx.now
    _audit(uow, ctx, staff_id, 'staff_totp_enrolled')
    uow.commit()
    return _grant(staff, verified=True), [f'{c[:5]}-{c[5:]}' for c in codes]


def code_step(uow: UnitOfWork, ctx: Context, staff_id: int, code: str) -> StaffGrant:
    """The second factor: a TOTP code or an unused recovery code."""
    staff = active_staff(uow, staff_id)
    if not staff.totp_enabled:
        raise NotAllowed()
    _check_code(uow, ctx, staff, code, recovery=True)
    staff.last_login_at = ctx.now
    _audit(uow, ctx, staff_id, 'staff_login')
    uow.commit()
    return _grant(staff, verified=True)


def _check_code(uow: UnitOfWork, ctx: Context, staff: StaffUser, code: str, recovery: bool) -> None:
    key = f'staff:code:{staff.id}'
    state = uow.throttles.state(key)
    if state.is_locked(ctx.now):
        raise TooManyAttempts('code', minutes=state.minutes_left(ctx.now))
    plain = ''.join(ch for ch in code if is_digits(ch))
    step = totp.accepted_step(ctx.secret, staff.totp_secret, staff.totp_last_step, code, ctx.now.timestamp())
    if step is not None and uow.staff.claim_totp_step(staff, step):
        uow.throttles.save(key, throttle.ThrottleState())
        return
    if recovery and len(plain) == 10:
        found = uow.staff.unused_recovery_code(staff.id or 0, tokens.digest(ctx.secret, plain))
        if found is not None and uow.staff.use_recovery_code(found, ctx.now):
            _audit(uow, ctx, staff.id or 0, 'staff_recovery_code_used')
            uow.throttles.save(key, throttle.ThrottleState())
            return
    state.record_failure(throttle.PIN_PER_USER, ctx.now)
    uow.throttles.save(key, state)
    uow.commit()
    raise SecondFactorInvalid('code')


@hashing
def change_staff_password(uow: UnitOfWork, ctx: Context, staff_id: int, password: str, repeat: str) -> StaffGrant:
    """The own password after a temporary one (a first login, a reset by an admin), without asking for it: only
    while a change is due, so that a session left open cannot be used to take the login over."""
    staff = active_staff(uow, staff_id)
    if not staff.must_change_password:
        raise NotAllowed('password')
    check_password(STAFF_PASSWORDS, password, repeat, known=(staff.email,))
    if ctx.hasher.verify(staff.password_hash, password):
        raise NotAllowed('password')
    staff.password_hash = ctx.hasher.hash(password)
    staff.must_change_password = False
    staff.password_set_at = ctx.now
    staff.session_epoch += 1
    _audit(uow, ctx, staff_id, 'staff_password_changed')
    uow.commit()
    return _grant(staff, verified=True)


def staff_session(uow: UnitOfWork, staff_id: int, epoch: int) -> StaffUser | None:
    staff = uow.staff.get(staff_id)
    return staff if staff is not None and staff.active and staff.session_epoch == epoch else None


@dataclass(frozen=True)
class StaffRow:
    staff_id: int
    email: str
    name: str
    role: str
    active: bool
    enrolled: bool
    last_login: str


def staff_list(uow: UnitOfWork, actor: int) -> list[StaffRow]:
    _require_admin(uow, actor)
    return [
        StaffRow(
            s.id or 0,
            s.email,
            s.name,
            s.role,
            s.active,
            s.totp_enabled,
            s.last_login_at.isoformat() if s.last_login_at else '',
        )
        for s in uow.staff.all()
    ]


def set_active(uow: UnitOfWork, ctx: Context, actor: int, staff_id: int, active: bool) -> None:
    """Lock or unlock a staff account; locking ends its sessions. Nobody locks themselves out, and two admins who
    lock each other at the same moment do not both succeed: the admins' rows are taken before the actor is checked
    (so the second waits for the first and then finds itself locked)."""
    hold_admin(uow, actor)
    staff = uow.staff.get(staff_id)
    if staff is None or staff_id == actor:
        raise NotAllowed()
    if staff.active == active:  # a page shown before a colleague's click: unlocking an unlocked account logged it out
        return
    staff.active = active
    staff.session_epoch += 1
    _audit(uow, ctx, actor, 'staff_unlocked' if active else 'staff_locked', f'staff={staff.email}')
    uow.commit()


@hashing
def new_start_password(uow: UnitOfWork, ctx: Context, actor: int | str, colleague: int | str) -> str:
    """For a colleague who forgot the password or whose start password expired: a new start password, returned to
    be shown once and handed over in person, valid START_PASSWORD_DAYS and to be replaced at the next login; the
    colleague's sessions end. `colleague`: the staff id (the staff page) or the email (the command line, for the
    first admin, whom no other admin can help). Not one's own: that would set a password without the current one."""
    if isinstance(actor, int):
        hold_admin(uow, actor)
    staff = uow.staff.get(colleague) if isinstance(colleague, int) else uow.staff.by_email(normalise_email(colleague))
    if staff is None or staff.id == actor:
        raise NotAllowed()
    initial = tokens.new_temporary_password()
    staff.password_hash = ctx.hasher.hash(initial)
    staff.must_change_password = True
    staff.password_set_at = ctx.now
    staff.session_epoch += 1
    _audit(uow, ctx, actor, 'staff_start_password', f'staff={staff.email}')
    uow.commit()
    return initial


def reset_second_factor(uow: UnitOfWork, ctx: Context, actor: int, staff_id: int) -> None:
    """For a colleague who lost the authenticator and the recovery codes: enrol again at the next login."""
    hold_admin(uow, actor)
    staff = uow.staff.get(staff_id)
    if staff is None or staff_id == actor:
        raise NotAllowed()
    staff.totp_enabled, staff.totp_secret, staff.totp_last_step = False, '', 0
    staff.session_epoch += 1
    uow.staff.replace_recovery_codes(staff_id, [])
    _audit(uow, ctx, actor, 'staff_totp_reset', f'staff={staff.email}')
    uow.commit()


def hold_admin(uow: UnitOfWork, staff_id: int) -> StaffUser:
    """For an admin's change: the admins' rows taken first, then the actor checked (as `set_active`), so that a
    change made at the moment a colleague locks the actor either commits before the lock or is refused; checked
    first, a locked admin's write token, admin account or settings outlived the lock."""
    uow.staff.hold_admins()
    return _require_admin(uow, staff_id)


def _require_admin(uow: UnitOfWork, staff_id: int) -> StaffUser:
    staff = active_staff(uow, staff_id)
    if staff.role != 'admin':
        raise NotAllowed()
    return staff


# A back-office list (messages, reviews, requests, changes, reminders) shows at most LIST_LIMIT entries; its use case
# hands one more when there are more, and the page says that some are not shown (500 shown as "500 Treffer" hid the
# rest).
LIST_LIMIT = 500


def active_staff(uow: UnitOfWork, staff_id: int) -> StaffUser:
    staff = uow.staff.get(staff_id)
    if staff is None or not staff.active:
        raise NotAllowed()
    return staff


def _grant(staff: StaffUser, verified: bool) -> StaffGrant:
    return StaffGrant(
        staff.id or 0,
        staff.session_epoch,
        staff.role,
        staff.name,
        staff.totp_enabled,
        verified,
        staff.must_change_password,
    )
