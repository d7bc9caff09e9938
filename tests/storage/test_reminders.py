"""Reading reminders (docs/domain.md §10) on SQLite and PostgreSQL: the start-of-period mail to every self-reader with
an email who has not opted out, a link with a working one-time code, spread at the relay's rate; the final one only
to those who have not read; never twice; the opt-out link."""

import email
from datetime import date, datetime, timedelta
from email.policy import default
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import Session, col, select

from domain.clock import BERLIN, SystemClock
from domain.errors import NotAllowed
from domain.model import Contract, Customer, Meter, OutboxMail, ReadingReminder, StaffUser
from domain.profile import ReadingsRule
from domain.reading_codes import open_by_code
from domain.reminders import due, opt_out_mac, reminder_list, stop_reminders
from storage.mail import FolderTransport, OutboxSender
from storage.reminders import run_reminders
from storage.unit_of_work import SqlUnitOfWork
from tests.clock import travel
from tests.factories import add_readings, link_in, make_customer, make_login, make_staff, set_meter

PROFILE = 'wasserverband-c'  # reads from 2 December to 26 January, across the new year
START = datetime(2026, 12, 2, 7, 0, tzinfo=BERLIN)
RULE = ReadingsRule(period_start='12-02', period_end='01-26')


@pytest.mark.parametrize(
    ('today', 'expected'),
    [
        (date(2026, 12, 1), None),
        (date(2026, 12, 2), ('start', date(2026, 12, 2), date(2027, 1, 26))),
        (date(2027, 1, 5), ('start', date(2026, 12, 2), date(2027, 1, 26))),  # a portal started late in the period
        (date(2027, 1, 19), ('final', date(2026, 12, 2), date(2027, 1, 26))),
        (date(2027, 1, 26), ('final', date(2026, 12, 2), date(2027, 1, 26))),
        (date(2027, 1, 27), None),
    ],
)
def test_which_reminder_is_due(today, expected):
    found = due(RULE, today)
    assert (found and (found.kind, found.start, found.end)) == expected


@pytest.mark.parametrize(
    ('today', 'start'), [(date(2027, 2, 28), date(2027, 2, 28)), (date(2028, 3, 10), date(2028, 2, 29))]
)
def test_a_period_from_29_february_reminds_in_common_years_too(today, start):
    """The profile takes 02-29 and the window opens on the 28th in a common year; the reminders' own date made
    date(2027, 2, 29), and the hourly job failed every day of that period."""
    found = due(ReadingsRule(period_start='02-29', period_end='03-31'), today)
    assert found is not None and (found.kind, found.start) == ('start', start)


def test_no_reminders_without_a_reading_period_or_with_the_rate_at_zero():
    assert due(ReadingsRule(), date(2026, 12, 2)) is None
    assert due(RULE.model_copy(update={'reminder_mails_per_minute': 0}), date(2026, 12, 2)) is None


def water_customer(engine, **overrides) -> dict:
    return make_customer(engine, PROFILE, commodity='water', with_bill=False, **overrides)


def reminders(engine) -> list[ReadingReminder]:
    with Session(engine) as session:
        return list(session.exec(select(ReadingReminder).order_by(col(ReadingReminder.id))))


def outbox(engine) -> list[OutboxMail]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMail).order_by(col(OutboxMail.next_attempt_at))))


