"""Logging in and looking after one's login: password, email address, customer accounts, deletion."""

from dataclasses import dataclass, replace
from datetime import timedelta

from domain import identification, throttle, tokens, totp
from domain.errors import (
    AccountNotConfirmed,
    CustomerAlreadyLinked,
    EmailAlreadyRegistered,
    InvalidCredentials,
    NotAllowed,
    PasswordUnchanged,
    SecondFactorInvalid,
    TokenInvalid,
    TooManyAttempts,
    WrongCurrentPassword,
)
from domain.identification import Identifiers
from domain.identifiers import normalise_email
from domain.mails import compose
from domain.model import AuditEntry, OneTimeToken, PortalUser
from domain.passwords import check_password
from domain.ports import Context, UnitOfWork
from domain.registration import checked_email
from domain.running import hashing


@dataclass(frozen=True)
class SessionGrant:
    """What a page keeps in the session after a successful login."""

    user_id: int
    epoch: int
    must_change_password: bool
    customer_ids: tuple[int, ...]
    needs_code: bool = False  # the password was right; the login's second factor (TOTP) comes next


@hashing
def login(uow: UnitOfWork, ctx: Context, email: str, password: str) -> SessionGrant:
    email = normalise_email(email)
    keys = (f'login:account:{email}', f'login:address:{ctx.address}')
    states = [uow.throttles.state(key) for key in keys]
    locked = [s for s in states if s.is_locked(ctx.now)]
    if locked:
        raise TooManyAttempts('password', minutes=max(s.minutes_left(ctx.now) for s in locked))
    user = uow.users.by_email(email)
    known_hash = user.password_hash if user is not None else ctx.hasher.dummy_hash  # same time either way
    if not ctx.hasher.verify(known_hash, password) or user is None:
        for key, state, policy in zip(
            keys, states, (throttle.LOGIN_PER_ACCOUNT, throttle.LOGIN_PER_ADDRESS), strict=True
        ):
            state.record_failure(policy, ctx.now)
            uow.throttles.save(key, state)
        uow.commit()
        raise InvalidCredentials()
    if user.state != 'active':
        raise AccountNotConfirmed()
    if ctx.hasher.needs_rehash(user.password_hash):
        user.password_hash = ctx.hasher.hash(password)
    uow.throttles.save(keys[0], throttle.ThrottleState())
    if user.totp_enabled:
        uow.audit(_entry(ctx, user, 'login_password_ok'))
        uow.commit()
        return replace(_grant(uow, user), needs_code=True)
    user.last_login_at = ctx.now
    uow.audit(_entry(ctx, user, 'login'))
    uow.commit()
    return _grant(uow, user)


def login_code(uow: UnitOfWork, ctx: Context, user_id: int, code: str) -> SessionGrant:
    """The optional second factor after the password (throttled like a PIN)."""
    user = _user(uow, user_id)
    if not user.totp_enabled:
        raise NotAllowed()
    _check_code(uow, ctx, user, code)
    user.last_login_at = ctx.now
    uow.audit(_entry(ctx, user, 'login'))
    uow.commit()
    return _grant(uow, user)


def second_factor_enabled(uow: UnitOfWork, user_id: int) -> bool:
    user = uow.users.get(user_id)
    return bool(user and user.totp_enabled)


def begin_second_factor(uow: UnitOfWork, ctx: Context, user_id: int) -> totp.Enrolment:
    """Optional for customers: a fresh authenticator secret (effective once confirmed with a code)."""
    user = _user(uow, user_id)
    if user.totp_enabled:
        raise NotAllowed()
    enrolment, user.totp_secret = totp.new_enrolment(ctx.secret, user.email, ctx.profile.short_name)
    uow.commit()
    return enrolment


def confirm_second_factor(uow: UnitOfWork, ctx: Context, user_id: int, code: str) -> None:
    user = _user(uow, user_id)
    if user.totp_enabled or not user.totp_secret:
        raise NotAllowed()
    _check_code(uow, ctx, user, code)
    user.totp_enabled = True
    uow.queue_mail(compose(ctx, user.email, 'second_factor_on'), ctx.now)
    uow.audit(_entry(ctx, user, 'second_factor_on'))
    uow.commit()


@hashing
def disable_second_factor(uow: UnitOfWork, ctx: Context, user_id: int, password: str) -> None:
    user = _user(uow, user_id)
    if not user.totp_enabled:
        raise NotAllowed()
    _check_current_password(uow, ctx, user, password)
    user.totp_enabled, user.totp_secret, user.totp_last_step = False, '', 0
    uow.queue_mail(compose(ctx, user.email, 'second_factor_off'), ctx.now)
    uow.audit(_entry(ctx, user, 'second_factor_off'))
    uow.commit()


