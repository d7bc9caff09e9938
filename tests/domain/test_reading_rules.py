from datetime import date
from decimal import Decimal

import pytest

from domain.errors import DateFormat, FieldRequired, FutureDate, ReadingFormat, ReadingLower
from domain.i18n import t, using
from domain.profile import ReadingsRule
from domain.reading_rules import gas_kwh, judge, parse_date, parse_value, reading_window, register_field, register_name

RULE = ReadingsRule()
PERIOD = ReadingsRule(period_start='12-02', period_end='01-26')
# 3,650 units a year: 10 a day
HISTORY = [(date(2024, 12, 31), Decimal(10000)), (date(2025, 12, 31), Decimal(13650))]


def test_readings_are_accepted_all_year_without_a_period():
    assert reading_window(RULE, date(2026, 7, 1)).open


@pytest.mark.parametrize(
    ('today', 'is_open', 'opens', 'closes'),
    [
        (date(2026, 11, 23), False, date(2026, 12, 2), None),
        (date(2026, 12, 2), True, None, date(2027, 1, 26)),
        (date(2027, 1, 26), True, None, date(2027, 1, 26)),
        (date(2027, 1, 27), False, date(2027, 12, 2), None),
    ],
)
def test_a_reading_period_across_new_year(today, is_open, opens, closes):
    window = reading_window(PERIOD, today)
    assert (window.open, window.opens_on, window.closes_on) == (is_open, opens, closes)


@pytest.mark.parametrize(
    ('today', 'is_open', 'closes'),
    [
        (date(2027, 2, 28), True, date(2027, 2, 28)),  # a common year: the period ends on the 28th
        (date(2027, 3, 1), False, None),
        (date(2028, 2, 29), True, date(2028, 2, 29)),
    ],
)
def test_a_period_ending_on_29_february_ends_on_the_28th_in_a_common_year(today, is_open, closes):
    window = reading_window(ReadingsRule(period_start='12-01', period_end='02-29'), today)
    assert (window.open, window.closes_on) == (is_open, closes)


def test_a_value_within_half_and_twice_the_expectation_is_plausible():
    # 100 days after the last reading: 1,000 expected, 500 … 2,000 accepted
    j = judge(HISTORY, date(2026, 4, 10), Decimal(14650), 6, RULE)
    assert (j.status, j.consumption, j.expected_low, j.expected_high) == ('ok', 1000, 14150, 15650)
    assert judge(HISTORY, date(2026, 4, 10), Decimal(14150), 6, RULE).status == 'ok'
    assert judge(HISTORY, date(2026, 4, 10), Decimal(15650), 6, RULE).status == 'ok'


@pytest.mark.parametrize('value', [13700, 14149, 15651, 30000])
def test_values_outside_the_range_are_implausible_not_refused(value):
    assert judge(HISTORY, date(2026, 4, 10), Decimal(value), 6, RULE).status == 'implausible'


def test_a_lower_value_near_the_end_of_the_dial_is_a_rollover():
    history = [(date(2024, 12, 31), Decimal(97000)), (date(2025, 12, 31), Decimal(99000))]
    j = judge(history, date(2026, 6, 30), Decimal(500), 5, RULE)
    assert (j.status, j.consumption) == ('rollover', 1500)  # 500 + 100,000 − 99,000


def test_a_lower_value_without_explanation_is_refused():
    with pytest.raises(ReadingLower) as raised:
        judge(HISTORY, date(2026, 4, 10), Decimal(13000), 6, RULE)
    assert raised.value.params == {'last': '13.650', 'last_date': '31.12.2025'}


def test_a_meter_exchange_from_master_data_starts_again():
    j = judge(HISTORY, date(2026, 4, 10), Decimal(12), 6, RULE, installed_on=date(2026, 3, 1))
    assert (j.status, j.consumption) == ('exchange', 12)


def test_after_an_exchange_the_new_meter_is_expected_to_use_what_the_old_one_did():
    """The new meter's first reading (12 on 01.03.) and the old meter's 10 a day: twenty days later 1,000 is
    implausible and 212 is fine (the old meter's values, far higher, left every value 'ok')."""
    history = [*HISTORY, (date(2026, 3, 1), Decimal(12))]
    exchanged = date(2026, 3, 1)
    assert judge(history, date(2026, 3, 21), Decimal(1000), 6, RULE, exchanged).status == 'implausible'
    assert judge(history, date(2026, 3, 21), Decimal(212), 6, RULE, exchanged).status == 'ok'
    later = [*history, (date(2026, 3, 21), Decimal(312))]  # its own two readings from then on: 15 a day
    assert judge(later, date(2026, 3, 31), Decimal(462), 6, RULE, exchanged).expected_high == 312 + 300


