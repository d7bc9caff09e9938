"""Zählerstand melden with the code from the reading letter, without a login (/ablesung; user fixture)."""

from sqlmodel import Session, col, select

from domain.i18n import number
from domain.model import Throttle
from tests import clock
from tests.factories import last_mail, year_end
from tests.pages.conftest import button, field, see, submit_for_error
from tests.pages.test_readings import DAYS, LAST, customer_readings, labels_and_hints, last_audit


def issue_codes_for(db):
    from domain.ports import Context
    from domain.reading_codes import issue_codes
    from storage.settings import Settings
    from storage.unit_of_work import SqlUnitOfWork
    from tests.factories import CHEAP_HASHER

    settings = Settings()  # the same secret as the app under test
    ctx = Context(settings.load_profile(), settings.storage_secret, 'http://portal.test', CHEAP_HASHER, clock.now())
    with SqlUnitOfWork(db) as uow:
        return {c.meter_number: c.code for c in issue_codes(uow, ctx)}


async def test_a_reading_with_the_code_from_the_letter_without_login(user, db, anna):
    customer, _ = anna
    codes = issue_codes_for(db)
    code = codes[customer['meter_number']]
    await user.open('/ablesung')
    field(user, 'Ablesecode').type(code.lower().replace('-', ' '))
    field(user, 'Zählernummer').type('1EBZ0199999999')
    assert 'passen nicht zusammen' in await submit_for_error(user, 'Weiter', 'Ablesecode')
    field(user, 'Zählernummer').clear().type(customer['meter_number'])
    button(user, 'Weiter').click()
    await see(user, f'Letzter Zählerstand: 13.650 kWh vom {LAST}')
    field(user, 'Zählerstand').type(str(13650 + 10 * DAYS))
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Ihr Zählerstand vom')
    [reading] = customer_readings(db)
    assert reading.value == 13650 + 10 * DAYS
    assert 'channel=letter' in last_audit(db, 'reading_submitted').details
    assert 'Zählerstand ist eingegangen' in last_mail(db, 'anna@example.org').subject
    field(user, 'Zählerstand').clear().type(str(13650 + 10 * DAYS + 1))
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'soeben gemeldet; der Code gilt für eine Meldung')  # a code works once: not "wrong code"
    assert len(customer_readings(db)) == 1
    with Session(db) as session:  # nor is it counted as a wrong code against the address (ten locked it out)
        [tries] = session.exec(select(Throttle).where(col(Throttle.key).startswith('reading_code:'))).all()
    assert tries.failures == 1  # the wrong meter number typed first, only


async def test_the_reading_code_page_in_english_labels_and_hints_the_register_in_english(user, db, anna):
    customer, _ = anna
    code = issue_codes_for(db)[customer['meter_number']]
    await user.open('/ablesung')
    button(user, 'Show this page in English').click()
    await see(user, 'Submit a meter reading without logging in')
    field(user, 'Reading code').type(code)
    field(user, 'Meter number').type(customer['meter_number'])
    button(user, 'Next').click()
    await see(user, f'Last meter reading: 13.650 kWh of {year_end():%d.%m.%Y}')
    assert labels_and_hints(user)['Meter reading'] == 'kWh, at most 6 digits before the decimal point'
    assert 'Zählerstand' not in labels_and_hints(user)
    field(user, 'Meter reading').type('13.650,5')
    message = await submit_for_error(user, 'Submit meter reading', 'Meter reading')
    assert 'only the digits before the decimal point' in message
    field(user, 'Meter reading').clear().type(str(13650 + 10 * DAYS))
    button(user, 'Submit meter reading').click()
    await see(user, f'Meter reading: {number(13650 + 10 * DAYS)} kWh')
    assert [(r.obis, r.value) for r in customer_readings(db)] == [('1.8.0', 13650 + 10 * DAYS)]


async def test_guessing_reading_codes_is_throttled(user, db, anna):
    customer, _ = anna
    issue_codes_for(db)
    await user.open('/ablesung')
    field(user, 'Zählernummer').type(customer['meter_number'])
    for attempt in range(10):
        field(user, 'Ablesecode').clear().type(f'AAAA-BBBB-CC{attempt:02d}')
        assert 'passen nicht zusammen' in await submit_for_error(user, 'Weiter', 'Ablesecode')
    field(user, 'Ablesecode').clear().type('AAAA-BBBB-CCCC')
    assert 'Zu viele Versuche' in await submit_for_error(user, 'Weiter', 'Ablesecode')
