"""Who may read a meter, and for which days: not before the contract began or the meter was installed; a mailed
reminder's code stays valid when the paper letters' codes are issued, and opens the meter only while it is on the
customer's contract; a move-out value above what the meter showed later is marked for staff."""

from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import Session, select

from domain.clock import BERLIN
from domain.errors import DateBeforeSupply, MeterNotInSupply, ReadingCodeInvalid
from domain.model import Contract, Meter
from domain.moves import MoveForm, reading_field, report_move
from domain.reading_codes import issue_codes, submit_by_code
from domain.readings import submit_reading
from storage.reminders import run_reminders
from tests.clock import travel
from tests.factories import add_readings, link_in, mails_to, make_customer, make_login, set_meter, year_end
from tests.storage.conftest import NOW, run

TODAY = NOW.date()
WATER = 'wasserverband-c'
START = datetime(2026, 12, 2, 7, 0, tzinfo=BERLIN)  # the water association's reading period opens


def test_a_reading_dated_before_the_meters_installation_is_refused(uow, context, engine):
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']])
    set_meter(engine, customer['meter_number'], installed_on=TODAY - timedelta(days=3))
    with pytest.raises(DateBeforeSupply):
        _submit(uow, context, login, customer, '500', TODAY - timedelta(days=20))


def test_a_reading_dated_in_the_previous_tenants_time_is_refused(uow, context, engine):
    """The new tenant's contract began 10 days ago; the meter's last reading is the previous holder's."""
    customer = make_customer(engine, contract_start=TODAY - timedelta(days=10))
    login = make_login(engine, [customer['id']])
    add_readings(engine, customer['meter_number'], (TODAY - timedelta(days=100), 5000))
    with pytest.raises(DateBeforeSupply):
        _submit(uow, context, login, customer, '5200', TODAY - timedelta(days=50))


def test_no_reading_before_the_contract_has_begun(uow, context, engine):
    customer = make_customer(engine, contract_start=TODAY + timedelta(days=20))
    login = make_login(engine, [customer['id']])
    with pytest.raises(MeterNotInSupply):
        _submit(uow, context, login, customer, '500', TODAY)


def _submit(uow, context, login: dict, customer: dict, value: str, day: date) -> None:
    with uow() as work:
        submit_reading(
            work, context(), login['id'], customer['id'], customer['meter_number'], {'1.8.0': value}, day.isoformat()
        )


def _reminder_code(engine, recipient):
    [mail] = [m for m in mails_to(engine, recipient) if 'Zählerstand' in m.subject]
    query = parse_qs(urlparse(link_in(mail.text, '/ablesung')).query)
    return query['code'][0], query['zaehler'][0]


def test_letter_codes_issued_after_the_start_reminder_leave_the_reminders_link_working(engine, context, uow):
    make_customer(engine, WATER, commodity='water', with_bill=False, email='a@example.org')
    with travel(START, tick=False):
        assert run_reminders(engine, context(WATER, now=START)).queued == 1
    code, meter = _reminder_code(engine, 'a@example.org')
    with uow() as work:
        issue_codes(work, context(WATER, now=START + timedelta(days=1)))  # export reading-codes: the paper letters
    with uow() as work:  # ReadingCodeInvalid on main: the mailed link is dead
        submitted = submit_by_code(
            work, context(WATER, now=START + timedelta(days=3)), code, meter, {'1.8.0': '123'}, ''
        )
    assert submitted.lines


def test_the_moved_out_tenants_reminder_code_does_not_read_the_next_tenants_meter(engine, context, uow):
    old = make_customer(engine, WATER, commodity='water', with_bill=False, email='alt@example.org')
    with travel(START, tick=False):
        assert run_reminders(engine, context(WATER, now=START)).queued == 1
    code, meter_number = _reminder_code(engine, 'alt@example.org')
    new = make_customer(
        engine, WATER, commodity='water', with_bill=False, email='neu@example.org', contract_start=date(2026, 12, 16)
    )
    with Session(engine) as s:  # the import: the old contract ends, the meter goes to the next tenant's contract
        old_contract = s.exec(select(Contract).where(Contract.customer_id == old['id'])).one()
        new_contract = s.exec(select(Contract).where(Contract.customer_id == new['id'])).one()
        old_contract.end_date = date(2026, 12, 15)
        meter = s.exec(select(Meter).where(Meter.meter_number == meter_number)).one()
        meter.contract_id = new_contract.id
        s.add_all([old_contract, meter])
        s.commit()
    ctx = context(WATER, now=datetime(2026, 12, 20, 10, 0, tzinfo=BERLIN))
    with uow() as work, pytest.raises(ReadingCodeInvalid):
        submit_by_code(work, ctx, code, meter_number, {'1.8.0': '999'}, '')


def test_a_move_out_reading_above_a_later_reading_is_not_taken_unmarked(uow, context, engine):
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='umzug@example.org')
    add_readings(engine, customer['meter_number'], (year_end(2), 10000), (year_end(1), 13000))
    add_readings(engine, customer['meter_number'], (TODAY - timedelta(days=5), 15700), source='customer')
    form = MoveForm(
        move_out=(TODAY - timedelta(days=20)).strftime('%d.%m.%Y'),
        readings={
            reading_field(customer['meter_number'], '1.8.0'): '16000'
        },  # more than the meter showed 15 days later
        street='Neue Straße',
        house_number='7',
        postal_code='27751',
        city='Aue-Nord',
    )
    rows = dict(run(uow, report_move, context(), login['id'], customer['id'], form).rows)
    assert 'Hinweis' in rows, rows  # at least marked for staff
