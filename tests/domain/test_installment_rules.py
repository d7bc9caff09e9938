from datetime import date
from decimal import Decimal

from domain.installment import first_due_on, projected_cost
from domain.installment_rules import (
    Calculator,
    billing_year,
    due_dates,
    installment_for,
    projected_consumption,
    weight_share,
)
from domain.model import Contract, InstallmentPlan, Price
from domain.profile import InstallmentRule

YEAR = (date(2026, 1, 1), date(2026, 12, 31))
CONTRACT = Contract(contract_number='V1', customer_id=1, commodity='electricity', tariff_code='T', start_date=YEAR[0])


def gross(working: str, base: str, valid_from: date = YEAR[0], vat: str = '0') -> Price:
    """A price given gross (VAT 0, as §4 reckons), or net with its `vat`."""
    return Price(
        tariff_code='T',
        valid_from=valid_from,
        unit='kWh',
        working_price_net=Decimal(working),
        base_price_net_per_year=Decimal(base),
        vat_rate=Decimal(vat),
    )


def test_installment_vector():
    annual = projected_cost([gross('0.30', '144.00')], YEAR, Decimal(3200), CONTRACT)
    assert annual == Decimal('1104.00')
    assert installment_for(annual, 12) == 92
    assert installment_for(annual, 11) == 101
    assert installment_for(annual, 11, 'cents') == Decimal('100.36')
    assert installment_for(annual, 11, 'nearest') == 100


def test_live_calculation_vector():
    """N = 11, 101 € paid 5 times, 1,400 kWh after 151 days, same prices."""
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    projected = projected_consumption(Decimal(1400), start, date(2026, 5, 31), end, 'electricity')
    assert projected.quantize(Decimal('0.1')) == Decimal('3384.1')
    cost = projected_cost([gross('0.30', '144.00')], YEAR, projected, CONTRACT)
    assert cost == Decimal('1159.23')
    calc = Calculator(
        current=Decimal(101),
        paid=5 * Decimal(101),
        remaining=6,
        projected_cost=cost,
        rule=InstallmentRule(),
        per_year=11,
    )
    assert calc.balance(Decimal(101)) == Decimal('-48.23')
    assert calc.suggested == 110
    assert calc.balance(Decimal(110)) == Decimal('5.77')


def test_limits_follow_the_profile():
    calc = Calculator(Decimal(100), Decimal(500), 6, Decimal('1100'), InstallmentRule(lower_percent=20))
    assert calc.review_below == 80
    assert not calc.needs_review(Decimal(80))
    assert calc.needs_review(Decimal(79))
    assert calc.maximum == 200
    assert calc.minimum == 5


def test_gas_weights_make_a_whole_year():
    assert weight_share(date(2026, 1, 1), date(2026, 12, 31)) == 1
    assert weight_share(date(2026, 1, 1), date(2026, 9, 30)) == Decimal('0.64')  # docs/domain.md §5 gas vector


def test_gas_projection_uses_degree_days():
    # 640 ‰ of the year by the end of September: 10,412 kWh → 16,268.75 kWh
    projected = projected_consumption(Decimal(10412), date(2026, 1, 1), date(2026, 9, 30), date(2026, 12, 31), 'gas')
    assert projected == Decimal('16268.75')


def test_billing_years_and_due_dates():
    assert billing_year(12, date(2026, 11, 23)) == (date(2026, 1, 1), date(2026, 12, 31))
    assert billing_year(6, date(2026, 11, 23)) == (date(2026, 7, 1), date(2027, 6, 30))
    assert billing_year(6, date(2026, 6, 30)) == (date(2025, 7, 1), date(2026, 6, 30))
    assert len(due_dates(date(2026, 1, 1), date(2026, 12, 31), 15, 12, 12)) == 12
    eleven = due_dates(date(2026, 1, 1), date(2026, 12, 31), 31, 11, 12)
    assert len(eleven) == 11 and date(2026, 2, 28) in eleven and eleven[-1] == date(2026, 11, 30)
    # a contract ending 30 June keeps its June installment: only the billing month has none
    assert due_dates(date(2026, 1, 1), date(2026, 6, 30), 15, 11, 12)[-1] == date(2026, 6, 15)


