"""Nobody locked out (docs/domain.md, issue 23): a customer who can no longer read the mails of their login address
asks for a new one on a public page (`/zugang-verloren`); staff check the request (a call back) and set the new login
address from the service desk, which sends a link to set a password there.

The page is no oracle: whatever is entered, the answer is the same, a confirmation goes to the new address given,
and only a request whose numbers belong to a customer with a login reaches staff. It is throttled per client address
like the registration, and mails to the new address keep to the mail budget.
"""

import re

from domain import mail_budget, throttle
from domain.contract_requests import text_field
from domain.errors import EmailOfAnotherLogin, InvalidFormat, NotAllowed, TooLong
from domain.i18n import current, label_of
from domain.identification import Identifiers, check_format, second_matches
from domain.mails import compose
from domain.model import AuditEntry, ReviewItem
from domain.password_reset import send_reset_mail
from domain.ports import Context, UnitOfWork
from domain.registration import checked_email
from domain.staff import active_staff

KIND = 'lost_access'
PHONE = re.compile(r'[0-9+/()\-. ]*')  # a phone number as people write it, or none


def request_new_login_email(
    uow: UnitOfWork, ctx: Context, name: str, ids: Identifiers, new_email: str, phone: str
) -> str:
    """Returns the new address (for the page's answer, the same for every request)."""
    name = text_field(name, 'name', label_of('name'), 100)
    phone = phone.strip()
    if len(phone) > 40:
        raise TooLong('phone', max=40)
    if not PHONE.fullmatch(phone):  # kept in the request's details: nothing there may read as another fact
        raise InvalidFormat('phone', label=label_of('phone'), hint=label_of('phone_hint'))
    ids = check_format(ctx, ids)
    email = checked_email(new_email, 'new_email')
    # every request counts, matching or not
    throttle.count_request(uow, f'lost_access:{ctx.address}', throttle.REGISTRATION_PER_ADDRESS, ctx.now, 'new_email')
    mail_budget.spend(uow, ctx, email, field='new_email')
    customer = uow.customers.by_number(ids.customer_number)
    if customer is not None and customer.id is not None and second_matches(uow, ctx, customer, ids):
        login = uow.users.owner_of(customer.id)
        if login is not None:
            uow.billing.add_review(
                ReviewItem(
                    customer_id=customer.id,
                    kind=KIND,
                    created_at=ctx.now,
                    language=current(),  # staff decide later, from pages in their own language
                    details=f'new_email={email} phone={"".join(phone.split()) or "-"}',
                    reason=f'Name: {name}',
                )
            )
            uow.audit(
                AuditEntry(
                    at=ctx.now,
                    actor='visitor',
                    action='lost_access_requested',
                    customer_id=customer.id,
                    details=f'new_email={email}',
                    address=ctx.address,
                )
            )
    uow.queue_mail(compose(ctx, email, 'lost_access_received'), ctx.now)
    uow.commit()
    return email


def set_login_email(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int, new_email: str) -> str:
    """From the service desk, once staff have checked who asks (on the phone, at the counter)."""
    active_staff(uow, staff_id)
    email = checked_email(new_email, 'new_email')
    move_login(uow, ctx, staff_id, customer_id, email)
    mail_budget.spend(uow, ctx, email, field='new_email')  # after the login's row, as a change of the login's own
    uow.commit()
    return email


def move_login(
    uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int, email: str, language: str | None = None
) -> str:
    """The login of the customer gets the new address: every session ends, the new address gets a link to set a
    password (the password stays valid until then), the old address is told (in `language`: the request's; else
    the login's own, as on the phone at the service desk), open
    requests of this kind are done. The caller checks the staff member, commits, and has checked the address'
    format."""
    email = checked_email(email, 'new_email')  # as the request checked it (the details are text)
    user_id = uow.users.owner_of(customer_id)
    # the login's row first, then any budget's or token's: the order every change of a login takes them in
    user = uow.users.hold(user_id) if user_id is not None else None
    if user is None or user.state != 'active':
        raise NotAllowed()
    other = uow.users.by_email(email)
    if other is not None and other.id != user.id:
        raise EmailOfAnotherLogin()
    old, user.email = user.email, email
    user.session_epoch += 1
    # a change of address asked for before (perhaps by whoever had the session) is not confirmed afterwards, nor
    # stopped from the lost mailbox
    uow.tokens.revoke(user.id or 0, ('email_change', 'email_change_stop'), ctx.now)
    language = language or user.language
    send_reset_mail(uow, ctx, user, language)
    if old != email:
        uow.queue_mail(compose(ctx, old, 'login_email_set_by_staff', language, new=email), ctx.now)
    for item in uow.billing.open_reviews(customer_id):
        if item.kind == KIND:
            item.status, item.decided_by, item.decided_at = 'accepted', staff_id, ctx.now
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'staff:{staff_id}',
            action='staff_set_login_email',
            customer_id=customer_id,
            details=f'old={old} new={email}',
            address=ctx.address,
        )
    )
    return email


def decline(uow: UnitOfWork, ctx: Context, item: ReviewItem, note: str) -> None:
    """Staff could not confirm who asked: the address the request named hears so (no commit)."""
    facts = dict(part.split('=', 1) for part in item.details.split() if '=' in part)
    if facts.get('new_email'):
        uow.queue_mail(compose(ctx, facts['new_email'], 'lost_access_declined', item.language, note=note), ctx.now)
