"""What an outside probe sent (issue 22): identifiers that are paths, numbers that are no numbers, bodies too large to
read, uploads without a session. Each is refused with a clear answer and stores nothing (docs/security.md)."""

import base64
import json
from datetime import date
from decimal import Decimal

import pytest
from nicegui import ui
from sqlmodel import Session, func, select

from domain.model import Bill, Contract, InstallmentPlan, Price
from tests.factories import PASSWORD, add_readings, add_tariff, make_customer, make_login, make_staff, year_end
from tests.pages.conftest import button, field, log_in, see
from tests.pages.test_api import CUSTOMER, auth, token
from tests.pages.test_backoffice import admin_login

PDF = b'%PDF-1.4\n% Rechnung\n%%EOF\n'


def bill_row(db, number: str) -> dict:
    customer = make_customer(db, with_bill=False)
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
    return {
        'bill_number': number,
        'contract_number': contract.contract_number,
        'bill_date': '2027-01-15',
        'period_start': '2026-01-01',
        'period_end': '2026-12-31',
        'kind': 'annual',
        'amount_gross': '812.40',
    }


def count(db, model) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize('number', ['../../../x', 'a/b', '..', '/etc/passwd', 'RE 1', 'x\\y', '.hidden'])
async def test_a_bill_number_that_could_be_a_path_is_refused_and_nothing_is_written(user, db, tmp_path, number):
    writer = token(db, 'write')
    answer = await user.http_client.post(
        '/api/v1/bills',
        headers=auth(writer),
        json={'rows': [bill_row(db, number)], 'pdfs': {number: base64.b64encode(PDF).decode()}},
    )
    assert answer.status_code == 422
    assert answer.json()['detail'][0]['loc'] == ['body', 'rows', 0, 'bill_number']
    assert count(db, Bill) == 0
    assert not any(path.suffix == '.pdf' for path in tmp_path.rglob('*'))  # nothing written, anywhere


async def test_a_stored_path_that_leads_outside_the_documents_is_never_served(user, db, tmp_path):
    customer = make_customer(db, last_name='Pfad')
    make_login(db, [customer['id']], email='pfad@example.org')
    secret = tmp_path / 'secret.pdf'
    secret.write_bytes(PDF)
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        session.add(
            Bill(
                bill_number='RE-ALT-1',
                contract_id=contract.id,
                bill_date=date(2026, 1, 20),
                period_start=date(2025, 1, 1),
                period_end=date(2025, 12, 31),
                amount_gross=Decimal('10.00'),
                pdf_path='../secret.pdf',  # as an older version might have stored it
            )
        )
        session.commit()
    await log_in(user, 'pfad@example.org', PASSWORD)
    assert (await user.http_client.get('/rechnungen/RE-ALT-1.pdf')).status_code == 404


@pytest.mark.parametrize(
    ('field', 'value'),
    [
        ('working_price_net', 'NaN'),
        ('working_price_net', float('nan')),
        ('working_price_net', float('inf')),
        ('working_price_net', 'Infinity'),
        ('working_price_net', '1e999999'),
        ('working_price_net', '-0.25'),
        ('working_price_net', '250'),
        ('base_price_net_per_year', '-1'),
        ('vat_rate', '1.5'),
    ],
)
async def test_a_price_that_is_no_price_is_refused_at_its_field(user, db, field, value):
    writer = token(db, 'write')
    row = {
        'tariff_code': 'STROM-BASIS',
        'valid_from': '2027-01-01',
        'unit': 'kWh',
        'working_price_net': '0.2811',
        'base_price_net_per_year': '118.00',
        'vat_rate': '0.19',
        field: value,
    }
    body = json.dumps({'rows': [row]})  # JSON's NaN and Infinity as Python writes them
    answer = await user.http_client.put(
        '/api/v1/prices', headers={**auth(writer), 'Content-Type': 'application/json'}, content=body
    )
    assert answer.status_code == 422
    assert answer.json()['detail'][0]['loc'] == ['body', 'rows', 0, field]
    assert count(db, Price) == 0


