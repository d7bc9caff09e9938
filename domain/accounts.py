"""Logging in and looking after one's login: password, email address, customer accounts, deletion."""

from dataclasses import dataclass, replace
from datetime import timedelta

from domain import identification, mail_budget, reminders, throttle, tokens
from domain.clock import later
from domain.customer_access import active_login, forget_login, paper_again
from domain.errors import (
    AccountNotConfirmed,
    CustomerAlreadyLinked,
    EmailAlreadyRegistered,
    EmailUnchanged,
    FormerUserName,
    InvalidCredentials,
    LastCustomerCannotBeRemoved,
    LoginNeedsEmail,
    NotAllowed,
    PasswordUnchanged,
    SessionEnded,
    TokenInvalid,
    TooManyAttempts,
    WrongCurrentPassword,
)
from domain.i18n import LANGUAGES, current
from domain.identification import Identifiers
from domain.identifiers import normalise_email
from domain.mails import compose
from domain.model import AuditEntry, OneTimeToken, PortalUser, id_of
from domain.passwords import check_password
from domain.ports import Context, UnitOfWork
from domain.registration import checked_email
from domain.running import hashing

EMAIL_CHANGE_VALID = timedelta(days=2)


@dataclass(frozen=True)
class SessionGrant:
    """What a page keeps in the session after a successful login."""

    user_id: int
    epoch: int
    must_change_password: bool
    customer_ids: tuple[int, ...]
    needs_code: bool = False  # the password was right; the login's second factor (TOTP) comes next
    device: str = ''  # the browser's device cookie (KnownDevice), set when the session starts


@hashing
def login(uow: UnitOfWork, ctx: Context, email: str, password: str, device: str = '') -> SessionGrant:
    """Email and password (or a temporary password from "Passwort vergessen?", once, within 24 hours). Wrong
    passwords slow down their own account+address (growing delays) and, in great numbers, the account from
    everywhere, except for a browser that has logged in before (`device`, its cookie) with the right password.

    The password is checked before anything is written: the holds are only read beforehand (`peek`), so that no
    lock is held while it is hashed. With a lock taken first, every login on SQLite (one writer at a time) and every
    login from one address on PostgreSQL (its count's row) waited for the hashing of the one before, as did every
    other change on SQLite (docs/operations.md, "Login bursts"). Each wrong password is then counted under the
    lock as before; only guesses hashed at the same moment (at most one per hashing thread of all instances) can
    still pass a hold that one of them is about to set."""
    email = normalise_email(email)
    if email and '@' not in email:  # an old portal user name, a customer number: decided by the form alone
        raise FormerUserName() if ctx.profile.registration.former_user_names else LoginNeedsEmail()
    pair, account, address = _login_keys(email, ctx.address)
    user = uow.users.by_email(email)
    known = _known_device(uow, ctx, user, device)
    held = {key: uow.throttles.peek(key) for key in (pair, address, *(() if known else (account,)))}
    locked = [s for s in held.values() if s.is_locked(ctx.now)]
    if locked:
        raise TooManyAttempts('password', minutes=max(s.minutes_left(ctx.now) for s in locked))
    known_hash = user.password_hash if user is not None else ctx.hasher.dummy_hash  # same time either way
    right = ctx.hasher.verify(known_hash, password)
    temporary = _temporary_password(uow, ctx, password, user) if not right else None
    if user is None or not (right or temporary):
        _count_failure(uow, ctx, email)
        uow.commit()
        raise InvalidCredentials()
    if user.state != 'active':
        raise AccountNotConfirmed()
    if temporary is not None and not uow.tokens.claim(temporary, ctx.now):
        raise InvalidCredentials()  # the same one twice at once: the other got in (not counted as a guess)
    if right and ctx.hasher.needs_rehash(user.password_hash):  # hashed before the first write, too
        rehashed = ctx.hasher.hash(password)
        stored_now = uow.users.hold(id_of(user))  # a reset or change committed meanwhile is not written over
        if stored_now is None or stored_now.state != 'active':
            raise InvalidCredentials()
        if stored_now.password_hash == known_hash:
            user.password_hash = rehashed
        elif not ctx.hasher.verify(stored_now.password_hash, password):  # rare: changed while it hashed
            raise InvalidCredentials()  # a reset or change: the old password is dead
    if temporary is not None:  # used once (claimed): now the customer sets a password of their own
        user.must_change_password = True
        uow.audit(audit_entry(ctx, user, 'temporary_password_used'))
    if user.language != current():  # what the portal writes with nobody in front of it: in this language
        user.language = current()
    throttle.forgive(uow, pair, held[pair])  # earlier misses of this account from here
    device = _remember_device(uow, ctx, user, known, device)
    if user.totp_enabled:
        uow.audit(audit_entry(ctx, user, 'login_password_ok'))
        uow.commit()
        return replace(grant(uow, user), needs_code=True, device=device)
    user.last_login_at = ctx.now
    uow.audit(audit_entry(ctx, user, 'login'))
    uow.commit()
    return replace(grant(uow, user), device=device)


