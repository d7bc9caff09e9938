"""Verträge hier kündigen through the pages: the footer link everywhere, the public form, the logged-in form with
its computed date, the PDF, the staff queue and the billing system's answer by the API."""

import asyncio
import json
from datetime import timedelta

from nicegui import ui
from sqlmodel import Session, select

from domain.i18n import day, t
from domain.model import Contract, ContractRequest, InboxMessage
from pages import receipts
from tests.clock import today
from tests.factories import PASSWORD, end_login_elsewhere, last_mail, make_customer, make_login, make_staff
from tests.pages.conftest import button, field, log_in, see, submit_for_error
from tests.pages.test_api import auth, token
from tests.pages.test_backoffice import staff_login


def radio(user, option: str) -> ui.radio:
    """The radio group offering `option` (the kind: 'extraordinary'; the time: 'date')."""
    [group] = [r for r in user.find(ui.radio).elements if option in r.options]
    return group


def requests_of(db) -> list[ContractRequest]:
    with Session(db) as session:
        return list(session.exec(select(ContractRequest)))


async def cancel_without_login(user, customer_number: str, clicks: int = 1) -> None:
    """Erika's ordinary cancellation on the public form, as received (`clicks`: 2 for a double click)."""
    await user.open('/kuendigen')
    field(user, 'Name').type('Erika Muster')
    field(user, 'Kundennummer').type(customer_number)
    field(user, 'E-Mail-Adresse für die Bestätigung').type('erika@example.org')
    for _ in range(clicks):
        button(user, 'Jetzt kündigen').click()
    await see(user, 'Ihre Kündigung ist bei uns eingegangen')


async def test_the_footer_of_every_page_links_the_cancellation(user, db):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='erika@example.org')
    for path in ('/', '/registrieren', '/barrierefreiheit'):
        await user.open(path)
        await user.should_see('Verträge hier kündigen')
    await log_in(user, 'erika@example.org', PASSWORD)
    for path in ('/uebersicht', '/rechnungen'):
        await user.open(path)
        await user.should_see('Verträge hier kündigen')


async def test_without_a_login_anyone_cancels_and_can_save_the_declaration(user, db):
    customer = make_customer(db)
    await user.open('/kuendigen')  # the footer's link (plain HTML: followed by the browser journey)
    await see(user, 'Art der Kündigung')
    field(user, 'Name').type('Erika Muster')
    field(user, 'Kundennummer').type(customer['customer_number'])
    field(user, 'E-Mail-Adresse für die Bestätigung').type('erika@example.org')
    button(user, 'Jetzt kündigen').click()
    await see(user, 'Ihre Kündigung ist bei uns eingegangen')
    [request] = requests_of(db)
    await user.should_see(f'K-{request.id:06d}')
    await user.should_see('zum nächstmöglichen Zeitpunkt')
    user.find('Kündigung als PDF speichern').click()  # the download is made from the receipt on the page
    assert f'K-{request.id:06d}' in last_mail(db, 'erika@example.org').subject


async def test_a_double_click_on_jetzt_kuendigen_sends_one_declaration(user, db):
    """Without a login: the page's own guard (logged in, `session.act` guards every page: pages/once.py)."""
    customer = make_customer(db)
    await cancel_without_login(user, customer['customer_number'], clicks=2)
    await asyncio.sleep(0.3)
    assert len(requests_of(db)) == 1


async def test_a_fourth_cancellation_to_one_address_within_the_hour_is_received_and_says_it_is_not_mailed(user, db):
    customer = make_customer(db)
    for _ in range(4):
        await cancel_without_login(user, customer['customer_number'])
    await user.should_see('schon mehrere E-Mails von uns gegangen')
    assert len(requests_of(db)) == 4
    await user.should_see(f'K-{requests_of(db)[-1].id:06d}')


async def test_bad_input_is_answered_at_the_field(user, db):
    await user.open('/kuendigen')
    field(user, 'Name').type('Erika Muster')
    field(user, 'Kundennummer').type('123')
    field(user, 'E-Mail-Adresse für die Bestätigung').type('erika@example.org')
    assert 'Bitte prüfen Sie Ihre Angabe „Kundennummer“' in await submit_for_error(
        user, 'Jetzt kündigen', 'Kundennummer'
    )
    radio(user, 'extraordinary').value = 'extraordinary'
    field(user, 'Kundennummer').clear()
    field(user, 'Kundennummer').type(make_customer(db)['customer_number'])
    assert 'Grund' in await submit_for_error(user, 'Jetzt kündigen', 'Grund')
    assert requests_of(db) == []