async def test_an_installment_amount_that_is_no_number_stores_nothing(user, db):
    customer = make_customer(db)
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
    writer = token(db, 'write')
    for amount in ('NaN', '1e999999', '-92', '9999999'):
        row = {'contract_number': contract.contract_number, 'valid_from': '2027-01-01', 'amount': amount}
        row |= {'due_day': '15', 'per_year': '12'}
        answer = await user.http_client.put('/api/v1/installments', headers=auth(writer), json={'rows': [row]})
        assert answer.status_code == 422 and answer.json()['detail'][0]['loc'][-1] == 'amount'
    assert count(db, InstallmentPlan) == 0


async def test_a_cursor_beyond_any_change_is_refused_not_a_server_error(user, db):
    reader = token(db, 'read')
    answer = await user.http_client.get('/api/v1/changes?cursor=12345678901234567890123', headers=auth(reader))
    assert answer.status_code == 422 and answer.json()['detail'][0]['loc'] == ['query', 'cursor']


async def test_an_id_beyond_any_record_in_an_address_is_refused_not_a_server_error(user, db):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='erika@example.org')
    await log_in(user, 'erika@example.org', PASSWORD)
    answer = await user.http_client.get('/posteingang/dokument/12345678901234567890123')
    assert answer.status_code == 422 and answer.json()['detail'][0]['loc'] == ['path', 'message_id']


async def test_a_broken_number_in_the_database_shows_a_reference_not_the_exception(user, db, caplog):
    customer = make_customer(db, last_name='Kaputt')
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13650))  # a year to price
    add_tariff(db, customer['id'])
    make_login(db, [customer['id']], email='kaputt@example.org')
    with Session(db) as session:  # as an older version let the API store it
        for price in session.exec(select(Price)):
            price.working_price_net = Decimal('NaN')
            session.add(price)
        session.commit()
    await log_in(user, 'kaputt@example.org', PASSWORD)
    page = await user.http_client.get('/abschlag')
    [record] = [r for r in caplog.records if r.getMessage().startswith('page failed [reference')]
    number = record.getMessage().split()[-1].rstrip(']')
    assert page.status_code == 500 and f'nennen Sie bitte die Referenz {number}' in page.text
    assert 'InvalidOperation' not in page.text and 'Traceback' not in page.text
    assert record.exc_info is not None  # the details are in the log, under the reference shown
    caplog.clear()  # the error was the point of this test


async def put_streamed(user, headers: dict, megabytes: int) -> tuple[int, int]:
    """PUT /api/v1/prices with a body of `megabytes` streamed a megabyte at a time: the answer's status and how
    many megabytes the server read before it answered."""
    consumed = []

    async def body():
        for _ in range(megabytes):
            consumed.append(1)
            yield b' ' * 2**20

    answer = await user.http_client.put(
        '/api/v1/prices',
        content=body(),
        headers={**headers, 'Content-Type': 'application/json', 'Content-Length': str(megabytes * 2**20)},
    )
    return answer.status_code, len(consumed)


async def test_without_a_token_a_large_body_is_answered_401_before_it_is_read(user):
    assert await put_streamed(user, {}, 40) == (401, 0)


async def test_a_read_token_s_body_for_a_writing_route_is_answered_403_before_it_is_read(user, db):
    """The body was read and parsed (up to the body limit) before the route's scope check: a malformed one was
    answered 422 with parse details, a large one read whole."""
    reader = token(db, 'read')
    assert await put_streamed(user, auth(reader), 8) == (403, 0)
    malformed = await user.http_client.post(
        '/api/v1/readings', content=b'{"rows": [', headers={**auth(reader), 'Content-Type': 'application/json'}
    )
    assert (malformed.status_code, malformed.json()) == (403, {'detail': 'this token may only read'})
    changes = await user.http_client.get('/api/v1/changes', headers=auth(reader))
    assert changes.status_code == 200  # what it may do


async def test_a_body_above_the_limit_is_answered_413_before_it_is_read(user, db):
    writer = token(db, 'write')
    assert await put_streamed(user, auth(writer), 40) == (413, 0)  # KUNDENPORTAL_MAX_BODY_MB: 32 by default


