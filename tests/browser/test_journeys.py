"""The main account journeys of each example utility in a real Chromium, with mail read from real SMTP."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import link_in
from tests.factories import PASSWORD, make_customer, make_login, pin_in

pytestmark = pytest.mark.browser
PASSWORDS = {'stadtwerke-a': 'Gruener-Apfel-9', 'stadtwerke-b': 'Roter-Apfel-8', 'wasserverband-c': 'Wasser-Uhr7!'}


@pytest.fixture
def seeded(engine):
    def seed(profile: str) -> tuple[dict, dict]:
        commodity = 'water' if profile == 'wasserverband-c' else 'electricity'
        return (
            make_customer(engine, profile, commodity=commodity, last_name='Erstkunde'),
            make_customer(engine, profile, commodity=commodity, last_name='Zweitkunde'),
        )

    return seed


# Each profile once, the backends shared out between them (every storage path runs on both in tests/storage),
# to keep the suite under ten minutes.
@pytest.mark.parametrize(
    ('database_url', 'profile'),
    [('sqlite', 'stadtwerke-a'), ('postgresql', 'stadtwerke-b'), ('postgresql', 'wasserverband-c')],
    indirect=['database_url'],
)
def test_register_confirm_log_in_add_switch_and_log_out(profile, seeded, start_portal, mail, browser: Page):
    first, second = seeded(profile)
    base = start_portal(profile)
    page, password, address = browser, PASSWORDS[profile], f'neu-{profile}@example.org'

    page.goto(base + '/')
    page.get_by_role('link', name='Jetzt registrieren').click()
    page.get_by_label('Kundennummer').fill(first['customer_number'])
    if profile == 'wasserverband-c':
        page.get_by_label('Rechnungsnummer').fill(first['bill_number'])
    else:
        page.get_by_label('Zählernummer').fill(first['meter_number'])
    page.get_by_label('E-Mail-Adresse').fill(address)
    page.get_by_label('Passwort', exact=True).fill(password)
    page.get_by_label('Passwort wiederholen').fill(password)
    page.get_by_role('button', name='Registrieren').click()

    if profile == 'wasserverband-c':
        text = mail.wait_for(address, 'PIN')
        page.get_by_label('PIN').fill(pin_in(text))
        page.get_by_role('button', name='Bestätigen').click()
        expect(page.get_by_text('Ihre E-Mail-Adresse ist bestätigt')).to_be_visible()
    else:
        expect(page.get_by_text('Fast geschafft')).to_be_visible()
        page.goto(link_in(mail.wait_for(address, 'bestätigen'), '/aktivieren/'))
        page.get_by_role('button', name='E-Mail-Adresse bestätigen').click()
        expect(page.get_by_text('Ihre E-Mail-Adresse ist bestätigt')).to_be_visible()
        page.get_by_role('button', name='Zur Anmeldung').click()
    mail.wait_for(address, 'ist aktiv')

    page.get_by_label('E-Mail-Adresse').fill(address)
    page.get_by_label('Passwort', exact=True).fill(password)
    page.get_by_role('button', name='Anmelden').click()
    page.wait_for_url('**/uebersicht')
    expect(page.get_by_role('heading', name='Frau Erika Erstkunde')).to_be_visible()

    page.get_by_role('button', name='Kundennummer hinzufügen').click()
    dialog = page.get_by_role('dialog')
    dialog.get_by_label('Kundennummer').fill(second['customer_number'])
    dialog.get_by_label('Zählernummer').fill(second['meter_number'])
    dialog.get_by_role('button', name='Hinzufügen').click()
    expect(page.get_by_role('heading', name='Frau Erika Zweitkunde')).to_be_visible()
    mail.wait_for(address, 'Kundennummer hinzugefügt')

    page.get_by_role('combobox', name='Kundennummer').click()
    page.get_by_role('option', name=re.compile(first['customer_number'])).click()
    expect(page.get_by_role('heading', name='Frau Erika Erstkunde')).to_be_visible()

    page.get_by_role('button', name='Abmelden').click()
    expect(page.get_by_role('link', name='Passwort vergessen?')).to_be_visible()
    page.goto(base + '/uebersicht')
    expect(page.get_by_role('button', name='Anmelden')).to_be_visible()


@pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)
def test_forgotten_password_by_link(engine, start_portal, mail, browser: Page):
    customer = make_customer(engine, last_name='Vergesslich')
    make_login(engine, [customer['id']], email='vergessen@example.org')
    base = start_portal('stadtwerke-a')
    page = browser
    page.goto(base + '/')
    page.get_by_role('link', name='Passwort vergessen?').click()
    page.get_by_label('E-Mail-Adresse').fill('vergessen@example.org')
    page.get_by_role('button', name='Link anfordern').click()
    expect(page.get_by_text('Wenn zu dieser E-Mail-Adresse ein Zugang besteht')).to_be_visible()
    page.goto(link_in(mail.wait_for('vergessen@example.org', 'Neues Passwort'), '/passwort-neu/'))
    page.get_by_label('Neues Passwort').fill('Wieder-Da-2026')
    page.get_by_label('Passwort wiederholen').fill('Wieder-Da-2026')
    page.get_by_role('button', name='Passwort speichern').click()
    expect(page.get_by_text('Ihr neues Passwort ist gespeichert')).to_be_visible()
    page.get_by_label('E-Mail-Adresse').fill('vergessen@example.org')
    page.get_by_label('Passwort', exact=True).fill('Wieder-Da-2026')
    page.get_by_role('button', name='Anmelden').click()
    expect(page.get_by_role('heading', name='Frau Erika Vergesslich')).to_be_visible()
    mail.wait_for('vergessen@example.org', 'Passwort wurde geändert')


@pytest.mark.parametrize('database_url', ['postgresql'], indirect=True)
def test_forgotten_password_by_temporary_password(engine, start_portal, mail, browser: Page):
    customer = make_customer(engine, 'stadtwerke-b', last_name='Vorlaeufig')
    make_login(engine, [customer['id']], email='vorlaeufig@example.org')
    base = start_portal('stadtwerke-b')
    page = browser
    page.goto(base + '/passwort-vergessen')
    page.get_by_label('E-Mail-Adresse').fill('vorlaeufig@example.org')
    page.get_by_role('button', name='Vorläufiges Passwort anfordern').click()
    text = mail.wait_for('vorlaeufig@example.org', 'vorläufiges Passwort')
    page.goto(base + '/')
    page.get_by_label('E-Mail-Adresse').fill('vorlaeufig@example.org')
    password = re.search(r'Passwort lautet: (\S+)', text)
    assert password, f'no password in mail:\n{text}'
    page.get_by_label('Passwort', exact=True).fill(password.group(1))
    page.get_by_role('button', name='Anmelden').click()
    page.wait_for_url('**/passwort-aendern')
    page.get_by_label('Neues Passwort').fill('Eigenes-Passwort-1')
    page.get_by_label('Passwort wiederholen').fill('Eigenes-Passwort-1')
    page.get_by_role('button', name='Passwort speichern').click()
    expect(page.get_by_role('heading', name='Frau Erika Vorlaeufig')).to_be_visible()


@pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)
def test_a_long_error_at_the_meter_number_pushes_the_next_field_down(engine, start_portal, browser: Page):
    customer = make_customer(engine)
    base, page = start_portal('stadtwerke-a'), browser
    page.set_viewport_size({'width': 360, 'height': 800})
    page.goto(base + '/registrieren')
    page.get_by_label('Kundennummer').fill(customer['customer_number'])
    page.get_by_label('Zählernummer').fill('1EBZ0199999999')
    page.get_by_label('E-Mail-Adresse').fill('neu@example.org')
    page.get_by_label('Passwort', exact=True).fill(PASSWORD)
    page.get_by_label('Passwort wiederholen').fill(PASSWORD)
    page.get_by_role('button', name='Registrieren').click()
    error = page.get_by_text('Die Angaben passen nicht zusammen')
    expect(error).to_be_visible()
    below, next_field = error.bounding_box(), page.get_by_label('E-Mail-Adresse').bounding_box()
    assert below and next_field and below['y'] + below['height'] <= next_field['y']  # no overlap
