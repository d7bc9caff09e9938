"""The service desk: staff find a customer, see the portal status, and act on the customer's request.

Staff never see passwords, PINs or tokens: they can only have a new link or PIN sent to the registered
address. Every action is audited with the staff member, the customer and what was done.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from domain import identification, mail_budget, reminders, throttle
from domain.customer_access import forget_login, paper_again
from domain.errors import FieldRequired, NotAllowed
from domain.i18n import label_of, t, using
from domain.identifiers import is_digits, printable
from domain.mails import compose
from domain.model import AuditEntry, Customer, InboxMessage, PortalUser
from domain.password_reset import send_reset_mail
from domain.ports import Context, UnitOfWork
from domain.readings import recipient_for
from domain.registration import send_confirmation
from domain.staff import active_staff

SEARCH_LIMIT = 50

VIEWED = 'staff_viewed_customer'  # audited at each look at a customer's card, and not listed on it


@dataclass(frozen=True)
class CustomerHit:
    customer_id: int
    customer_number: str
    name: str
    address: str
    login_email: str
    login_state: str  # none, pending, active


@dataclass(frozen=True)
class LoginStatus:
    user_id: int
    email: str
    state: str
    created_at: datetime
    confirmed_at: datetime | None
    last_login_at: datetime | None
    locked_minutes: int
    linked: tuple[tuple[str, str], ...]  # (customer number, name) of every account under this login
    second_factor: bool


@dataclass(frozen=True)
class ReadingLine:
    reading_date: date
    meter_number: str
    obis: str
    value: str
    source: str
    plausibility: str
    reason: str


@dataclass(frozen=True)
class ChangeLine:
    at: datetime
    actor: str
    action: str
    details: str


@dataclass(frozen=True)
class Undelivered:
    """A mail the receiving server refused, or that could not be sent for hours: the address may be wrong."""

    email: str
    queued_at: datetime
    subject: str
    error: str


@dataclass(frozen=True)
class CustomerCard:
    customer_id: int
    customer_number: str
    name: str
    address: str
    email: str
    phone: str
    paperless: bool
    login: LoginStatus | None
    readings: tuple[ReadingLine, ...]
    changes: tuple[ChangeLine, ...]
    vat_id: str = ''  # a business customer's (its bills are e-invoices, docs/domain.md §9)
    leitweg_id: str = ''  # a public body's: its bills are XRechnungen
    business: bool = False
    undelivered: tuple[Undelivered, ...] = ()  # per address (login, contact) whose newest mail did not arrive
    registration_held: int = 0  # minutes the customer number waits after wrong pairs tried with it (registering)


def find_customers(uow: UnitOfWork, staff_id: int, text: str) -> list[CustomerHit]:
    """By customer number, name, meter number or email (login or contact): at most SEARCH_LIMIT hits, and one more
    when there are more (the page lists SEARCH_LIMIT and says that there are more: "50 Treffer" hid the rest)."""
    active_staff(uow, staff_id)
    text = unicodedata.normalize('NFC', printable(text, 100)).strip()  # 'ü' pasted as 'u' + U+0308: as stored
    if len(text) < 2:
        raise FieldRequired('query', label=label_of('search'))
    hits = []
    for customer in uow.desk.search(text[:100], SEARCH_LIMIT + 1):
        user = _login_of(uow, customer.id or 0)
        hits.append(
            CustomerHit(
                customer.id or 0,
                customer.customer_number,
                customer.display_name,
                customer.address,
                user.email if user else '',
                user.state if user else 'none',
            )
        )
    return hits


def customer_card(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int) -> CustomerCard:
    active_staff(uow, staff_id)
    customer = _customer(uow, customer_id)
    user = _login_of(uow, customer_id)
    login = None
    if user is not None:
        # held back from everywhere, or from an address (the growing delays after wrong passwords from one computer:
        # the customer who calls is often held back there)
        held = [uow.throttles.peek(f'login:account:{user.email}'), *uow.throttles.starting(f'login:pair:{user.email}|')]
        linked = tuple(
            (c.customer_number, c.display_name)
            for c in (uow.customers.get(i) for i in uow.users.customer_ids(user.id or 0))
            if c is not None
        )
        login = LoginStatus(
            user.id or 0,
            user.email,
            user.state,
            user.created_at,
            user.confirmed_at,
            user.last_login_at,
            max(state.minutes_left(ctx.now) for state in held),
            linked,
            user.totp_enabled,
        )
    readings = tuple(
        ReadingLine(r.reading_date, meter, r.obis, str(r.value), r.source, r.plausibility, r.reason)
        for meter, r in uow.desk.recent_readings(customer_id, 12)
    )
    entries = uow.desk.audit_of(customer_id, 30, VIEWED)
    changes = tuple(ChangeLine(e.at, _actor_in_words(uow, e.actor), e.action, e.details) for e in entries)
    registration = uow.throttles.peek(identification.number_key(customer.customer_number))
    addresses = dict.fromkeys(a for a in (user.email if user else '', customer.email) if a)
    undelivered = tuple(
        Undelivered(address, mail.created_at, mail.subject, mail.last_error)
        for address, mail in ((a, uow.desk.undelivered(a)) for a in addresses)
        if mail is not None
    )
    _audit(uow, ctx, staff_id, customer_id, VIEWED, '')  # who looked at whose data, and when
    uow.commit()
    return CustomerCard(
        customer_id,
        customer.customer_number,
        customer.display_name,
        customer.address,
        customer.email,
        customer.phone,
        customer.paperless,
        login,
        readings,
        changes,
        customer.vat_id,
        customer.leitweg_id,
        bool(customer.company),
        undelivered,
        registration.minutes_left(ctx.now),
    )


def _actor_in_words(uow: UnitOfWork, actor: str) -> str:
    """Who made a change, as the card's column "Wer" says it: a colleague by name, the customer, the portal itself or
    the billing system ('staff:3', 'user:17' and 'system' told a clerk nothing)."""
    kind, _, who = actor.partition(':')
    if kind == 'staff' and is_digits(who) and len(who) < 10:
        colleague = uow.staff.get(int(who))
        return colleague.name if colleague is not None else t('staff.actor_staff', number=who)
    if kind == 'api':
        return t('staff.actor_api', name=who)
    words = {'user': 'customer', 'system': 'system', 'visitor': 'visitor', 'import': 'import'}
    return t(f'staff.actor_{words[kind]}') if kind in words else actor


def resend_activation(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int) -> None:
    """A new activation link or PIN to the address the customer registered with (the old one ends)."""
    active_staff(uow, staff_id)
    user = _login_of(uow, customer_id)
    if user is None or user.state != 'pending':
        raise NotAllowed()
    mail_budget.spend(uow, ctx, user.email)
    with using(user.language):  # the customer's, not the clerk's pages'
        send_confirmation(uow, ctx, user, customer_id)
    _audit(uow, ctx, staff_id, customer_id, 'staff_resent_activation', f'login={user.email}')
    uow.commit()


def send_reset(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int) -> None:
    """A password reset (link or temporary password, as the profile says) to the registered address."""
    active_staff(uow, staff_id)
    user = _login_of(uow, customer_id)
    if user is None or user.state != 'active':
        raise NotAllowed()
    mail_budget.spend(uow, ctx, user.email)
    send_reset_mail(uow, ctx, user, user.language)
    _audit(uow, ctx, staff_id, customer_id, 'staff_sent_reset', f'login={user.email}')
    uow.commit()


def unlock_login(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int) -> None:
    active_staff(uow, staff_id)
    user = _login_of(uow, customer_id)
    if user is None:
        raise NotAllowed()
    uow.throttles.save(f'login:account:{user.email}', throttle.ThrottleState())
    uow.throttles.forget_starting(f'login:pair:{user.email}|')  # the holds of each address it was guessed from
    _audit(uow, ctx, staff_id, customer_id, 'staff_unlocked_login', f'login={user.email}')
    uow.commit()


def unlock_registration(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int) -> None:
    """Wrong pairs tried with the customer's number (from anywhere) hold its registration back for an hour: the
    customer who calls is let through after staff have checked who calls."""
    active_staff(uow, staff_id)
    customer = _customer(uow, customer_id)
    uow.throttles.save(identification.number_key(customer.customer_number), throttle.ThrottleState())
    _audit(uow, ctx, staff_id, customer_id, 'staff_unlocked_registration', '')
    uow.commit()


def reset_second_factor(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int) -> None:
    """A customer lost the phone with the authenticator: the login works with the password alone again."""
    active_staff(uow, staff_id)
    user = _login_of(uow, customer_id)
    if user is None or not user.totp_enabled:
        raise NotAllowed()
    user.totp_enabled, user.totp_secret, user.totp_last_step = False, '', 0
    uow.queue_mail(compose(ctx, user.email, 'second_factor_off', user.language), ctx.now)  # not the clerk's
    _audit(uow, ctx, staff_id, customer_id, 'staff_reset_second_factor', f'login={user.email}')
    uow.commit()


def delete_login(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int, reason: str) -> None:
    """On the customer's request ("Bitte um Löschung"), also when they lost access to the email: the login
    goes, with its links; master data, readings and bills stay with the utility."""
    active_staff(uow, staff_id)
    reason = reason.strip()
    if not reason:
        raise FieldRequired('reason', label=label_of('reason'))
    user = _login_of(uow, customer_id)
    if user is None:
        raise NotAllowed()
    customer_ids = uow.users.customer_ids(user.id or 0) or [customer_id]
    uow.queue_mail(compose(ctx, user.email, 'profile_deleted', user.language), ctx.now)
    for linked in customer_ids:
        _audit(uow, ctx, staff_id, linked, 'staff_deleted_login', f'login={user.email} reason={reason[:500]}')
    paper_again(uow, ctx, customer_ids, f'staff:{staff_id}')
    for linked in customer_ids:  # none still queued for the address that is deleted now
        reminders.withdraw_queued(uow, ctx, linked)
    forget_login(uow, user)  # its counts and mail copies, as the customer's own deletion
    uow.commit()


def post_message(
    uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int, subject: str, body: str, document: str = ''
) -> bool:
    """A message (with a PDF document, stored by the caller under the documents folder) in the customer's
    Posteingang, announced by mail to the login (or the contact address). Whether anybody was told: without a
    login or a contact address the letter goes by post."""
    active_staff(uow, staff_id)
    customer = _customer(uow, customer_id)
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise FieldRequired('subject', label=label_of('subject'))
    if not body:
        raise FieldRequired('body', label=label_of('message'))
    uow.data.save(
        InboxMessage(
            customer_id=customer_id,
            created_at=ctx.now,
            kind='document' if document else 'message',
            subject=subject[:200],
            body=body[:10000],
            document_path=document,
        )
    )
    recipient = recipient_for(uow, customer_id, customer.email)
    if recipient:
        uow.queue_mail(
            compose(
                ctx,
                recipient,
                'inbox_message',
                uow.users.owner_language(customer_id),
                subject=subject[:200],
                link=f'{ctx.base_url}/posteingang',
            ),
            ctx.now,
        )
    _audit(
        uow,
        ctx,
        staff_id,
        customer_id,
        'staff_posted_message',
        f'subject={subject[:200]}' + (f' document={document}' if document else ''),
    )
    uow.commit()
    return bool(recipient)


def _login_of(uow: UnitOfWork, customer_id: int) -> PortalUser | None:
    owner = uow.users.owner_of(customer_id)
    if owner is not None:
        return uow.users.get(owner)
    return uow.desk.pending_login(customer_id)


def _customer(uow: UnitOfWork, customer_id: int) -> Customer:
    customer = uow.customers.get(customer_id)
    if customer is None:
        raise NotAllowed()
    return customer


def _audit(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int, action: str, details: str) -> None:
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'staff:{staff_id}',
            action=action,
            customer_id=customer_id,
            details=details[:2000],
            address=ctx.address,
        )
    )
