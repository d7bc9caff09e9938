"""The annual bill's arithmetic (docs/domain.md §5): consumption split at price changes, lines rounded to
cents, VAT on the net total, installments paid, the result; and an estimated end reading where none exists.

Plain values in, plain values out: the billing run, the PDF and the tests all use these functions.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol, TypeVar

from domain.installment_rules import WEIGHTED, installment_for, weight_share
from domain.stored_json import load

CENT = Decimal('0.01')


@dataclass(frozen=True)
class PricePeriod:
    """Prices valid from `valid_from` (net)."""

    valid_from: date
    working_price_net: Decimal
    base_price_net_per_year: Decimal


@dataclass(frozen=True)
class Line:
    kind: str  # energy, base
    start: date
    end: date
    quantity: Decimal  # kWh / m³ for energy, days for base
    unit_price: Decimal
    amount: Decimal  # net, rounded to cents


@dataclass(frozen=True)
class BillResult:
    lines: tuple[Line, ...]
    net: Decimal
    vat: Decimal
    gross: Decimal
    paid: Decimal
    balance: Decimal  # positive: the customer pays; negative: credit
    # the days of the billing year, which the yearly base price is shared by; 0 in bills stored before 05.12.2026,
    # whose base price was shared by the days of the twelve months from the period's start (`days_of_year`)
    year_days: int = 0

    def days_of_year(self, start: date) -> int:
        return self.year_days or year_days(start)

    @property
    def is_credit(self) -> bool:
        return self.balance < 0


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def price_segments(prices: list[PricePeriod], start: date, end: date) -> list[tuple[date, date, PricePeriod]]:
    """The parts of start…end (inclusive) with one price each."""
    ordered = sorted(prices, key=lambda p: p.valid_from)
    segments = []
    for i, price in enumerate(ordered):
        seg_start = max(start, price.valid_from)
        seg_end = min(end, ordered[i + 1].valid_from - timedelta(days=1)) if i + 1 < len(ordered) else end
        if seg_start <= seg_end:
            segments.append((seg_start, seg_end, price))
    if not segments or segments[0][0] != start:
        raise ValueError(f'no price for {start.isoformat()}')
    return segments


def split_consumption(
    consumption: Decimal, segments: list[tuple[date, date, PricePeriod]], commodity: str
) -> list[Decimal]:
    """Whole units per segment, by days (electricity, water) or degree-day weights (gas, heat); the last
    segment takes the remainder, so the parts add up to the measured consumption exactly."""
    if commodity in WEIGHTED:
        weights = [weight_share(s, e) for s, e, _ in segments]
    else:
        weights = [Decimal((e - s).days + 1) for s, e, _ in segments]
    total = sum(weights, Decimal(0))
    parts = [(consumption * w / total).quantize(Decimal(1), ROUND_HALF_UP) for w in weights[:-1]]
    return [*parts, consumption - sum(parts, Decimal(0))]


def compute_bill(
    consumption: Decimal,
    commodity: str,
    start: date,
    end: date,
    prices: list[PricePeriod],
    vat_rate: Decimal,
    paid: Decimal,
    year_start: date | None = None,
) -> BillResult:
    """Vector (docs/domain.md §5): 3,200 kWh in 2026 with a price change on 1 July → 1,123.60 € gross, 12.60 € to pay
    after 11 × 101 € paid. `year_start`: the start of the billing year the period is part of (the period's start if
    not given): a part year shares the base price by that year's days."""
    segments = price_segments(prices, start, end)
    quantities = split_consumption(consumption, segments, commodity)
    lines = []
    for (seg_start, seg_end, price), quantity in zip(segments, quantities, strict=True):
        lines.append(
            Line(
                'energy',
                seg_start,
                seg_end,
                quantity,
                price.working_price_net,
                _cents(quantity * price.working_price_net),
            )
        )
    days_of_year = year_days(year_start or start)
    per_year = Decimal(days_of_year)
    for seg_start, seg_end, price in segments:
        days = Decimal((seg_end - seg_start).days + 1)
        lines.append(
            Line(
                'base',
                seg_start,
                seg_end,
                days,
                price.base_price_net_per_year,
                _cents(price.base_price_net_per_year * days / per_year),
            )
        )
    net = sum((line.amount for line in lines), Decimal(0))
    vat = _cents(net * vat_rate)
    gross = net + vat
    return BillResult(tuple(lines), net, vat, gross, paid, gross - paid, days_of_year)


