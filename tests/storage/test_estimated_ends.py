"""A bill that closes its period with an estimated reading keeps that estimate as the meter's reading of the day:
the next period starts from it (it started again from the last real reading, and the estimated part of the year was
billed twice), and a real reading taken later, lower or dated before it, is still taken."""

from dataclasses import replace
from datetime import date, datetime

from sqlmodel import Session, select

from domain.billing import from_json
from domain.clock import BERLIN
from domain.model import MeterReading
from domain.readings import submit_reading
from storage.bill_run import run
from tests.clock import travel
from tests.factories import add_readings, add_tariff, make_customer, make_login
from tests.storage.test_billing_run import RUN_AT, bills, run_config


def _estimated_2026(engine, database_url, tmp_path) -> tuple[dict, object]:
    config = run_config(database_url, tmp_path)
    with travel(RUN_AT, tick=False):  # as the billing run's own tests: its day, the installments paid by then
        customer = make_customer(engine)
        add_readings(engine, customer['meter_number'], (date(2024, 12, 31), 10000), (date(2025, 12, 31), 13650))
        add_tariff(engine, customer['id'], working_net='0.2500', base_net='120.00')
        summary = run(config, workers=1, progress=None)
    assert summary.errors == [] and summary.bills == 1
    return customer, config


def test_the_next_year_starts_where_the_estimated_end_of_this_one_left_off(engine, database_url, tmp_path):
    customer, config = _estimated_2026(engine, database_url, tmp_path)
    [first] = bills(engine)
    assert from_json(first.details).registers[0].end_value == 17300  # 13,650 + 3,650 estimated
    with Session(engine) as session:
        [estimate] = session.exec(select(MeterReading).where(MeterReading.source == 'estimated')).all()
    assert (estimate.reading_date, estimate.value) == (date(2026, 12, 31), 17300)
    add_readings(engine, customer['meter_number'], (date(2027, 12, 31), 21000))
    with travel(datetime(2028, 1, 10, 9, 0, tzinfo=BERLIN), tick=False):
        run(replace(config, year=2027, bill_date=date(2028, 1, 20)), workers=1, progress=None)
    second = from_json(bills(engine)[-1].details)
    assert second.registers[0].start_value == 17300 and second.consumption == 3700
    assert from_json(first.details).consumption + second.consumption == 21000 - 13650  # each kWh billed once


def test_a_real_reading_below_or_before_the_estimate_is_taken(engine, database_url, tmp_path, uow, context):
    customer, _ = _estimated_2026(engine, database_url, tmp_path)
    login = make_login(engine, [customer['id']])
    ctx = context(now=datetime(2027, 1, 10, 10, 0, tzinfo=BERLIN))
    with uow() as work:  # the meter showed less than the estimate, on the day the estimate was made for
        submit_reading(
            work,
            ctx,
            login['id'],
            customer['id'],
            customer['meter_number'],
            {'1.8.0': '17100'},
            '31.12.2026',
            True,
            'abgelesen',
        )
    with Session(engine) as session:
        readings = session.exec(select(MeterReading).where(MeterReading.reading_date == date(2026, 12, 31))).all()
    assert [(r.value, r.source) for r in readings] == [(17100, 'customer')]
