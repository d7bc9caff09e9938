"""Property-based tests (hypothesis) for identifiers, plausibility, installments and bill arithmetic."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain import i18n
from domain.billing import PricePeriod, compute_bill, price_segments, split_consumption
from domain.documents import german
from domain.errors import ReadingLower
from domain.identifiers import _SEPARATORS, is_iban, is_malo_id, malo_check_digit, normalise, printable
from domain.installment_rules import installment_for
from domain.profile import ReadingsRule
from domain.reading_rules import judge

settings.register_profile('portal', max_examples=200, deadline=None)
settings.load_profile('portal')
RULE = ReadingsRule()
money = st.decimals(min_value=Decimal('0.01'), max_value=Decimal('100000'), places=2)


def iban(country_digits: str) -> str:
    """A German IBAN with correct check digits for an 18-digit BBAN."""
    check = 98 - int(country_digits + '131400') % 97  # DE = 13 14, check digits 00
    return f'DE{check:02d}{country_digits}'


@given(st.text(alphabet=' -/.\t0123456789ABCabc', max_size=40))
def test_normalising_an_identifier_twice_changes_nothing(raw):
    assert normalise(normalise(raw)) == normalise(raw)


@given(st.text(max_size=220) | st.text(alphabet='0123456789ABCabcäß ', max_size=220))
def test_the_short_way_for_plain_identifiers_normalises_as_the_long_way(raw):
    assert normalise(raw) == _SEPARATORS.sub('', printable(raw, 200)).upper()


@given(st.from_regex(r'[0-9]{18}', fullmatch=True))
def test_every_correct_iban_passes_and_any_changed_digit_fails(bban):
    good = iban(bban)
    assert is_iban(good) and is_iban(' '.join(good[i : i + 4] for i in range(0, 22, 4)).lower())
    position = 4 + int(bban[0]) % 18
    changed = good[:position] + str((int(good[position]) + 1) % 10) + good[position + 1 :]
    assert not is_iban(changed)  # mod 97 catches every single changed digit


@given(st.from_regex(r'[1-9][0-9]{9}', fullmatch=True))
def test_a_malo_id_with_its_check_digit_is_valid(first_ten):
    assert is_malo_id(f'{first_ten}{malo_check_digit(first_ten)}')
    assert not is_malo_id(f'{first_ten}{(malo_check_digit(first_ten) + 1) % 10}')


@given(
    st.integers(1000, 500_000),
    st.integers(100, 20_000),
    st.integers(30, 400),
    st.integers(1, 400),
    st.decimals(min_value=Decimal('0.5'), max_value=Decimal('2'), places=2),
)
def test_a_reading_at_the_expected_pace_is_plausible(start, yearly, period_days, days, factor):
    first, last = date(2024, 12, 31), date(2024, 12, 31) + timedelta(days=period_days)
    history = [(first, Decimal(start)), (last, Decimal(start + yearly))]
    expected = Decimal(yearly) / period_days * days
    value = Decimal(start + yearly) + (expected * factor).quantize(Decimal(1))
    assume(expected * Decimal('0.5') >= 2 and value < Decimal(10) ** 9)  # rounding at the edges aside
    result = judge(history, last + timedelta(days=days), value, 9, RULE)
    low, high = result.expected_low, result.expected_high
    assert result.status == ('ok' if low <= value <= high else 'implausible')
    if Decimal('0.55') <= factor <= Decimal('1.95'):
        assert result.status == 'ok'


@given(st.integers(1000, 90_000), st.integers(1, 999))
def test_a_lower_value_far_from_the_end_of_the_dial_is_refused(last, drop):
    history = [(date(2025, 12, 31), Decimal(last))]
    with pytest.raises(ReadingLower):
        judge(history, date(2026, 6, 30), Decimal(last - drop), 6, RULE)


@given(money, st.sampled_from([1, 2, 4, 6, 10, 11, 12]))
def test_installments_cover_the_year_and_never_by_more_than_a_euro_each(annual, per_year):
    amount = installment_for(annual, per_year, 'up')
    assert amount * per_year >= annual and (amount - 1) * per_year < annual
    cents = installment_for(annual, per_year, 'cents')
    assert abs(cents * per_year - annual) <= Decimal('0.01') * per_year


@given(
    st.integers(0, 200_000),
    st.sampled_from(['electricity', 'gas', 'water']),
    st.integers(1, 364),
    st.decimals(min_value=Decimal('0.05'), max_value=Decimal('3'), places=4),
    st.decimals(min_value=Decimal('0.05'), max_value=Decimal('3'), places=4),
    money,
    st.sampled_from([Decimal('0.07'), Decimal('0.19')]),
)
def test_bill_arithmetic_adds_up(consumption, commodity, change_day, first, second, paid, vat):
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    prices = [
        PricePeriod(start, first, Decimal('120.00')),
        PricePeriod(start + timedelta(days=change_day), second, Decimal('120.00')),
    ]
    segments = price_segments(prices, start, end)
    parts = split_consumption(Decimal(consumption), segments, commodity)
    assert sum(parts) == consumption and all(p >= 0 for p in parts)
    bill = compute_bill(Decimal(consumption), commodity, start, end, prices, vat, paid)
    assert all(line.amount == line.amount.quantize(Decimal('0.01')) for line in bill.lines)
    assert bill.net == sum(line.amount for line in bill.lines)
    assert bill.gross == bill.net + bill.vat and bill.vat == (bill.net * vat).quantize(Decimal('0.01'), ROUND_HALF_UP)
    assert bill.balance == bill.gross - paid and bill.is_credit == (bill.balance < 0)


amounts = st.one_of(
    st.decimals(min_value=Decimal('-1e9'), max_value=Decimal('1e9'), allow_nan=False, places=3),
    st.decimals(min_value=Decimal('-2'), max_value=Decimal('2'), allow_nan=False),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)


@given(amounts, st.integers(min_value=0, max_value=3))
def test_amounts_and_numbers_read_as_babels_german_format(value, places):
    """i18n formats without Babel (for speed); what it shows must stay exactly what Babel's de_DE shows of the value
    rounded half up (Babel rounds half to even)."""
    pattern = '#,##0' + ('.' + '0' * places if places else '')
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    rounded, cents = (exact.quantize(Decimal(1).scaleb(-n), ROUND_HALF_UP) for n in (places, 2))
    assert i18n.number(value, places) == format_decimal(rounded, format=pattern, locale='de_DE')
    assert i18n.money(value) == format_currency(cents, 'EUR', locale='de_DE')


@pytest.mark.parametrize(
    ('value', 'places', 'shown'), [('2.25', 1, '2,3'), ('0.125', 2, '0,13'), ('-2.5', 0, '-3'), ('1234.5', 0, '1.235')]
)
def test_numbers_are_rounded_half_up_as_the_rules_are(value, places, shown):
    """Half to even, as Babel does, showed a change of 2.25 % as 2,2 % and 1,234.5 kWh as 1.234."""
    assert i18n.number(Decimal(value), places) == shown and german(Decimal(value), places) == shown


@given(st.dates(min_value=date(1000, 1, 1)))
def test_days_read_as_babels_german_format(value):
    assert i18n.day(value) == format_date(value, format='dd.MM.yyyy', locale='de_DE')