def year_days(start: date) -> int:
    """The days of the year of supply beginning on `start`, which the yearly base price is shared by: 366 when it
    holds a 29 February. A billing year from 1 July 2027 has 366 days, one from 1 July 2028 has 365, so each costs
    the base price once (the calendar year the period starts in would give 120.33 and 119.67 € for 120 €). A part
    year counts the days of the billing year it is part of: a contract from 1 July 2027 billed by the calendar year
    shares it by 2027's 365 days (by 366, those of the twelve months from its start, it paid 60.33 € for 60.49)."""
    try:
        following = start.replace(year=start.year + 1)
    except ValueError:  # from 29 February
        following = date(start.year + 1, 3, 1)
    return (following - start).days


def estimate_reading(
    previous: tuple[date, Decimal], before: tuple[date, Decimal], on: date, commodity: str = ''
) -> Decimal:
    """A missing end reading from the per-day consumption of the last period (marked as estimated by the caller);
    gas and heat by their degree-day weights (docs/domain.md §4): half a year from January is 584 ‰ of a year's use,
    not 181/365."""
    (d0, v0), (d1, v1) = before, previous
    if commodity in WEIGHTED:
        share = weight_share(d0 + timedelta(days=1), d1)
        if share:
            added = (v1 - v0) / share * weight_share(d1 + timedelta(days=1), on)
            return (v1 + added).quantize(Decimal(1), ROUND_HALF_UP)
    per_day = (v1 - v0) / (d1 - d0).days
    return (v1 + per_day * (on - d1).days).quantize(Decimal(1), ROUND_HALF_UP)


class _Dated(Protocol):
    @property
    def reading_date(self) -> date: ...


R = TypeVar('R', bound=_Dated)


def opening(readings: list[R], start: date) -> list[R]:
    """The readings a period can start from, oldest first: those before its first day, or, when there is none (a
    contract's first period, its move-in reading taken on the day the supply began), the one of that day."""
    before = [r for r in readings if r.reading_date < start]
    return before or [r for r in readings if r.reading_date == start][:1]


def value_before_year(
    before: tuple[date, Decimal], after: tuple[date, Decimal], start: date, commodity: str = ''
) -> Decimal:
    """A register's value on the day before a billing year `start`s: the reading of that day, or one interpolated
    by days (gas and heat: by degree-day weights) between the last reading before it and the next one after. Annual
    readings taken in January (a water association's reading period) would otherwise count three weeks of the last
    year as this year's, and a projection from them would run up to twice too high (docs/domain.md §4)."""
    eve = start - timedelta(days=1)
    (d0, v0), (d1, v1) = before, after
    if d0 >= eve or d1 <= d0 or v1 < v0:  # v1 below v0: a rollover or an exchange between, nothing to share
        return v0
    if commodity in WEIGHTED:  # gas and heat by degree-day weights: 20.01.–31.12. is 890 ‰ of a year, not 345/365
        share = weight_share(d0 + timedelta(days=1), d1)
        if share:
            value = v0 + (v1 - v0) * weight_share(d0 + timedelta(days=1), eve) / share
            return min(max(value.quantize(Decimal(1), ROUND_HALF_UP), v0), v1)
    return min(max(estimate_reading(after, before, eve), v0), v1)


