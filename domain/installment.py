"""The Abschlag (monthly installment): what it should be, and what a change means for the year-end result.

docs/domain.md §4. The use cases the pages call; the arithmetic is in domain.installment_rules, among it
`Calculator`, the object the page's slider is bound to: every position gives the expected result at the end of the
billing year at once, without a database round trip.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.bill_prepare import vat_rate_on
from domain.billing import PricePeriod, compute_bill
from domain.errors import (
    FieldRequired,
    InstallmentAlreadyChanged,
    InstallmentOutOfRange,
    InstallmentUnchanged,
    InvalidFormat,
    NotAllowed,
    ReadingNotDigits,
    ReasonRequired,
    TooLong,
)
from domain.i18n import current, day, label_of, money, t
from domain.identifiers import is_digits
from domain.installment_projection import Basis, projection
from domain.installment_rules import (
    WEIGHTED,
    Calculator,
    billing_year,
    due_dates,
    rounded,
    weight_share,
)
from domain.mails import compose
from domain.model import AuditEntry, Contract, InstallmentPlan, MeterReading, Price, ReviewItem, id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.tenancy import held_readings


@dataclass(frozen=True)
class Pending:
    """A change already made that applies from a future due date."""

    amount: Decimal
    valid_from: date


@dataclass(frozen=True)
class InstallmentView:
    contract_number: str
    commodity: str
    unit: str
    calculator: Calculator
    first_due: date  # the first due date a change made today can reach (docs/domain.md §4: notice days ahead)
    period_start: date  # the billing year the live calculation projects: the one `first_due` falls in
    period_end: date
    projected_consumption: Decimal
    basis: str  # this_year, last_year, none (nothing to project from) or unconverted (gas m³ without factors)
    pending: Pending | None
    next_due: date | None  # the current plan's next due date (today's included), whatever a change could reach
    next_amount: Decimal  # what is due then (a change already made may apply by then)
    next_year: bool  # a change can only start in the next billing year: the calculation projects that one
    announced: Pending | None = None  # a plan stored for after `first_due` (the billing system's): it stays

    @property
    def changeable(self) -> bool:
        """Whether a due date is left that a change can reach (not so in a contract's last weeks)."""
        return self.calculator.remaining > 0

    @property
    def year_label(self) -> str:
        """The projected billing year as customers name it: `2027`, or `07/2026–06/2027` when it does not end in
        December."""
        if (self.period_start.month, self.period_start.day) == (1, 1) and self.period_end.month == 12:
            return str(self.period_end.year)
        return f'{self.period_start:%m/%Y}–{self.period_end:%m/%Y}'


def installment_views(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> list[InstallmentView]:
    ensure_owner(uow, user_id, customer_id)
    today = ctx.today
    views = []
    for contract in uow.customers.contracts(customer_id):
        view = _view(uow, ctx, contract, today)
        if view is not None:
            views.append(view)
    return views


def installment_after_reading(ctx: Context, contract: Contract, basis: Basis | None) -> Calculator | None:
    """The installment a new reading implies for its contract (`basis` loaded before the reading was stored, its
    readings then brought up to date), when it differs from the current one and there are installments left to
    change this billing year."""
    view = calculate(ctx, contract, ctx.today, basis) if basis else None
    if view is None or view.calculator.remaining <= 0 or view.calculator.suggested == view.calculator.current:
        return None
    return view.calculator


def installment_basis(
    uow: UnitOfWork, contract: Contract, today: date, known: dict[int, list[MeterReading]] | None = None
) -> Basis | None:
    """Loaded in one go, so a use case can read it before it writes (`known`: readings it has already loaded)."""
    if contract.end_date is not None and contract.end_date < today:
        return None
    contract_id = id_of(contract)
    plans = uow.billing.plans(contract_id)
    prices = sorted(uow.billing.prices(contract.tariff_code), key=lambda p: p.valid_from)
    if _price_on(prices, today) is None or not any(p.valid_from <= today for p in plans):
        return None
    start, end = billing_year(contract.billing_month, today)
    payments = uow.billing.payment_amounts(contract_id, start, end)  # a payment ahead pays the next due (`calculate`)
    meters = uow.customers.meters([contract_id])
    readings = {
        i: held_readings(uow, contract, (known or {}).get(i) or uow.meters.readings(i)) for i in map(id_of, meters)
    }
    return Basis(plans, prices, payments, meters, readings)


def _view(uow: UnitOfWork, ctx: Context, contract: Contract, today: date) -> InstallmentView | None:
    basis = installment_basis(uow, contract, today)
    return calculate(ctx, contract, today, basis) if basis else None


def calculate(ctx: Context, contract: Contract, today: date, basis: Basis) -> InstallmentView | None:
    """The live calculation for the billing year the first reachable due date falls in (docs/domain.md §4, "The
    calendar's edges"): in December, or in a billing year's last weeks, that is the next one, with its own due
    dates, forecast and prices, and nothing paid in it yet."""
    plan = [p for p in basis.plans if p.valid_from <= today][-1]
    earliest = today + timedelta(days=ctx.profile.installment.notice_days)
    this = _term(contract, *billing_year(contract.billing_month, today))
    following = _term(contract, *billing_year(contract.billing_month, this[1] + timedelta(days=1)))
    consumption, basis_kind = projection(basis, contract, *this, today)
    dues = plan_dues(basis.plans, *this, contract.billing_month)
    runs_on = contract.end_date is None or contract.end_date > this[1]
    later = plan_dues(basis.plans, *following, contract.billing_month) if runs_on else []
    next_due = next((d for d in (*dues, *later) if d >= today), None)
    year, next_year, paid = this, False, sum(basis.payments, Decimal(0))
    if not any(d >= earliest for d in dues) and later:
        year, next_year, paid = following, True, Decimal(0)
        consumption = _scaled(consumption, this, following, contract.commodity)
        dues = later
    first_due = next((d for d in dues if d >= earliest), None)
    # a change already made (the customer's, stored for the first due date it could reach: by this one at the latest)
    pending = next(
        (Pending(p.amount, p.valid_from) for p in basis.plans if today < p.valid_from <= (first_due or date.max)), None
    )
    remaining = [d for d in dues if first_due is not None and d >= first_due]
    before_change = [d for d in dues if today <= d and (first_due is None or d < first_due)]
    # what is paid beyond the dues before today pays the next ones, oldest first (a standing order on the 10th for the
    # 15th, or a debit dated the due day): those are in `paid` already; the others count at their plan's amount (a
    # change made counts). Counted by date alone, one paid early counted twice, one paid on the day none or twice.
    owed = [[p for p in basis.plans if p.valid_from <= d] for d in dues if d < today]  # none before the first plan
    ahead = paid - sum((plans[-1].amount for plans in owed if plans), Decimal(0))
    for d in before_change:  # in part, too: a standing order at the old amount before a raise pays that much of it
        amount = plan_on(basis.plans, d).amount
        covered = min(max(ahead, Decimal(0)), amount)
        ahead -= covered
        paid += amount - covered
    # a plan already stored for after the first due date a change reaches (one the billing system announced) stays
    # in force from its date: a change moves only the due dates before it, and those after count at its amount (the
    # result was reckoned with the new amount for every due date, and the announced one came back at its date)
    announced = next((p for p in basis.plans if first_due is not None and p.valid_from > first_due), None)
    if announced is not None:
        paid += sum((plan_on(basis.plans, d).amount for d in remaining if d >= announced.valid_from), Decimal(0))
        remaining = [d for d in remaining if d < announced.valid_from]
    if basis_kind in ('none', 'unconverted'):  # nothing to project from: the year as the plan has it (its estimate)
        cost = sum(
            (next((p.amount for p in reversed(basis.plans) if p.valid_from <= d), plan.amount) for d in dues),
            Decimal(0),
        )
    else:
        cost = projected_cost(basis.prices, year, consumption, contract)
    calculator = Calculator(plan.amount, paid, len(remaining), cost, ctx.profile.installment, plan.per_year)
    unit = 'm³' if contract.commodity == 'water' else 'kWh'
    return InstallmentView(
        contract.contract_number,
        contract.commodity,
        unit,
        calculator,
        first_due or (year[1] + timedelta(days=plan.due_day)),
        year[0],
        year[1],
        consumption.quantize(Decimal('0.1'), ROUND_HALF_UP),
        basis_kind,
        pending,
        next_due,
        next((p.amount for p in reversed(basis.plans) if next_due and p.valid_from <= next_due), plan.amount),
        next_year,
        Pending(announced.amount, announced.valid_from) if announced is not None else None,
    )


def projected_cost(prices: list[Price], term: tuple[date, date], consumption: Decimal, contract: Contract) -> Decimal:
    """The term's gross cost as its bill will reckon it (docs/domain.md §5): the consumption shared among the prices
    in force by days (gas and heat by degree-day weights), the base price by the days of the billing year, so that a
    contract's first or last months pay their part of it; each line in cents, VAT on the total at the rate in force
    at the term's end. With one price for a whole year that is §4's formula (its vector: 1,159.23 €); it took
    today's price for the whole year, and a whole year's base price for a part."""
    ordered = sorted(prices, key=lambda p: p.valid_from)
    periods = [PricePeriod(p.valid_from, p.working_price_net, p.base_price_net_per_year) for p in ordered]
    if periods[0].valid_from > term[0]:  # prices imported from within the term: the first counts from its start
        periods[0] = replace(periods[0], valid_from=term[0])
    year_start = billing_year(contract.billing_month, term[0])[0]
    vat = vat_rate_on(ordered, term[1])
    return compute_bill(consumption, contract.commodity, *term, periods, vat, Decimal(0), year_start).gross


def first_due_on(plans: list[InstallmentPlan], earliest: date, billing_month: int) -> date | None:
    """The first due date on or after `earliest`, in its billing year or else the following one, each on its plan's
    calendar (with 11 installments the billing month has none)."""
    this = billing_year(billing_month, earliest)
    following = billing_year(billing_month, this[1] + timedelta(days=1))
    dues = [*plan_dues(plans, *this, billing_month), *plan_dues(plans, *following, billing_month)]
    return next((d for d in dues if d >= earliest), None)


def plan_dues(plans: list[InstallmentPlan], start: date, end: date, billing_month: int) -> list[date]:
    """The due dates from `start` to `end`, each on the calendar of the plan in force on it: a plan stored for a later
    date (the billing system's) may have another due day or number a year (its amounts were counted on today's
    plan's dates, and a change was stored with a calendar the page had not reckoned with)."""
    ordered = sorted(plans, key=lambda p: p.valid_from)
    dates: list[date] = []
    for index, p in enumerate(ordered):
        begins = start if index == 0 else max(start, p.valid_from)  # the first plan: from the term's start
        until = min(end, ordered[index + 1].valid_from - timedelta(days=1)) if index + 1 < len(ordered) else end
        if begins <= until:
            dates += due_dates(begins, until, p.due_day, p.per_year, billing_month)
    return dates


def _term(contract: Contract, start: date, end: date) -> tuple[date, date]:
    """The part of a billing year the contract runs in (its first and last months)."""
    begins = max(start, contract.start_date) if contract.start_date else start
    ends = min(end, contract.end_date) if contract.end_date else end
    return begins, max(begins, ends)


def _scaled(consumption: Decimal, this: tuple[date, date], following: tuple[date, date], commodity: str) -> Decimal:
    """This year's projection carried over to the following billing year (by days; gas and heat by their
    degree-day weights, so that a leap year or a shorter last year counts right)."""
    if commodity in WEIGHTED:
        share = weight_share(*this)
        return consumption / share * weight_share(*following) if share else consumption
    days = (this[1] - this[0]).days + 1
    return consumption / days * ((following[1] - following[0]).days + 1)


def plan_on(plans: list[InstallmentPlan], day: date) -> InstallmentPlan:
    """The plan in force on `day` (plans by `valid_from`; one is in force today, before any `day` asked for)."""
    return [p for p in plans if p.valid_from <= day][-1]


def _price_on(prices: list[Price], day: date) -> Price | None:
    valid = [p for p in prices if p.valid_from <= day]
    return valid[-1] if valid else None


@dataclass(frozen=True)
class Changed:
    amount: Decimal
    first_due: date
    review: bool


def parse_amount(text: str | Decimal) -> Decimal:
    """An amount as typed (`1.234,50 €`), or a page's Decimal as it is (its `.` is the decimal point: 87.50 was read
    as 8.750 €)."""
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise InvalidFormat('amount', label=label_of('installment'), hint=label_of('installment_hint'))
        return text
    try:
        amount = Decimal(str(text).strip().replace('€', '').replace('.', '').replace(',', '.').strip())
    except ArithmeticError:
        raise InvalidFormat('amount', label=label_of('installment'), hint=label_of('installment_hint')) from None
    if not amount.is_finite():
        raise InvalidFormat('amount', label=label_of('installment'), hint=label_of('installment_hint'))
    return amount


def change_installment(
    uow: UnitOfWork,
    ctx: Context,
    user_id: int,
    customer_id: int,
    contract_number: str,
    amount_text: str | Decimal,
    reading: str = '',
    reason: str = '',
) -> Changed:
    """Apply a new amount from the next due date, or, below the limit, hand it to staff with reading and reason."""
    ensure_owner(uow, user_id, customer_id)
    named = next((c for c in uow.customers.contracts(customer_id) if c.contract_number == contract_number), None)
    if named is not None:  # two tabs at once: the second reads plans and open requests after the first is stored
        uow.customers.hold_contract(id_of(named))
    views = {v.contract_number: v for v in installment_views(uow, ctx, user_id, customer_id)}
    view = views.get(contract_number)
    if view is None or not view.changeable:
        raise NotAllowed()
    calc = view.calculator
    chosen = parse_amount(amount_text)
    amount = rounded(chosen, ctx.profile.installment.rounding)
    if not calc.minimum <= amount <= calc.maximum:
        raise InstallmentOutOfRange(low=money(calc.minimum), high=money(calc.maximum))
    if view.pending is not None and view.pending.amount in (chosen, amount):  # stored, mailed and fed a second time
        raise InstallmentAlreadyChanged(date=day(view.pending.valid_from))
    if calc.current in (chosen, amount) and view.pending is None:  # 87,50 € kept is no change to 88 €
        raise InstallmentUnchanged()
    contract = next(c for c in uow.customers.contracts(customer_id) if c.contract_number == contract_number)
    user = uow.users.get(user_id)
    if user is None:  # the login was deleted meanwhile
        raise NotAllowed()
    recipient = user.email
    # a request for staff still open is the customer's earlier wish: this one replaces it (staff accepting it
    # later set the amount asked for then over the one the customer chose since)
    withdrawn = ''
    for item in uow.desk.reviews_of(customer_id):
        earlier = item.kind == 'installment_reduction' and item.status == 'open' and item.contract_id == contract.id
        if earlier and uow.desk.claim_review(id_of(item), 'withdrawn'):
            withdrawn += f' withdrawn_review={item.id}'
    if calc.needs_review(amount):
        if not reading.strip():
            raise FieldRequired('reading', label=t('installment.reading'))
        if not is_digits(reading.strip()):
            raise ReadingNotDigits('reading')
        if len(reading.strip()) > 15:  # a meter counts with at most 12 digits; the details' column holds 2,000
            raise TooLong('reading', max=15)
        if not reason.strip():
            raise ReasonRequired('reason')
        if len(reason) > 1000:
            raise TooLong('reason', max=1000)
        uow.billing.add_review(
            ReviewItem(
                customer_id=customer_id,
                contract_id=contract.id,
                kind='installment_reduction',
                created_at=ctx.now,
                language=current(),  # staff decide later, from pages in their own language
                reason=reason.strip(),
                details=f'from={calc.current} to={amount} reading={reading.strip()}',
            )
        )
        uow.audit(
            AuditEntry(
                at=ctx.now,
                actor=f'user:{user_id}',
                action='installment_review_requested',
                customer_id=customer_id,
                address=ctx.address,
                details=f'contract={contract_number} from={calc.current} to={amount} reading={reading.strip()}'
                + withdrawn,
            )
        )
        uow.queue_mail(
            compose(ctx, recipient, 'installment_review', amount=money(amount), contract=contract_number), ctx.now
        )
        uow.commit()
        return Changed(amount, view.first_due, True)
    plan = plan_on(uow.billing.plans(id_of(contract)), view.first_due)  # its calendar: the one reckoned with
    uow.billing.set_plans(
        [
            InstallmentPlan(
                contract_id=id_of(contract),
                valid_from=view.first_due,
                amount=amount,
                due_day=plan.due_day,
                per_year=plan.per_year,
            )
        ]
    )
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'user:{user_id}',
            action='installment_changed',
            customer_id=customer_id,
            address=ctx.address,
            details=f'contract={contract_number} from={calc.current} to={amount} '
            f'first_due={view.first_due.isoformat()}' + withdrawn,
        )
    )
    uow.queue_mail(
        compose(
            ctx,
            recipient,
            'installment_changed',
            amount=money(amount),
            first_due=day(view.first_due),
            contract=contract_number,
        ),
        ctx.now,
    )
    uow.commit()
    return Changed(amount, view.first_due, False)
