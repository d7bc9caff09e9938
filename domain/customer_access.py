"""What every use case on a customer's own data starts and ends with: the customer, only for a login linked to
it; the login; a required text field; the audit entry of a change (what the billing system's "changes" export
reads)."""

from domain import throttle
from domain.errors import FieldRequired, NotAllowed, TooLong
from domain.model import AuditEntry, Customer, PortalUser
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork


def required_text(value: str, field: str, label: str, limit: int) -> str:
    value = (value or '').strip()
    if not value:
        raise FieldRequired(field, label=label)
    if len(value) > limit:
        raise TooLong(field, max=limit)
    return value


def owned_customer(uow: UnitOfWork, user_id: int, customer_id: int) -> Customer:
    ensure_owner(uow, user_id, customer_id)
    customer = uow.customers.get(customer_id)
    if customer is None:
        raise NotAllowed()
    return customer


def active_login(uow: UnitOfWork, user_id: int) -> PortalUser:
    user = uow.users.get(user_id)
    if user is None or user.state != 'active':
        raise NotAllowed()
    return user


def login_email(uow: UnitOfWork, user_id: int) -> str:
    user = uow.users.get(user_id)
    if user is None:
        raise NotAllowed()
    return user.email


def audit_change(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, action: str, details: str) -> None:
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'user:{user_id}',
            action=action,
            customer_id=customer_id,
            details=details[:2000],
            address=ctx.address,
        )
    )


def paper_again(uow: UnitOfWork, ctx: Context, customer_ids: list[int], actor: str, why: str = 'login removed') -> None:
    """An Onlinekunde's bills reach only the portal's Posteingang (and a mail to the login): once the login is gone
    they would reach nobody. The customers get paper again, and the billing system hears it from the change feed
    (`paperless_off`)."""
    for customer_id in customer_ids:
        customer = uow.customers.get(customer_id)
        if customer is not None and customer.paperless:
            customer.paperless = False
            uow.data.save(customer)
            uow.audit(
                AuditEntry(
                    at=ctx.now,
                    actor=actor,
                    action='paperless_off',
                    customer_id=customer_id,
                    details=why,
                    address=ctx.address,
                )
            )


def forget_login(uow: UnitOfWork, user: PortalUser) -> None:
    """What a login leaves behind when it is deleted (the customer, the service desk, an unconfirmed registration):
    the counts kept by its id (SQLite gives the id to the next login made, whose contact form was used up) and, for
    a confirmed login, the copies of the mails sent to its address (the newest stays, without its text, for the
    customer card's notice of an address that bounces) and the address in the reading reminders' record (staff saw
    it in the list of reminders). Then the login itself; no commit."""
    for key in throttle.OF_LOGIN:
        uow.throttles.save(key.format(user.id), throttle.ThrottleState())
    if user.state == 'active':  # a confirmed address is the login's own; an unconfirmed one may be anybody's
        uow.desk.forget_mails(recipient=user.email)
        uow.reminders.forget_email(user.email)
    # its own log (logins, wrong passwords, addresses typed): when and what stays, not from where nor which address;
    # the entries about its customers keep theirs (the change feed, proof of a mandate)
    uow.data.forget_login_entries(f'user:{user.id}')
    uow.users.delete(user)
