"""The annual bill's arithmetic (DOMAIN.md section 5): consumption split at price changes, lines rounded to
cents, VAT on the net total, installments paid, the result; and an estimated end reading where none exists.

Plain values in, plain values out: the billing run, the PDF and the tests all use these functions.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.installment import WEIGHTED, weight_share

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


def split_consumption(consumption: Decimal, segments: list[tuple[date, date, PricePeriod]],
                      commodity: str) -> list[Decimal]:
    """Whole units per segment, by days (electricity, water) or degree-day weights (gas, heat); the last
    segment takes the remainder, so the parts add up to the measured consumption exactly."""
    if commodity in WEIGHTED:
        weights = [weight_share(s, e) for s, e, _ in segments]
    else:
        weights = [Decimal((e - s).days + 1) for s, e, _ in segments]
    total = sum(weights, Decimal(0))
    parts = [(consumption * w / total).quantize(Decimal(1), ROUND_HALF_UP) for w in weights[:-1]]
    return [*parts, consumption - sum(parts, Decimal(0))]


def compute_bill(consumption: Decimal, commodity: str, start: date, end: date, prices: list[PricePeriod],
                 vat_rate: Decimal, paid: Decimal) -> BillResult:
    """Vector (DOMAIN.md 5): 3,200 kWh in 2026 with a price change on 1 July → 1,123.60 € gross, 12.60 € to pay
    after 11 × 101 € paid."""
    segments = price_segments(prices, start, end)
    quantities = split_consumption(consumption, segments, commodity)
    lines = []
    for (seg_start, seg_end, price), quantity in zip(segments, quantities, strict=True):
        lines.append(Line('energy', seg_start, seg_end, quantity, price.working_price_net,
                          _cents(quantity * price.working_price_net)))
    for seg_start, seg_end, price in segments:
        days = Decimal((seg_end - seg_start).days + 1)
        year_days = Decimal(366 if _is_leap(seg_start.year) else 365)
        lines.append(Line('base', seg_start, seg_end, days, price.base_price_net_per_year,
                          _cents(price.base_price_net_per_year * days / year_days)))
    net = sum((line.amount for line in lines), Decimal(0))
    vat = _cents(net * vat_rate)
    gross = net + vat
    return BillResult(tuple(lines), net, vat, gross, paid, gross - paid)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def estimate_reading(previous: tuple[date, Decimal], before: tuple[date, Decimal], on: date) -> Decimal:
    """A missing end reading from the per-day consumption of the last period (marked as estimated by the caller)."""
    (d0, v0), (d1, v1) = before, previous
    per_day = (v1 - v0) / (d1 - d0).days
    return (v1 + per_day * (on - d1).days).quantize(Decimal(1), ROUND_HALF_UP)
