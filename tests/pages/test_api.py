"""/api/v1 exercised with httpx against the real app: auth failures, bad payloads (422, never 500), upserts,
bills with PDFs, and the change feed with its cursor (each change exactly once per token)."""

import base64
import re
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from domain.api_tokens import create_token, revoke_token
from domain.einvoice import cii_xml
from domain.model import AuditEntry, Bill, Contract, Customer, Price, StaffUser, id_of
from domain.ports import Context
from domain.tokens import digest
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork
from tests import clock
from tests.domain.test_einvoice import sample_bill
from tests.factories import CHEAP_HASHER, PASSWORD, last_year, make_customer, make_login, make_staff
from tests.pages.conftest import log_in

SECRET = 'test-secret-0123456789abcdef'


def token(db, scope: str) -> str:
    with Session(db) as session:
        admin = session.exec(select(StaffUser).where(StaffUser.role == 'admin')).first()
    if admin is None:
        make_staff(db, email='admin@stadtwerke.example', role='admin', name='Ada Admin')
        with Session(db) as session:
            admin = session.exec(select(StaffUser).where(StaffUser.role == 'admin')).one()
    with SqlUnitOfWork(db) as uow:
        return create_token(uow, context(), id_of(admin), f'Abrechnung {scope}', scope)


def context() -> Context:
    return Context(
        Settings(profile='stadtwerke-a', demo=True).load_profile(),
        SECRET,
        'http://portal.test',
        CHEAP_HASHER,
        clock.now(),
    )


def auth(plain: str) -> dict:
    return {'Authorization': f'Bearer {plain}'}


CUSTOMER = {
    'customer_number': '40009999',
    'salutation': 'Frau',
    'first_name': 'Api',
    'last_name': 'Kundin',
    'company': '',
    'street': 'Weg',
    'house_number': '1',
    'postal_code': '27749',
    'city': 'Aue',
    'email': 'api@example.org',
    'phone': '',
    'paperless': 0,
}


async def test_without_a_valid_token_nothing_is_answered(user, db):
    client = user.http_client
    assert (await client.get('/api/v1/changes')).status_code == 401
    assert (await client.get('/api/v1/changes', headers=auth('kp_falsch'))).status_code == 401
    assert (await client.get('/api/v1/changes', headers={'Authorization': 'Basic eDp5'})).status_code == 401
    reader = token(db, 'read')
    assert (await client.get('/api/v1/changes', headers=auth(reader))).status_code == 200
    answer = await client.put('/api/v1/customers', headers=auth(reader), json={'rows': [CUSTOMER]})
    assert answer.status_code == 403  # read scope cannot write
    with SqlUnitOfWork(db) as uow:
        token_id = uow.api.by_digest(digest(SECRET, reader)).id
        admin = uow.staff.by_email('admin@stadtwerke.example').id
        revoke_token(uow, context(), admin, token_id)
    assert (await client.get('/api/v1/changes', headers=auth(reader))).status_code == 401


async def test_master_data_and_prices_are_upserted_idempotently(user, db):
    client, writer = user.http_client, token(db, 'write')
    first = await client.put('/api/v1/customers', headers=auth(writer), json={'rows': [CUSTOMER]})
    assert first.status_code == 200 and first.json() == {'created': 1, 'updated': 0, 'unchanged': 0}
    again = await client.put(
        '/api/v1/customers', headers=auth(writer), json={'rows': [{**CUSTOMER, 'phone': '04221 1234'}]}
    )
    assert again.json() == {'created': 0, 'updated': 1, 'unchanged': 0}
    business = {**CUSTOMER, 'phone': '04221 1234', 'company': 'Beispiel GmbH', 'vat_id': 'DE131234568'}
    wrong = await client.put('/api/v1/customers', headers=auth(writer), json={'rows': [{**business, 'vat_id': 'DE1'}]})
    assert wrong.status_code == 422 and wrong.json()['detail'][0]['loc'] == ['body', 'rows', 0, 'vat_id']
    vat = await client.put('/api/v1/customers', headers=auth(writer), json={'rows': [business]})
    assert vat.json() == {'created': 0, 'updated': 1, 'unchanged': 0}  # the optional column given: an e-invoice
    prices = await client.put(
        '/api/v1/prices',
        headers=auth(writer),
        json={
            'rows': [
                {
                    'tariff_code': 'STROM-API',
                    'valid_from': '2027-01-01',
                    'unit': 'kWh',
                    'working_price_net': 0.2811,
                    'base_price_net_per_year': '118.00',
                    'vat_rate': '0.19',
                }
            ]
        },
    )
    assert prices.status_code == 200
    with Session(db) as session:
        stored = session.exec(select(Customer).where(Customer.customer_number == '40009999')).one()
        assert (stored.phone, stored.vat_id) == ('04221 1234', 'DE131234568')
        assert session.exec(select(Price).where(Price.tariff_code == 'STROM-API')).one().working_price_net == Decimal(
            '0.2811'
        )


