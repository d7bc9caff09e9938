"""Registration: two numbers identify the customer, an email address is confirmed by link or PIN.

A registration stays `pending` until confirmed; an unconfirmed one can simply be done again (the old
link or PIN dies). The customer is linked to the login only when the address is confirmed.
"""

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import identification, mail_budget, throttle, tokens
from domain.clock import later
from domain.customer_access import forget_login
from domain.errors import (
    AlreadyActive,
    EmailAlreadyRegistered,
    EmailInvalid,
    PinExpired,
    PinResendTooEarly,
    PinUsedUp,
    PinWrong,
    TokenInvalid,
)
from domain.i18n import current
from domain.identification import Identifiers
from domain.identifiers import is_digits, is_email, normalise_email
from domain.mails import compose
from domain.model import AuditEntry, OneTimeToken, PortalUser, id_of
from domain.passwords import check_password
from domain.ports import Context, UnitOfWork
from domain.running import hashing


@dataclass(frozen=True)
class PendingRegistration:
    user_id: int
    reference: str  # signed, so the PIN page can name the registration without a session
    method: str  # link | pin
    email: str


@hashing
def register(
    uow: UnitOfWork, ctx: Context, ids: Identifiers, email: str, password: str, repeat: str
) -> PendingRegistration:
    ids = identification.check_format(ctx, ids)
    email = checked_email(email)
    check_password(ctx.profile.password, password, repeat, known=(email, ids.customer_number))
    customer = identification.identify(uow, ctx, ids)  # first: only the right pair learns about the email
    identification.ensure_unclaimed(uow, customer)  # then: a customer with a login learns nothing about addresses
    existing = uow.users.by_email(email)
    if existing is not None and existing.state == 'active':  # counted as a miss: no unlimited asking which
        identification.count_miss(uow, ctx, ids.customer_number)  # addresses have a login
        raise EmailAlreadyRegistered()
    replaced = ''
    if existing is not None:  # done again before it was confirmed: as a resend, a new PIN only after the waiting
        _wait_for_a_new_pin(uow, ctx, existing)  # time, and a few mails an hour to the address (it is anyone's)
        mail_budget.spend(uow, ctx, email)
        replaced = f' replaces=user:{existing.id}'  # the pending login given up, noted with its successor
        forget_login(uow, existing)
    hashed = ctx.hasher.hash(password)
    user = uow.users.add(PortalUser(email=email, password_hash=hashed, created_at=ctx.now, language=current()))
    assert user.id is not None and customer.id is not None
    send_confirmation(uow, ctx, user, customer.id)
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'user:{user.id}',
            action='registration_started',
            customer_id=customer.id,
            details=f'method={ctx.profile.registration.confirmation}{replaced}',
            address=ctx.address,
        )
    )
    uow.commit()
    return PendingRegistration(user.id, reference(ctx, user.id, email), ctx.profile.registration.confirmation, email)


def confirm_link(uow: UnitOfWork, ctx: Context, plain: str) -> str:
    """Activate the login behind an activation link; returns the login email."""
    token = uow.tokens.find('activation', tokens.digest(ctx.secret, plain))
    if token is not None and token.used_at is not None:
        user = uow.users.get(token.user_id)
        if user is not None and user.state == 'active':  # the link clicked a second time
            raise AlreadyActive()
    if token is None or not tokens.is_usable(token.expires_at, token.used_at, ctx.now):
        raise TokenInvalid()
    return _activate(uow, ctx, token)


def confirm_pin(uow: UnitOfWork, ctx: Context, ref: str, pin: str) -> str:
    """Activate the login with the PIN from the mail; five wrong PINs and the PIN dies. Every try is counted in the
    database before its PIN is compared: tries sent at the same moment each get their own number, and only the first
    five are compared (counting only the wrong ones after comparing let any number of tries sent at once through)."""
    user_id = id_of(pending_login(uow, ctx, ref))
    token = uow.tokens.latest(user_id, 'pin')
    limit = throttle.PIN_PER_USER.max_failures
    if token is None or token.used_at is not None or ctx.now >= token.expires_at or token.failed_attempts >= limit:
        raise PinExpired()
    tries = uow.tokens.count_failure(token)  # this try's number; a right PIN ends the PIN, so tries are failures
    if tries > limit:  # the five were used up by tries sent at the same moment
        uow.commit()
        raise PinExpired()
    if tokens.digest(ctx.secret, pin) != token.digest:
        uow.commit()
        if tries >= limit:  # the PIN is used up: when a new one may be asked for, counted from now
            left = _minutes_to_a_new_pin(ctx, token.created_at)
            raise PinUsedUp(minutes=left) if left else PinExpired()
        raise PinWrong(count=limit - tries)
    return _activate(uow, ctx, token)


def resend(uow: UnitOfWork, ctx: Context, ref: str) -> None:
    """A new link or PIN for a pending registration; a new PIN only after the waiting time."""
    user = pending_login(uow, ctx, ref)
    if user.state != 'pending':
        raise TokenInvalid()
    purpose = 'pin' if ctx.profile.registration.confirmation == 'pin' else 'activation'
    last = uow.tokens.latest(user.id or 0, purpose)
    if last is None:
        raise TokenInvalid()
    _wait_for_a_new_pin(uow, ctx, user)
    mail_budget.spend(uow, ctx, user.email, user.id, field='pin' if purpose == 'pin' else 'email')
    send_confirmation(uow, ctx, user, int(last.payload))
    uow.audit(AuditEntry(at=ctx.now, actor=f'user:{user.id}', action='confirmation_resent', address=ctx.address))
    uow.commit()


