"""Abschlag, Kundendaten, Posteingang, Kontakt, Verträge, Verbrauch and the data export, with the user fixture."""

import io
import json
import zipfile

import pytest
from nicegui import ui
from sqlmodel import Session, select

from domain.model import AuditEntry, BankAccount, ContactMessage, Contract, Customer, InboxMessage
from pages.consumption import GERMAN_NUMBER
from tests import clock
from tests.factories import (
    PASSWORD,
    end_login_elsewhere,
    last_mail,
    mails_to,
    make_customer,
    make_login,
    year_end,
)
from tests.pages.conftest import button, field, log_in, see, submit_for_error


def rows(db, model, *where):
    with Session(db) as session:
        return list(session.exec(select(model).where(*where)))


def actions(db):
    return [e.action for e in rows(db, AuditEntry)]


async def edit_contact_data(user) -> None:
    """Otto, logged in, with the form of his contact data open."""
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/kundendaten')
    await see(user, 'Basisdaten ändern')
    button(user, 'Basisdaten ändern').click()


async def test_contact_data_are_changed_after_confirmation(user, db, otto):
    customer, _ = otto
    await edit_contact_data(user)
    field(user, 'Postleitzahl').clear().type('2774')
    assert 'fünf Ziffern' in await submit_for_error(user, 'Bestätigen', 'Postleitzahl')
    field(user, 'Postleitzahl').clear().type('27751')
    field(user, 'Telefon').clear().type('abc')
    assert 'Telefonnummer' in await submit_for_error(user, 'Bestätigen', 'Telefon')
    assert rows(db, Customer, Customer.id == customer['id'])[0].postal_code == '27749'  # nothing half-saved
    field(user, 'Telefon').clear().type('04221 98765')
    field(user, 'E-Mail-Adresse für Schriftverkehr').clear().type('post@example.org')
    [paperless] = [c for c in user.find(ui.checkbox).elements if c.text == 'Onlinekunde']
    paperless.value = True
    button(user, 'Bestätigen').click()
    await see(user, 'Ihre Änderungen sind gespeichert')
    saved = rows(db, Customer, Customer.id == customer['id'])[0]
    assert (saved.postal_code, saved.phone, saved.email, saved.paperless) == (
        '27751',
        '04221 98765',
        'post@example.org',
        True,
    )
    mail = last_mail(db, 'otto@example.org')
    assert 'Postleitzahl: 27751' in mail.text and 'Onlinekunde (Rechnung nur online): ja' in mail.text
    assert {'contact_data_changed', 'paperless_on'} <= set(actions(db))


async def test_bank_data_with_an_invalid_and_a_valid_iban(user, db, otto):
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/kundendaten')
    await see(user, 'noch keine Bankverbindung')
    field(user, 'Kontoinhaber').type('Erika Otto')
    field(user, 'IBAN').type('DE89 3704 0044 0532 0130 01')
    assert 'nicht gültig' in await submit_for_error(user, 'Bankverbindung speichern', 'IBAN')
    assert rows(db, BankAccount) == []
    field(user, 'IBAN').clear().type('DE89 3704 0044 0532 0130 00')
    await user.should_see('Bank: Commerzbank')
    [mandate] = [c for c in user.find(ui.checkbox).elements if c.text == 'SEPA-Lastschriftmandat erteilen']
    mandate.value = True
    field(user, 'Aktuelles Passwort').type('falsch')
    assert 'Passwort' in await submit_for_error(user, 'Bankverbindung speichern', 'Aktuelles Passwort')
    assert rows(db, BankAccount) == []  # without the current password no account is changed
    field(user, 'Aktuelles Passwort').clear().type(PASSWORD)
    button(user, 'Bankverbindung speichern').click()
    await see(user, 'Ihre Bankverbindung ist gespeichert')
    await user.should_see('IBAN: DE89 •••• •••• 3000 (Commerzbank)')
    await user.should_see('SEPA-Lastschriftmandat erteilt am')
    [account] = rows(db, BankAccount)
    assert account.iban == 'DE89370400440532013000' and account.mandate_reference.startswith('4')
    mail = last_mail(db, 'otto@example.org')
    assert 'DE89 •••• •••• 3000' in mail.text and 'DE98ZZZ09999999999' in mail.text
    assert '370400440532013000' not in mail.text  # never the full IBAN in a mail
    button(user, 'Mandat widerrufen').click()  # opens the question
    await user.should_see('Möchten Sie das SEPA-Lastschriftmandat widerrufen?')
    field(user, 'Aktuelles Passwort').type(PASSWORD)
    button(user, 'Mandat widerrufen').click()  # now also the dialog's button
    await see(user, 'Das Mandat ist widerrufen')
    assert rows(db, BankAccount)[0].mandate_revoked_at is not None
    assert 'bank_account_changed' in actions(db) and 'mandate_revoked' in actions(db)