async def test_a_body_without_a_declared_length_is_cut_off_at_the_limit(user, db, monkeypatch):
    writer = token(db, 'write')
    sent = []

    async def body():
        for _ in range(40):
            sent.append(1)
            yield b' ' * 2**20

    answer = await user.http_client.put(
        '/api/v1/customers', content=body(), headers={**auth(writer), 'Content-Type': 'application/json'}
    )
    assert answer.status_code == 413 and len(sent) <= 34
    assert (await user.http_client.put('/api/v1/customers', headers=auth(writer), json={'rows': [CUSTOMER]})).is_success


async def test_an_upload_route_the_portal_did_not_open_is_refused(user):
    answer = await user.http_client.post('/_nicegui/client/abc/upload/7', files={'file': ('x.csv', b'a;b\n')})
    assert answer.status_code == 404


@pytest.fixture
def one_megabyte_uploads(monkeypatch):
    monkeypatch.setenv('KUNDENPORTAL_MAX_UPLOAD_MB', '1')  # before the `user` fixture starts the portal


async def test_an_import_upload_is_limited_and_needs_the_admin_session_on_the_server(one_megabyte_uploads, user, db):
    await admin_login(user, db)
    await user.open('/verwaltung/import')
    await see(user, 'Noch keine Datei hochgeladen.')
    route = str(user.find(ui.upload).elements.pop().props['url'])
    small = await user.http_client.post(route, files={'file': ('customers.csv', b'customer_number\n')})
    assert small.status_code == 200
    large = await user.http_client.post(route, files={'file': ('customers.csv', b'x' * (2 * 2**20))})
    assert large.status_code == 413
    with Session(db) as session:  # the admin's login ends elsewhere (a password reset, a lock)
        from domain.model import StaffUser

        admin = session.exec(select(StaffUser)).one()
        admin.session_epoch += 1
        session.add(admin)
        session.commit()
    late = await user.http_client.post(route, files={'file': ('customers.csv', b'customer_number\n')})
    assert late.status_code == 403


async def test_a_document_for_the_inbox_is_stored_only_when_the_message_is_sent(user, db, tmp_path):
    from nicegui.elements.upload_files import SmallFileUpload

    customer = make_customer(db, last_name='Anhang')
    await_staff = make_staff(db)
    from tests.pages.test_backoffice import staff_login

    await staff_login(user, await_staff)
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'PDF-Dokument anhängen (optional)')
    [upload] = user.find(ui.upload).elements
    await upload.handle_uploads([SmallFileUpload(name='a.pdf', content_type='application/pdf', _data=PDF)])
    await see(user, 'Angehängt: a.pdf')
    assert not list((tmp_path / 'data').rglob('*.pdf'))  # attached, not sent: nothing on disk yet
    field(user, 'Betreff').type('Ihr Dokument')
    user.find(ui.textarea).type('Anbei.')
    button(user, 'Nachricht senden').click()
    await see(user, 'Die Nachricht liegt im Posteingang')
    [stored] = (tmp_path / 'data').rglob('*.pdf')
    assert stored.read_bytes() == PDF and stored.parent.name == 'inbox'


async def test_an_unknown_address_answers_in_the_portals_words_not_with_the_frameworks(user):
    """A mistyped or outdated address (/rechnung for /rechnungen) showed NiceGUI's own page in English, with
    "HTTPException: 404: Not Found"; the API keeps answering in JSON."""
    response = await user.http_client.get('/rechnung')
    assert response.status_code == 404
    assert 'Diese Seite gibt es nicht' in response.text and 'Zur Startseite' in response.text
    assert 'HTTPException' not in response.text and "doesn't exist" not in response.text
    api = await user.http_client.get('/api/v1/gibt-es-nicht')
    assert api.status_code == 404 and api.json() == {'detail': 'Not Found'}


async def test_an_unknown_address_answers_in_the_visitor_s_language(user):
    await user.open('/')
    button(user, 'Show this page in English').click()
    await see(user, 'Forgot your password?')
    response = await user.http_client.get('/rechnung')
    assert response.status_code == 404
    assert 'This page does not exist' in response.text and 'Diese Seite gibt es nicht' not in response.text
    assert 'lang="en' in response.text