async def test_logged_in_the_form_is_filled_and_names_the_date(user, db):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='erika@example.org')
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
    earliest = today() + timedelta(weeks=contract.notice_period_weeks)
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/kuendigen')
    await see(user, f'Zum nächstmöglichen Zeitpunkt heißt für diesen Vertrag: zum {day(earliest)}.')
    radio(user, 'date').value = 'date'
    field(user, 'Kündigungsdatum').type(day(earliest - timedelta(days=1)))
    message = await submit_for_error(user, 'Jetzt kündigen', 'Kündigungsdatum')
    assert f'frühestens zum {day(earliest)} enden' in message
    field(user, 'Kündigungsdatum').clear()
    field(user, 'Kündigungsdatum').type(day(earliest + timedelta(days=30)))
    button(user, 'Jetzt kündigen').click()
    await see(user, 'Ihre Kündigung ist bei uns eingegangen')
    [request] = requests_of(db)
    assert request.customer_id == customer['id'] and request.effective == earliest + timedelta(days=30)


async def test_an_extraordinary_cancellation_is_not_given_the_ordinary_notice_s_date(user, db):
    """ "Zum nächstmöglichen Zeitpunkt" of an extraordinary cancellation (a price increase, say) was named and stored
    as the ordinary notice's end; staff decide it (§314 BGB, §41 EnWG), and the page no longer names that date."""
    customer = make_customer(db)
    make_login(db, [customer['id']], email='erika@example.org')
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/kuendigen')
    await see(user, 'Zum nächstmöglichen Zeitpunkt heißt für diesen Vertrag')
    radio(user, 'extraordinary').value = 'extraordinary'
    await user.should_not_see('Zum nächstmöglichen Zeitpunkt heißt für diesen Vertrag')
    field(user, 'Grund').type('Preiserhöhung zum 1. Februar')
    button(user, 'Jetzt kündigen').click()
    await see(user, 'Ihre Kündigung ist bei uns eingegangen')
    [request] = requests_of(db)
    assert request.effective is None and json.loads(request.content)['effective'] == 'next_possible'


async def test_a_login_that_ends_while_the_form_is_filled_in_does_not_lose_the_declaration(user, db):
    """§312k BGB: the page works without a login. A customer whose session ended meanwhile (a password reset in
    another browser, or idle) was sent to the login page and the declaration was not received."""
    customer = make_customer(db)
    login = make_login(db, [customer['id']], email='erika@example.org')
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/kuendigen')
    await see(user, 'Zum nächstmöglichen Zeitpunkt heißt für diesen Vertrag')
    end_login_elsewhere(db, login['id'])
    button(user, 'Jetzt kündigen').click()
    await see(user, 'Ihre Kündigung ist bei uns eingegangen')
    [request] = requests_of(db)
    assert request.customer_id == customer['id'] and '"declared_by": "visitor"' in request.content


async def test_staff_settle_it_in_the_queue_and_the_customer_reads_the_answer(user, db):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='erika@example.org')
    await cancel_without_login(user, customer['customer_number'])
    [request] = requests_of(db)
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/pruefungen')
    await see(user, f'Kündigung K-{request.id:06d}')
    await user.should_see('zum nächstmöglichen Zeitpunkt')
    user.find(ui.textarea).type('Ihr Vertrag endet zum Monatsende.')
    button(user, 'Zustimmen').click()
    await see(user, '0 Treffer')
    assert 'Ihr Vertrag endet zum Monatsende.' in last_mail(db, 'erika@example.org').text
    with Session(db) as session:
        assert session.exec(select(InboxMessage).where(InboxMessage.kind == 'answer')).one()
    # the billing system learns of the decision (it had only `cancellation_received`, and carried out a
    # cancellation staff rejected as not the customer's own)
    feed = (await user.http_client.get('/api/v1/changes', headers=auth(token(db, 'read')))).json()['items']
    [answered] = [c for c in feed if c['kind'] == 'contract_request_answered']
    assert answered['details'] == f'request={request.id} kind="cancellation" status="accepted"'
    assert answered['customer_number'] == customer['customer_number']


