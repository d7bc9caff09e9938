"""The rules of a meter reading (docs/domain.md §3) as plain functions on plain values: when a meter may be read by
its customer, how an entered value and date are parsed, how a value is judged against the last one and the
expected consumption, gas in kWh, and the registers' names by OBIS code. The use cases are in domain.readings."""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from domain.errors import (
    DateFormat,
    FieldRequired,
    FutureDate,
    ReadingFormat,
    ReadingLower,
)
from domain.i18n import day, number, t
from domain.profile import ReadingsRule

REMOTE_KINDS = ('radio', 'smart', 'load_profile')
REGISTERS = ('1.8.0', '1.8.1', '1.8.2')  # OBIS codes: single rate; two-rate meters' HT and NT


def reasons(commodity: str, language: str | None = None) -> list[str]:
    """The suggestions for an implausible reading's Begründung, for the commodity (a water meter is offered no heat
    pump, an electricity meter no burst pipe), in `language` (by default the one of the current work)."""
    return t(f'reading.reasons_{commodity}', language).split(';')


def register_field(obis: str, language: str | None = None) -> str:
    """The label of the register's reading field (`Zählerstand HT`) in `language`, by default the one of the current
    work; a code the catalogues do not name is shown as it is. Forms key the field by the OBIS code."""
    return t(f'obis.field.{obis}', language) if obis in REGISTERS else obis


def register_name(obis: str, language: str | None = None) -> str:
    """The register itself with its code (`HT (1.8.1)`, `Eintarif (1.8.0)`), otherwise as `register_field`."""
    return f'{t(f"obis.name.{obis}", language)} ({obis})' if obis in REGISTERS else obis


@dataclass(frozen=True)
class Window:
    """Whether readings are accepted today; `opens_on` when closed, `opened_on` and `closes_on` when open (if
    limited: a reading's date must lie in the period too)."""

    open: bool
    opens_on: date | None = None
    closes_on: date | None = None
    opened_on: date | None = None


def reading_window(rule: ReadingsRule, today: date) -> Window:
    if not rule.period_start or not rule.period_end:
        return Window(True)

    def on(year: int, month_day: str) -> date:
        """That day of the year; 29 February in a common year is the 28th (a period may end on it)."""
        month, dd = (int(part) for part in month_day.split('-'))
        return date(year, month, min(dd, calendar.monthrange(year, month)[1]))

    for start_year in (today.year - 1, today.year):
        start = on(start_year, rule.period_start)
        end = on(start_year if rule.period_end >= rule.period_start else start_year + 1, rule.period_end)
        if start <= today <= end:
            return Window(True, closes_on=end, opened_on=start)
    start = on(today.year, rule.period_start)
    return Window(False, opens_on=start if start > today else on(today.year + 1, rule.period_start))


@dataclass(frozen=True)
class Judgement:
    """How a new value compares with what the meter's history makes expectable."""

    status: str  # ok, implausible, rollover, exchange, first
    consumption: Decimal
    expected_low: Decimal | None = None  # meter values, for "expected range"
    expected_high: Decimal | None = None


def judge(
    history: list[tuple[date, Decimal]],
    new_date: date,
    new_value: Decimal,
    digits: int,
    rule: ReadingsRule,
    installed_on: date | None = None,
) -> Judgement:
    """Judge `new_value` against `history` (earlier readings of this register, oldest first).

    Expected consumption = last period's per-day consumption × days since the last reading; values within
    `plausible_low`…`plausible_high` × expected pass. A lower value is a rollover (`new + 10^digits − old`)
    when that consumption is plausible, or follows a meter exchange known from master data; otherwise refused.
    """
    # the customer enters the digits before the decimal point only: an earlier value with decimals (the utility's,
    # a move-in reading) counts by its whole units, or a dial at 123,9 after 123,456 read 123 is "lower"
    history = [(d, v.to_integral_value(ROUND_FLOOR)) for d, v in history]
    old: list[tuple[date, Decimal]] = []  # an exchanged meter's readings: its consumption, not its values, counts
    if installed_on is not None and installed_on <= new_date and history:
        if history[-1][0] < installed_on:
            return Judgement('exchange', new_value)  # the last value was the old meter's
        old, history = [h for h in history if h[0] < installed_on], [h for h in history if h[0] >= installed_on]
    if not history:
        return Judgement('first', Decimal(0))
    last_date, last_value = history[-1]
    expected = None
    basis = history if len(history) >= 2 else old  # one reading of the new meter: the old one's per-day use
    if len(basis) >= 2:
        (before_date, before_value), (to_date, to_value) = basis[-2], basis[-1]
        period_days = (to_date - before_date).days
        # a lower value stored after a higher one is a rollover (an exchange was split off above): that period's use
        # is the way round the dial (after a rollover the next reading had no expectation and any value passed)
        used = to_value - before_value if to_value >= before_value else to_value + Decimal(10) ** digits - before_value
        if period_days > 0:
            expected = used / period_days * (new_date - last_date).days
    low = high = None
    if expected is not None:
        low = last_value + (expected * rule.plausible_low).quantize(Decimal(1), ROUND_HALF_UP)
        high = last_value + (expected * rule.plausible_high).quantize(Decimal(1), ROUND_HALF_UP)
    if new_value < last_value:
        rolled = new_value + Decimal(10) ** digits - last_value
        # without an expectation: from the last tenth of the dial round to its first tenth (not a typo one lower)
        near_end = last_value >= Decimal(10) ** digits * Decimal('0.9') and new_value < Decimal(10) ** digits / 10
        if (expected is not None and rolled <= expected * rule.plausible_high) or (expected is None and near_end):
            return Judgement('rollover', rolled, low, high)
        raise ReadingLower(last=number(last_value), last_date=day(last_date))
    consumption = new_value - last_value
    if low is not None and high is not None and not low <= new_value <= high:
        return Judgement('implausible', consumption, low, high)
    return Judgement('ok', consumption, low, high)


def gas_kwh(cubic_metres: Decimal, z_number: Decimal, calorific_value: Decimal) -> Decimal:
    """kWh = m³ × Zustandszahl × Brennwert, rounded to whole kWh (docs/domain.md §3)."""
    return (cubic_metres * z_number * calorific_value).quantize(Decimal(1), ROUND_HALF_UP)


def parse_value(text: str, digits: int, obis: str) -> Decimal:
    """Only the digits before the decimal point, at most as many as the meter has; errors at the register's field."""
    cleaned = text.strip().replace(' ', '')
    if not cleaned:
        raise FieldRequired(obis, label=register_field(obis))
    significant = cleaned.lstrip('0')  # converted alone: Python turns at most 4,300 digits into a number
    if not cleaned.isascii() or not cleaned.isdigit() or len(significant) > digits:
        raise ReadingFormat(obis, digits=digits)
    return Decimal(int(significant or '0'))


def parse_date(text: str, today: date, field: str = 'reading_date') -> date:
    text = text.strip()
    if not text:
        return today
    for parse in (date.fromisoformat, _german_date):
        try:
            value = parse(text)
            break
        except (ValueError, OverflowError):  # OverflowError: a day or month of twenty digits
            continue
    else:
        raise DateFormat(field)
    if value.year < 2000:  # 0026-12-04: a year typed short
        raise DateFormat(field)
    if value > today:
        raise FutureDate(field)
    return value


def _german_date(text: str) -> date:
    """TT.MM.JJJJ; a two-digit year (04.12.26) is refused rather than read as the year 26."""
    dd, mm, yyyy = text.split('.')
    if len(yyyy) != 4:
        raise ValueError(text)
    return date(int(yyyy), int(mm), int(dd))
