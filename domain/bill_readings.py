"""A bill's readings, meter by meter: each meter's part of the billing period (two parts when the meter was exchanged
in the year), from its opening or installation reading to its removal or closing reading."""

from datetime import date, timedelta
from decimal import Decimal

from domain.billing import RegisterReadings, estimate_reading, opening, value_before_year
from domain.model import Meter, MeterReading


def meter_part(
    meter: Meter,
    readings: list[MeterReading],
    start: date,
    end: date,
    first: bool,
    last: bool,
    commodity: str = '',
    supply_began: bool = False,
) -> tuple[list[RegisterReadings], Decimal | None] | str:
    """One meter's registers over its part of the period: the first from the period's opening reading, a meter
    installed in the year from its installation reading; the last to the period's end (read or estimated), a meter
    removed in the year to its removal reading. `supply_began`: the period is the contract's first, from the day its
    supply began (its move-in reading counts, not an earlier one of the previous holder's). With the consumption of
    the whole year before (from the first meter's own readings; None where there is none), or the reason it cannot be
    billed."""
    span = meter_span(meter, start, end, first, last)
    if isinstance(span, str):
        return span
    named, begins, ends = span
    parts: list[RegisterReadings] = []
    previous: Decimal | None = Decimal(0)
    for obis in meter.registers.split(','):
        own = sorted((r for r in readings if r.obis == obis), key=lambda r: r.reading_date)
        before = begin_readings(own, begins, first, supply_began)
        if not before:
            return f'kein {"Anfangsstand" if first else "Einbaustand"} für Zählwerk {obis}{named}'
        inside = [r for r in own if begins <= r.reading_date <= ends and r not in before]
        opened = before[-1]
        if inside and inside[-1].reading_date == ends:
            last_date, last_value, last_source = ends, inside[-1].value, inside[-1].source
        elif opened.reading_date == ends:  # installed on the period's last day: nothing counted yet
            last_date, last_value, last_source = ends, opened.value, opened.source
        elif last and (len(before) >= 2 or inside):
            basis = ([*before, *inside])[-2:]
            last_date, last_value, last_source = (
                ends,
                max(  # never below the last reading (whole units: 10,000.4 unchanged was estimated 10,000)
                    estimate_reading(  # gas and heat by degree-day weights, as the information and the projection
                        (basis[1].reading_date, basis[1].value),
                        (basis[0].reading_date, basis[0].value),
                        ends,
                        commodity,
                    ),
                    basis[1].value,
                ),
                'estimated',
            )
        elif last:
            return f'kein Endstand für Zählwerk {obis} und keine Schätzgrundlage{named}'
        else:
            return f'kein Ausbaustand für Zählwerk {obis}{named}'
        if last_value < opened.value:
            return f'Endstand kleiner als Anfangsstand ({obis}{named}): bitte prüfen'
        start_date, start_value, start_source = opened.reading_date, opened.value, opened.source
        eve = begins - timedelta(days=1)
        after = (inside[0].reading_date, inside[0].value) if inside else (last_date, last_value)
        # read in January: only this period's share of the year since that reading counts (a lower value after it
        # is a rollover or an exchange: nothing to share)
        if first and start_date < eve and after[1] >= start_value:
            start_value = value_before_year((start_date, start_value), after, begins, commodity)
            start_date, start_source = eve, 'estimated'
        parts.append(
            RegisterReadings(
                obis,
                start_date,
                start_value,
                start_source,
                last_date,
                last_value,
                last_source,
                last_value - start_value,
                meter.meter_number,
            )
        )
        whole_year = len(before) >= 2 and (before[-1].reading_date - before[-2].reading_date).days >= 300
        if previous is not None and whole_year:
            previous += before[-1].value - before[-2].value  # the period before, from its own readings
        else:
            previous = None
    return parts, previous


def meter_span(meter: Meter, start: date, end: date, first: bool, last: bool) -> tuple[str, date, date] | str:
    """A meter's part of a period (or of a year so far, `end`): from the period's start for the first meter, else
    from its installation; to `end` for the last, else to its removal. With the words that name it in a reason (only
    when there are several meters), or the reason there is no such part."""
    named = '' if first and last else f' (Zähler {meter.meter_number})'
    begins = start if first else meter.installed_on
    ends = end if last else meter.removed_on
    if begins is None or ends is None:
        return f'Zählerwechsel ohne Ein- oder Ausbaudatum{named}'
    return named, begins, ends


def begin_readings(
    own: list[MeterReading], begins: date, first: bool, supply_began: bool = False
) -> list[MeterReading]:
    """A register's readings its part starts from: the first meter's opening readings (oldest first), a later
    meter's installation reading. `supply_began`: the contract's first period, whose readings are those from the day
    before the supply began on (domain/tenancy.py: earlier ones are the previous holder's)."""
    if supply_began:
        own = [r for r in own if r.reading_date >= begins - timedelta(days=1)]
    return opening(own, begins) if first else [r for r in own if r.reading_date == begins]
