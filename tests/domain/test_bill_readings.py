"""A bill's readings (domain/bill_readings.py): the period's start value when the meter is read in January."""

from datetime import date
from decimal import Decimal

from domain.bill_readings import meter_part
from domain.model import Meter, MeterReading


def test_annual_readings_taken_in_january_bill_only_the_calendar_years_part():
    """A water association reads on 20 January. The bill for 2026 started from the reading of 20.01.2025 and billed
    6,244 m³ (23 months, 20.01.2025–31.12.2026) as the year's consumption; the Abrechnungsinformation interpolates
    the value of 31.12.2025 (docs/domain.md §3) and so must the bill: 3,210 m³ over 365 days."""
    meter = Meter(meter_number='8WSE0100000001', contract_id=1, kind='manual', registers='1.8.0', pre_decimal_digits=5)
    readings = [
        MeterReading(meter_id=1, obis='1.8.0', reading_date=day, value=Decimal(value), source='utility')
        for day, value in ((date(2025, 1, 20), 42000), (date(2026, 1, 20), 45210))
    ]
    part = meter_part(meter, readings, date(2026, 1, 1), date(2026, 12, 31), True, True, 'water')
    assert not isinstance(part, str)
    [register], _ = part
    at_start = 42000 + round(Decimal(3210) * 345 / 365)  # 20.01.2025 → 31.12.2025: 345 of the 365 days
    assert (register.start_date, register.start_value, register.start_source) == (
        date(2025, 12, 31),
        at_start,
        'estimated',
    )
    assert register.end_value == 45210 + round(Decimal(3210) * 345 / 365)  # estimated by days to 31.12.2026
    assert register.consumption == register.end_value - at_start == 3210
