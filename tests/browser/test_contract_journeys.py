"""Contracts and bills in the customer's hands, in a real Chromium with mail from real SMTP (issue 23): cancelling
without a login from the footer, a tariff change and a move, a bill copy, and a new login address after a lost
mailbox, in the profiles where they differ."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from domain.i18n import day
from tests.browser.test_self_service_journeys import log_in
from tests.clock import today
from tests.factories import add_readings, add_tariff, make_customer, make_login, year_end
from tests.storage.test_tariffs_and_moves import prices

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ('database_url', 'profile'), [('sqlite', 'stadtwerke-a'), ('postgresql', 'stadtwerke-b')], indirect=['database_url']
)
def test_cancelling_without_a_login_from_the_footer(profile, engine, start_portal, mail, browser: Page):
    customer = make_customer(engine, profile)
    base, page = start_portal(profile), browser
    page.goto(base + '/')
    page.get_by_role('link', name='Verträge hier kündigen').click()
    page.wait_for_url('**/kuendigen')
    page.get_by_role('radio', name='Außerordentliche Kündigung').click()
    page.get_by_label('Grund').fill('Umzug ins Pflegeheim')
    page.get_by_label('Name', exact=True).fill('Erika Muster')
    label = 'Kundennummer (Vertragskontonummer)' if profile == 'stadtwerke-b' else 'Kundennummer'
    page.get_by_label(label).fill(customer['customer_number'])
    page.get_by_role('radio', name='Zu einem bestimmten Datum').click()
    page.get_by_label('Kündigungsdatum').fill(day(today() + timedelta(days=30)))
    page.get_by_label('E-Mail-Adresse für die Bestätigung').fill('erika@example.org')
    page.get_by_role('button', name='Jetzt kündigen').click()
    expect(page.get_by_text('Ihre Kündigung ist bei uns eingegangen')).to_be_visible()
    reference = page.get_by_text(re.compile(r'^K-\d{6}$')).inner_text()
    with page.expect_download() as download:
        page.get_by_role('link', name='Kündigung als PDF speichern').click()
    assert download.value.suggested_filename == f'Kündigung-{reference}.pdf'.replace('ü', 'ue')
    text = mail.wait_for('erika@example.org', reference)
    assert 'Außerordentliche Kündigung' in text and 'Umzug ins Pflegeheim' in text
    assert f'Beendigung: {day(today() + timedelta(days=30))}' in text


def test_a_tariff_change_and_a_move_from_the_contract_page(engine, start_portal, mail, browser: Page):
    customer = make_customer(engine, last_name='Wechsel')
    add_tariff(engine, customer['id'])
    add_readings(engine, customer['meter_number'], (year_end(2), 10000), (year_end(1), 13000))
    prices(engine, ('STROM-OEKO', '0.2600', '110.00'), ('STROM-FIX24', '0.2400', '150.00'))
    make_login(engine, [customer['id']], email='wechsel@example.org')
    base, page = start_portal('stadtwerke-a'), browser
    log_in(page, base, 'wechsel@example.org')
    page.get_by_role('link', name='Verträge', exact=True).click()
    page.get_by_role('link', name='Tarif wechseln').click()
    expect(page.get_by_text('Ihr Verbrauch im letzten Abrechnungsjahr: 3.000 kWh')).to_be_visible()
    page.get_by_role('button', name='Diesen Tarif wählen: AueStrom Fix 24').click()
    expect(page.get_by_text('Gewählt: AueStrom Fix 24')).to_be_visible()
    page.get_by_role('button', name='Tarif wechseln').click()
    expect(page.get_by_text(re.compile('Ihr Tarifwechsel zum .* ist eingegangen'))).to_be_visible()
    assert 'AueStrom Fix 24' in mail.wait_for('wechsel@example.org', 'Tarifwechsels')

    page.goto(base + '/vertraege')
    page.get_by_role('link', name='Umzug melden').click()
    page.get_by_label('Auszugsdatum').fill(day(today()))
    days = (today() - year_end(1)).days
    page.get_by_label('Zählerstand bei Auszug').fill(str(13000 + 3000 * days // 365))
    page.get_by_label('Straße').fill('Am Markt')
    page.get_by_label('Hausnummer').fill('3')
    page.get_by_label('PLZ').fill('27751')
    page.get_by_label('Ort').fill('Aue-Nord')
    page.get_by_role('checkbox', name='Belieferung an der neuen Adresse fortsetzen').click()
    page.get_by_label('Einzugsdatum').fill(day(today() + timedelta(days=1)))
    page.get_by_role('button', name='Umzug melden').click()
    expect(page.get_by_text('Ihre Umzugsmeldung ist bei uns eingegangen')).to_be_visible()
    text = mail.wait_for('wechsel@example.org', 'Umzugsmeldung')
    assert 'Am Markt 3, 27751 Aue-Nord' in text and 'an der neuen Adresse fortsetzen' in text

    page.goto(base + '/vertraege')
    expect(page.get_by_text(re.compile(r'Anfrage zum Tarifwechsel T-\d{6} vom'))).to_be_visible()
    expect(page.get_by_text(re.compile(r'Umzugsmeldung U-\d{6} vom'))).to_be_visible()


def test_a_copy_of_a_bill_and_a_new_login_address(engine, start_portal, mail, browser: Page):
    customer = make_customer(engine, last_name='Kopie')  # its imported bill has no PDF
    make_login(engine, [customer['id']], email='kopie@example.org')
    base, page = start_portal('stadtwerke-a'), browser
    log_in(page, base, 'kopie@example.org')
    page.get_by_role('link', name='Rechnungen').click()
    page.get_by_role('button', name='Kopie anfordern').click()
    expect(page.get_by_text(f'Kopie angefordert am {day(today())}')).to_be_visible()
    assert customer['bill_number'] in mail.wait_for('kopie@example.org', 'angefordert')
    page.get_by_role('button', name='Abmelden').click()

    page.wait_for_url(base + '/')
    page.get_by_role('link', name='Kein Zugriff mehr auf Ihre E-Mail-Adresse?').click()
    page.get_by_label('Name', exact=True).fill('Karla Kopie')
    page.get_by_label('Kundennummer').fill(customer['customer_number'])
    page.get_by_label('Zählernummer').fill(customer['meter_number'])
    page.get_by_label('Neue E-Mail-Adresse').fill('karla@neu.example')
    page.get_by_role('button', name='Anfrage senden').click()
    expect(page.get_by_text('Wir haben eine Bestätigung an karla@neu.example gesendet')).to_be_visible()
    assert 'ein Passwort festlegen' in mail.wait_for('karla@neu.example', 'Anfrage zum Zugang')