async def test_a_new_bank_account_keeps_the_mandate_unless_it_is_unticked(user, db, otto):
    """The box "SEPA-Lastschriftmandat erteilen" stood unticked under a mandate in force: correcting the holder's
    name ended the mandate unasked, and no "Mandat widerrufen" reached the billing system."""
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/kundendaten')
    await see(user, 'noch keine Bankverbindung')

    def box() -> ui.checkbox:
        [mandate] = [c for c in user.find(ui.checkbox).elements if c.text == 'SEPA-Lastschriftmandat erteilen']
        return mandate

    assert box().value is False  # no mandate yet: the customer gives it
    for holder, ticked in (('Erika Otto', True), ('Erika Otto-Muster', None), ('Erika Muster', False)):
        field(user, 'Kontoinhaber').type(holder)
        field(user, 'IBAN').type('DE89 3704 0044 0532 0130 00')
        if ticked is not None:
            box().value = ticked
        field(user, 'Aktuelles Passwort').type(PASSWORD)
        button(user, 'Bankverbindung speichern').click()
        await see(user, f'Kontoinhaber: {holder}')
    accounts = rows(db, BankAccount)
    assert [bool(a.mandate_reference) for a in accounts] == [True, True, False]  # kept by the box ticked for it
    assert actions(db).count('mandate_revoked') == 1  # the last: its own change for the billing system


async def test_contact_data_sent_after_the_login_ended_elsewhere_change_nothing(user, db, otto):
    customer, login = otto
    await edit_contact_data(user)
    field(user, 'Postleitzahl').clear().type('27751')
    end_login_elsewhere(db, login['id'])
    button(user, 'Bestätigen').click()
    await see(user, 'Passwort vergessen?')
    assert rows(db, Customer, Customer.id == customer['id'])[0].postal_code == '27749'
    assert 'contact_data_changed' not in actions(db)


def add_price_change_message(db, customer_id: int) -> None:
    with Session(db) as session:
        session.add(
            InboxMessage(
                customer_id=customer_id,
                created_at=clock.now(),
                subject='Preisänderung zum 1.1.',
                body='Sehr geehrte Kundin, ...',
            )
        )
        session.commit()


async def test_a_message_marked_read_after_the_login_ended_elsewhere_stays_unread(user, db, otto):
    customer, login = otto
    add_price_change_message(db, customer['id'])
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/posteingang')
    await see(user, 'Preisänderung zum 1.1.')
    end_login_elsewhere(db, login['id'])
    button(user, 'Als gelesen markieren').click()
    await see(user, 'Passwort vergessen?')
    assert rows(db, InboxMessage)[0].read_at is None


async def test_inbox_marks_messages_read_and_counts_unread_in_the_navigation(user, db, otto):
    customer, _ = otto
    add_price_change_message(db, customer['id'])
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.should_see('Posteingang (1 ungelesen)')
    await user.should_see('1 ungelesene Nachricht im Posteingang')
    await user.open('/posteingang')
    await see(user, 'Preisänderung zum 1.1.')
    button(user, 'Als gelesen markieren').click()
    await see(user, 'gelesen')
    for _ in range(50):
        if rows(db, InboxMessage)[0].read_at is not None:
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert rows(db, InboxMessage)[0].read_at is not None
    await user.open('/uebersicht')
    await see(user, 'Ihre Verträge')
    await user.should_not_see('ungelesen')


async def test_a_contact_message_is_stored_and_acknowledged(user, db, otto):
    customer, _ = otto
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/kontakt')
    await see(user, 'Nachricht senden')
    field(user, 'Betreff').type('Umzug zum 1.2.')
    assert 'Thema' in await _topic_error(user)
    [topic] = [s for s in user.find(ui.select).elements if s.props.get('label') == 'Thema']
    topic.value = 'Umzug'
    assert 'Nachricht' in await submit_for_error(user, 'Nachricht senden', 'Nachricht')
    field(user, 'Nachricht').type('Ich ziehe zum 1.2. in die Lindenallee 5.')
    button(user, 'Nachricht senden').click()
    await see(user, 'Vielen Dank für Ihre Nachricht (Vorgangsnummer N-')
    [message] = rows(db, ContactMessage)
    assert (message.customer_id, message.topic, message.status) == (customer['id'], 'Umzug', 'open')
    assert 'Wir haben Ihre Nachricht erhalten' in last_mail(db, 'otto@example.org').subject
    # a cancellation's reference is K-: the first message and the first cancellation both read K-000001
    await user.open('/kuendigen')
    await see(user, 'Art der Kündigung')
    button(user, 'Jetzt kündigen').click()
    await see(user, 'Ihre Kündigung ist bei uns eingegangen')
    assert f'K-{message.id:06d}' in last_mail(db, 'otto@example.org').subject
    assert any(f'N-{message.id:06d}' in mail.text for mail in mails_to(db, 'otto@example.org'))


