"""The Abschlag page's projection of a billing year's consumption (docs/domain.md §4) from the contract's meters and
their readings: this year's so far, or last year's rate; over a meter exchange, the meters' parts added up."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from domain.billing import opening, value_before_year
from domain.installment_rules import WEIGHTED, projected_consumption, weight_share
from domain.model import Contract, InstallmentPlan, Meter, MeterReading, Price, id_of


@dataclass
class Basis:
    """What a contract's installment view needs from the database."""

    plans: list[InstallmentPlan]
    prices: list[Price]  # the tariff's prices, by `valid_from`: those of the next billing year may be known already
    payments: list[Decimal]  # amounts paid in the billing year containing the day it was loaded for
    meters: list[Meter]
    readings: dict[int, list[MeterReading]]  # by meter id, by date


def projection(basis: Basis, contract: Contract, start: date, end: date, today: date) -> tuple[Decimal, str]:
    """Projected consumption of the billing year (gas in kWh) from this year's readings or last year's. A meter
    exchanged before the year counts only when its successor has no year of its own yet; meters exchanged within it
    are added up and projected together (each projected alone, one day of an old meter made a whole year), and
    where one's part cannot be counted (no removal reading, or one below its start), last year's rate is taken;
    'none' where there is neither (a new contract with only its move-in reading: it was projected at 0 kWh);
    'unconverted' for gas counted in m³ on a meter without Zustandszahl and Brennwert: m³ are no kWh (the bill run
    refuses such a bill too), so the year is as the plan has it."""
    gas = contract.commodity == 'gas'
    meters = sorted(
        (m for m in basis.meters if not (m.installed_on and m.installed_on > end)),
        key=lambda m: (m.installed_on or date.min, id_of(m)),
    )
    if gas and any(
        not (m.z_number and m.calorific_value) for m in meters if not (m.removed_on and m.removed_on < start)
    ):
        return Decimal(0), 'unconverted'
    # in the year so far: not removed before it, and installed by today (an exchange planned for later leaves the
    # meter read now on its own, its readings counted)
    in_year = [
        m
        for m in meters
        if not (m.removed_on and m.removed_on < start) and not (m.installed_on and m.installed_on > today)
    ]
    if len(in_year) == 1:
        total, kind = _one_meter(basis, contract, in_year[0], start, end, today)
        if kind == 'this_year' or _has_a_year(basis, in_year[0], start):
            return total, kind
    elif in_year:
        so_far, until = _exchanged(basis, in_year, start, today, contract.commodity)
        if until is not None:
            return projected_consumption(so_far, start, until, end, contract.commodity), 'this_year'
    for meter in reversed(meters):  # last year's rate, of the newest meter that has a year of its own
        if not _has_a_year(basis, meter, start):
            continue
        if gas and not (meter.z_number and meter.calorific_value):  # an earlier meter's m³ are no kWh either
            return Decimal(0), 'unconverted'
        total = Decimal(0)
        for obis in meter.registers.split(','):
            at_start = opening(_register(basis, meter, obis), start)
            if len(at_start) >= 2:
                total += _billed(meter, _at_rate(at_start[-2], at_start[-1], start, end, contract.commodity), gas)
        return total, 'last_year'
    return Decimal(0), 'none'  # nothing to project from: a new contract with only its move-in reading


def _register(basis: Basis, meter: Meter, obis: str) -> list[MeterReading]:
    return sorted((r for r in basis.readings[id_of(meter)] if r.obis == obis), key=lambda r: r.reading_date)


def _has_a_year(basis: Basis, meter: Meter, start: date) -> bool:
    """Whether the meter has two readings before the year (a rate of its own, 0 included)."""
    return any(len(opening(_register(basis, meter, obis), start)) >= 2 for obis in meter.registers.split(','))


def _one_meter(
    basis: Basis, contract: Contract, meter: Meter, start: date, end: date, today: date
) -> tuple[Decimal, str]:
    total, kind = Decimal(0), 'last_year'
    for obis in meter.registers.split(','):
        own = _register(basis, meter, obis)
        at_start = opening(own, start)
        this_year = [r for r in own if start <= r.reading_date <= today and r not in at_start]
        volume = Decimal(0)
        if at_start and this_year and this_year[-1].value >= at_start[-1].value:
            kind = 'this_year'
            first, last = at_start[-1], this_year[-1]
            base = value_before_year(
                (first.reading_date, first.value),
                (this_year[0].reading_date, this_year[0].value),
                start,
                contract.commodity,
            )
            volume = projected_consumption(last.value - base, start, last.reading_date, end, contract.commodity)
        elif len(at_start) >= 2:
            volume = _at_rate(at_start[-2], at_start[-1], start, end, contract.commodity)
        total += _billed(meter, volume, contract.commodity == 'gas')
    return total, kind


def _exchanged(
    basis: Basis, meters: list[Meter], start: date, today: date, commodity: str
) -> tuple[Decimal, date | None]:
    """What the meters of the year have counted so far, together (gas in kWh), and the day up to which: the first
    from the year's start, each later one from its installation reading, each but the newest to its removal reading.
    (0, None) where a part cannot be counted: no start, installation or removal reading, or a value below its start."""
    so_far, until = Decimal(0), None
    for index, meter in enumerate(meters):
        newest = index == len(meters) - 1
        for obis in meter.registers.split(','):
            own = [r for r in _register(basis, meter, obis) if r.reading_date <= today]
            begins = opening(own, start) if index == 0 else [r for r in own if r.reading_date == meter.installed_on]
            later = [r for r in own if r.reading_date >= start and r not in begins]
            if newest and index and not begins:  # no installation reading: counted up to the exchange
                continue
            if not begins or (later and later[-1].value < begins[-1].value):
                return Decimal(0), None
            if not newest and not (later and later[-1].reading_date == meter.removed_on):
                return Decimal(0), None
            first = begins[-1]
            last = later[-1] if later else first  # the newest not read since its installation: counted to that day
            base = first.value
            if index == 0 and later:
                base = value_before_year(
                    (first.reading_date, first.value), (later[0].reading_date, later[0].value), start, commodity
                )
            so_far += _billed(meter, last.value - base, commodity == 'gas')
            until = last.reading_date if until is None else max(until, last.reading_date)
    return so_far, until


def _billed(meter: Meter, volume: Decimal, gas: bool) -> Decimal:
    """A gas meter's m³ in kWh (its Zustandszahl and Brennwert); other meters' units as they are (the import takes
    the factors on any meter; a gas meter without them never gets here)."""
    if gas and meter.z_number and meter.calorific_value:
        return volume * meter.z_number * meter.calorific_value
    return volume


def _at_rate(before: MeterReading, last: MeterReading, start: date, end: date, commodity: str) -> Decimal:
    """The use of start…end at the rate between two readings: by days, or (gas, heat) by degree-day weights, as
    this year's projection goes (docs/domain.md §4): a contract's first half year of gas is 584 ‰ of a year, not
    181/365, and an autumn's rate is no winter's."""
    days = (last.reading_date - before.reading_date).days
    if days <= 0 or last.value < before.value:
        return Decimal(0)
    used = last.value - before.value
    if commodity in WEIGHTED:
        share = weight_share(before.reading_date + timedelta(days=1), last.reading_date)
        return used / share * weight_share(start, end) if share else Decimal(0)
    return used / days * ((end - start).days + 1)
