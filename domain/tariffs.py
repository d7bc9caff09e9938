"""Tarif wechseln (docs/domain.md §8): the utility's tariffs for a contract's commodity, each with its prices and
the yearly cost at the customer's last yearly consumption, cheapest first; a change starts on the first of a month
at least 14 days ahead and goes to staff and the billing system as a request.

Tariffs are those of the profile's `[tariffs]` (name, description) that have a price today (from the price
import); a commodity with one tariff (water) has nothing to change to, and the page says so. A price change already
imported for a day up to the last start offered is shown beside today's price, and a change states the prices in
force on its start.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain import i18n
from domain.contract_requests import Receipt, RequestRow, known_end, pending, receive
from domain.contracts import PriceView, last_yearly_consumption, price_view, unit_price
from domain.errors import FieldRequired, NotAllowed, TariffChangePending
from domain.i18n import day, label_of, money, number
from domain.identifiers import working_price_name
from domain.model import Contract, id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork

NOTICE = timedelta(days=14)
STARTS = 6  # the first days of the month offered as "Wechsel zum"


@dataclass(frozen=True)
class Offer:
    code: str
    name: str
    description: str
    price: PriceView
    yearly_cost: Decimal | None  # gross, at the last yearly consumption; None without one
    current: bool
    later: tuple[PriceView, ...] = ()  # price changes already known up to the last start offered


@dataclass(frozen=True)
class ContractTariffs:
    contract_number: str
    commodity: str
    consumption: Decimal | None
    unit: str
    offers: tuple[Offer, ...]  # cheapest first
    starts: tuple[date, ...]  # the first days of a month a change may start on (none when the contract ends first)
    pending: tuple[RequestRow, ...]
    ends: date | None = None  # the contract's end as known: its end date, or an open cancellation's date


def earliest_start(today: date) -> date:
    """The first of a month at least 14 days ahead."""
    ahead = today + NOTICE
    if ahead.day == 1:
        return ahead
    return date(ahead.year + ahead.month // 12, ahead.month % 12 + 1, 1)


def starts(today: date) -> tuple[date, ...]:
    first = earliest_start(today)
    return tuple(
        date(first.year + (first.month - 1 + n) // 12, (first.month - 1 + n) % 12 + 1, 1) for n in range(STARTS)
    )


def starts_before(today: date, ends: date | None) -> tuple[date, ...]:
    """The starts a change may have: not on or after the day the contract ends."""
    return tuple(first for first in starts(today) if ends is None or first < ends)


def tariffs(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> list[ContractTariffs]:
    ensure_owner(uow, user_id, customer_id)
    open_changes = [r for r in pending(uow, customer_id) if r.kind == 'tariff_change']
    result = []
    for contract in uow.customers.contracts(customer_id):
        if contract.end_date is not None and contract.end_date < ctx.today:
            continue
        consumption = last_yearly_consumption(uow, contract)
        ends = known_end(uow, contract)
        result.append(
            ContractTariffs(
                contract.contract_number,
                contract.commodity,
                consumption,
                'm³' if contract.commodity == 'water' else 'kWh',
                tuple(_offers(uow, ctx, contract, consumption)),
                starts_before(ctx.today, ends),
                tuple(r for r in open_changes if r.contract_id == contract.id),
                ends,
            )
        )
    return result


def _offers(
    uow: UnitOfWork, ctx: Context, contract: Contract, consumption: Decimal | None, on: date | None = None
) -> list[Offer]:
    """The tariffs with today's prices and the changes known up to the last start offered; with `on`, at the
    prices in force on that day (a change's start: what the declaration states)."""
    named = [(code, info.name, info.describe(i18n.current())) for code, info in ctx.profile.tariffs.items()]
    own = contract.tariff_code
    if own not in ctx.profile.tariffs:  # the contract's tariff is shown even if the profile does not name it
        named.append((own, own, ''))
    horizon = starts(ctx.today)[-1]
    offers = []
    for code, name, description in named:
        info = ctx.profile.tariffs.get(code)
        if info is not None and info.commodity != contract.commodity:
            continue
        prices = uow.billing.prices(code)
        current = [p for p in prices if p.valid_from <= (on or ctx.today)]
        if not current or not any(p.valid_from <= ctx.today for p in prices):
            continue  # no price imported yet: not offered
        price = price_view(current[-1])
        later = () if on else tuple(price_view(p) for p in prices if ctx.today < p.valid_from <= horizon)
        offers.append(Offer(code, name, description, price, _yearly(price, consumption), code == own, later))
    return sorted(offers, key=lambda o: (o.yearly_cost is None, o.yearly_cost or 0, o.price.working_price_gross))


def _yearly(price: PriceView, consumption: Decimal | None) -> Decimal | None:
    if consumption is None:
        return None
    yearly = consumption * price.working_price_gross + price.base_price_gross_per_year
    return yearly.quantize(Decimal('0.01'), ROUND_HALF_UP)


def change_tariff(
    uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, contract_number: str, code: str, start: str
) -> Receipt:
    ensure_owner(uow, user_id, customer_id)
    contract = next((c for c in uow.customers.contracts(customer_id) if c.contract_number == contract_number), None)
    if contract is None:
        raise NotAllowed()
    consumption = last_yearly_consumption(uow, contract)
    if not any(o.code == code and not o.current for o in _offers(uow, ctx, contract, consumption)):
        raise NotAllowed()  # the page offers only the others
    uow.customers.hold_contract(id_of(contract))  # two tabs at once: the second sees the first's change
    for request in pending(uow, customer_id):
        if request.kind == 'tariff_change' and request.contract_id == contract.id:
            raise TariffChangePending(reference=request.reference)  # two open changes would contradict each other
    if not start:
        raise FieldRequired('start', label=label_of('change_on'))
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise FieldRequired('start', label=label_of('change_on')) from None
    if first not in starts_before(ctx.today, known_end(uow, contract)):
        raise NotAllowed()  # the page offers only these: none after the contract's end
    offer = next(o for o in _offers(uow, ctx, contract, consumption, first) if o.code == code)  # its prices then
    customer = uow.customers.get(customer_id)
    user = uow.users.get(user_id)
    assert customer is not None and user is not None
    old = ctx.profile.tariffs.get(contract.tariff_code)
    rows = [
        ('Kundennummer', customer.customer_number),
        ('Vertragsnummer', contract.contract_number),
        ('Bisheriger Tarif', old.name if old else contract.tariff_code),
        ('Neuer Tarif', offer.name),
        (working_price_name(contract.commodity), f'{unit_price(offer.price)} inkl. MwSt.'),  # as the page says
        ('Grundpreis', f'{money(offer.price.base_price_gross_per_year)} im Jahr inkl. MwSt.'),
        ('Wechsel zum', day(first)),
    ]
    if offer.yearly_cost is not None and consumption is not None:
        unit = 'm³' if contract.commodity == 'water' else 'kWh'
        rows.append(('Jahreskosten bei Ihrem Verbrauch', f'{money(offer.yearly_cost)} ({number(consumption)} {unit})'))
    fields = {
        'customer_number': customer.customer_number,
        'contract_number': contract.contract_number,
        'tariff_from': contract.tariff_code,
        'tariff_to': offer.code,
        'start': first.isoformat(),
    }
    receipt = receive(uow, ctx, 'tariff_change', f'user:{user_id}', customer, contract, user.email, rows, fields, first)
    uow.commit()
    return receipt
