"""What the portal writes with nobody in front of it (the runs' inbox messages and mails, a reminder, a mail staff
cause) is in the language the customer last logged in with; it was German for everybody."""

from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from domain import service_desk as desk
from domain.clock import BERLIN
from domain.i18n import using
from domain.model import InboxMessage, PortalUser
from storage.bill_run import run as bill_run
from storage.information import run_information
from storage.reminders import run_reminders
from tests.clock import travel
from tests.factories import add_readings, mails_to, make_login
from tests.storage.conftest import login, run
from tests.storage.test_billing_run import RUN_AT, electricity, run_config
from tests.storage.test_information import online_customer
from tests.storage.test_reminders import PROFILE, START, water_customer


def test_a_login_keeps_the_language_it_signed_in_with(uow, context, login_user, engine):
    with using('en'):
        login(uow, context())
    with Session(engine) as session:
        assert session.exec(select(PortalUser.language)).one() == 'en'
    with using('de'):
        login(uow, context())
    with Session(engine) as session:
        assert session.exec(select(PortalUser.language)).one() == 'de'


def test_the_bill_run_writes_to_an_english_login_in_english(engine, database_url, tmp_path):
    config = run_config(database_url, tmp_path)
    with travel(RUN_AT, tick=False):  # as the billing run's own tests: the installments paid by the run's day
        _english_bill(engine, config)


def _english_bill(engine, config) -> None:
    customer = electricity(engine, paperless=True)
    make_login(engine, [customer['id']], email='online@example.org', language='en')
    bill_run(config, workers=1, progress=None)
    with Session(engine) as session:
        [message] = session.exec(select(InboxMessage)).all()
    assert message.subject.startswith('Your bill') and 'Back-payment: 12,60' in message.body.replace('\xa0', ' ')
    [mail] = mails_to(engine, 'online@example.org')
    assert 'Your bill' in mail.subject and 'Rechnung' not in mail.text


def test_the_billing_information_is_announced_in_english_to_an_english_login(engine, context, tmp_path):
    customer = online_customer(engine)
    with Session(engine) as session:
        user = session.exec(select(PortalUser)).one()
        user.language = 'en'
        session.add(user)
        session.commit()
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    with travel(datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN), tick=False):
        assert run_information(engine, context(now=datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)), tmp_path).made == 1
    with Session(engine) as session:
        [message] = session.exec(select(InboxMessage)).all()
    assert message.subject == 'Your billing information up to 30.06.2026' and 'of about' in message.body
    [mail] = mails_to(engine, 'info@example.org')
    assert 'Your billing information' in mail.subject


def test_a_reminder_and_a_message_staff_post_reach_an_english_login_in_english(engine, context, uow, clerk):
    customer = water_customer(engine)
    make_login(engine, [customer['id']], email='login@example.org', language='en')
    german = water_customer(engine, email='kontakt@example.org')  # no login: German
    with travel(START, tick=False):
        assert run_reminders(engine, context(PROFILE, now=START)).queued == 2
    [english] = mails_to(engine, 'login@example.org')
    [contact] = mails_to(engine, 'kontakt@example.org')
    assert 'meter reading' in english.subject.lower() and 'Zählerstand' in contact.subject and german
    later = context(PROFILE, now=START + timedelta(days=1))
    run(uow, desk.post_message, later, clerk, customer['id'], 'Ihre Anfrage', 'Bitte melden Sie sich.')
    assert 'inbox' in mails_to(engine, 'login@example.org')[-1].subject.lower()