def _wait_for_a_new_pin(uow: UnitOfWork, ctx: Context, user: PortalUser) -> None:
    """PinResendTooEarly while the pending login's last PIN is younger than the profile's waiting time (a link may
    be sent again at once; the mail budget limits both)."""
    if ctx.profile.registration.confirmation != 'pin':
        return
    last = uow.tokens.latest(user.id or 0, 'pin')
    left = _minutes_to_a_new_pin(ctx, last.created_at) if last is not None else 0
    if left:
        raise PinResendTooEarly(minutes=left)


def _minutes_to_a_new_pin(ctx: Context, created_at: datetime) -> int:
    """Whole minutes (rounded up) until a PIN made at `created_at` may be replaced by a new one; 0 if it may now."""
    ready = created_at + timedelta(minutes=ctx.profile.registration.pin_resend_after_minutes)
    return max(0, -(-int((ready - ctx.now).total_seconds()) // 60)) if ctx.now < ready else 0


def forget_unconfirmed(uow: UnitOfWork, ctx: Context) -> int:
    """Delete registrations never confirmed within their validity plus a week's grace, counted from the last link or
    PIN sent (again, by the customer or the service desk); returns how many."""
    cutoff = later(ctx.now, -(ctx.profile.registration.confirmation_valid_for + timedelta(days=7)))
    stale = uow.users.unconfirmed_since(cutoff)
    for user in stale:
        forget_login(uow, user)
    if stale:
        uow.audit(
            AuditEntry(
                at=ctx.now, actor='system', action='unconfirmed_registrations_deleted', details=f'count={len(stale)}'
            )
        )
    uow.commit()
    return len(stale)


def reference(ctx: Context, user_id: int, email: str) -> str:
    """Signed with the login's address too: SQLite gives a forgotten registration's id to the next one, and a
    reference signed with the id alone named that stranger's registration (its PIN to use up, its mails to resend)."""
    return f'{user_id}.{tokens.digest(ctx.secret, f"registration:{user_id}:{email}")[:24]}'


def user_from_reference(ctx: Context, ref: str) -> int:
    """The id a reference names, if it is one (its signature: `pending_login`)."""
    user_id = (ref or '').partition('.')[0]
    if not is_digits(user_id) or len(user_id) > 10:  # ids < 2**31
        raise TokenInvalid()
    return int(user_id)


def pending_login(uow: UnitOfWork, ctx: Context, ref: str) -> PortalUser:
    """The login a reference was signed for."""
    user = uow.users.get(user_from_reference(ctx, ref))
    if user is None or not hmac.compare_digest(reference(ctx, id_of(user), user.email), ref):
        raise TokenInvalid()
    return user


def checked_email(raw: str, field: str = 'email') -> str:
    email = normalise_email(raw)
    if not is_email(email):
        raise EmailInvalid(field)
    return email


def send_confirmation(uow: UnitOfWork, ctx: Context, user: PortalUser, customer_id: int) -> None:
    assert user.id is not None
    rule = ctx.profile.registration
    purpose = 'pin' if rule.confirmation == 'pin' else 'activation'
    uow.tokens.revoke(user.id, (purpose,), ctx.now)
    plain = tokens.new_pin() if purpose == 'pin' else tokens.new_link_token()
    uow.tokens.add(
        tokens.stored(ctx.secret, user.id, purpose, plain, ctx.now, rule.confirmation_valid_for, str(customer_id))
    )
    if purpose == 'pin':
        uow.queue_mail(
            compose(
                ctx,
                user.email,
                'pin',
                pin=plain,
                minutes=rule.pin_valid_minutes,
                link=f'{ctx.base_url}/registrieren/bestaetigen?ref={reference(ctx, user.id, user.email)}',
            ),
            ctx.now,
        )
    else:
        uow.queue_mail(
            compose(
                ctx, user.email, 'activation', link=f'{ctx.base_url}/aktivieren/{plain}', hours=rule.link_valid_hours
            ),
            ctx.now,
        )


def _activate(uow: UnitOfWork, ctx: Context, token: OneTimeToken) -> str:
    user = uow.users.get(token.user_id)
    if user is None:
        raise TokenInvalid()
    customer = uow.customers.get(int(token.payload))
    assert customer is not None and customer.id is not None
    if not uow.tokens.claim(token, ctx.now):  # the same link (or PIN) twice at the same moment
        raise AlreadyActive()
    # after the claim: the request that lost it may otherwise already see the winner's link to the customer
    identification.ensure_unclaimed(uow, customer)  # raising rolls the claim back
    user.state, user.confirmed_at = 'active', ctx.now
    uow.users.link(user.id or 0, customer.id, ctx.now)
    uow.queue_mail(
        compose(ctx, user.email, 'registered', customer_number=customer.customer_number, link=ctx.base_url + '/'),
        ctx.now,
    )
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'user:{user.id}',
            action='registration_confirmed',
            customer_id=customer.id,
            address=ctx.address,
        )
    )
    uow.commit()
    return user.email
