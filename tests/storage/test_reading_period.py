"""Readings only within the reading period (docs/domain.md §1), by the day they are read, not only the day sent."""

from datetime import datetime

import pytest

from domain.clock import BERLIN
from domain.errors import DateBeforePeriod
from domain.readings import submit_reading
from tests.factories import make_customer, make_login


def test_a_reading_dated_before_the_open_period_is_refused_at_its_date(uow, context, engine):
    """The water association reads from 2 December to 26 January: on 4 December a reading dated in June is not one
    of this period's, whatever day it is sent."""
    customer = make_customer(engine, 'wasserverband-c', commodity='water')
    login = make_login(engine, [customer['id']], email='wasser@example.org')
    ctx = context('wasserverband-c', now=datetime(2026, 12, 4, 10, 0, tzinfo=BERLIN))
    with uow() as work, pytest.raises(DateBeforePeriod) as refused:
        submit_reading(work, ctx, login['id'], customer['id'], customer['meter_number'], {'1.8.0': '999'}, '15.06.2026')
    assert (refused.value.field, refused.value.params) == ('reading_date', {'start': '02.12.2026'})
