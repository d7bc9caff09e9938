"""Self-service journeys in a real Chromium: readings, bank data, paperless, contact (the installment by keyboard:
test_keyboard_and_zoom.py)."""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.clock import SUITE_NOW
from tests.factories import (
    PASSWORD,
    add_readings,
    add_tariff,
    make_customer,
    make_login,
    set_meter,
    year_end,
)

# The storage paths run on both databases in tests/storage; the journeys run once, on PostgreSQL, to keep the
# suite under ten minutes.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize('database_url', ['postgresql'], indirect=True)]
TODAY = SUITE_NOW.date()  # the pinned day (tests/clock.py)
DAYS = (TODAY - date(TODAY.year - 1, 12, 31)).days


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + '/')
    page.get_by_label('E-Mail-Adresse').fill(email)
    page.get_by_label('Passwort', exact=True).fill(PASSWORD)
    page.get_by_role('button', name='Anmelden').click()
    page.wait_for_url('**/uebersicht')


@pytest.fixture
def household(engine):
    """One login with a manually read meter (10 kWh a day so far) and a radio-read water meter."""
    manual = make_customer(engine, last_name='Selbst')
    add_readings(engine, manual['meter_number'], (year_end(2), 10000), (year_end(), 13650))
    add_tariff(engine, manual['id'], amount='92', paid_months=TODAY.month - 1)
    radio = make_customer(engine, commodity='water', last_name='Funk')
    set_meter(engine, radio['meter_number'], kind='radio')
    add_readings(engine, radio['meter_number'], (year_end(), 321), source='remote')
    make_login(engine, [manual['id'], radio['id']], email='haushalt@example.org')
    return manual, radio


def test_readings_plausible_implausible_and_radio(household, start_portal, mail, browser: Page):
    manual, radio = household
    base, page = start_portal('stadtwerke-a'), browser
    log_in(page, base, 'haushalt@example.org')
    page.get_by_role('link', name='Zählerstand', exact=True).click()
    page.get_by_label('Zählerstand', exact=True).fill(str(13650 + 10 * DAYS))
    page.get_by_role('button', name='Zählerstand übermitteln').click()
    expect(page.get_by_text('Ihr Zählerstand vom')).to_be_visible()
    assert manual['meter_number'] in mail.wait_for('haushalt@example.org', 'Zählerstand ist eingegangen')

    page.reload()
    page.get_by_label('Zählerstand', exact=True).fill(str(13650 + 10 * DAYS + 5000))
    page.get_by_role('button', name='Zählerstand übermitteln').click()
    expect(page.get_by_text(re.compile('weicht stark von Ihrem bisherigen Verbrauch ab'))).to_be_visible()
    page.get_by_role('checkbox', name='Wert ist korrekt').click()
    page.get_by_label('Begründung').fill('Längere Abwesenheit')
    page.get_by_role('button', name='Zählerstand übermitteln').click()
    expect(page.get_by_text('mit Ihrer Begründung gespeichert')).to_be_visible()
    expect(page.get_by_role('cell', name='mit Begründung, wird geprüft')).to_be_visible()  # the list shows it at once
    page.reload()
    expect(page.get_by_role('cell', name='mit Begründung, wird geprüft')).to_be_visible()

    page.get_by_role('combobox', name='Kundennummer').click()
    page.get_by_role('option', name=re.compile(radio['customer_number'])).click()
    expect(page.get_by_text('Diesen Funkzähler lesen wir aus der Ferne ab, zum Stichtag')).to_be_visible()
    expect(page.get_by_role('button', name='Zählerstand übermitteln')).to_have_count(0)


def test_reading_outside_the_period(engine, start_portal, browser: Page):
    customer = make_customer(engine, 'wasserverband-c', commodity='water', last_name='Wasser')
    make_login(engine, [customer['id']], email='wasser@example.org')
    base, page = start_portal('wasserverband-c'), browser
    log_in(page, base, 'wasser@example.org')
    page.goto(base + '/zaehlerstand')
    if date(TODAY.year, 1, 26) < TODAY < date(TODAY.year, 12, 2):
        expect(page.get_by_text(f'Der nächste beginnt am 02.12.{TODAY.year}')).to_be_visible()
        expect(page.get_by_role('button', name='Zählerstand übermitteln')).to_have_count(0)
    else:
        expect(page.get_by_text(re.compile('Der Ablesezeitraum läuft bis 26.01.'))).to_be_visible()