@pytest.mark.parametrize(
    'payload, location',
    [
        ({'rows': [{**CUSTOMER, 'email': 'kein-at'}]}, ['body', 'rows', 0, 'email']),
        ({'rows': [{k: v for k, v in CUSTOMER.items() if k != 'city'}]}, ['body', 'rows', 0, 'city']),
        ({'rows': [CUSTOMER, CUSTOMER]}, ['body', 'rows', 1, 'customer_number']),
        ({'rows': [{**CUSTOMER, 'paperless': 'vielleicht'}]}, ['body', 'rows', 0, 'paperless']),
        ({'rows': [{**CUSTOMER, 'customer_number': True}]}, ['body', 'rows', 0, 'customer_number']),  # was "1"
        ({'rows': [{**CUSTOMER, 'last_name': 'x' * 5000}]}, ['body', 'rows', 0, 'last_name']),
        ({'rows': [{**CUSTOMER, 'city': 'Aue\u0000'}]}, ['body', 'rows', 0, 'city']),
        ({'rows': 'keine Liste'}, ['body', 'rows']),
        ({'zeilen': []}, ['body', 'rows']),
        ({'rows': [['a', 'b']]}, ['body', 'rows', 0]),
    ],
)
async def test_bad_payloads_answer_422_with_the_field_and_change_nothing(user, db, payload, location):
    writer = token(db, 'write')
    answer = await user.http_client.put('/api/v1/customers', headers=auth(writer), json=payload)
    assert answer.status_code == 422
    assert answer.json()['detail'][0]['loc'][: len(location)] == location
    with Session(db) as session:
        assert session.exec(select(Customer).where(Customer.customer_number == '40009999')).first() is None


async def test_unknown_parents_and_malformed_json_are_422_too(user, db):
    writer = token(db, 'write')
    contract = {
        'contract_number': 'V-API-1',
        'customer_number': '49999999',
        'commodity': 'electricity',
        'tariff_code': 'STROM-BASIS',
        'start_date': '2026-01-01',
        'end_date': '',
        'malo_id': '',
        'notice_period_weeks': 4,
        'billing_month': 12,
    }
    answer = await user.http_client.put('/api/v1/contracts', headers=auth(writer), json={'rows': [contract]})
    assert answer.status_code == 422 and 'unknown' in answer.json()['detail'][0]['msg']
    broken = await user.http_client.put(
        '/api/v1/contracts', headers={**auth(writer), 'Content-Type': 'application/json'}, content=b'{"rows": ['
    )
    assert broken.status_code == 422


def bill_row(number: str, contract_number: str) -> dict:
    """An annual bill for 2026 as the billing system posts it."""
    return {
        'bill_number': number,
        'contract_number': contract_number,
        'bill_date': '2027-01-15',
        'period_start': '2026-01-01',
        'period_end': '2026-12-31',
        'kind': 'annual',
        'amount_gross': '812.40',
    }


async def test_bills_arrive_with_their_pdf_and_the_customer_can_download_it(user, db):
    customer = make_customer(db, with_bill=False)
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
    writer = token(db, 'write')
    pdf = b'%PDF-1.4\n% Rechnung aus dem Abrechnungssystem\n%%EOF\n'
    row = bill_row('EXT-2026-1', contract.contract_number)
    bad = await user.http_client.post(
        '/api/v1/bills', headers=auth(writer), json={'rows': [row], 'pdfs': {'EXT-2026-1': 'kein base64!'}}
    )
    assert bad.status_code == 422 and bad.json()['detail'][0]['loc'] == ['body', 'pdfs', 'EXT-2026-1']
    good = await user.http_client.post(
        '/api/v1/bills',
        headers=auth(writer),
        json={'rows': [row], 'pdfs': {'EXT-2026-1': base64.b64encode(pdf).decode()}},
    )
    assert good.status_code == 200 and good.json()['created'] == 1
    with Session(db) as session:
        stored = session.exec(select(Bill).where(Bill.bill_number == 'EXT-2026-1')).one().pdf_path
    assert re.fullmatch(r'bills/[0-9a-f]{40}\.pdf', stored)  # named by the portal, not by the bill number


