"""Numbers typed into a form that no range caught: each is answered at its field, never as an internal error."""

import pytest

from tests.pages.conftest import field, submit_for_error
from tests.pages.test_readings import open_form


@pytest.mark.parametrize('value', ['01.99999999999999999999.2026', '99999999999999999999.01.2026'])
async def test_a_reading_date_with_a_day_or_month_of_twenty_digits_is_explained_at_its_field(user, db, anna, value):
    """`date(2026, 10**20, 1)` raises OverflowError, not ValueError: the reading failed as "unexpected error" with a
    logged traceback, where 31.02.2026 is explained at the field."""
    await open_form(user)
    field(user, 'Zählerstand').type('14000')
    field(user, 'Ablesedatum').clear().type(value)
    assert 'TT.MM.JJJJ' in await submit_for_error(user, 'Zählerstand übermitteln', 'Ablesedatum')