async def test_a_contact_message_sent_after_the_login_ended_elsewhere_is_not_stored(user, db, otto):
    _, login = otto
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/kontakt')
    await see(user, 'Nachricht senden')
    [topic] = [s for s in user.find(ui.select).elements if s.props.get('label') == 'Thema']
    topic.value = 'Umzug'
    field(user, 'Betreff').type('Umzug zum 1.2.')
    field(user, 'Nachricht').type('Ich ziehe zum 1.2. in die Lindenallee 5.')
    end_login_elsewhere(db, login['id'])
    button(user, 'Nachricht senden').click()
    await see(user, 'Passwort vergessen?')
    assert rows(db, ContactMessage) == []


async def _topic_error(user) -> str:
    import asyncio

    button(user, 'Nachricht senden').click()
    for _ in range(100):
        for s in user.find(ui.select).elements:
            if s.props.get('label') == 'Thema' and s.props.get('error-message'):
                return s.props['error-message']
        await asyncio.sleep(0.05)
    raise AssertionError('no error at Thema')


async def test_contracts_show_prices_term_and_supply_point(user, db, otto):
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/vertraege')
    await see(user, 'Strom · Vertrag')
    await user.should_see('30,00 ct/kWh')  # 0.2521 net + 19 % VAT
    await user.should_see('144,00\xa0€ pro Jahr')
    await user.should_see('41373559241')
    await user.should_see('4 Wochen')
    await user.should_see('92,00\xa0€ monatlich, fällig am 15. eines Monats')
    await user.should_not_see('Lieferstelle')  # none sent by the billing system
    with Session(db) as session:
        contract = session.exec(select(Contract)).one()
        contract.supply_address = 'Alte Gasse 5, 27749 Aue'
        session.add(contract)
        session.commit()
    await user.open('/vertraege')
    await see(user, 'Alte Gasse 5, 27749 Aue')


async def test_consumption_per_year_as_chart_and_table(user, db, otto):
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/verbrauch')
    await see(user, 'Verbrauch je Jahr')
    chart = user.find(ui.echart).elements.pop()
    assert chart.options['series'][0]['data'] == [3200.0]
    assert f'{year_end().year}: 3.200 kWh' in chart.props['aria-label']
    table = next(iter(user.find(ui.table).elements))
    assert table.rows[0]['amount'] == '3.200 kWh'


async def test_the_dashboard_s_consumption_chart_writes_numbers_in_german(user, db, otto):
    """As /verbrauch: 3.200 on its axis and in its tooltip, not 3,200 (ECharts' own format follows the browser)."""
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/uebersicht')
    await see(user, 'Verbrauch')
    chart = user.find(ui.echart).elements.pop()
    assert chart.options['yAxis']['axisLabel'][':formatter'] == GERMAN_NUMBER
    assert chart.options['tooltip'][':valueFormatter'] == GERMAN_NUMBER


async def test_the_dashboard_s_consumption_chart_leaves_room_for_its_unit(user, db, otto):
    """The axis' name (kWh, m³) sits above the plot: with 16 px of grid top it was cut off at the chart's edge."""
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/uebersicht')
    await see(user, 'Verbrauch')
    chart = user.find(ui.echart).elements.pop()
    assert chart.options['yAxis']['name'] == 'kWh'
    assert chart.options['grid']['top'] >= 32


async def test_my_data_can_be_downloaded_as_json_and_csv(db, otto):
    from domain.data_export import export_data, export_json, export_zip
    from domain.ports import Context
    from storage.settings import Settings
    from storage.unit_of_work import SqlUnitOfWork
    from tests.factories import CHEAP_HASHER

    _, login = otto
    ctx = Context(
        Settings(profile='stadtwerke-a', demo=True).load_profile(),
        'secret',
        'http://portal.test',
        CHEAP_HASHER,
        clock.now(),
    )
    with SqlUnitOfWork(db) as uow:
        data = export_data(uow, ctx, login['id'])
    parsed = json.loads(export_json(data))
    assert parsed['login']['email'] == 'otto@example.org'
    assert parsed['customers'][0]['readings'][0]['value'] == '10000.000'
    names = zipfile.ZipFile(io.BytesIO(export_zip(data))).namelist()
    assert {'login.csv', 'customer.csv', 'readings.csv', 'bills.csv'} <= set(names)
    assert 'data_exported' in actions(db)


