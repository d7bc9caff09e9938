"""Every download and export, customer and staff, checks the session as a change does (issue 22, item 2): after the
login ended in another browser, or after 16 idle minutes, nothing is handed out and the browser is led to the
login. Each handler first shows that it does deliver while the session is valid."""

from datetime import timedelta

import pytest
from nicegui import app
from sqlmodel import Session, select

from domain.model import Bill, Contract, InboxMessage, StaffUser
from tests import clock
from tests.factories import PASSWORD, add_readings, end_login_elsewhere, make_customer, make_login, make_staff, year_end
from tests.pages.conftest import button, field, log_in, see
from tests.pages.test_backoffice import staff_login

PDF = b'%PDF-1.4\n% Dokument\n%%EOF\n'
ENDINGS = ('ended elsewhere', 'idle for 16 minutes')


@pytest.fixture
def customer(db, tmp_path):
    customer = make_customer(db, last_name='Download')
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13200))
    login = make_login(db, [customer['id']], email='download@example.org')
    documents = tmp_path / 'data' / 'documents'
    (documents / 'bills').mkdir(parents=True)
    (documents / 'inbox').mkdir(parents=True)
    (documents / 'bills' / 'stored.pdf').write_bytes(PDF)
    (documents / 'inbox' / 'stored.pdf').write_bytes(PDF)
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        bill = session.exec(select(Bill).where(Bill.contract_id == contract.id)).one()
        bill.pdf_path = 'bills/stored.pdf'
        session.add(bill)
        message = InboxMessage(
            customer_id=customer['id'],
            created_at=clock.now(),
            subject='Dokument',
            body='Anbei.',
            kind='document',
            document_path='inbox/stored.pdf',
        )
        session.add(message)
        session.commit()
        return {**customer, 'login': login, 'message_id': message.id}


async def end_session(user, db, customer, ending: str) -> None:
    if ending == 'ended elsewhere':
        end_login_elsewhere(db, customer['login']['id'])
    else:
        with user:
            app.storage.user['last_active'] -= 16 * 60


@pytest.mark.parametrize('ending', ENDINGS)
@pytest.mark.parametrize(
    'route',
    ['/rechnungen/{bill_number}.pdf', '/posteingang/dokument/{message_id}', '/kundendaten/sepa-mandat.pdf'],
)
async def test_a_document_route_delivers_only_while_the_session_is_valid(user, db, customer, route, ending):
    url = route.format(**customer)
    await log_in(user, 'download@example.org', PASSWORD)
    valid = await user.http_client.get(url)
    assert valid.status_code == 200 and valid.content.startswith(b'%PDF')
    await end_session(user, db, customer, ending)
    late = await user.http_client.get(url)
    assert late.status_code in (302, 307) and late.headers['location'] == '/'


@pytest.mark.parametrize('ending', ENDINGS)
async def test_the_consumption_csv_is_handed_out_only_while_the_session_is_valid(user, db, customer, ending):
    await log_in(user, 'download@example.org', PASSWORD)
    await user.open('/verbrauch')
    button(user, 'Als CSV herunterladen').click()
    assert (await user.download.next(timeout=5)).content.startswith('\ufeffZählernummer;Zeitraum;'.encode())
    await end_session(user, db, customer, ending)
    button(user, 'Als CSV herunterladen').click()
    await see(user, 'Passwort vergessen?')
    assert len(user.download.http_responses) == 1


@pytest.mark.parametrize('ending', ENDINGS)
async def test_a_reading_confirmation_is_handed_out_only_while_the_session_is_valid(user, db, customer, ending):
    await log_in(user, 'download@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    days = (clock.today() - year_end()).days
    field(user, 'Zählerstand').type(str(13200 + 9 * days))
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Bestätigung als PDF')
    button(user, 'Bestätigung als PDF').click()
    assert (await user.download.next(timeout=5)).content.startswith(b'%PDF')
    await end_session(user, db, customer, ending)
    button(user, 'Bestätigung als PDF').click()
    await see(user, 'Passwort vergessen?')
    assert len(user.download.http_responses) == 1


@pytest.mark.parametrize('ending', ENDINGS)
async def test_the_data_export_is_handed_out_only_while_the_session_is_valid(user, db, customer, ending):
    await log_in(user, 'download@example.org', PASSWORD)
    await user.open('/einstellungen')
    button(user, 'Meine Daten herunterladen').click()
    assert b'download@example.org' in (await user.download.next(timeout=5)).content
    await end_session(user, db, customer, ending)
    button(user, 'Meine Daten herunterladen').click()
    await see(user, 'Passwort vergessen?')
    assert len(user.download.http_responses) == 1


@pytest.mark.parametrize('ending', ENDINGS)
@pytest.mark.parametrize('export', ['Änderungen als CSV', 'Zählerstände als CSV'])
async def test_a_staff_export_is_handed_out_only_while_the_staff_session_is_valid(user, db, export, ending):
    make_customer(db, last_name='Export')
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/aenderungen')
    field(user, 'Seit (Datum)').type(f'{clock.today() - timedelta(days=30):%d.%m.%Y}')
    button(user, export).click()
    first = await user.download.next(timeout=5)
    assert first.content.startswith((b'\xef\xbb\xbfat;actor;', b'\xef\xbb\xbfmeter_number;'))  # with its BOM
    if ending == 'ended elsewhere':
        with Session(db) as session:
            staff = session.exec(select(StaffUser)).one()
            staff.session_epoch += 1
            session.add(staff)
            session.commit()
    else:
        with user:
            app.storage.user['staff_active'] -= 16 * 60
    button(user, export).click()
    await see(user, 'Passwort')  # the staff login
    assert len(user.download.http_responses) == 1