def _login_keys(email: str, address: str) -> tuple[str, str, str]:
    return f'login:pair:{email}|{address}', f'login:account:{email}', f'login:address:{address}'


def _count_failure(uow: UnitOfWork, ctx: Context, email: str) -> None:
    """A wrong password (at the login, or asked again in the portal) for `email` from the client's address."""
    pair, account, address = _login_keys(email, ctx.address)
    state = uow.throttles.state(pair)
    state.record_delay(throttle.LOGIN_PER_ACCOUNT_AND_ADDRESS, ctx.now)
    uow.throttles.save(pair, state)
    for key, policy in ((account, throttle.LOGIN_PER_ACCOUNT), (address, throttle.LOGIN_PER_ADDRESS)):
        state = uow.throttles.state(key)
        state.record_failure(policy, ctx.now)
        uow.throttles.save(key, state)


def _temporary_password(uow: UnitOfWork, ctx: Context, password: str, user: PortalUser | None) -> OneTimeToken | None:
    """The temporary password sent by "Passwort vergessen?", if this is it: looked up by its keyed digest (it is
    long and random), for known and unknown addresses alike."""
    token = uow.tokens.find('temporary_password', tokens.digest(ctx.secret, password))
    if token is None or user is None or token.user_id != user.id:
        return None
    return token if tokens.is_usable(token.expires_at, token.used_at, ctx.now) else None


def _known_device(uow: UnitOfWork, ctx: Context, user: PortalUser | None, device: str) -> bool:
    if not device or user is None or user.id is None:
        return False
    return uow.devices.find(user.id, tokens.digest(ctx.secret, f'device:{device}')) is not None


def _remember_device(uow: UnitOfWork, ctx: Context, user: PortalUser, known: bool, device: str) -> str:
    """After a right password: this browser is known from now on. Returns the device cookie's value (a new one
    for a browser not known yet)."""
    if not known:
        device = tokens.new_link_token()
    uow.devices.remember(id_of(user), tokens.digest(ctx.secret, f'device:{device}'), ctx.now)
    return device


def check_current_password(uow: UnitOfWork, ctx: Context, user: PortalUser, password: str, hold: bool = True) -> None:
    """The current password asked again inside the portal before a sensitive change (login email, password, bank
    account and mandate, second factor, profile removal): a session left open or borrowed must not become a
    takeover, nor a guessing machine: wrong answers count against the same per-account budget as wrong logins."""
    pair, _, _ = _login_keys(user.email, ctx.address)
    state = uow.throttles.peek(pair)  # no lock while hashing, as at the login
    if state.is_locked(ctx.now):
        raise TooManyAttempts('current_password', minutes=state.minutes_left(ctx.now))
    checked = user.session_epoch
    if not ctx.hasher.verify(user.password_hash, password):
        _count_failure(uow, ctx, user.email)
        uow.audit(audit_entry(ctx, user, 'current_password_wrong'))
        uow.commit()
        raise WrongCurrentPassword()
    if hold:  # else the caller holds it, after hashing what it must hash (no lock is held while hashing)
        hold_as_checked(uow, user, checked)


