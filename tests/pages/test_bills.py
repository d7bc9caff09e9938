"""Rechnungen: the list, the download for the owner, and nothing for anybody else (user fixture); bill copies."""

import asyncio
import subprocess

import pytest
from nicegui import app, ui
from sqlmodel import Session, col, select

from domain.model import Bill, Contract, ReviewItem
from storage.bill_run import RunConfig, run
from storage.settings import Settings
from tests import clock
from tests.factories import (
    PASSWORD,
    add_readings,
    add_tariff,
    annual_bill_date,
    last_mail,
    last_year,
    make_customer,
    make_login,
    make_staff,
    year_end,
)
from tests.pages.conftest import button, log_in, see
from tests.pages.test_backoffice import staff_login


def bill_last_year(database_url, tmp_path) -> None:
    """The portal's own billing run into the documents folder the app serves from."""
    config = RunConfig(
        database_url,
        Settings(profile='stadtwerke-a', demo=True).load_profile(),
        'secret',
        'http://portal.test',
        tmp_path / 'data' / 'documents',
        last_year(),
        annual_bill_date(),
        clock.now(),
    )
    assert run(config, workers=1, progress=None).errors == []


def customer_with_history(db, name, email):
    customer = make_customer(db, last_name=name)
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13200))
    add_tariff(db, customer['id'], amount='92')
    make_login(db, [customer['id']], email=email)
    return customer


@pytest.fixture
def billed(db, database_url, tmp_path):
    otto = customer_with_history(db, 'Otto', 'otto@example.org')
    fremd = customer_with_history(db, 'Fremd', 'fremd@example.org')
    bill_last_year(database_url, tmp_path)
    with Session(db) as session:
        computed = {b.contract_id: b.bill_number for b in session.exec(select(Bill).where(col(Bill.details) != ''))}
    numbers = sorted(computed.values())
    return otto, fremd, numbers[0], numbers[1]


async def test_the_list_shows_date_number_period_amount_and_status(user, billed):
    otto, _, own, _ = billed
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/rechnungen')
    year = last_year()
    await see(user, f'Rechnungsnummer {own} · Rechnungsdatum {annual_bill_date():%d.%m.%Y}')
    await user.should_see(f'Jahresrechnung 01.01.{year} – 31.12.{year}')
    await user.should_see('Nachzahlung')
    await user.should_see(f'Rechnungsnummer {otto["bill_number"]}')  # the imported bill without a PDF is listed
    await user.should_see(f'ab dem Abrechnungsjahr {clock.today().year - 8}')  # kept eight years


async def test_a_bill_without_a_pdf_has_kopie_anfordern(user, billed, db):
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/rechnungen')
    await see(user, 'Kopie anfordern')
    button(user, 'Kopie anfordern').click()
    await see(user, f'Kopie angefordert am {clock.today():%d.%m.%Y}')
    assert 'angefordert' in last_mail(db, 'otto@example.org').subject
    await user.open('/rechnungen')  # and so it stays until the PDF is there
    await see(user, f'Kopie angefordert am {clock.today():%d.%m.%Y}')
    assert not [b for b in user.find(ui.button).elements if b.text == 'Kopie anfordern']


async def test_the_owner_downloads_the_pdf_with_the_amounts_of_the_list(user, billed, tmp_path):
    _, _, own, _ = billed
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/rechnungen')
    await see(user, own)
    button(user, 'PDF herunterladen').click()
    response = await user.download.next(timeout=5)
    assert response.content.startswith(b'%PDF')
    (tmp_path / 'bill.pdf').write_bytes(response.content)
    text = subprocess.run(
        ['pdftotext', '-layout', str(tmp_path / 'bill.pdf'), '-'], capture_output=True, text=True, check=True
    ).stdout
    assert own in text and 'Frau Erika Otto' in text
    direct = await user.http_client.get(f'/rechnungen/{own}.pdf')
    assert direct.headers['content-type'] == 'application/pdf'
    assert direct.headers['content-disposition'] == f'attachment; filename="Rechnung-{own}.pdf"'  # no pop-up


async def test_nobody_else_gets_a_bill_by_guessing_its_number(user, billed):
    _, fremd, own, foreign = billed
    anonymous = await user.http_client.get(f'/rechnungen/{own}.pdf')
    assert anonymous.status_code in (302, 307) and anonymous.headers['location'] == '/'
    await log_in(user, 'otto@example.org', PASSWORD)
    assert (await user.http_client.get(f'/rechnungen/{own}.pdf')).status_code == 200
    answers = [
        await user.http_client.get(f'/rechnungen/{number}.pdf')
        for number in (foreign, 'RE20269999999', fremd['bill_number'])
    ]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert len({a.text for a in answers}) == 1  # a foreign bill and a missing one answer alike
    traversal = await user.http_client.get('/rechnungen/..%2F..%2Fkundenportal.db%00.pdf')
    assert traversal.status_code == 404 and b'SQLite' not in traversal.content
    with user:  # even with the other customer chosen in the session, the login is not linked to it
        app.storage.user['customer_id'] = fremd['id']
    assert (await user.http_client.get(f'/rechnungen/{foreign}.pdf')).status_code == 404