def test_the_start_reminder_reaches_every_self_reader_with_an_email_once_at_the_relays_rate(engine, context):
    login = water_customer(engine)
    make_login(engine, [login['id']], email='login@example.org')
    contact = water_customer(engine, email='kontakt@example.org')
    water_customer(engine)  # no email at all
    opted_out = water_customer(engine, email='nein@example.org', reminders_off=True)
    remote = water_customer(engine, email='funk@example.org')
    set_meter(engine, remote['meter_number'], kind='radio')  # read remotely: nothing to remind of
    ended = water_customer(engine, email='weg@example.org')
    leaving = water_customer(engine, email='kuendigt@example.org')  # has given notice, still supplied
    for customer, end in ((ended, date(2026, 10, 31)), (leaving, date(2027, 3, 31))):
        with Session(engine) as session:
            contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
            contract.end_date = end
            session.add(contract)
            session.commit()
    early = water_customer(engine, email='frueh@example.org')
    add_readings(engine, early['meter_number'], (date(2026, 12, 2), 300), source='customer')  # read already
    ctx = context(PROFILE, now=START)
    with travel(START, tick=False):
        summary = run_reminders(engine, ctx)
        again = run_reminders(engine, context(PROFILE, now=START + timedelta(hours=1)))
    assert (summary.kind, summary.queued, again.queued) == ('start', 3, 0)
    assert [(r.customer_id, r.kind, r.email, r.period_end) for r in reminders(engine)] == [
        (login['id'], 'start', 'login@example.org', date(2027, 1, 26)),
        (contact['id'], 'start', 'kontakt@example.org', date(2027, 1, 26)),
        (leaving['id'], 'start', 'kuendigt@example.org', date(2027, 1, 26)),
    ]
    mails = outbox(engine)
    assert [m.recipient for m in mails] == ['login@example.org', 'kontakt@example.org', 'kuendigt@example.org']
    gap = timedelta(seconds=60 / ctx.profile.readings.reminder_mails_per_minute)
    assert mails[1].next_attempt_at - mails[0].next_attempt_at == gap  # spread at the relay's rate
    assert 'bis zum 26.01.2027' in mails[0].subject and 'nein@example.org' not in str(mails)
    link = link_in(mails[0].text, '/ablesung')
    query = parse_qs(urlparse(link).query)
    assert query['zaehler'] == [login['meter_number']]
    with travel(START, tick=False), SqlUnitOfWork(engine) as work:  # the link's code opens that meter's form
        form = open_by_code(work, ctx, query['code'][0], query['zaehler'][0])
    assert form.meter_number == login['meter_number']
    assert f'/erinnerungen-abbestellen/{login["id"]}/{opt_out_mac(ctx, login["id"])}' in mails[0].text
    assert opted_out['id'] not in {r.customer_id for r in reminders(engine)}


def test_the_final_reminder_goes_only_to_those_who_have_not_read(engine, context):
    read = water_customer(engine, email='gelesen@example.org')
    missing = water_customer(engine, email='fehlt@example.org')
    with travel(START, tick=False):
        run_reminders(engine, context(PROFILE, now=START))
    add_readings(engine, read['meter_number'], (date(2026, 12, 20), 512), source='customer')
    final_day = datetime(2027, 1, 19, 7, 0, tzinfo=BERLIN)
    with travel(final_day, tick=False):
        summary = run_reminders(engine, context(PROFILE, now=final_day))
    assert (summary.kind, summary.queued) == ('final', 1)
    finals = [(r.customer_id, r.email) for r in reminders(engine) if r.kind == 'final']
    assert finals == [(missing['id'], 'fehlt@example.org')]
    assert 'Ihr Zählerstand fehlt noch – bitte bis zum 26.01.2027 melden' in outbox(engine)[-1].subject


def test_the_opt_out_link_stops_the_reminders_and_confirms_it(engine, context, uow):
    customer = water_customer(engine, email='stopp@example.org')
    ctx = context(PROFILE)
    with uow() as work, pytest.raises(NotAllowed):
        stop_reminders(work, ctx, customer['id'], 'f' * 24)
    with uow() as work, pytest.raises(NotAllowed):
        stop_reminders(work, ctx, 2**40, opt_out_mac(ctx, 2**40))  # out of range before the database
    with uow() as work, pytest.raises(NotAllowed):
        stop_reminders(work, ctx, customer['id'], 'ää')  # not a signature at all: refused before comparing
    with uow() as work:
        stop_reminders(work, ctx, customer['id'], opt_out_mac(ctx, customer['id']))
    with Session(engine) as session:
        assert session.get(Customer, customer['id']).reminders_off
    assert 'Keine Ablese-Erinnerungen mehr' in outbox(engine)[-1].subject
    with travel(START, tick=False):
        assert run_reminders(engine, context(PROFILE, now=START)).queued == 0


def test_staff_see_who_got_which_reminder(engine, context, uow):
    customer = water_customer(engine, email='liste@example.org')
    water_customer(engine, email='andere@example.org')
    with travel(START, tick=False):
        run_reminders(engine, context(PROFILE, now=START))
    make_staff(engine)
    with Session(engine) as session:
        staff_id = session.exec(select(StaffUser.id)).one()
    with uow() as work:
        lines = reminder_list(work, staff_id, customer['customer_number'])
    assert [(line.customer_number, line.kind, line.email) for line in lines] == [
        (customer['customer_number'], 'start', 'liste@example.org')
    ]
    with uow() as work:
        assert len(reminder_list(work, staff_id, '')) == 2


async def test_a_reminder_carries_a_one_click_opt_out_header(engine, context, tmp_path):
    customer = water_customer(engine, email='kopf@example.org')
    ctx = context(PROFILE, now=START)
    with travel(START, tick=False):
        run_reminders(engine, ctx)
        sender = OutboxSender(engine, FolderTransport(tmp_path, SystemClock()), 'portal@wv.example', SystemClock())
        assert await sender.send_due() == 1
    [eml] = tmp_path.glob('*.eml')
    message = email.message_from_bytes(eml.read_bytes(), policy=default)
    stop = f'http://portal.test/erinnerungen-abbestellen/{customer["id"]}/{opt_out_mac(ctx, customer["id"])}'
    assert message['List-Unsubscribe'] == f'<{stop}>'
    assert message['List-Unsubscribe-Post'] == 'List-Unsubscribe=One-Click'


