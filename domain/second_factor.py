"""The customers' optional second factor (TOTP): enrolment with the current password, confirmation with a first
code, switching it off, and the code asked for after the password at the login."""

from domain import throttle, totp
from domain.accounts import SessionGrant, audit_entry, check_current_password, grant
from domain.customer_access import active_login
from domain.errors import CustomerCodeInvalid, NotAllowed, TooManyAttempts
from domain.mails import compose
from domain.model import PortalUser
from domain.ports import Context, UnitOfWork
from domain.running import hashing


def login_code(uow: UnitOfWork, ctx: Context, user_id: int, code: str) -> SessionGrant:
    """The optional second factor after the password (throttled like a PIN)."""
    user = active_login(uow, user_id)
    if not user.totp_enabled:
        raise NotAllowed()
    _check_code(uow, ctx, user, code)
    user.last_login_at = ctx.now
    uow.audit(audit_entry(ctx, user, 'login'))
    uow.commit()
    return grant(uow, user)


def second_factor_enabled(uow: UnitOfWork, user_id: int) -> bool:
    user = uow.users.get(user_id)
    return bool(user and user.totp_enabled)


@hashing
def begin_second_factor(uow: UnitOfWork, ctx: Context, user_id: int, current_password: str) -> totp.Enrolment:
    """Optional for customers: a fresh authenticator secret (effective once confirmed with a code). Asks for the
    current password: a borrowed session must not tie the login to somebody else's phone."""
    user = active_login(uow, user_id)
    if user.totp_enabled:
        raise NotAllowed()
    check_current_password(uow, ctx, user, current_password)
    enrolment, user.totp_secret = totp.new_enrolment(ctx.secret, user.email, ctx.profile.short_name)
    uow.audit(audit_entry(ctx, user, 'second_factor_begun'))  # a new secret stored, not yet in force
    uow.commit()
    return enrolment


def confirm_second_factor(uow: UnitOfWork, ctx: Context, user_id: int, code: str) -> None:
    user = active_login(uow, user_id)
    if user.totp_enabled or not user.totp_secret:
        raise NotAllowed()
    _check_code(uow, ctx, user, code)
    user.totp_enabled = True
    uow.queue_mail(compose(ctx, user.email, 'second_factor_on'), ctx.now)
    uow.audit(audit_entry(ctx, user, 'second_factor_on'))
    uow.commit()


@hashing
def disable_second_factor(uow: UnitOfWork, ctx: Context, user_id: int, password: str) -> None:
    user = active_login(uow, user_id)
    if not user.totp_enabled:
        raise NotAllowed()
    check_current_password(uow, ctx, user, password)
    user.totp_enabled, user.totp_secret, user.totp_last_step = False, '', 0
    uow.queue_mail(compose(ctx, user.email, 'second_factor_off'), ctx.now)
    uow.audit(audit_entry(ctx, user, 'second_factor_off'))
    uow.commit()


def _check_code(uow: UnitOfWork, ctx: Context, user: PortalUser, code: str) -> None:
    key = throttle.CODE_OF_LOGIN.format(user.id)
    state = uow.throttles.state(key)
    if state.is_locked(ctx.now):
        raise TooManyAttempts('code', minutes=state.minutes_left(ctx.now))
    step = totp.accepted_step(ctx.secret, user.totp_secret, user.totp_last_step, code, ctx.now.timestamp())
    if step is None or not uow.users.claim_totp_step(user, step):  # claimed: the same code twice at once
        state.record_failure(throttle.PIN_PER_USER, ctx.now)
        uow.throttles.save(key, state)
        uow.commit()
        raise CustomerCodeInvalid('code')
    uow.throttles.save(key, throttle.ThrottleState())
