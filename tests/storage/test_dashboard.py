"""The Übersicht's use case (domain/dashboard.py) on SQLite and PostgreSQL: what its chart shows."""

from datetime import date, timedelta

from sqlmodel import Session, select

from domain import dashboard
from domain.model import Contract, Meter
from tests.factories import add_readings, make_customer, make_login, portal_today, year_end
from tests.storage.conftest import run


def test_the_chart_shows_the_meter_supplied_now_not_that_of_a_contract_a_move_ended(uow, context, engine):
    """A customer moved within the area: the old contract ended, a new one runs. The chart showed the old meter
    (the first listed, by the contracts' start)."""
    customer = make_customer(engine)
    moved = date(portal_today().year - 2, 12, 31)
    with Session(engine) as session:
        old = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        old.end_date = moved
        session.add(old)
        new = Contract(
            contract_number=f'N{customer["id"]:08d}',
            customer_id=customer['id'],
            commodity='electricity',
            tariff_code='STROM-BASIS',
            start_date=moved + timedelta(days=1),
            malo_id='41373559241',
        )
        session.add(new)
        session.flush()
        session.add(Meter(meter_number='1EBZ019999999', contract_id=new.id))
        session.commit()
    add_readings(engine, customer['meter_number'], (year_end(5), 1000), (year_end(4), 4000), (moved, 9000))
    login = make_login(engine, [customer['id']])
    board = run(uow, dashboard.dashboard, context(), login['id'], customer['id'])
    assert board.consumption is not None and board.consumption.meter_number == customer['meter_number']  # no other
    add_readings(engine, '1EBZ019999999', (moved, 0), (year_end(1), 2500))
    board = run(uow, dashboard.dashboard, context(), login['id'], customer['id'])
    assert board.consumption is not None and board.consumption.meter_number == '1EBZ019999999'


def test_the_reading_task_goes_once_every_meter_is_read_in_the_period(uow, context, engine):
    """The water association reads from 02.12. to 26.01.: "Zählerstand melden" stayed on the Übersicht after the
    customer had read (the reminders knew, the dashboard did not)."""
    from dataclasses import replace
    from datetime import datetime

    from domain.clock import BERLIN
    from domain.profile import ReadingsRule

    customer = make_customer(engine, contract_start=date(2015, 1, 1))  # the days below are pinned
    login = make_login(engine, [customer['id']])
    add_readings(engine, customer['meter_number'], (date(2025, 12, 31), 1000))
    base = context(now=datetime(2026, 12, 10, 10, 0, tzinfo=BERLIN))
    rule = ReadingsRule(period_start='12-02', period_end='01-26')
    ctx = replace(base, profile=base.profile.model_copy(update={'readings': rule}))
    board = run(uow, dashboard.dashboard, ctx, login['id'], customer['id'])
    assert [task.key for task in board.tasks if task.key == 'dashboard.task_reading'] == ['dashboard.task_reading']
    add_readings(engine, customer['meter_number'], (date(2026, 12, 9), 1400))
    board = run(uow, dashboard.dashboard, ctx, login['id'], customer['id'])
    assert [task.key for task in board.tasks if task.key == 'dashboard.task_reading'] == []