def _check_code(uow: UnitOfWork, ctx: Context, user: PortalUser, code: str) -> None:
    key = f'login:code:{user.id}'
    state = uow.throttles.state(key)
    if state.is_locked(ctx.now):
        raise TooManyAttempts('code', minutes=state.minutes_left(ctx.now))
    step = totp.accepted_step(ctx.secret, user.totp_secret, user.totp_last_step, code, ctx.now.timestamp())
    if step is None:
        state.record_failure(throttle.PIN_PER_USER, ctx.now)
        uow.throttles.save(key, state)
        uow.commit()
        raise SecondFactorInvalid('code')
    user.totp_last_step = step
    uow.throttles.save(key, throttle.ThrottleState())


def _check_current_password(uow: UnitOfWork, ctx: Context, user: PortalUser, password: str) -> None:
    """The current password asked again inside the portal (a session left open must not become a guessing
    machine): wrong answers count against the same per-account budget as wrong logins."""
    key = f'login:account:{user.email}'
    state = uow.throttles.state(key)
    if state.is_locked(ctx.now):
        raise TooManyAttempts('current_password', minutes=state.minutes_left(ctx.now))
    if not ctx.hasher.verify(user.password_hash, password):
        state.record_failure(throttle.LOGIN_PER_ACCOUNT, ctx.now)
        uow.throttles.save(key, state)
        uow.audit(_entry(ctx, user, 'current_password_wrong'))
        uow.commit()
        raise WrongCurrentPassword()


def session_is_valid(uow: UnitOfWork, user_id: int, epoch: int) -> bool:
    user = uow.users.get(user_id)
    return user is not None and user.state == 'active' and user.session_epoch == epoch


@hashing
def request_password_reset(uow: UnitOfWork, ctx: Context, email: str) -> None:
    """Always answers alike; only an active login gets a mail (a link or a temporary password)."""
    key = f'reset:{ctx.address}'
    state = uow.throttles.state(key)
    if state.is_locked(ctx.now):
        raise TooManyAttempts('email', minutes=state.minutes_left(ctx.now))
    state.record_failure(throttle.RESET_PER_ADDRESS, ctx.now)  # every request counts, found or not
    uow.throttles.save(key, state)
    user = uow.users.by_email(normalise_email(email))
    if user is not None and user.state == 'active':
        send_reset_mail(uow, ctx, user)
        uow.audit(_entry(ctx, user, 'password_reset_requested'))
    uow.commit()


@hashing
def reset_password(uow: UnitOfWork, ctx: Context, plain: str, password: str, repeat: str) -> str:
    token = uow.tokens.find('reset', tokens.digest(ctx.secret, plain))
    if token is None or not tokens.is_usable(token.expires_at, token.used_at, ctx.now):
        raise TokenInvalid()
    check_password(ctx.profile.password, password, repeat)
    user = uow.users.get(token.user_id)
    assert user is not None
    token.used_at = ctx.now
    _set_password(uow, ctx, user, password)
    uow.audit(_entry(ctx, user, 'password_reset'))
    uow.commit()
    return user.email


def reset_token_is_usable(uow: UnitOfWork, ctx: Context, plain: str) -> bool:
    token = uow.tokens.find('reset', tokens.digest(ctx.secret, plain))
    return token is not None and tokens.is_usable(token.expires_at, token.used_at, ctx.now)


@hashing
def change_password(uow: UnitOfWork, ctx: Context, user_id: int, current: str, password: str, repeat: str) -> int:
    """Returns the new session epoch: every other session of this login ends."""
    user = _user(uow, user_id)
    _check_current_password(uow, ctx, user, current)
    check_password(ctx.profile.password, password, repeat, field='new_password')
    if password == current:
        raise PasswordUnchanged()
    _set_password(uow, ctx, user, password)
    uow.audit(_entry(ctx, user, 'password_changed'))
    uow.commit()
    return user.session_epoch


@hashing
def set_initial_password(uow: UnitOfWork, ctx: Context, user_id: int, password: str, repeat: str) -> int:
    """After logging in with a temporary password: the customer's own password, no current one asked."""
    user = _user(uow, user_id)
    if not user.must_change_password:
        raise NotAllowed()
    check_password(ctx.profile.password, password, repeat)
    _set_password(uow, ctx, user, password)
    uow.audit(_entry(ctx, user, 'password_set_after_temporary'))
    uow.commit()
    return user.session_epoch


def request_email_change(uow: UnitOfWork, ctx: Context, user_id: int, new_email: str) -> str:
    user = _user(uow, user_id)
    email = checked_email(new_email, 'new_email')
    if email == user.email or uow.users.by_email(email) is not None:
        raise EmailAlreadyRegistered('new_email')
    uow.tokens.revoke(user_id, ('email_change',), ctx.now)
    plain = tokens.new_link_token()
    uow.tokens.add(
        OneTimeToken(
            user_id=user_id,
            purpose='email_change',
            digest=tokens.digest(ctx.secret, plain),
            payload=email,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(days=2),
        )
    )
    uow.queue_mail(compose(ctx, email, 'email_change', link=f'{ctx.base_url}/email-bestaetigen/{plain}'), ctx.now)
    uow.audit(_entry(ctx, user, 'email_change_requested', f'new={email}'))
    uow.commit()
    return email