async def test_a_bill_number_with_spaces_around_it_keeps_its_pdf(user, db):
    """The row's number is stored stripped, the PDF was looked up by the number as sent: 200, and no PDF."""
    customer = make_customer(db, with_bill=False)
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
    pdf = base64.b64encode(b'%PDF-1.4\n% Rechnung\n%%EOF\n').decode()
    row = bill_row(' EXT-2026-2 ', contract.contract_number)
    answer = await user.http_client.post(
        '/api/v1/bills', headers=auth(token(db, 'write')), json={'rows': [row], 'pdfs': {' EXT-2026-2 ': pdf}}
    )
    assert answer.status_code == 200
    with Session(db) as session:
        assert session.exec(select(Bill).where(Bill.bill_number == 'EXT-2026-2')).one().pdf_path != ''


async def test_an_e_invoice_arrives_with_its_xml_checked_and_the_customer_can_download_it(user, db):
    customer = make_customer(db, with_bill=False, company='Bäckerei Beispiel GmbH', vat_id='DE131234568')
    make_login(db, [customer['id']], email='firma@example.org')
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
    writer = token(db, 'write')
    pdf = b'%PDF-1.4\n% E-Rechnung aus dem Abrechnungssystem\n%%EOF\n'
    number = f'EXT-{last_year()}-7'
    row = {
        'bill_number': number,
        'contract_number': contract.contract_number,
        'bill_date': f'{last_year() + 1}-01-15',
        'period_start': f'{last_year()}-01-01',
        'period_end': f'{last_year()}-12-31',
        'kind': 'annual',
        'amount_gross': '1123.60',
    }
    xml = cii_xml(Settings(profile='stadtwerke-a', demo=True).load_profile(), sample_bill(number)).decode()
    body = {'rows': [row], 'pdfs': {number: base64.b64encode(pdf).decode()}}
    wrong = await user.http_client.post(
        '/api/v1/bills',
        headers=auth(writer),
        json={**body, 'xmls': {number: xml.replace('<ram:TypeCode>380</ram:TypeCode>', '')}},
    )
    assert wrong.status_code == 422 and 'EN 16931' in wrong.json()['detail'][0]['msg']
    other = await user.http_client.post(
        '/api/v1/bills', headers=auth(writer), json={**body, 'xmls': {number: xml.replace(number, 'EXT-1')}}
    )
    assert other.status_code == 422 and "not '" in other.json()['detail'][0]['msg']
    # the schema check took it, the number's own parser could not (a 500): e-invoices are UTF-8
    shift_jis = xml.replace("encoding='utf-8'", "encoding='Shift_JIS'")
    assert shift_jis != xml
    encoded = await user.http_client.post(
        '/api/v1/bills', headers=auth(writer), json={**body, 'xmls': {number: shift_jis}}
    )
    assert encoded.status_code == 422 and 'not UTF-8' in encoded.json()['detail'][0]['msg']
    stray = await user.http_client.post('/api/v1/bills', headers=auth(writer), json={**body, 'xmls': {'X-1': xml}})
    assert stray.status_code == 422 and stray.json()['detail'][0]['loc'] == ['body', 'xmls', 'X-1']
    with Session(db) as session:
        assert session.exec(select(Bill).where(Bill.bill_number == number)).first() is None  # all or nothing
    plain = {**row, 'bill_number': f'EXT-{last_year()}-6'}  # a consumer's bill in the same post, first: no XML
    both = {'rows': [plain, row], 'pdfs': body['pdfs'], 'xmls': {number: xml}}
    good = await user.http_client.post('/api/v1/bills', headers=auth(writer), json=both)
    assert good.status_code == 200 and good.json()['created'] == 2
    with Session(db) as session:
        stored = session.exec(select(Bill).where(Bill.bill_number == number)).one()
        assert session.exec(select(Bill).where(Bill.bill_number == plain['bill_number'])).one().xml_path == ''
    assert re.fullmatch(r'bills/[0-9a-f]{40}\.xml', stored.xml_path)
    await log_in(user, 'firma@example.org', PASSWORD)
    download = await user.http_client.get(f'/rechnungen/{number}.xml')
    assert download.status_code == 200 and download.text == xml  # kept as delivered


