"""The reading code from a letter or a reminder (docs/domain.md §10): one reading with it, also when it is sent
twice at the same moment (a double click, two tabs)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from domain.clock import BERLIN
from domain.errors import MeterNotInSupply, ReadingCodeInvalid
from domain.model import Contract, Meter, MeterReading
from domain.reading_codes import issue_codes, submit_by_code
from tests.factories import make_customer, set_meter
from tests.storage.conftest import run


def test_a_code_sent_twice_at_the_same_moment_stores_one_reading(engine, uow, context):
    customer = make_customer(engine)
    with uow() as work:
        [issued] = [c for c in issue_codes(work, context()) if c.meter_number == customer['meter_number']]
    # Both hold after looking the code up; on SQLite the throttle's write lock already makes the second wait for the
    # first, so only on PostgreSQL can they meet (a barrier's timeout would also run on faketime's clock)
    both_looked = threading.Barrier(2 if engine.dialect.name == 'postgresql' else 1)

    def meet(found):
        both_looked.wait(timeout=20)
        return found

    def submit(address: str):
        try:
            with uow() as work:
                look = work.meters.by_code
                work.meters.by_code = lambda digest: meet(look(digest))
                values = {'1.8.0': '99999'}
                ctx = context(address=address)
                return submit_by_code(work, ctx, issued.code, customer['meter_number'], values, '', True, 'Neu')
        except ReadingCodeInvalid as refused:
            return refused

    with ThreadPoolExecutor(2) as pool:
        results = [done.result(timeout=40) for done in [pool.submit(submit, f'192.0.2.{n}') for n in (1, 2)]]
    assert sorted(type(result).__name__ for result in results) == ['ReadingCodeInvalid', 'Submitted']


def test_letter_codes_made_before_the_period_last_to_its_end(engine, uow, context):
    """Letters are prepared before the period opens (the water association's: 02.12.–26.01.): a code made on 20.11.
    was valid for eight weeks, to 15.01., and refused to a customer using the letter on 20.01."""
    customer = make_customer(engine, 'wasserverband-c', commodity='water')
    made = context('wasserverband-c', now=datetime(2026, 11, 20, 10, 0, tzinfo=BERLIN))
    with uow() as work:
        [issued] = [c for c in issue_codes(work, made) if c.meter_number == customer['meter_number']]
    assert issued.valid_until == date(2027, 1, 26)
    used = context('wasserverband-c', now=datetime(2027, 1, 20, 10, 0, tzinfo=BERLIN))
    with uow() as work:
        assert submit_by_code(work, used, issued.code, customer['meter_number'], {'1.8.0': '123'}, '').lines


def _end_contract(engine, customer_id: int, on: date) -> None:
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer_id)).one()
        contract.end_date = on
        session.add(contract)
        session.commit()


@pytest.mark.parametrize('change', ['meter removed', 'contract ended'])
def test_a_letter_code_of_a_meter_out_of_supply_meanwhile_stores_nothing(engine, uow, context, change):
    """The letter was printed before the meter was exchanged or the customer moved out (the import said so since):
    a reading for it would land on a meter nobody reads any more."""
    customer = make_customer(engine)
    with uow() as work:
        [issued] = [c for c in issue_codes(work, context()) if c.meter_number == customer['meter_number']]
    yesterday = context().today - timedelta(days=1)
    if change == 'meter removed':
        set_meter(engine, customer['meter_number'], removed_on=yesterday)
    else:
        _end_contract(engine, customer['id'], yesterday)
    with Session(engine) as session:
        before = len(session.exec(select(MeterReading)).all())
    with uow() as work, pytest.raises(MeterNotInSupply):
        submit_by_code(work, context(), issued.code, customer['meter_number'], {'1.8.0': '99999'}, '', True, 'Neu')
    with Session(engine) as session:
        assert len(session.exec(select(MeterReading)).all()) == before


def test_a_customer_under_notice_still_reports_by_code_and_on_the_page(engine, uow, context):
    """Supplied until the end of next month: the reading before the move-out is the one the utility needs most, and
    the reminders mail them a code for it; a first fix refused it as if the contract had ended."""
    from domain.readings import meter_forms
    from domain.reminders import reminders_on
    from tests.factories import make_login

    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='kuendigt@example.org')
    _end_contract(engine, customer['id'], context().today + timedelta(days=45))
    with uow() as work:  # the letters are made for them too
        [issued] = [c for c in issue_codes(work, context()) if c.meter_number == customer['meter_number']]
    with uow() as work:
        assert [f.meter_number for f in meter_forms(work, context(), login['id'], customer['id'])] == [
            customer['meter_number']
        ]
    with uow() as work:
        submitted = submit_by_code(work, context(), issued.code, customer['meter_number'], {'1.8.0': '99999'}, '', True)
    assert submitted.lines
    with uow() as work:  # the utility reads all year: no reminders to switch, under notice or not
        assert reminders_on(work, context(), login['id'], customer['id']) is None
    with uow() as work:
        assert reminders_on(work, context('wasserverband-c'), login['id'], customer['id']) is not None


def test_a_planned_exchange_codes_and_reminds_the_meter_read_today(engine, uow, context):
    """The exchange is in the master data for tomorrow: today the old meter is read, from tomorrow the new one. The
    letters and the reminders took `removed_on IS NULL`: only the new meter got a code (refused today), the old one
    neither code nor reminder."""
    from storage.unit_of_work import SqlUnitOfWork

    customer = make_customer(engine, email='wechsel@example.org')
    today = context().today
    tomorrow = today + timedelta(days=1)
    set_meter(engine, customer['meter_number'], removed_on=tomorrow)
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        session.add(Meter(meter_number='1EBZ0199999998', contract_id=old.contract_id, installed_on=tomorrow))
        session.commit()
    with uow() as work:
        coded = {c.meter_number: c for c in issue_codes(work, context())}
    with SqlUnitOfWork(engine) as work:
        reminded = {t.meter_number for t in work.reminders.targets(0, 1000, (today, tomorrow), 'start', today)}
    assert customer['meter_number'] in coded and '1EBZ0199999998' in coded  # each for its days of the letter's
    assert customer['meter_number'] in reminded and '1EBZ0199999998' not in reminded  # today's meter only
    with uow() as work:
        code = coded[customer['meter_number']].code
        assert submit_by_code(work, context(), code, customer['meter_number'], {'1.8.0': '99999'}, '', True).lines


def test_letters_made_before_the_period_code_the_meter_that_will_be_read_in_it(engine, uow, context):
    """Letters prepared 20.11. for the period 02.12.-26.01., the exchange planned for 25.11.: the code was the old
    meter's, which every reading in the period refuses, and the new meter got none."""
    customer = make_customer(engine, 'wasserverband-c', commodity='water')
    exchange = date(2026, 11, 25)
    set_meter(engine, customer['meter_number'], removed_on=exchange)
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        session.add(Meter(meter_number='8ITR00999998', contract_id=old.contract_id, installed_on=exchange))
        session.commit()
    made = context('wasserverband-c', now=datetime(2026, 11, 20, 10, 0, tzinfo=BERLIN))
    with uow() as work:
        coded = {c.meter_number: c for c in issue_codes(work, made)}
    assert '8ITR00999998' in coded and customer['meter_number'] not in coded
    used = context('wasserverband-c', now=datetime(2027, 1, 20, 10, 0, tzinfo=BERLIN))
    with uow() as work:
        assert submit_by_code(work, used, coded['8ITR00999998'].code, '8ITR00999998', {'1.8.0': '3'}, '').lines


def test_a_code_reading_dated_on_the_period_s_last_day_and_sent_after_midnight_is_taken(engine, uow, context):
    """As with the login: the letter's code ended at midnight after the period's last day, so a reading begun before
    it and sent a minute later was "code invalid" (and counted as a guess); one dated on the new day is still
    refused, and an hour later the code is over."""
    from domain.errors import ReadingPeriodClosed
    from tests.factories import add_readings

    customer = make_customer(engine, 'wasserverband-c', commodity='water', contract_start=date(2015, 1, 1))
    add_readings(engine, customer['meter_number'], (date(2025, 12, 31), 1000), (date(2026, 12, 31), 1100))
    in_period = context('wasserverband-c', now=datetime(2027, 1, 20, 10, 0, tzinfo=BERLIN))
    [issued] = [c for c in run(uow, issue_codes, in_period) if c.meter_number == customer['meter_number']]
    just_after = context('wasserverband-c', now=datetime(2027, 1, 27, 0, 0, 40, tzinfo=BERLIN))
    meter, code = customer['meter_number'], issued.code
    with pytest.raises(ReadingPeriodClosed):
        run(uow, submit_by_code, just_after, code, meter, {'1.8.0': '1108'}, '27.01.2027')
    later = context('wasserverband-c', now=datetime(2027, 1, 27, 1, 0, 40, tzinfo=BERLIN))
    with pytest.raises(ReadingCodeInvalid):
        run(uow, submit_by_code, later, code, meter, {'1.8.0': '1108'}, '26.01.2027')
    assert run(uow, submit_by_code, just_after, code, meter, {'1.8.0': '1108'}, '26.01.2027')
