"""Verträge hier kündigen (§312k BGB, docs/domain.md §8): anyone, logged in or not, cancels a contract on one page.

The declaration is received whatever numbers it names: it is confirmed at once (mail with the content, the time of
receipt and when it takes effect) and staff check it. The answer does not tell whether a customer number exists or
belongs to someone else; only a logged-in customer sees "zum nächstmöglichen Zeitpunkt" as a date, computed from
the contract's notice period and term.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from domain import mail_budget, throttle
from domain.contract_requests import Receipt, own_customer, parse_day, possible_end, receive, text_field
from domain.errors import FieldRequired, InvalidFormat, NoticeTooShort, NoticeTooShortForAll
from domain.i18n import current, day, label_of
from domain.identifiers import normalise
from domain.model import Contract, Customer
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.registration import checked_email

LATEST = timedelta(days=3 * 366)  # a cancellation to a date more than three years ahead is a typing error


@dataclass(frozen=True)
class CancellationForm:
    extraordinary: bool  # außerordentlich (then `reason`) or ordentlich
    reason: str
    name: str
    customer_number: str
    contract_number: str  # optional
    next_possible: bool  # "Zum nächstmöglichen Zeitpunkt", else `on_date`
    on_date: str
    email: str


@dataclass(frozen=True)
class ContractChoice:
    contract_number: str
    commodity: str
    earliest_end: date


@dataclass(frozen=True)
class Prefill:
    name: str
    customer_number: str
    email: str
    contracts: tuple[ContractChoice, ...]


def prefill(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> Prefill:
    """For the logged-in form: name, number and login address, and each running contract with the date
    "zum nächstmöglichen Zeitpunkt" means for it."""
    ensure_owner(uow, user_id, customer_id)
    customer = uow.customers.get(customer_id)
    user = uow.users.get(user_id)
    assert customer is not None and user is not None
    running = [c for c in uow.customers.contracts(customer_id) if c.end_date is None or c.end_date >= ctx.today]
    return Prefill(
        ' '.join(p for p in (customer.first_name, customer.last_name) if p) or customer.company,
        customer.customer_number,
        user.email,
        tuple(ContractChoice(c.contract_number, c.commodity, possible_end(c, ctx.today)) for c in running),
    )


def cancel(uow: UnitOfWork, ctx: Context, form: CancellationForm, user_id: int | None = None) -> Receipt:
    rule = ctx.profile.account_id
    reason = text_field(form.reason, 'reason', label_of('reason'), 2000, required=form.extraordinary)
    name = text_field(form.name, 'name', label_of('name'), 100)
    number = normalise(form.customer_number)
    if not number:
        raise FieldRequired('customer_number', label=rule.label_in(current()))
    if not rule.matches(number):
        raise InvalidFormat('customer_number', label=rule.label_in(current()), hint=rule.hint_in(current()))
    contract_number = normalise(form.contract_number)
    if len(contract_number) > 20:
        raise InvalidFormat('contract_number', label=label_of('contract_number'), hint=label_of('at_most_20'))
    on_date = None
    if not form.next_possible:
        on_date = parse_day(form.on_date, 'on_date', label_of('on_date'), ctx.today, ctx.today + LATEST)
    email = checked_email(form.email)
    if user_id is None:  # a visitor: a few declarations an hour from one address (a logged-in customer: no limit)
        throttle.count_request(uow, f'cancellation:{ctx.address}', throttle.REGISTRATION_PER_ADDRESS, ctx.now, 'email')
    mailed = _confirmation_mailed(uow, ctx, email, user_id)

    customer = own_customer(uow, user_id, uow.customers.by_number(number))
    contract = _contract(uow, ctx, customer, contract_number)
    earliest = possible_end(contract, ctx.today) if contract is not None else None
    if on_date is not None and not form.extraordinary and user_id is not None and earliest and on_date < earliest:
        raise NoticeTooShort('on_date', earliest=day(earliest))
    every = _running(uow, ctx, customer) if contract is None and not contract_number else []
    latest = max((possible_end(c, ctx.today) for c in every), default=None)
    if on_date is not None and not form.extraordinary and user_id is not None and latest and on_date < latest:
        raise NoticeTooShortForAll('on_date', earliest=day(latest))  # "Alle Verträge": each within its notice
    if on_date is not None:
        effective, when = on_date, day(on_date)
    elif user_id is not None and earliest is not None and earliest < ctx.today:  # ended already: no past day
        effective, when = earliest, f'zum nächstmöglichen Zeitpunkt (der Vertrag endete bereits am {day(earliest)})'
    elif user_id is not None and earliest is not None and not form.extraordinary:  # the date it means for this contract
        effective, when = earliest, f'zum nächstmöglichen Zeitpunkt, das ist der {day(earliest)}'
    else:
        effective, when = None, 'zum nächstmöglichen Zeitpunkt'
    kind = 'Außerordentliche Kündigung' if form.extraordinary else 'Ordentliche Kündigung'
    rows = [('Art der Kündigung', kind)]
    if form.extraordinary:
        rows.append(('Grund', reason))
    rows += [
        ('Name', name),
        (rule.label, number),
        ('Vertragsnummer', contract_number or 'nicht angegeben (alle Verträge unter dieser Kundennummer)'),
        ('Beendigung', when),
        ('E-Mail-Adresse für die Bestätigung', email),
    ]
    fields = {
        'notice': 'extraordinary' if form.extraordinary else 'ordinary',
        'reason': reason,
        'name': name,
        'customer_number': number,
        'contract_number': contract_number,
        'effective': effective.isoformat() if effective else 'next_possible',
        'email': email,
        'declared_by': 'login' if user_id is not None else 'visitor',  # a visitor's only by the customer number
    }
    if not mailed:  # the address had its mails this hour: staff and the billing system see it was not confirmed so
        fields['confirmation'] = 'not_mailed'
    actor = f'user:{user_id}' if user_id is not None else 'visitor'
    receipt = receive(uow, ctx, 'cancellation', actor, customer, contract, email, rows, fields, effective, mailed)
    uow.commit()
    return receipt


def _confirmation_mailed(uow: UnitOfWork, ctx: Context, email: str, user_id: int | None) -> bool:
    """Whether the confirmation goes out by mail. A declaration is received whatever the mail budget says (§312k
    BGB): the budget only keeps an address given by anyone from being flooded, so once it is spent the confirmation
    stays on the page and in its PDF. To a logged-in customer's own login address it always goes (that address is
    theirs and confirmed: four contracts cancelled one by one are four confirmations)."""
    user = uow.users.get(user_id) if user_id is not None else None
    if user is not None and user.email.lower() == email.lower():
        return True
    if not mail_budget.available(uow, ctx, email):
        return False
    mail_budget.spend(uow, ctx, email)
    return True


def _contract(uow: UnitOfWork, ctx: Context, customer: Customer | None, contract_number: str) -> Contract | None:
    """The contract the declaration names, if it is the customer's; without a number, the only running one."""
    if customer is None or customer.id is None:
        return None
    if contract_number:
        contracts = uow.customers.contracts(customer.id)
        return next((c for c in contracts if normalise(c.contract_number) == contract_number), None)
    running = _running(uow, ctx, customer)
    return running[0] if len(running) == 1 else None


def _running(uow: UnitOfWork, ctx: Context, customer: Customer | None) -> list[Contract]:
    if customer is None or customer.id is None:
        return []
    return [c for c in uow.customers.contracts(customer.id) if c.end_date is None or c.end_date >= ctx.today]