def test_the_first_due_date_follows_the_billing_year_and_its_missing_eleventh_month():
    """11 installments in a calendar billing year: December has none. Asked from late November or early December
    (a change's notice), the first due date is 15 January, not 15 December nor 15 February."""

    def first_due_from(earliest: date, billing_month: int, due_day: int, per_year: int) -> date | None:
        plan = InstallmentPlan(
            contract_id=1, valid_from=date(2020, 1, 1), amount=Decimal(1), due_day=due_day, per_year=per_year
        )
        return first_due_on([plan], earliest, billing_month)

    assert first_due_from(date(2026, 12, 4), 12, 15, 11) == date(2027, 1, 15)
    assert first_due_from(date(2026, 12, 16), 12, 15, 11) == date(2027, 1, 15)
    assert first_due_from(date(2026, 12, 4), 12, 15, 12) == date(2026, 12, 15)
    assert first_due_from(date(2026, 6, 16), 6, 15, 11) == date(2026, 7, 15)  # a billing year ending in June
    assert first_due_from(date(2026, 5, 16), 6, 15, 11) == date(2026, 7, 15)
    assert first_due_from(date(2028, 2, 20), 12, 31, 12) == date(2028, 2, 29)  # the month's last day


def test_an_amount_from_a_page_keeps_its_decimal_point_and_a_typed_one_its_german_form():
    """The installment page hands over a Decimal: its `.` was taken for a thousands separator (87.50 → 8.750 €)."""
    from domain.installment import parse_amount

    assert parse_amount(Decimal('87.50')) == Decimal('87.50')
    assert parse_amount('1.234,50 €') == Decimal('1234.50')
    assert parse_amount('85') == Decimal(85)


def test_the_projected_cost_shares_a_price_change_and_a_part_year_as_the_bill_does():
    """docs/domain.md §5's vector (3,200 kWh in 2026, the working price 0.25 → 0.265 € net on 1 July, 120 € base,
    19 % VAT) projects what the bill will say, 1,123.60 € (today's price for the whole year: 1,151.92 €); a contract
    from 1 March pays 306 days of the base price, one ending 30 June 181 days (a whole year's: 60 € too much)."""
    prices = [gross('0.2500', '120', date(2020, 1, 1), '0.19'), gross('0.2650', '120', date(2026, 7, 1), '0.19')]
    assert projected_cost(prices, YEAR, Decimal(3200), CONTRACT) == Decimal('1123.60')
    flat = [gross('0.30', '120')]
    march = (date(2026, 3, 1), YEAR[1])
    assert projected_cost(flat, march, Decimal(1000), CONTRACT) == Decimal('400.60')  # 300 + 120 × 306/365
    june = (YEAR[0], date(2026, 6, 30))
    assert projected_cost(flat, june, Decimal(1000), CONTRACT) == Decimal('359.51')  # 300 + 120 × 181/365


def test_with_cents_the_review_limit_keeps_its_cents():
    """87,55 € − 20 % = 70,04 €: with whole euros rounded up the limit was 71 €, and 70,50 € went to staff review."""
    calc = Calculator(
        Decimal('87.55'), Decimal(0), 6, Decimal('600'), InstallmentRule(rounding='cents', lower_percent=20)
    )
    assert calc.review_below == Decimal('70.04') and not calc.needs_review(Decimal('70.50'))
    assert calc.needs_review(Decimal('70.03'))
    whole = Calculator(Decimal('87.55'), Decimal(0), 6, Decimal('600'), InstallmentRule(lower_percent=20))
    assert whole.review_below == Decimal(71)
