"""Oversize input and SQL metacharacters reach no query unchecked (SQLite and PostgreSQL)."""

import contextlib
from datetime import date

import pytest

from domain import service_desk, staff
from domain.accounts import login
from domain.errors import DomainError, InvalidCredentials, InvalidSetting, LoginNeedsEmail, TokenInvalid
from domain.identifiers import normalise_email
from domain.password_reset import request_password_reset
from domain.profile_admin import check
from domain.registration import user_from_reference
from storage.csv_kinds import whole
from tests.factories import make_customer
from tests.storage.conftest import run

HOSTILE = ["' OR '1'='1", '"; DROP TABLE customer; --', 'x' * 100_000, '%_\\', '\x00', 'ä' * 5000 + '@example.org']


@pytest.mark.parametrize('value', HOSTILE)
def test_login_and_reset_answer_calmly(uow, context, engine, value):
    make_customer(engine)
    typed = normalise_email(value)  # no @ in what is left of it: the form asks for an address
    with pytest.raises(InvalidCredentials if '@' in typed or not typed else LoginNeedsEmail):
        run(uow, login, context(), value, value)
    with contextlib.suppress(DomainError):  # a German message is fine; a database error fails the test
        run(uow, request_password_reset, context(), value)


@pytest.mark.parametrize('value', HOSTILE)
def test_the_staff_search_treats_metacharacters_as_text(uow, context, engine, value):
    make_customer(engine)
    run(uow, staff.create_staff, context(), 'cli', 'service@stadtwerke.example', 'Sven', 'service')
    with uow() as u:
        clerk = u.staff.by_email('service@stadtwerke.example').id
        try:
            hits = service_desk.find_customers(u, clerk, value)
        except DomainError:
            hits = []
    assert hits == []


@pytest.mark.parametrize('value', ['²', '1²', '٣'])
def test_numbers_from_outside_are_ascii_digits(context, value):
    """A superscript passed `str.isdigit` and then failed in `int` with Python's own message, shown on the staff's
    import page, or ended a link's check in an error instead of "link invalid"."""
    with pytest.raises(ValueError, match='is not a whole number from 0 to 12'):
        whole({'months': value}, 'months', high=12)
    with pytest.raises(TokenInvalid):
        user_from_reference(context(), f'{value}.abc')
    profile = context().profile
    with pytest.raises(InvalidSetting) as raised:
        check(profile, {'password.min_length': value}, date(2026, 12, 4))
    assert raised.value.field == 'password.min_length' and 'ganze Zahl' in str(raised.value.params)


@pytest.mark.parametrize(('value', 'accepted'), [('02-29', True), ('02-30', False), ('04-31', False), ('12-02', True)])
def test_a_reading_period_s_day_must_exist(context, value, accepted):
    profile = context().profile
    values = {'readings.period_start': '12-01', 'readings.period_end': value}
    if accepted:
        check(profile, values, date(2026, 12, 4))
    else:
        with pytest.raises(InvalidSetting):
            check(profile, values, date(2026, 12, 4))