def hold_as_checked(uow: UnitOfWork, user: PortalUser, checked: int) -> None:
    """The change goes on with the login's row held (before any budget's or token's row): a reset or another
    password change committed while this one hashed (which ends this session, and revokes what it would have
    started) leaves it with nothing done. `checked`: the session epoch it was checked with (every new password
    raises it; a login's rehash of the same password, with new parameters, does not)."""
    held = uow.users.hold(id_of(user))
    if held is None or held.state != 'active' or held.session_epoch != checked:
        raise SessionEnded()


def session_is_valid(uow: UnitOfWork, user_id: int, epoch: int) -> bool:
    user = uow.users.get(user_id)
    return user is not None and user.state == 'active' and user.session_epoch == epoch


@hashing
def change_password(uow: UnitOfWork, ctx: Context, user_id: int, current: str, password: str, repeat: str) -> int:
    """Returns the new session epoch: every other session of this login ends."""
    user = active_login(uow, user_id)
    checked = user.session_epoch
    check_current_password(uow, ctx, user, current, hold=False)
    check_password(ctx.profile.password, password, repeat, field='new_password', known=known_of(uow, user))
    if password == current:
        raise PasswordUnchanged()
    hashed = ctx.hasher.hash(password)  # before the login's row is held: no lock while hashing
    hold_as_checked(uow, user, checked)
    set_password(uow, ctx, user, password, hashed)
    uow.audit(audit_entry(ctx, user, 'password_changed'))
    uow.commit()
    return user.session_epoch


@hashing
def set_initial_password(uow: UnitOfWork, ctx: Context, user_id: int, password: str, repeat: str) -> int:
    """After logging in with a temporary password: the customer's own password, no current one asked."""
    user = active_login(uow, user_id)
    if not user.must_change_password:
        raise NotAllowed()
    check_password(ctx.profile.password, password, repeat, known=known_of(uow, user))
    set_password(uow, ctx, user, password)
    uow.audit(audit_entry(ctx, user, 'password_set_after_temporary'))
    uow.commit()
    return user.session_epoch


@hashing
def request_email_change(uow: UnitOfWork, ctx: Context, user_id: int, new_email: str, current_password: str) -> str:
    """A confirmation link to the new address, and to the old one a notice with a link that stops the change.
    Free and taken addresses get the same answer (the mail to a taken one explains), so the form tells nobody
    which addresses have a login; mails are limited per address and per login (domain.mail_budget)."""
    user = active_login(uow, user_id)
    email = checked_email(new_email, 'new_email')
    if email == user.email:
        raise EmailUnchanged()
    check_current_password(uow, ctx, user, current_password)
    mail_budget.spend(uow, ctx, email, user_id, field='new_email')
    holder = uow.users.by_email(email)
    if holder is not None and holder.state == 'active':  # an unconfirmed registration there gives way on confirming
        uow.queue_mail(compose(ctx, email, 'email_change_taken'), ctx.now)
        uow.audit(audit_entry(ctx, user, 'email_change_to_taken_address', f'new={email}'))
        uow.commit()
        return email
    uow.tokens.revoke(user_id, ('email_change', 'email_change_stop'), ctx.now)
    confirm, stop = tokens.new_link_token(), tokens.new_link_token()
    for purpose, plain in (('email_change', confirm), ('email_change_stop', stop)):
        uow.tokens.add(tokens.stored(ctx.secret, user_id, purpose, plain, ctx.now, EMAIL_CHANGE_VALID, email))
    uow.queue_mail(compose(ctx, email, 'email_change', link=f'{ctx.base_url}/email-bestaetigen/{confirm}'), ctx.now)
    stop_link = f'{ctx.base_url}/email-aenderung-stoppen/{stop}'
    uow.queue_mail(compose(ctx, user.email, 'email_change_requested_old', new=email, link=stop_link), ctx.now)
    uow.audit(audit_entry(ctx, user, 'email_change_requested', f'new={email}'))
    uow.commit()
    return email