async def test_each_change_reaches_a_token_exactly_once(user, db):
    customer = make_customer(db)
    with Session(db) as session:
        for n in range(5):
            session.add(
                AuditEntry(
                    at=clock.now(),
                    actor='user:1',
                    action='installment_changed',
                    customer_id=customer['id'],
                    details=f'n={n}',
                )
            )
        session.add(AuditEntry(at=clock.now(), actor='user:1', action='login'))  # not a change for billing
        session.commit()
    reader, other = token(db, 'read'), token(db, 'read')
    client = user.http_client
    page = (await client.get('/api/v1/changes?limit=2', headers=auth(reader))).json()
    assert [i['details'] for i in page['items']] == ['n=0', 'n=1'] and page['has_more']
    assert page['items'][0]['customer_number'] == customer['customer_number']
    page = (await client.get(f'/api/v1/changes?limit=2&cursor={page["cursor"]}', headers=auth(reader))).json()
    assert [i['details'] for i in page['items']] == ['n=2', 'n=3']
    page = (await client.get(f'/api/v1/changes?cursor={page["cursor"]}', headers=auth(reader))).json()
    assert [i['details'] for i in page['items']] == ['n=4'] and not page['has_more']
    again = (await client.get(f'/api/v1/changes?cursor={page["cursor"]}', headers=auth(reader))).json()
    assert again['items'] == []
    restart = (await client.get('/api/v1/changes', headers=auth(reader))).json()  # without cursor: continues
    assert restart['items'] == []
    fresh = (await client.get('/api/v1/changes?limit=10', headers=auth(other))).json()  # another consumer
    assert len(fresh['items']) == 5
    assert (await client.get('/api/v1/changes?limit=0', headers=auth(reader))).status_code == 422


async def test_the_openapi_schema_documents_every_endpoint(user):
    schema = (await user.http_client.get('/api/v1/openapi.json')).json()
    assert {
        '/api/v1/changes',
        '/api/v1/customers',
        '/api/v1/contracts',
        '/api/v1/meters',
        '/api/v1/prices',
        '/api/v1/installments',
        '/api/v1/payments',
        '/api/v1/readings',
        '/api/v1/bills',
    } <= set(schema['paths'])
    assert 'HTTPBearer' in schema['components']['securitySchemes']


@pytest.mark.parametrize('call', ['upsert', 'answer', 'changes'])
async def test_a_token_revoked_after_the_request_s_check_writes_nothing(user, db, monkeypatch, call):
    """The admin revokes the token while a request is on its way (after its check, before its transaction): the
    upsert and the answer to a request were written all the same, and the change feed answered 500; now each is
    checked again in its own transaction and answered 401."""
    import api.v1
    from domain.api_tokens import authenticate
    from domain.model import ContractRequest

    writer = token(db, 'write')
    request = ContractRequest(kind='cancellation', received_at=clock.now(), email='erika@example.org')
    with Session(db) as session:
        session.add(request)
        session.commit()
        session.refresh(request)

    def authenticate_then_revoked(uow, ctx, plain):
        found = authenticate(uow, ctx, plain)
        with SqlUnitOfWork(db) as other:  # the admin's click in the back office, committed meanwhile
            revoke_token(other, context(), other.staff.by_email('admin@stadtwerke.example').id, found.id)
        return found

    monkeypatch.setattr(api.v1, 'authenticate', authenticate_then_revoked)
    if call == 'upsert':
        answer = await user.http_client.put('/api/v1/customers', headers=auth(writer), json={'rows': [CUSTOMER]})
    elif call == 'changes':
        answer = await user.http_client.get('/api/v1/changes', headers=auth(writer))
    else:
        body = {'accepted': True, 'message': 'Ihr Vertrag endet.'}
        answer = await user.http_client.post(f'/api/v1/requests/{request.id}/answer', headers=auth(writer), json=body)
    assert answer.status_code == 401
    with Session(db) as session:
        assert (
            session.exec(select(Customer).where(Customer.customer_number == CUSTOMER['customer_number'])).first()
            is None
        )
        assert session.get(ContractRequest, request.id).status == 'open'