@pytest.fixture
def business_billed(db, database_url, tmp_path):
    """A business customer's bill is an e-invoice: its XML beside the PDF; a consumer's bill is not."""
    firma = make_customer(db, company='Bäckerei Beispiel GmbH', vat_id='DE131234568')
    add_readings(db, firma['meter_number'], (year_end(2), 10000), (year_end(), 13200))
    add_tariff(db, firma['id'], amount='92')
    make_login(db, [firma['id']], email='firma@example.org')
    customer_with_history(db, 'Otto', 'otto@example.org')
    bill_last_year(database_url, tmp_path)
    with Session(db) as session:
        computed = {b.contract_id: b for b in session.exec(select(Bill).where(col(Bill.details) != ''))}
    business, consumer = sorted(computed.values(), key=lambda b: b.bill_number)
    return business.bill_number, consumer.bill_number


async def test_a_business_customer_downloads_the_e_invoice_xml_beside_the_pdf(user, business_billed):
    own, consumer = business_billed
    await log_in(user, 'firma@example.org', PASSWORD)
    await user.open('/rechnungen')
    await see(user, own)
    button(user, 'E-Rechnung (XML) herunterladen').click()
    response = await user.download.next(timeout=5)
    assert b'<rsm:CrossIndustryInvoice' in response.content and own.encode() in response.content
    direct = await user.http_client.get(f'/rechnungen/{own}.xml')
    assert direct.headers['content-type'].startswith('application/xml')
    assert direct.headers['content-disposition'] == f'attachment; filename="E-Rechnung-{own}.xml"'
    assert (await user.http_client.get(f'/rechnungen/{consumer}.xml')).status_code == 404  # not hers


async def test_a_consumer_has_no_xml_and_nobody_else_gets_one(user, business_billed):
    own, consumer = business_billed
    assert (await user.http_client.get(f'/rechnungen/{own}.xml')).status_code in (302, 307)  # not logged in
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/rechnungen')
    await see(user, consumer)
    await see(user, 'PDF herunterladen')
    await user.should_not_see('E-Rechnung (XML) herunterladen')
    answers = [await user.http_client.get(f'/rechnungen/{number}.xml') for number in (own, consumer)]
    assert [a.status_code for a in answers] == [404, 404] and answers[0].text == answers[1].text


async def test_a_bill_whose_pdf_is_still_being_rendered_says_so(user, billed, tmp_path):
    _, _, own, _ = billed
    (tmp_path / 'data' / 'documents' / 'bills' / f'{own}.pdf').unlink()  # computed, its PDF not written yet
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/rechnungen')
    await see(user, 'Das PDF wird gerade erstellt')
    await user.should_not_see('PDF herunterladen')


async def test_an_imported_bill_whose_file_is_lost_offers_a_copy(user, billed, db):
    """The documents folder was restored without an imported bill's PDF: the bill said "wird gerade erstellt" for
    ever and no copy could be asked for."""
    otto, _, _, _ = billed
    with Session(db) as session:
        bill = session.exec(select(Bill).where(Bill.bill_number == otto['bill_number'])).one()
        bill.pdf_path = 'bills/verloren.pdf'
        session.add(bill)
        session.commit()
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/rechnungen')
    await see(user, otto['bill_number'])
    await user.should_not_see('Das PDF wird gerade erstellt')
    button(user, 'Kopie anfordern').click()
    await see(user, 'Kopie angefordert')
    with Session(db) as session:
        assert session.exec(select(Bill.pdf_path).where(Bill.bill_number == otto['bill_number'])).one() == ''
        [item] = session.exec(select(ReviewItem)).all()
    assert item.details == f'bill={otto["bill_number"]} pdf=lost'


async def test_kopie_anfordern_after_the_pdf_arrived_shows_the_download(user, billed, db, tmp_path):
    """The page was built while the bill had no PDF; the billing system delivered it meanwhile: the click failed
    without a word (an error in the log); now the page shows the bill with its download."""
    otto, _, _, _ = billed
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/rechnungen')
    await see(user, 'Kopie anfordern')
    (tmp_path / 'data' / 'documents' / 'bills' / 'geliefert.pdf').write_bytes(b'%PDF-1.4 geliefert %%EOF')
    with Session(db) as session:
        bill = session.exec(select(Bill).where(Bill.bill_number == otto['bill_number'])).one()
        bill.pdf_path = 'bills/geliefert.pdf'
        session.add(bill)
        session.commit()
    button(user, 'Kopie anfordern').click()
    for _ in range(50):
        if not [b for b in user.find(ui.button).elements if b.text == 'Kopie anfordern']:
            break
        await asyncio.sleep(0.05)
    assert not [b for b in user.find(ui.button).elements if b.text == 'Kopie anfordern']
    assert len([b for b in user.find(ui.button).elements if b.text == 'PDF herunterladen']) == 2