def stop_email_change(uow: UnitOfWork, ctx: Context, plain: str) -> str:
    """From the notice to the old address: the pending change is dropped and every session of the login ends (a
    change nobody of theirs asked for means someone else had the session). Returns the login email."""
    token = uow.tokens.find('email_change_stop', tokens.digest(ctx.secret, plain))
    if token is None or not tokens.is_usable(token.expires_at, token.used_at, ctx.now):
        raise TokenInvalid()
    user = active_login(uow, token.user_id)
    if not uow.tokens.claim(token, ctx.now):  # the change was confirmed (or stopped) at the same moment
        raise TokenInvalid()
    uow.tokens.revoke(token.user_id, ('email_change', 'email_change_stop'), ctx.now)
    user.session_epoch += 1
    uow.audit(audit_entry(ctx, user, 'email_change_stopped', f'new={token.payload}'))
    uow.commit()
    return user.email


def confirm_email_change(uow: UnitOfWork, ctx: Context, plain: str) -> str:
    token = uow.tokens.find('email_change', tokens.digest(ctx.secret, plain))
    if token is None or not tokens.is_usable(token.expires_at, token.used_at, ctx.now):
        raise TokenInvalid()
    user = active_login(uow, token.user_id)
    if not uow.tokens.claim(token, ctx.now):  # first: a second click at the same moment finds the link used
        raise TokenInvalid()
    new = normalise_email(token.payload)  # a link sent before 0027 kept the address as typed, not in NFC
    holder = uow.users.by_email(new)
    if holder is not None:  # held and read again: a registration there confirmed at this moment is not deleted
        holder = uow.users.hold(id_of(holder))
    replaced = ''
    if holder is not None and holder.state == 'active':  # taken meanwhile by another login; the rollback frees the link
        raise EmailAlreadyRegistered()
    if holder is not None:  # a registration never confirmed, as one done again over it: the address's owner decides
        replaced = f' replaces=user:{holder.id}'
        forget_login(uow, holder)
    old, user.email = user.email, new
    user.session_epoch += 1  # every session of the login ends: it is logged into with the new address from now
    uow.tokens.revoke(user.id or 0, ('email_change_stop', 'reset', 'temporary_password'), ctx.now)
    uow.queue_mail(compose(ctx, old, 'email_changed_old', new=user.email), ctx.now)
    uow.queue_mail(compose(ctx, user.email, 'email_changed_new', new=user.email), ctx.now)
    uow.audit(audit_entry(ctx, user, 'email_changed', f'old={old} new={user.email}{replaced}'))
    uow.commit()
    return user.email


@hashing
def delete_profile(uow: UnitOfWork, ctx: Context, user_id: int, current_password: str) -> None:
    """Removes the login and its links; the customer's master data and bills stay with the utility."""
    if not ctx.profile.profile_deletion.self_service:
        raise NotAllowed()
    user = active_login(uow, user_id)
    check_current_password(uow, ctx, user, current_password)
    customer_ids = uow.users.customer_ids(user_id)
    uow.queue_mail(compose(ctx, user.email, 'profile_deleted'), ctx.now)
    paper_again(uow, ctx, list(customer_ids), f'user:{user_id}')
    for linked in customer_ids:  # none still queued for the address that is deleted now
        reminders.withdraw_queued(uow, ctx, linked)
    concerned: list[int | None] = list(customer_ids) or [None]  # one entry per customer, one for a login without any
    for customer_id in concerned:
        uow.audit(
            AuditEntry(
                at=ctx.now,
                actor=f'user:{user_id}',
                action='profile_deleted',
                customer_id=customer_id,
                address=ctx.address,
            )
        )
    forget_login(uow, user)  # its counts and mail copies too (the confirmation queued above still goes out)
    uow.commit()


def add_customer(uow: UnitOfWork, ctx: Context, user_id: int, ids: Identifiers) -> int:
    # the login's row held first: a removal of the profile under way (it holds the row too) is waited for, and then
    # leaves no login to link to; else it deleted a link made after it had read the login's customers
    user = uow.users.hold(user_id)
    if user is None or user.state != 'active':
        raise NotAllowed()
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


