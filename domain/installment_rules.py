"""The Abschlag's (monthly installment's) arithmetic (docs/domain.md §4–§5) on plain values: the billing year and
its due dates, the year's cost and the installment it gives, gas weighted by heating degree-days, and `Calculator`,
the object the page's slider is bound to. The use cases are in domain.installment."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from domain.profile import InstallmentRule

CENT = Decimal('0.01')
# Heating degree-day weights per month, per mille of a year's gas consumption (docs/domain.md §5).
GAS_WEIGHTS = {1: 170, 2: 150, 3: 130, 4: 80, 5: 40, 6: 14, 7: 13, 8: 13, 9: 30, 10: 80, 11: 120, 12: 160}
WEIGHTED = ('gas', 'heat')


def rounded(amount: Decimal, rounding: str) -> Decimal:
    """Installments are whole euros, rounded up by default; `cents` keeps the cents."""
    if rounding == 'cents':
        return amount.quantize(CENT, ROUND_HALF_UP)
    return amount.quantize(Decimal(1), ROUND_CEILING if rounding == 'up' else ROUND_HALF_UP)


def installment_for(annual: Decimal, per_year: int, rounding: str = 'up') -> Decimal:
    """Vector: 1,104.00 € / 12 = 92 €; / 11 = 100.36 → 101 €."""
    return rounded(annual / per_year, rounding)


def weight_share(start: date, end: date) -> Decimal:
    """Share (0…1) of a year's gas consumption that falls on the days start…end inclusive."""
    total, current = Decimal(0), start
    while current <= end:
        month_end = (current.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        last = min(month_end, end)
        total += Decimal(GAS_WEIGHTS[current.month]) * ((last - current).days + 1) / month_end.day
        current = last + timedelta(days=1)
    return total / 1000


def projected_consumption(so_far: Decimal, start: date, through: date, end: date, commodity: str) -> Decimal:
    """Consumption of the whole period from what was used from `start` through `through`."""
    if commodity in WEIGHTED:
        elapsed = weight_share(start, through)
        return so_far / elapsed * weight_share(start, end) if elapsed else Decimal(0)
    elapsed_days = (through - start).days + 1
    return so_far / elapsed_days * ((end - start).days + 1)


@dataclass(frozen=True)
class Calculator:
    """Bound to the slider: the year-end balance for any monthly amount (docs/domain.md §4 vectors)."""

    current: Decimal  # the installment now
    paid: Decimal  # paid, or due at the current amount, before the change takes effect
    remaining: int  # due dates from the change's first due date to the end of the billing year
    projected_cost: Decimal
    rule: InstallmentRule
    per_year: int = 12

    def balance(self, amount: Decimal) -> Decimal:
        """Positive: credit at year end; negative: back-payment."""
        return (self.paid + self.remaining * amount - self.projected_cost).quantize(CENT, ROUND_HALF_UP)

    @property
    def suggested(self) -> Decimal:
        if self.remaining <= 0:
            return self.current
        needed = (self.projected_cost - self.paid) / self.remaining
        return max(rounded(needed, self.rule.rounding), self.minimum)

    @property
    def minimum(self) -> Decimal:
        return self.rule.minimum

    @property
    def maximum(self) -> Decimal:
        top = self.current * (100 + self.rule.raise_percent) / 100
        return max(rounded(top, 'up'), rounded(self.suggested_unbounded, 'up'), self.minimum + 1)

    @property
    def suggested_unbounded(self) -> Decimal:
        return (self.projected_cost - self.paid) / self.remaining if self.remaining > 0 else self.current

    @property
    def review_below(self) -> Decimal:
        """Amounts below this need a current reading and a reason, and go to staff review: the lowest amount within
        the limit, up to the unit the utility rounds to (whole euros, or cents: 70.04 € for 87.55 € − 20 %, not
        71 €)."""
        lowest = self.current * (100 - self.rule.lower_percent) / 100
        unit = CENT if self.rule.rounding == 'cents' else Decimal(1)
        return lowest.quantize(unit, ROUND_CEILING)

    def needs_review(self, amount: Decimal) -> bool:
        return amount < self.review_below


def billing_year(billing_month: int, today: date) -> tuple[date, date]:
    """The billing year containing `today`, ending on the last day of `billing_month`."""

    def end_of(year: int) -> date:
        first_next = date(year + (billing_month == 12), billing_month % 12 + 1, 1)
        return first_next - timedelta(days=1)

    end = end_of(today.year) if end_of(today.year) >= today else end_of(today.year + 1)
    start = end_of(end.year - 1) + timedelta(days=1)
    return start, end


def due_dates(start: date, end: date, due_day: int, per_year: int, billing_month: int) -> list[date]:
    """Due dates from `start` to `end` (a billing year, or the part of it a contract runs in); with 11 installments,
    the billing month itself has none (not the month of `end`: a contract ending 30 June lost its June installment)."""
    dates, month = [], date(start.year, start.month, 1)
    while month <= end:
        last_day = ((month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
        due = month.replace(day=min(due_day, last_day))
        if start <= due <= end and not (per_year == 11 and month.month == billing_month):
            dates.append(due)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return dates