def test_a_reminder_still_queued_is_not_sent_after_an_opt_out_or_a_deleted_profile(engine, context, uow):
    """Spread at the relay's rate, a mailing to 150,000 takes hours: a customer who opted out (or deleted their
    profile) before their turn got "Keine Ablese-Erinnerungen mehr" and then the reminder, with a live code link."""
    from domain.accounts import delete_profile
    from tests.factories import PASSWORD

    water_customer(engine, email='erste@example.org')
    stops = water_customer(engine, email='stopp@example.org')
    leaves = water_customer(engine)
    login = make_login(engine, [leaves['id']], email='geht@example.org')
    with travel(START, tick=False):
        assert run_reminders(engine, context(PROFILE, now=START)).queued == 3
    with uow() as work:
        stop_reminders(work, context(PROFILE, now=START), stops['id'], opt_out_mac(context(PROFILE), stops['id']))
    with uow() as work:
        delete_profile(work, context(PROFILE, now=START), login['id'], PASSWORD)
    reminded = {m.recipient: m.status for m in outbox(engine) if 'Zählerstand' in m.subject}
    assert reminded == {  # the deleted profile's: withdrawn, and its copy deleted with the profile's mails
        'erste@example.org': 'queued',
        'stopp@example.org': 'withdrawn',
    }


def test_the_years_estimated_closing_reading_does_not_count_as_read_for_the_final_reminder(engine, context):
    """The bill run stores an estimated reading of 31.12. for every meter nobody read: inside the period, it made
    exactly the customers who had not read miss the final reminder."""
    missing = water_customer(engine, email='fehlt@example.org')
    with travel(START, tick=False):
        run_reminders(engine, context(PROFILE, now=START))
    add_readings(engine, missing['meter_number'], (date(2026, 12, 31), 512), source='estimated')  # the bill's end
    final_day = datetime(2027, 1, 19, 7, 0, tzinfo=BERLIN)
    with travel(final_day, tick=False):
        summary = run_reminders(engine, context(PROFILE, now=final_day))
    assert (summary.kind, summary.queued) == ('final', 1)


def test_a_reading_period_extended_by_staff_sends_no_reminder_twice(engine, context):
    """The reminders were keyed by the period's end: staff moving it from 26.01. to 31.01. in the back office sent
    everyone who had not read a second start reminder with a second code, and in the last week a second final one."""
    from dataclasses import replace

    water_customer(engine, email='einmal@example.org')

    def extended(now: datetime, end: str):
        base = context(PROFILE, now=now)
        rule = base.profile.readings.model_copy(update={'period_end': end})
        return replace(base, profile=base.profile.model_copy(update={'readings': rule}))

    with travel(START, tick=False):
        assert run_reminders(engine, context(PROFILE, now=START)).queued == 1
    later = datetime(2026, 12, 10, 7, 0, tzinfo=BERLIN)
    with travel(later, tick=False):
        again = run_reminders(engine, extended(later, '01-31'))
        assert (again.kind, again.queued) == ('start', 0)
    final_day = datetime(2027, 1, 20, 7, 0, tzinfo=BERLIN)
    with travel(final_day, tick=False):
        assert run_reminders(engine, context(PROFILE, now=final_day)).queued == 1
    last_week = datetime(2027, 1, 23, 7, 0, tzinfo=BERLIN)
    with travel(last_week, tick=False):
        assert run_reminders(engine, extended(last_week, '01-29')).queued == 0
    assert [r.kind for r in reminders(engine)] == ['start', 'final']


def test_a_deleted_profile_leaves_its_login_email_in_no_reminder_record(engine, context, uow):
    """The deletion withdrew the queued reminders and forgot the mails, but the reminders' record kept the address,
    shown to staff under Verwaltung → Erinnerungen."""
    from domain.accounts import delete_profile
    from tests.factories import PASSWORD

    leaves = water_customer(engine, email='kontakt@example.org')
    login = make_login(engine, [leaves['id']], email='geht@example.org')
    with travel(START, tick=False):
        assert run_reminders(engine, context(PROFILE, now=START)).queued == 1
    assert [r.email for r in reminders(engine)] == ['geht@example.org']
    with uow() as work:
        delete_profile(work, context(PROFILE, now=START), login['id'], PASSWORD)
    make_staff(engine)
    with Session(engine) as session:
        staff_id = session.exec(select(StaffUser.id)).one()
    with uow() as work:
        shown = [line.email for line in reminder_list(work, staff_id, leaves['customer_number'])]
    assert [r.email for r in reminders(engine)] == [''] and shown == ['']