@dataclass(frozen=True)
class RegisterReadings:
    """One register's start and end reading, and how each was obtained (customer, utility, remote, estimated)."""

    obis: str
    start_date: date
    start_value: Decimal
    start_source: str
    end_date: date
    end_value: Decimal
    end_source: str
    consumption: Decimal  # in the meter's unit (m³ for gas and water)
    meter_number: str = ''  # which meter (a bill over a meter exchanged in the year has two); '' in older documents


@dataclass(frozen=True)
class BillDocument:
    """Everything an annual, final or correction bill states (docs/domain.md §5), ready for the PDF."""

    bill_number: str
    bill_date: date
    kind: str  # annual, final, correction
    replaces: str  # the corrected bill's number
    customer_number: str
    customer_name: str
    customer_address: tuple[str, ...]
    contract_number: str
    commodity: str
    tariff_code: str
    contract_start: date
    contract_end: date | None
    notice_period_weeks: int
    next_termination: date | None
    malo_id: str
    supply_address: str
    meter_number: str
    period_start: date
    period_end: date
    registers: tuple[RegisterReadings, ...]
    z_number: Decimal | None
    calorific_value: Decimal | None
    consumption: Decimal  # billed unit: kWh (gas converted) or m³
    unit: str
    result: BillResult
    vat_rate: Decimal
    due_date: date
    previous_consumption: Decimal | None
    group_average: Decimal | None
    next_installment: Decimal | None
    next_installment_per_year: int
    next_installment_first_due: date | None
    next_installment_due_day: int
    # a business customer's bill is an e-invoice (docs/domain.md §9); bills stored before leave these empty
    einvoice: str = ''  # '' (a consumer's plain PDF), 'factur-x' (ZUGFeRD EN 16931) or 'xrechnung' (Leitweg-ID)
    buyer_vat_id: str = ''
    buyer_leitweg_id: str = ''
    buyer_email: str = ''
    mandate_reference: str = ''  # a SEPA direct-debit mandate: the amount due is debited from customer_iban
    customer_iban: str = ''  # the customer's account: debited (mandate) or where a credit is paid
    # a part of a year (a final bill, a first bill): the comparisons are the year's figures shared by these days
    compared_days: int = 0

    @property
    def is_einvoice(self) -> bool:
        return bool(self.einvoice)


def due_date_for(bill_date: date) -> date:
    """Payable two weeks after the bill date [P]."""
    return bill_date + timedelta(days=14)


def proposal(
    result: BillResult,
    per_year: int,
    rounding: str = 'up',
    share: Decimal | None = None,
    vat_rate: Decimal = Decimal(0),
) -> Decimal:
    """The next period's installment: a whole year's gross cost spread over the installments (docs/domain.md §4).
    `share`: a part of a year's share of a year's use (by days, gas and heat by degree-day weights), None for a whole
    year: its energy is made a year's, and the base price is the whole year's (a first half year's cost over 12
    installments asked half of what the next year costs)."""
    if not share:  # a whole year (or no share to scale by)
        return installment_for(result.gross, per_year, rounding)
    energy = sum((line.amount for line in result.lines if line.kind == 'energy'), Decimal(0)) / share
    base = [line.unit_price for line in result.lines if line.kind == 'base'][-1]  # the latest price, per year
    net = _cents(energy) + base
    return installment_for(net + _cents(net * vat_rate), per_year, rounding)


def from_json(text: str) -> BillDocument:
    return load(BillDocument, text)


def outcome(balance: Decimal) -> str:
    """What a bill's balance is: a back-payment, a credit, or neither (the amount box says "Ausgeglichen" too)."""
    return {'back_payment': 'Nachzahlung', 'credit': 'Guthaben', 'even': 'Ausgeglichen'}[outcome_key(balance)]


def outcome_key(balance: Decimal) -> str:
    """`outcome` as a text's key (`written.back_payment`, …), for a message in the customer's language."""
    return 'back_payment' if balance > 0 else 'credit' if balance < 0 else 'even'
