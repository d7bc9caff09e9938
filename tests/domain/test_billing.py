from datetime import date
from decimal import Decimal

import pytest

from domain.billing import PricePeriod, compute_bill, estimate_reading, price_segments, split_consumption, year_days

PRICES = [
    PricePeriod(date(2026, 1, 1), Decimal('0.2500'), Decimal('120.00')),
    PricePeriod(date(2026, 7, 1), Decimal('0.2650'), Decimal('120.00')),
]


def test_electricity_vector_with_a_price_change():
    bill = compute_bill(
        Decimal(48410 - 45210),
        'electricity',
        date(2026, 1, 1),
        date(2026, 12, 31),
        PRICES,
        Decimal('0.19'),
        paid=11 * Decimal(101),
    )
    energy = [(line.quantity, line.amount) for line in bill.lines if line.kind == 'energy']
    base = [line.amount for line in bill.lines if line.kind == 'base']
    assert energy == [(1587, Decimal('396.75')), (1613, Decimal('427.45'))]
    assert base == [Decimal('59.51'), Decimal('60.49')]
    assert (bill.net, bill.vat, bill.gross) == (Decimal('944.20'), Decimal('179.40'), Decimal('1123.60'))
    assert (bill.paid, bill.balance, bill.is_credit) == (Decimal('1111.00'), Decimal('12.60'), False)


def test_gas_vector_splits_by_degree_days():
    prices = [
        PricePeriod(date(2026, 1, 1), Decimal('0.09'), Decimal('150')),
        PricePeriod(date(2026, 10, 1), Decimal('0.10'), Decimal('150')),
    ]
    segments = price_segments(prices, date(2026, 1, 1), date(2026, 12, 31))
    assert split_consumption(Decimal(16268), segments, 'gas') == [10412, 5856]


def test_a_credit_when_more_was_paid():
    bill = compute_bill(
        Decimal(1000),
        'water',
        date(2026, 1, 1),
        date(2026, 12, 31),
        [PricePeriod(date(2025, 1, 1), Decimal('2.15'), Decimal('90'))],
        Decimal('0.07'),
        paid=Decimal(3000),
    )
    assert bill.is_credit and bill.gross == Decimal('2396.80')  # (2,150 + 90) × 1.07


def test_a_missing_end_reading_is_estimated_from_the_last_period():
    assert (
        estimate_reading((date(2025, 12, 31), Decimal(13650)), (date(2024, 12, 31), Decimal(10000)), date(2026, 12, 31))
        == 17300
    )


@pytest.mark.parametrize(
    ('start', 'end'),
    [
        (date(2027, 7, 1), date(2028, 6, 30)),  # 366 days: with 29 February 2028
        (date(2028, 7, 1), date(2029, 6, 30)),  # 365 days, starting in a leap year
        (date(2028, 1, 1), date(2028, 12, 31)),
        (date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_a_whole_billing_year_costs_the_yearly_base_price_once(start, end):
    prices = [PricePeriod(date(2025, 1, 1), Decimal('0.25'), Decimal('120.00'))]
    result = compute_bill(Decimal(3000), 'electricity', start, end, prices, Decimal('0.19'), Decimal(0))
    [base] = [line for line in result.lines if line.kind == 'base']
    assert base.amount == Decimal('120.00') and year_days(start) == (end - start).days + 1


def test_a_part_year_pays_the_base_price_by_the_days_of_its_billing_year():
    """A contract from 01.07.2027 billed by the calendar year: 184 days of 2027 (365 days), not of the twelve months
    from its start (which hold 29.02.2028): 60.49 €, as in 2026, not 60.33 €. A whole billing year from 1 July still
    counts its own days (366 from 01.07.2027)."""
    prices = [PricePeriod(date(2026, 1, 1), Decimal('0.2500'), Decimal('120.00'))]

    def base(start, end, year_start=None):
        result = compute_bill(Decimal(1000), 'electricity', start, end, prices, Decimal('0.19'), Decimal(0), year_start)
        return [line.amount for line in result.lines if line.kind == 'base'], result.year_days

    assert base(date(2026, 7, 1), date(2026, 12, 31), date(2026, 1, 1)) == ([Decimal('60.49')], 365)
    assert base(date(2027, 7, 1), date(2027, 12, 31), date(2027, 1, 1)) == ([Decimal('60.49')], 365)
    assert base(date(2027, 7, 1), date(2028, 6, 30)) == ([Decimal('120.00')], 366)


def test_a_bill_stored_before_the_billing_year_s_days_were_kept_still_loads_with_its_days():
    """Bills are stored as JSON and rendered again years later: one stored without `year_days` loads, and counts
    the days it was computed with (the twelve months from its start)."""
    import json

    from domain.billing import from_json
    from domain.stored_json import to_json
    from tests.domain.test_einvoice import sample_bill

    stored = json.loads(to_json(sample_bill()))
    del stored['result']['year_days']
    old = from_json(json.dumps(stored))
    assert old.result.year_days == 0 and old.result.days_of_year(old.period_start) == year_days(old.period_start)
