"""Finding the customer behind the two numbers from a bill or a meter, with throttled guessing.

The answer to a wrong pair never tells whether the customer number exists: a wrong customer number and
a wrong meter number get the same message, and every miss counts against the client address and against the
customer number tried (existing or not): guesses at one customer's meter number spread over many addresses are
held back too.
"""

from dataclasses import dataclass
from datetime import timedelta

from domain import i18n, throttle
from domain.errors import (
    CustomerAlreadyRegistered,
    IdentifiersDoNotMatch,
    InvalidFormat,
    NoAnnualBillYet,
    Required,
    TooManyAttempts,
)
from domain.identifiers import normalise
from domain.model import Customer
from domain.ports import Context, UnitOfWork

METER_GONE = timedelta(days=400)  # a meter removed this long ago (a year and its bill) no longer identifies


@dataclass(frozen=True)
class Identifiers:
    customer_number: str
    meter_number: str = ''
    bill_number: str = ''


def check_format(ctx: Context, ids: Identifiers) -> Identifiers:
    """Normalise both numbers and check what can be checked without looking anything up."""
    rule = ctx.profile.account_id
    number = normalise(ids.customer_number)
    language = i18n.current()  # the errors' words in the visitor's language
    if not number:
        raise Required('customer_number', label=rule.label_in(language))
    if not rule.matches(number):
        raise InvalidFormat('customer_number', label=rule.label_in(language), hint=rule.hint_in(language))
    meter, bill = normalise(ids.meter_number), normalise(ids.bill_number)
    if not (meter and ctx.profile.accepts_meter_number) and not (bill and ctx.profile.accepts_bill_number):
        raise Required('second', label=second_label(ctx))
    return Identifiers(
        number, meter if ctx.profile.accepts_meter_number else '', bill if ctx.profile.accepts_bill_number else ''
    )


def identify(uow: UnitOfWork, ctx: Context, ids: Identifiers) -> Customer:
    """The customer both numbers belong to, or `IdentifiersDoNotMatch` (counted against the address)."""
    held = [uow.throttles.state(key) for key in _keys(ctx, ids.customer_number)]
    locked = [state for state in held if state.is_locked(ctx.now)]
    if locked:
        raise TooManyAttempts('second', minutes=max(state.minutes_left(ctx.now) for state in locked))
    customer = uow.customers.by_number(ids.customer_number)
    if customer is None or not second_matches(uow, ctx, customer, ids):
        count_miss(uow, ctx, ids.customer_number)
        raise IdentifiersDoNotMatch(
            label=ctx.profile.account_id.label_in(i18n.current()),
            hint=ctx.profile.account_id.hint_in(i18n.current()),
            second=second_label(ctx),
        )
    assert customer.id is not None
    if ctx.profile.registration.requires_annual_bill and not uow.customers.has_annual_bill(customer.id):
        raise NoAnnualBillYet()
    return customer


def count_miss(uow: UnitOfWork, ctx: Context, customer_number: str) -> None:
    """A registration's miss counted against the client's address and the customer number (committed: the use case
    fails after it)."""
    policies = (throttle.REGISTRATION_PER_ADDRESS, throttle.REGISTRATION_PER_NUMBER)
    for key, policy in zip(_keys(ctx, customer_number), policies, strict=True):
        state = uow.throttles.state(key)
        state.record_failure(policy, ctx.now)
        uow.throttles.save(key, state)
    uow.commit()


def _keys(ctx: Context, customer_number: str) -> tuple[str, str]:
    return f'identify:{ctx.address}', number_key(customer_number)


def number_key(customer_number: str) -> str:
    """The count of wrong pairs tried with a customer number (from all addresses), by the number normalised."""
    return f'identify:number:{normalise(customer_number)}'


def ensure_unclaimed(uow: UnitOfWork, customer: Customer) -> None:
    assert customer.id is not None
    if uow.users.owner_of(customer.id) is not None:
        raise CustomerAlreadyRegistered()


def second_label(ctx: Context) -> str:
    """The second identifier's name in the language of the use case ("Zählernummer oder Rechnungsnummer")."""
    names = {'meter': i18n.t('field.meter_number'), 'bill': i18n.t('field.bill_number')}
    return i18n.t('common.or').join(names[kind] for kind in ctx.profile.registration.second_identifiers)


def second_matches(uow: UnitOfWork, ctx: Context, customer: Customer, ids: Identifiers) -> bool:
    assert customer.id is not None
    # a meter removed more than a year ago no longer identifies (as only the last bill's number does): its number
    # is on papers that may have passed to others; one exchanged since the last annual bill still does
    if ids.meter_number and ids.meter_number in uow.customers.meter_numbers(customer.id, ctx.today - METER_GONE):
        return True
    return bool(ids.bill_number) and ids.bill_number in uow.customers.last_bill_numbers(customer.id)
