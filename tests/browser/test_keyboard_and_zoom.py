"""Keyboard only (Tab, typing, Enter, arrow keys; no mouse): registration with a wrong number first, login,
meter reading and installment. Then every customer page at 320 px width and at 200 % zoom (1280 px shown at
640 CSS px) without horizontal scrolling."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import link_in
from tests.browser.test_self_service_journeys import DAYS, household  # noqa: F401 - the fixture
from tests.factories import PASSWORD, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)]
NEW_PASSWORD = 'Gruener-Apfel-9'
CUSTOMER_PAGES = (
    '/uebersicht',
    '/vertraege',
    '/zaehlerstand',
    '/verbrauch',
    '/abschlag',
    '/rechnungen',
    '/kundendaten',
    '/posteingang',
    '/kontakt',
    '/einstellungen',
)
FOCUSED_NAME = """() => { const e = document.activeElement; if (!e) return '';
  const label = e.labels && e.labels.length ? e.labels[0].innerText : '';
  const slider = e.closest('[role=slider]');  // Quasar focuses the slider's track inside the named slider
  return ((slider && slider.getAttribute('aria-label')) || e.getAttribute('aria-label') || label || e.innerText || '')
    .replace(/\\s+/g, ' ').trim(); }"""


def tab_to(page: Page, name: str, limit: int = 60, field: bool = False) -> None:
    """Press Tab until the control (or with `field`, the input) named `name` has the focus, as a keyboard user
    does."""
    seen = []
    for _ in range(limit):
        page.keyboard.press('Tab')
        seen.append(page.evaluate(FOCUSED_NAME))
        if seen[-1] == name and (not field or page.evaluate('() => document.activeElement.tagName') == 'INPUT'):
            return
    raise AssertionError(f'{name!r} not reached by Tab; focus went through {seen}')


def type_into(page: Page, name: str, text: str) -> None:
    tab_to(page, name, field=True)
    page.keyboard.type(text)


def test_register_log_in_read_and_change_the_installment_by_keyboard(
    household,  # noqa: F811 - the fixture imported above
    engine,
    start_portal,
    mail,
    browser: Page,
):
    newcomer = make_customer(engine, last_name='Tastatur')
    base, page = start_portal('stadtwerke-a'), browser
    page.goto(base + '/registrieren')
    type_into(page, 'Kundennummer', newcomer['customer_number'])
    type_into(page, 'Zählernummer', '1EBZ0199999999')
    type_into(page, 'E-Mail-Adresse', 'tastatur@example.org')
    type_into(page, 'Passwort', NEW_PASSWORD)
    type_into(page, 'Passwort wiederholen', NEW_PASSWORD)
    page.keyboard.press('Enter')
    meter = page.get_by_label('Zählernummer')
    expect(meter).to_have_attribute('aria-invalid', 'true')  # the error is tied to its field …
    expect(page.get_by_role('alert').filter(has_text='Die Angaben passen nicht zusammen')).to_be_visible()  # … read
    assert page.evaluate(FOCUSED_NAME) == 'Zählernummer'  # … and the focus is on it
    page.keyboard.press('Control+A')
    page.keyboard.type(newcomer['meter_number'])
    tab_to(page, 'Registrieren')
    page.keyboard.press('Enter')
    expect(page.get_by_text('Fast geschafft')).to_be_visible()
    page.goto(link_in(mail.wait_for('tastatur@example.org', 'bestätigen'), '/aktivieren/'))
    tab_to(page, 'E-Mail-Adresse bestätigen')
    page.keyboard.press('Enter')
    expect(page.get_by_text('Ihre E-Mail-Adresse ist bestätigt')).to_be_visible()
    tab_to(page, 'Zur Anmeldung')
    page.keyboard.press('Enter')
    page.wait_for_url(re.compile(r'^[^?]+/(\?.*)?$'))
    expect(page.get_by_role('heading', name='Anmelden')).to_be_visible()

    type_into(page, 'E-Mail-Adresse', 'haushalt@example.org')
    type_into(page, 'Passwort', PASSWORD)
    page.keyboard.press('Enter')
    page.wait_for_url('**/uebersicht')

    tab_to(page, 'Zählerstand')  # the navigation link
    page.keyboard.press('Enter')
    page.wait_for_url('**/zaehlerstand')
    type_into(page, 'Zählerstand', str(13650 + 10 * DAYS))
    tab_to(page, 'Zählerstand übermitteln')
    page.keyboard.press('Enter')
    expect(page.get_by_text('Ihr Zählerstand vom')).to_be_visible()

    page.goto(base + '/abschlag')
    tab_to(page, 'Monatlicher Abschlag')
    for amount in (93, 94, 95):  # one step per key, each answered by the server before the next
        page.keyboard.press('ArrowRight')
        expect(page.get_by_text(f'Neuer Abschlag: {amount},00\xa0€')).to_be_visible()
    expect(
        page.get_by_text(re.compile('Voraussichtliches Ergebnis( [0-9/–]+)?: .*(Guthaben|Nachzahlung|ausgeglichen)'))
    ).to_be_visible()
    tab_to(page, 'Abschlag ändern')
    page.keyboard.press('Enter')
    expect(page.get_by_text('Ihr neuer Abschlag von 95,00\xa0€ gilt ab')).to_be_visible()
    assert '95,00' in mail.wait_for('haushalt@example.org', 'Ihr neuer Abschlag')

    too_wide = {}
    for width in (320, 640):  # 640 CSS px: a 1280 px window at 200 % zoom
        page.set_viewport_size({'width': width, 'height': 800})
        for path in CUSTOMER_PAGES:
            page.goto(base + path)
            expect(page.locator('[role=heading][aria-level="1"]').first).to_be_visible()
            overflow = page.evaluate('() => document.documentElement.scrollWidth - window.innerWidth')
            if overflow > 0:
                too_wide[f'{width} {path}'] = overflow
    assert too_wide == {}