async def test_meine_daten_herunterladen_gives_the_json(user, db, otto):
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/einstellungen')
    button(user, 'Meine Daten herunterladen').click()
    response = await user.download.next(timeout=5)
    assert response.json()['login']['email'] == 'otto@example.org'
    button(user, 'Als CSV (ZIP) herunterladen').click()
    response = await user.download.next(timeout=5)
    assert 'customer.csv' in zipfile.ZipFile(io.BytesIO(response.content)).namelist()


async def test_the_sepa_mandate_pdf_is_prefilled_and_only_for_the_owner(user, db, otto, tmp_path):
    import subprocess

    from nicegui import app

    customer, _ = otto
    anonymous = await user.http_client.get('/kundendaten/sepa-mandat.pdf')
    assert anonymous.status_code in (302, 307) and anonymous.headers['location'] == '/'
    await log_in(user, 'otto@example.org', PASSWORD)
    response = await user.http_client.get('/kundendaten/sepa-mandat.pdf')
    assert response.headers['content-type'] == 'application/pdf'
    assert 'attachment' in response.headers['content-disposition']
    (tmp_path / 'm.pdf').write_bytes(response.content)
    text = subprocess.run(
        ['pdftotext', '-layout', str(tmp_path / 'm.pdf'), '-'], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        'SEPA-Lastschriftmandat',
        'Stadtwerke Aue',
        'DE98ZZZ09999999999',
        customer['customer_number'],
        'acht Wochen',
        'Frau Erika Otto',
    ):
        assert expected in text
    foreign = make_customer(db, last_name='Fremd')
    with user:
        app.storage.user['customer_id'] = foreign['id']
    response = await user.http_client.get('/kundendaten/sepa-mandat.pdf')
    assert response.headers.get('content-type') != 'application/pdf'


async def test_the_sepa_mandate_pdf_is_for_the_customer_the_page_showed(user, db):
    """Tab A shows customer 1's bank data; tab B switches the session to customer 2; tab A's link gives customer 1's
    mandate. A customer of another login is still refused."""
    from nicegui import app

    first, second = make_customer(db, last_name='Erst'), make_customer(db, last_name='Zweit')
    make_login(db, [first['id'], second['id']], email='zwei@example.org')
    await log_in(user, 'zwei@example.org', PASSWORD)
    await user.open('/kundendaten')
    await see(user, 'Bankverbindung speichern')
    with user:
        shown = app.storage.user['customer_id']
        app.storage.user['customer_id'] = second['id'] if shown == first['id'] else first['id']
    [link] = [e for e in user.find(ui.link).elements if e.text == 'SEPA-Mandat als PDF']
    number = {first['id']: first['customer_number'], second['id']: second['customer_number']}[shown]
    response = await user.http_client.get(link.props['href'])
    assert f'SEPA-Mandat-{number}.pdf' in response.headers['content-disposition']
    foreign = make_customer(db, last_name='Fremd')
    response = await user.http_client.get(f'/kundendaten/sepa-mandat.pdf?kunde={foreign["id"]}')
    assert response.headers.get('content-type') != 'application/pdf'
    response = await user.http_client.get('/kundendaten/sepa-mandat.pdf?kunde=0')
    assert response.status_code == 422


async def test_gas_without_its_conversion_values_is_not_said_to_be_in_kwh(user, db):
    """A gas meter without Zustandszahl and Brennwert shows m³; the intro above said "Gas umgerechnet in kWh"."""
    from tests.factories import add_readings

    customer = make_customer(db, commodity='gas', last_name='Gasmann')
    add_readings(db, customer['meter_number'], (year_end(2), 1000), (year_end(), 2200))
    make_login(db, [customer['id']], email='gas@example.org')
    await log_in(user, 'gas@example.org', PASSWORD)
    await user.open('/verbrauch')
    await see(user, 'Ihr Verbrauch je Abrechnungsjahr aus den Zählerständen.')
    await user.should_not_see('umgerechnet in kWh')
    table = next(iter(user.find(ui.table).elements))
    assert table.rows[0]['amount'] == '1.200 m³'


@pytest.mark.profile('stadtwerke-b')
async def test_the_consumption_charts_wear_the_utility_s_own_colour(user, db):
    """Both charts were drawn in stadtwerke-a's blue (#00588f) for every utility."""
    from tests.factories import add_readings

    customer = make_customer(db, 'stadtwerke-b', last_name='Farbe')
    add_readings(db, customer['meter_number'], (year_end(2), 1000), (year_end(), 4000))
    make_login(db, [customer['id']], email='farbe@example.org')
    await log_in(user, 'farbe@example.org', PASSWORD)
    for path in ('/uebersicht', '/verbrauch'):
        await user.open(path)
        await see(user, 'Verbrauch')
        [chart] = user.find(ui.echart).elements
        assert chart.options['series'][0]['itemStyle']['color'] == '#b0002a', path
