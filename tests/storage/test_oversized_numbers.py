"""Whole numbers of more digits than Python turns into an int (4,300): refused as any bad number, not as an error."""

from datetime import date

import pytest

from domain.errors import InvalidSetting, TokenInvalid
from domain.profile_admin import check
from domain.registration import confirm_pin
from tests.factories import make_customer
from tests.storage.conftest import run

HUGE = '9' * 4301  # int() raises ValueError ("Exceeds the limit (4300 digits)") after is_digits passed


def test_a_registration_reference_of_many_digits_is_an_invalid_link(uow, context, engine):
    """/registrieren/bestaetigen?ref=<4301 digits>.x with any PIN: "use case failed" with a traceback, for anyone."""
    make_customer(engine)
    with pytest.raises(TokenInvalid):
        run(uow, confirm_pin, context(), f'{HUGE}.abc', '123456')


@pytest.mark.parametrize('path', ['password.min_length', 'bills.online_from_year'])
def test_a_setting_of_many_digits_is_refused_at_its_field(context, path):
    with pytest.raises(InvalidSetting) as raised:
        check(context().profile, {path: HUGE}, date(2026, 12, 4))
    assert raised.value.field == path