def test_a_meter_exchanged_in_the_period_is_reminded_its_installation_value_is_no_reading(engine, context):
    """The old meter is exchanged on 10.12., in the period: the billing system sends the new meter's installation
    value (read by the fitter, 0) dated that day. It counted as "read", so the customer who had read nothing got no
    final reminder for the meter that the year's reading needs."""
    customer = water_customer(engine, email='wechsel@example.org')
    with travel(START, tick=False):
        assert run_reminders(engine, context(PROFILE, now=START)).queued == 1
    exchange = date(2026, 12, 10)
    set_meter(engine, customer['meter_number'], removed_on=exchange)
    with Session(engine) as session:
        old = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        session.add(Meter(meter_number='8ITR00777777', contract_id=old.id, installed_on=exchange))
        session.commit()
    add_readings(engine, customer['meter_number'], (exchange, 812))  # the old meter's removal value
    add_readings(engine, '8ITR00777777', (exchange, 0))  # the new one's installation value
    final_day = datetime(2027, 1, 19, 7, 0, tzinfo=BERLIN)
    with travel(final_day, tick=False):
        summary = run_reminders(engine, context(PROFILE, now=final_day))
    assert (summary.kind, summary.queued) == ('final', 1)
    assert 'Zähler 8ITR00777777' in outbox(engine)[-1].text


def test_a_tenant_who_moves_in_during_the_period_is_reminded_the_previous_one_s_reminder_and_reading_are_not_theirs(
    engine, context
):
    """The previous tenant got the start reminder and read on moving out (10.12.); the billing system hands the meter
    to the new tenant's contract from 11.12. The reminder sent to the previous tenant and the move-out reading counted
    for the meter: the new tenant got neither reminder. A renewal (the same customer under a new contract number at
    the same address) is no new tenant: a reading before it counts."""
    before = water_customer(engine, email='vorher@example.org', contract_start=date(2020, 1, 1))
    renewing = water_customer(engine, email='verlaengert@example.org', contract_start=date(2020, 1, 1))
    with travel(START, tick=False):
        assert run_reminders(engine, context(PROFILE, now=START)).queued == 2
    moved_out, moved_in = date(2026, 12, 10), date(2026, 12, 11)
    add_readings(engine, before['meter_number'], (moved_out, 640), source='customer')  # the move-out reading
    add_readings(engine, renewing['meter_number'], (date(2026, 12, 5), 333), source='customer')
    after = water_customer(engine, email='nachher@example.org', contract_start=moved_in)
    set_meter(engine, after['meter_number'], kind='radio')  # the factory's own meter: only the one handed on counts
    with Session(engine) as session:
        for customer, address in ((before, 'Am Brunnen 1, 27749 Aue'), (renewing, 'Am Brunnen 2, 27749 Aue')):
            old = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
            old.end_date, old.supply_address = moved_out, address
            session.add(old)
        new = session.exec(select(Contract).where(Contract.customer_id == after['id'])).one()
        again = Contract(
            customer_id=renewing['id'],
            contract_number=f'{new.contract_number}-V',
            commodity='water',
            tariff_code=new.tariff_code,
            start_date=moved_in,
            supply_address='Am Brunnen 2, 27749 Aue',
        )
        session.add(again)
        session.flush()
        for meter_number, contract in ((before['meter_number'], new), (renewing['meter_number'], again)):
            meter = session.exec(select(Meter).where(Meter.meter_number == meter_number)).one()
            meter.contract_id = contract.id  # the billing system hands the meter on (meters.csv)
            session.add(meter)
        session.commit()
    later = datetime(2026, 12, 12, 7, 0, tzinfo=BERLIN)
    with travel(later, tick=False):
        assert run_reminders(engine, context(PROFILE, now=later)).queued == 1
    assert [r.email for r in reminders(engine)][-1] == 'nachher@example.org'
    assert before['meter_number'] in outbox(engine)[-1].text
    final_day = datetime(2027, 1, 19, 7, 0, tzinfo=BERLIN)
    with travel(final_day, tick=False):
        summary = run_reminders(engine, context(PROFILE, now=final_day))
    assert (summary.kind, summary.queued) == ('final', 1)  # the new tenant has not read; the renewed customer has
    assert [(r.email, r.kind) for r in reminders(engine)][-1] == ('nachher@example.org', 'final')
