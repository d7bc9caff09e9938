"""Umzug: how far ahead a move may be reported (docs/domain.md §8: not more than six months)."""

from datetime import date

import pytest

from domain.moves import six_months_after


@pytest.mark.parametrize(
    ('today', 'latest'),
    [
        (date(2026, 12, 4), date(2027, 6, 4)),
        (date(2026, 8, 31), date(2027, 2, 28)),  # no 31 February: that month's last day
        (date(2027, 8, 31), date(2028, 2, 29)),  # a leap year
        (date(2027, 3, 4), date(2027, 9, 4)),  # 184 days: a fixed number of days is a day short here
        (date(2026, 7, 1), date(2027, 1, 1)),  # across the new year
        (date(2026, 6, 30), date(2026, 12, 30)),
    ],
)
def test_a_move_may_be_reported_up_to_six_calendar_months_ahead(today, latest):
    assert six_months_after(today) == latest