def test_bank_data_paperless_and_a_message(household, start_portal, mail, browser: Page):
    base, page = start_portal('stadtwerke-a'), browser
    log_in(page, base, 'haushalt@example.org')
    page.goto(base + '/kundendaten')
    page.get_by_label('Kontoinhaber').fill('Erika Selbst')
    page.get_by_label('IBAN').fill('DE89 3704 0044 0532 0130 01')
    page.get_by_role('button', name='Bankverbindung speichern').click()
    expect(page.get_by_text('Diese IBAN ist nicht gültig')).to_be_visible()
    page.get_by_label('IBAN').fill('DE89 3704 0044 0532 0130 00')
    page.get_by_role('checkbox', name='SEPA-Lastschriftmandat erteilen').click()
    page.get_by_label('Aktuelles Passwort').fill(PASSWORD)
    page.get_by_role('button', name='Bankverbindung speichern').click()
    expect(page.get_by_text('Ihre Bankverbindung ist gespeichert')).to_be_visible()
    expect(page.get_by_text('DE89 •••• •••• 3000')).to_be_visible()
    assert 'Mandatsreferenz' in mail.wait_for('haushalt@example.org', 'SEPA-Lastschriftmandat')
    with page.expect_download() as download:
        page.get_by_role('link', name='SEPA-Mandat als PDF').click()
    assert download.value.suggested_filename.endswith('.pdf')

    page.get_by_role('button', name='Basisdaten ändern').click()
    page.get_by_role('checkbox', name='Onlinekunde').click()
    page.get_by_role('button', name='Bestätigen').click()
    expect(page.get_by_text('Sie sind Onlinekunde')).to_be_visible()
    assert 'Onlinekunde (Rechnung nur online): ja' in mail.wait_for('haushalt@example.org', 'Kundendaten')

    page.get_by_role('link', name='Kontakt').click()
    page.wait_for_url('**/kontakt')
    page.wait_for_load_state('networkidle')  # the select opens its menu once the page's scripts run
    page.get_by_label('Thema').click()
    page.get_by_role('option', name='Umzug').click()
    page.get_by_label('Betreff').fill('Umzug zum 1. Februar')
    page.get_by_label('Nachricht').fill('Ich ziehe um. Bitte melden Sie sich wegen der Schlussablesung.')
    page.get_by_role('button', name='Nachricht senden').click()
    expect(page.get_by_text(re.compile('Vielen Dank für Ihre Nachricht'))).to_be_visible()
    assert 'Umzug zum 1. Februar' in mail.wait_for('haushalt@example.org', 'Nachricht erhalten')


def test_the_consumption_chart_speaks_german_numbers_and_shows_its_unit_on_a_phone(
    household, start_portal, browser: Page
):
    base, page = start_portal('stadtwerke-a'), browser
    page.set_viewport_size({'width': 360, 'height': 800})
    log_in(page, base, 'haushalt@example.org')
    page.goto(base + '/verbrauch')
    chart = page.locator('.nicegui-echart').first
    expect(chart.locator('svg text', has_text='3.650').first).to_be_visible()  # a bar's label: 13,650 − 10,000
    labels = chart.locator('svg text').all_text_contents()
    assert not [label for label in labels if re.fullmatch(r'\d{1,3}(,\d{3})+', label)]  # no English thousands
    unit, box = chart.locator('svg text', has_text='kWh').first.bounding_box(), chart.bounding_box()
    assert unit and box and box['x'] <= unit['x'] and unit['x'] + unit['width'] <= box['x'] + box['width']
    region = page.get_by_role('region', name=f'Verbrauch je Jahr, Zähler {household[0]["meter_number"]}')
    region.focus()  # a keyboard user can reach the table and scroll it
    expect(region).to_be_focused()