def remove_customer(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> int:
    """Takes a customer number off the login (one added by mistake, a flat given up): its contracts, bills and data
    stay with the utility, and whoever has its numbers may add it to a login again. An Onlinekunde gets paper again
    (nobody would see the bills), and reminders still queued for the login's address are not sent. The last one
    stays: a login without any shows nothing (`delete_profile` removes the login). Returns the customer the login
    shows now."""
    user = uow.users.hold(user_id)  # as `add_customer`: a removal or an addition at the same moment waits
    if user is None or user.state != 'active':
        raise NotAllowed()
    linked = uow.users.customer_ids(user_id)
    customer = uow.customers.get(customer_id) if customer_id in linked else None
    if customer is None:
        raise NotAllowed()
    if len(linked) == 1:
        raise LastCustomerCannotBeRemoved()
    uow.users.unlink(user_id, customer_id)
    paper_again(uow, ctx, [customer_id], f'user:{user_id}', 'removed from the login')
    reminders.withdraw_queued(uow, ctx, customer_id)
    uow.queue_mail(compose(ctx, user.email, 'customer_removed', customer_number=customer.customer_number), ctx.now)
    uow.audit(
        AuditEntry(
            at=ctx.now, actor=f'user:{user_id}', action='customer_removed', customer_id=customer_id, address=ctx.address
        )
    )
    uow.commit()
    return next(other for other in linked if other != customer_id)


def known_of(uow: UnitOfWork, user: PortalUser) -> tuple[str, ...]:
    """What others know of a login, which its password must not hold: its address and its customers' numbers."""
    customers = [uow.customers.get(customer_id) for customer_id in uow.users.customer_ids(user.id or 0)]
    return (user.email, *(c.customer_number for c in customers if c is not None))


def set_password(uow: UnitOfWork, ctx: Context, user: PortalUser, password: str, hashed: str = '') -> None:
    """A new password (`hashed` if already hashed, outside any lock): other sessions end, reset links and temporary
    passwords die, and so does a pending change of the login email (asked for by whoever knew the old password: its
    link would otherwise still move the login, and the next reset with it). A mail tells the owner. Used by a
    change, a first password and a reset (domain.password_reset)."""
    user.password_hash = hashed or ctx.hasher.hash(password)
    user.must_change_password = False
    user.session_epoch += 1
    uow.tokens.revoke(user.id or 0, ('reset', 'temporary_password', 'email_change', 'email_change_stop'), ctx.now)
    uow.queue_mail(compose(ctx, user.email, 'password_changed'), ctx.now)


def grant(uow: UnitOfWork, user: PortalUser) -> SessionGrant:
    """The session a login (or its second factor, `domain.second_factor`) hands to the page."""
    assert user.id is not None
    return SessionGrant(user.id, user.session_epoch, user.must_change_password, tuple(uow.users.customer_ids(user.id)))


def audit_entry(ctx: Context, user: PortalUser, action: str, details: str = '') -> AuditEntry:
    """An audit entry of something the customer did to their own login."""
    return AuditEntry(at=ctx.now, actor=f'user:{user.id}', action=action, details=details, address=ctx.address)


def set_language(uow: UnitOfWork, ctx: Context, user_id: int, language: str) -> None:
    """The header's language switch while logged in: what the portal writes with nobody in front of it (bills' mails,
    reminders) follows from now on, not only from the next login."""
    user = uow.users.get(user_id)
    assert user is not None  # the runner checked the login
    if language not in LANGUAGES or user.language == language:
        return
    before, user.language = user.language, language
    uow.data.save(user)
    uow.audit(audit_entry(ctx, user, 'language_changed', f'{before} → {language}'))
    uow.commit()


def login_only(_uow: UnitOfWork, _user_id: int) -> None:
    """The query of a login check that needs nothing else (`pages.session.current`): the runner checks the login."""
    return None


MAILS_KEPT = timedelta(days=90)  # a mail's copy, for questions (the newest to an address stays, without its text)


def forget_old_throttles(uow: UnitOfWork, ctx: Context) -> int:
    """Hourly: counts of wrong passwords, guesses and mails nobody added to for a day are forgotten, and the copies
    of mails written 90 days ago and sent or given up (their texts hold addresses, phone numbers, parts of IBANs)."""
    forgotten = uow.throttles.prune(later(ctx.now, -timedelta(days=1)))
    forgotten += uow.desk.forget_mails(before=later(ctx.now, -MAILS_KEPT))
    uow.commit()
    return forgotten