async def test_the_billing_system_answers_by_the_api(user, db):
    customer = make_customer(db)
    await cancel_without_login(user, customer['customer_number'])
    client, reader, writer = user.http_client, token(db, 'read'), token(db, 'write')
    feed = (await client.get('/api/v1/changes', headers=auth(reader))).json()['items']
    [change] = [c for c in feed if c['kind'] == 'cancellation_received']
    request_id = int(change['details'].split()[0].removeprefix('request='))
    assert change['customer_number'] == customer['customer_number'] and 'name="Erika Muster"' in change['details']
    path = f'/api/v1/requests/{request_id}/answer'
    assert (await client.post(path, headers=auth(reader), json={'accepted': True, 'message': 'x'})).status_code == 403
    assert (await client.post(path, headers=auth(writer), json={'accepted': True, 'message': ' '})).status_code == 422
    assert (await client.post(path, headers=auth(writer), json={'accepted': 'vielleicht'})).status_code == 422
    answered = await client.post(path, headers=auth(writer), json={'accepted': True, 'message': 'Vertrag endet.'})
    assert answered.status_code == 204
    assert (await client.post(path, headers=auth(writer), json={'accepted': True, 'message': 'x'})).status_code == 404
    assert requests_of(db)[0].status == 'accepted' and requests_of(db)[0].decided_by.startswith('api:')
    assert 'Vertrag endet.' in last_mail(db, 'erika@example.org').text


async def test_an_english_visitor_s_receipt_pdf_stays_in_the_declaration_s_language(user, db, monkeypatch):
    """The receipt's rows are German, the declaration's binding language; its note came in the visitor's language."""
    customer = make_customer(db)
    notes = []
    monkeypatch.setattr(receipts, 'receipt_pdf', lambda profile, receipt, note: notes.append(note) or b'%PDF')
    await user.open('/kuendigen')
    button(user, 'Show this page in English').click()
    await see(user, 'Kind of cancellation')
    field(user, 'Name').type('Erika Muster')
    field(user, 'Customer number').type(customer['customer_number'])  # the profile's English name for it
    field(user, 'Email address for the confirmation').type('erika@example.org')
    button(user, 'Cancel now').click()
    await see(user, 'We have received your cancellation')
    user.find('Save the cancellation as PDF').click()
    for _ in range(50):
        if notes:
            break
        await asyncio.sleep(0.02)
    assert notes == [t('cancel.pdf_note', 'de')]


async def test_staff_read_every_declared_field_in_german(user, db):
    """The review card showed the internal keys `declared_by` and `login` (and a move's `plausibility`)."""
    customer = make_customer(db)
    make_login(db, [customer['id']], email='erika@example.org')
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/kuendigen')
    button(user, 'Jetzt kündigen').click()
    await see(user, 'Ihre Kündigung ist bei uns eingegangen')
    button(user, 'Abmelden').click()
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/pruefungen')
    await see(user, 'angemeldet im Kundenportal')
    await user.should_not_see('declared_by')


async def test_a_visitor_s_link_in_the_name_is_not_made_a_link_in_the_utility_s_mail(user, db):
    """The public form mails whatever address is typed: text with a link to another site was made a clickable link in
    the HTML part of a mail from the utility (a phishing relay); the portal's own links stay links."""
    customer = make_customer(db)
    await user.open('/kuendigen')
    field(user, 'Name').type('Konto gesperrt https://evil.example/login')
    field(user, 'Kundennummer').type(customer['customer_number'])
    field(user, 'E-Mail-Adresse für die Bestätigung').type('opfer@example.org')
    button(user, 'Jetzt kündigen').click()
    await see(user, 'Ihre Kündigung ist bei uns eingegangen')
    mail = last_mail(db, 'opfer@example.org')
    assert 'https://evil.example/login' in mail.html  # shown, as written
    assert 'href="https://evil.example' not in mail.html
    assert 'href="http' in mail.html  # the portal's own address in the footer is still a link