def test_one_lower_without_an_expectation_is_a_typo_not_a_rollover():
    """With only one reading known, 950,000 → 949,000 would have been a rollover of 999,000 kWh."""
    with pytest.raises(ReadingLower):
        judge([(date(2025, 12, 31), Decimal(950000))], date(2026, 4, 10), Decimal(949000), 6, RULE)
    rolled = judge([(date(2025, 12, 31), Decimal(999000))], date(2026, 4, 10), Decimal(1500), 6, RULE)
    assert (rolled.status, rolled.consumption) == ('rollover', 2500)


def test_the_first_reading_of_a_meter_has_nothing_to_compare():
    assert judge([], date(2026, 4, 10), Decimal(5), 6, RULE).status == 'first'


def test_gas_vector():
    assert gas_kwh(Decimal(1500), Decimal('0.9640'), Decimal('11.250')) == 16268


@pytest.mark.parametrize('text', ['12345,6', '12.345', 'abc', '1234567', '-5', '１２３'])
def test_only_digits_before_the_decimal_point(text):
    with pytest.raises(ReadingFormat):
        parse_value(text, 6, '1.8.0')


def test_leading_zeros_and_spaces_are_fine():
    assert parse_value(' 012 345 ', 6, '1.8.0') == 12345
    assert parse_value('000123456', 6, '1.8.0') == 123456


def test_thousands_of_leading_zeros_sent_past_the_fields_limit_are_still_only_zeros():
    """The field holds 300 characters in the browser, the server takes 10,000: Python refuses to turn more than 4,300
    digits into a number, and the reading form (also the one without login) ended in a ValueError."""
    assert parse_value('0' * 5000 + '12345', 6, '1.8.0') == 12345


def test_a_missing_value_is_reported_at_the_registers_field_by_its_obis_code_and_label():
    with pytest.raises(FieldRequired) as missing, using('en'):
        parse_value(' ', 6, '1.8.2')
    assert missing.value.field == '1.8.2'
    assert (
        t(missing.value.key, 'en', **missing.value.params)
        == 'Please fill in the field “Meter reading off-peak rate (NT)”.'
    )


def test_registers_are_named_in_the_language_of_the_work_and_unknown_codes_as_they_are():
    assert (register_field('1.8.1'), register_name('1.8.1')) == ('Zählerstand HT', 'HT (1.8.1)')
    with using('en'):
        assert (register_field('1.8.1'), register_name('1.8.0')) == (
            'Meter reading peak rate (HT)',
            'single rate (1.8.0)',
        )
        assert register_field('1.8.0', 'de') == 'Zählerstand'
    assert register_field('2.8.0') == register_name('2.8.0') == '2.8.0'


def test_reading_dates():
    today = date(2026, 11, 23)
    assert parse_date('', today) == today
    assert parse_date('20.11.2026', today) == date(2026, 11, 20)
    assert parse_date('2026-11-20', today) == date(2026, 11, 20)
    with pytest.raises(FutureDate):
        parse_date('24.11.2026', today)
    with pytest.raises(DateFormat):
        parse_date('31.02.2026', today)
    for short in ('20.11.26', '0026-11-20'):  # stored as the year 26 before
        with pytest.raises(DateFormat):
            parse_date(short, today)


def test_after_a_rollover_the_next_reading_is_still_checked_for_plausibility():
    """A five-digit meter counting 3,200 a year went round its dial (98,000 → 1,200). Three months later about 790
    are expected; 90,000 (a typo: 88,800 kWh) passed as 'ok', the last period's use (1,200 − 98,000) taken for
    none."""
    history = [
        (date(2024, 12, 31), Decimal(94800)),
        (date(2025, 12, 31), Decimal(98000)),
        (date(2026, 12, 31), Decimal(1200)),
    ]
    assert judge(history, date(2027, 3, 31), Decimal(90000), 5, ReadingsRule()).status == 'implausible'
    assert judge(history, date(2027, 3, 31), Decimal(2000), 5, ReadingsRule()).status == 'ok'


@pytest.mark.parametrize(
    'history',
    [
        [(date(2026, 3, 1), Decimal('123.456'))],  # a water meter's move-in reading, read by the utility with decimals
        [(date(2025, 3, 1), Decimal('500.4')), (date(2026, 3, 1), Decimal('500.4'))],  # a flat left empty
    ],
)
def test_the_last_value_is_compared_by_its_digits_before_the_decimal_point(history):
    """The customer enters the digits before the decimal point only (§3): a dial at 123,9 after a utility's 123,456
    is 123 here, not lower than the last value (refused as "kleiner als der letzte Zählerstand")."""
    last = history[-1][1]
    j = judge(history, date(2026, 3, 3), Decimal(int(last)), 5, RULE)
    assert (j.status, j.consumption) == ('ok', 0)