async def test_the_schema_names_the_key_each_upsert_matches_rows_on(user):
    """Every PUT said "keyed by its first column": a contract's payments looked like one per contract."""
    from api.v1 import KEYS
    from storage.csv_kinds import KINDS

    schema = (await user.http_client.get('/api/v1/openapi.json')).json()
    described = schema['paths']['/api/v1/payments']['put']['description']
    assert 'contract_number and paid_on' in described and 'first column' not in described
    columns = {'contract_id': 'contract_number', 'customer_id': 'customer_number', 'meter_id': 'meter_number'}
    stored = {kind.file.removesuffix('.csv'): tuple(columns.get(k, k) for k in kind.key) for kind in KINDS}
    assert all(stored[kind] == key for kind, key in KEYS.items())


@pytest.mark.parametrize(
    'path, body, location',
    [
        ('/api/v1/requests/1/answer', b'{"accepted": true, "message": "Ihr Vertrag\\ud800"}', ['body', 'message']),
        ('/api/v1/bills', b'{"rows": [], "pdfs": {"RE-1": "\\udfff"}}', ['body', 'pdfs', 'RE-1']),
        ('/api/v1/bills', b'{"rows": [], "xmls": {"\\udfff": "<x/>"}}', ['body', 'xmls']),
    ],
)
async def test_a_lone_surrogate_in_the_json_is_a_422_not_a_server_error(user, db, path, body, location):
    """JSON may escape half of a UTF-16 pair (`\\ud800`): FastAPI's answer echoed it as `input` and could not
    encode itself, so the billing system got a 500 for its own bad input (docs/security.md 5.1.4: never 500)."""
    headers = {**auth(token(db, 'write')), 'Content-Type': 'application/json'}
    answer = await user.http_client.post(path, headers=headers, content=body)
    assert answer.status_code == 422
    detail = answer.json()['detail']
    assert detail[0]['loc'][: len(location)] == location
    assert all(set(error) == {'loc', 'msg', 'type'} for error in detail)  # as the schema's `Invalid` documents it


@pytest.mark.parametrize('message', ['Ihr Vertrag endet.\u0000', 'Ihr Vertrag\u001b[2J endet.'])
async def test_an_answer_with_control_characters_is_refused_and_settles_nothing(user, db, message):
    """A NUL byte in the answer: PostgreSQL refused it, the error log got a reference, and the billing system was
    told 422 'the message is empty'; SQLite stored it in the customer's inbox and mail. Line breaks stay allowed."""
    from domain.model import ContractRequest, InboxMessage

    request = ContractRequest(kind='cancellation', received_at=clock.now(), email='erika@example.org')
    with Session(db) as session:
        session.add(request)
        session.commit()
        session.refresh(request)
    writer = token(db, 'write')
    body = {'accepted': True, 'message': message}
    answer = await user.http_client.post(f'/api/v1/requests/{request.id}/answer', headers=auth(writer), json=body)
    assert answer.status_code == 422
    assert answer.json()['detail'][0]['loc'] == ['body', 'message'] and 'empty' not in answer.json()['detail'][0]['msg']
    with Session(db) as session:
        assert session.get(ContractRequest, request.id).status == 'open'
        assert session.exec(select(InboxMessage)).first() is None
    body = {'accepted': True, 'message': 'Ihr Vertrag endet.\r\nMit freundlichen Grüßen'}
    answer = await user.http_client.post(f'/api/v1/requests/{request.id}/answer', headers=auth(writer), json=body)
    assert answer.status_code == 204


async def test_an_answer_that_fails_in_storage_is_not_called_an_empty_message(user, db, monkeypatch):
    """Every DomainError was answered 422 'the message is empty': the database gone for a moment, or a clerk's
    concurrent change, told the billing system its message was wrong, so it did not try again."""
    import api.v1
    from domain.errors import StorageUnavailable
    from domain.model import ContractRequest

    request = ContractRequest(kind='cancellation', received_at=clock.now(), email='erika@example.org')
    with Session(db) as session:
        session.add(request)
        session.commit()
        session.refresh(request)

    def unavailable(*_):
        raise StorageUnavailable()

    monkeypatch.setattr(api.v1, 'api_answer', unavailable)
    body = {'accepted': True, 'message': 'Ihr Vertrag endet.'}
    answer = await user.http_client.post(
        f'/api/v1/requests/{request.id}/answer', headers=auth(token(db, 'write')), json=body
    )
    assert answer.status_code == 503 and 'empty' not in answer.text  # try again