def confirm_email_change(uow: UnitOfWork, ctx: Context, plain: str) -> str:
    token = uow.tokens.find('email_change', tokens.digest(ctx.secret, plain))
    if token is None or not tokens.is_usable(token.expires_at, token.used_at, ctx.now):
        raise TokenInvalid()
    if uow.users.by_email(token.payload) is not None:
        raise EmailAlreadyRegistered()
    user = _user(uow, token.user_id)
    old, user.email, token.used_at = user.email, token.payload, ctx.now
    uow.queue_mail(compose(ctx, old, 'email_changed_old', new=user.email), ctx.now)
    uow.queue_mail(compose(ctx, user.email, 'email_changed_new', new=user.email), ctx.now)
    uow.audit(_entry(ctx, user, 'email_changed', f'old={old} new={user.email}'))
    uow.commit()
    return user.email


def delete_profile(uow: UnitOfWork, ctx: Context, user_id: int) -> None:
    """Removes the login and its links; the customer's master data and bills stay with the utility."""
    if not ctx.profile.profile_deletion.self_service:
        raise NotAllowed()
    user = _user(uow, user_id)
    customer_ids = uow.users.customer_ids(user_id)
    uow.queue_mail(compose(ctx, user.email, 'profile_deleted'), ctx.now)
    for customer_id in customer_ids:
        uow.audit(
            AuditEntry(
                at=ctx.now,
                actor=f'user:{user_id}',
                action='profile_deleted',
                customer_id=customer_id,
                address=ctx.address,
            )
        )
    uow.users.delete(user)
    uow.commit()


def add_customer(uow: UnitOfWork, ctx: Context, user_id: int, ids: Identifiers) -> int:
    user = _user(uow, user_id)
    ids = identification.check_format(ctx, ids)
    customer = identification.identify(uow, ctx, ids)
    assert customer.id is not None
    if uow.users.owner_of(customer.id) == user_id:
        raise CustomerAlreadyLinked()
    identification.ensure_unclaimed(uow, customer)
    uow.users.link(user_id, customer.id, ctx.now)
    uow.queue_mail(compose(ctx, user.email, 'customer_added', customer_number=customer.customer_number), ctx.now)
    uow.audit(
        AuditEntry(
            at=ctx.now, actor=f'user:{user_id}', action='customer_added', customer_id=customer.id, address=ctx.address
        )
    )
    uow.commit()
    return customer.id


def send_reset_mail(uow: UnitOfWork, ctx: Context, user: PortalUser) -> None:
    assert user.id is not None
    uow.tokens.revoke(user.id, ('reset',), ctx.now)
    if ctx.profile.reset.method == 'temporary_password':
        temporary = tokens.new_temporary_password()
        user.password_hash = ctx.hasher.hash(temporary)
        user.must_change_password = True
        user.session_epoch += 1
        uow.queue_mail(
            compose(ctx, user.email, 'temporary_password', password=temporary, link=ctx.base_url + '/'), ctx.now
        )
        return
    plain = tokens.new_link_token()
    days = ctx.profile.reset.link_valid_days
    uow.tokens.add(
        OneTimeToken(
            user_id=user.id,
            purpose='reset',
            digest=tokens.digest(ctx.secret, plain),
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(days=days),
        )
    )
    uow.queue_mail(compose(ctx, user.email, 'reset', link=f'{ctx.base_url}/passwort-neu/{plain}', days=days), ctx.now)


def _set_password(uow: UnitOfWork, ctx: Context, user: PortalUser, password: str) -> None:
    user.password_hash = ctx.hasher.hash(password)
    user.must_change_password = False
    user.session_epoch += 1
    uow.tokens.revoke(user.id or 0, ('reset',), ctx.now)
    uow.queue_mail(compose(ctx, user.email, 'password_changed'), ctx.now)


def _user(uow: UnitOfWork, user_id: int) -> PortalUser:
    user = uow.users.get(user_id)
    if user is None or user.state != 'active':
        raise NotAllowed()
    return user


def _grant(uow: UnitOfWork, user: PortalUser) -> SessionGrant:
    assert user.id is not None
    return SessionGrant(user.id, user.session_epoch, user.must_change_password, tuple(uow.users.customer_ids(user.id)))


def _entry(ctx: Context, user: PortalUser, action: str, details: str = '') -> AuditEntry:
    return AuditEntry(at=ctx.now, actor=f'user:{user.id}', action=action, details=details, address=ctx.address)


def login_only(_uow: UnitOfWork, _user_id: int) -> None:
    """The query of a login check that needs nothing else (`pages.session.current`): the runner checks the login."""
    return None