async def test_a_copy_decided_meanwhile_is_not_uploaded_in_silence_and_has_no_zustimmen(user, db):
    """Two clerks: one rejected the request while the other uploads the PDF: the upload said nothing (an error in
    the log). And "Zustimmen" is not offered for a copy: it closed the request, so the PDF never reached anyone."""
    from nicegui.elements.upload_files import SmallFileUpload

    customer = make_customer(db, last_name='Kollege')
    with Session(db) as session:
        item = ReviewItem(
            customer_id=customer['id'],
            kind='bill_copy',
            created_at=clock.now(),
            details=f'bill={customer["bill_number"]}',
        )
        session.add(item)
        session.commit()
        item_id = item.id
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/pruefungen')
    await see(user, 'PDF der Rechnung hochladen')
    assert not [b for b in user.find(ui.button).elements if b.text == 'Zustimmen']
    with Session(db) as session:  # the colleague's decision
        decided = session.get_one(ReviewItem, item_id)
        decided.status = 'rejected'
        session.add(decided)
        session.commit()
    [upload] = user.find(ui.upload).elements
    pdf = SmallFileUpload(name='kopie.pdf', content_type='application/pdf', _data=b'%PDF-1.4 x %%EOF')
    await upload.handle_uploads([pdf])
    await see(user, 'Das ging nicht: Der Eintrag wurde inzwischen geändert')
    with Session(db) as session:
        assert session.get_one(ReviewItem, item_id).status == 'rejected'
        assert session.exec(select(Bill.pdf_path)).all() == ['']


async def test_the_overview_names_as_latest_bill_only_one_the_bills_page_lists(user, db):
    """A customer whose newest bill is older than the eight years bills are kept: Rechnungen lists none and its PDF
    is refused, while the Übersicht named it as "Letzte Rechnung" (a bill the customer finds nowhere)."""
    from datetime import date
    from decimal import Decimal

    customer = make_customer(db, with_bill=False, contract_start=date(last_year() - 12, 1, 1))
    old = last_year() - 10
    with Session(db) as session:
        contract_id = session.exec(select(Contract.id)).one()
        session.add(
            Bill(
                bill_number=f'RE{old}ALT',
                contract_id=contract_id,
                bill_date=date(old + 1, 1, 20),
                period_start=date(old, 1, 1),
                period_end=date(old, 12, 31),
                amount_gross=Decimal('512.30'),
            )
        )
        session.commit()
    make_login(db, [customer['id']], email='alt@example.org')
    await log_in(user, 'alt@example.org', PASSWORD)
    await user.open('/rechnungen')
    await see(user, 'keine Rechnungen')
    await user.open('/uebersicht')
    await see(user, 'Verträge')
    await user.should_not_see(f'RE{old}ALT')


async def test_a_copy_from_the_inbox_is_saved_under_the_bill_s_name(user, db, tmp_path):
    """The copy the billing system delivered is stored under a name made of its content's hash: from the Rechnungen
    it was saved as Rechnung-<number>.pdf, from the Posteingang as "3fa8…(40 hex digits).pdf"."""
    from domain import bills as bill_rules
    from domain.model import InboxMessage
    from domain.ports import Context
    from storage.unit_of_work import SqlUnitOfWork
    from tests.factories import CHEAP_HASHER

    customer = make_customer(db, last_name='Kopie')
    login = make_login(db, [customer['id']], email='kopie@example.org')
    number = customer['bill_number']
    with Session(db) as session:
        item = ReviewItem(
            customer_id=customer['id'], kind='bill_copy', created_at=clock.now(), details=f'bill={number}'
        )
        bill = session.exec(select(Bill).where(Bill.bill_number == number)).one()
        bill.pdf_path = 'bills/' + 'a' * 40 + '.pdf'
        session.add_all([item, bill])
        session.commit()
    (tmp_path / 'data' / 'documents' / 'bills').mkdir(parents=True, exist_ok=True)
    (tmp_path / 'data' / 'documents' / 'bills' / ('a' * 40 + '.pdf')).write_bytes(b'%PDF-1.4 Kopie %%EOF')
    assert login
    ctx = Context(
        Settings(profile='stadtwerke-a').load_profile(), 'secret', 'http://portal.test', CHEAP_HASHER, clock.now()
    )
    with SqlUnitOfWork(db) as work:
        assert bill_rules.deliver_bill_copies(work, ctx) == 1
    await log_in(user, 'kopie@example.org', PASSWORD)
    with Session(db) as session:
        message = session.exec(select(InboxMessage)).one()
    answer = await user.http_client.get(f'/posteingang/dokument/{message.id}')
    assert answer.status_code == 200
    assert answer.headers['content-disposition'] == f'attachment; filename="Rechnung-{number}.pdf"'
    other = make_customer(db, last_name='Anders')  # the billing system gives the bill to another customer's contract
    with Session(db) as session:
        bill = session.exec(select(Bill).where(Bill.bill_number == number)).one()
        bill.contract_id = session.exec(select(Contract).where(Contract.customer_id == other['id'])).one().id
        session.add(bill)
        session.commit()
    assert (await user.http_client.get(f'/posteingang/dokument/{message.id}')).status_code == 404  # no longer theirs
