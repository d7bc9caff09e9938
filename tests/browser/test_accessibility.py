"""axe-core (Deque's engine; its browser script comes with the axe-playwright-python package) on every page, logged
out, logged in as a customer and as staff, in German and in English: no WCAG 2.1 A/AA violations. Pages are also
checked with a form error showing, since errors must be tied to their fields."""

import json
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import FilePayload, Page, expect

from pages.styles import STYLESHEET
from tests.browser.test_self_service_journeys import household, log_in  # noqa: F401 - the fixture
from tests.browser.test_stylesheet import candidates, missing, tailwind
from tests.factories import PASSWORD, STAFF_PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)]
WCAG_AA = {
    'runOnly': {'type': 'tag', 'values': ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
    'resultTypes': ['violations'],
}
PUBLIC = (
    '/',
    '/registrieren',
    '/passwort-vergessen',
    '/zugang-verloren',
    '/kuendigen',
    '/ablesung',
    '/barrierefreiheit',
    '/verwaltung',
)
CUSTOMER = (
    '/uebersicht',
    '/vertraege',
    '/zaehlerstand',
    '/verbrauch',
    '/abschlag',
    '/rechnungen',
    '/abrechnungsinformation',
    '/kundendaten',
    '/posteingang',
    '/kontakt',
    '/einstellungen',
    '/tarif',
    '/umzug',
    '/kuendigen',
)
STAFF = (
    '/verwaltung/kunden',
    '/verwaltung/nachrichten',
    '/verwaltung/pruefungen',
    '/verwaltung/aenderungen',
    '/verwaltung/erinnerungen',
    '/verwaltung/import',
    '/verwaltung/api',
    '/verwaltung/einstellungen',
    '/verwaltung/mitarbeiter',
)


CLASSES = "() => [...new Set([...document.querySelectorAll('[class]')].flatMap(e => [...e.classList]))]"


class Audit:
    def __init__(self, page: Page) -> None:
        self.page, self.axe = page, Axe()
        self.found: dict[str, list[str]] = {}  # violations by page label
        self.classes: set[str] = set()  # every class on the pages seen (pages.styles)

    def check(self, label: str) -> None:
        expect(self.page.locator('[role=heading][aria-level="1"]').first).to_be_visible()  # Vue has rendered
        results = self.axe.run(self.page, options=WCAG_AA).response
        self.classes.update(self.page.evaluate(CLASSES))
        for violation in results['violations']:
            nodes = [
                f'{node["target"]} {node["html"][:160]} {node.get("failureSummary", "")[:200]}'
                for node in violation['nodes']
            ][:3]
            self.found.setdefault(label, []).append(f'{violation["id"]}: {violation["help"]} {nodes}')

    def visit(self, base: str, paths: tuple[str, ...], language: str, suffix: str = '') -> None:
        for path in paths:
            self.page.goto(base + path)
            expect(self.page.locator('html')).to_have_attribute('lang', {'de': 'de', 'en': 'en-GB'}[language])
            self.check(f'{language} {path}{suffix}')


def switch_to_english(page: Page) -> None:
    page.get_by_role('button', name='Show this page in English').click()
    expect(page.locator('html')).to_have_attribute('lang', 'en-GB')


@pytest.mark.parametrize('language', ['de', 'en'])  # one test per language: the halves run on two workers
def test_every_page_has_no_axe_violations(household, engine, start_portal, browser: Page, language):  # noqa: F811
    totp = make_staff(engine, email='admin@stadtwerke.example', role='admin')
    base, page = start_portal('stadtwerke-a'), browser
    audit = Audit(page)
    if language == 'en':
        page.goto(base + '/')
        switch_to_english(page)
    audit.visit(base, PUBLIC, language)
    page.goto(base + '/')  # a login error at its field
    page.locator('input[autocomplete=username]').fill('haushalt@example.org')
    page.locator('input[autocomplete=current-password]').fill('falsch-falsch')
    page.locator('input[autocomplete=current-password]').press('Enter')
    expect(page.locator('[role=alert]').first).to_be_visible()
    audit.check(f'{language} / with an error')

    page.locator('input[autocomplete=current-password]').fill(PASSWORD)
    page.locator('input[autocomplete=current-password]').press('Enter')
    page.wait_for_url('**/uebersicht')
    audit.visit(base, CUSTOMER, language)
    page.set_viewport_size({'width': 360, 'height': 800})  # a phone: tables scroll in named, focusable regions
    audit.visit(base, CUSTOMER, language, suffix=' at 360 px')
    page.set_viewport_size({'width': 1280, 'height': 900})
    page.get_by_role('button', name={'de': 'Abmelden', 'en': 'Log out'}[language]).click()
    page.wait_for_url(base + '/')

    page.goto(base + '/verwaltung')
    page.locator('input[autocomplete=username]').fill('admin@stadtwerke.example')
    page.locator('input[type=password]').fill(STAFF_PASSWORD)
    page.locator('input[type=password]').press('Enter')
    page.wait_for_url('**/verwaltung/code')
    audit.check(f'{language} /verwaltung/code')
    page.locator('input').first.fill(totp.now())
    page.locator('input').first.press('Enter')
    page.wait_for_url('**/verwaltung/kunden**')
    audit.visit(base, STAFF, language)
    if language == 'de':  # the accessible file picker really delivers (Quasar's uploader was replaced)
        page.goto(base + '/verwaltung/import')
        page.get_by_label('CSV-Dateien (und PDFs zu bills.csv) hierher ziehen oder auswählen').set_input_files(
            files=[FilePayload(name='customers.csv', mimeType='text/csv', buffer=b'customer_number;name\n')]
        )
        expect(page.get_by_text('Hochgeladen: customers.csv')).to_be_visible()
    page.goto(base + '/verwaltung/kunden?q=Selbst')
    page.get_by_role('link', name='Selbst').first.click()
    page.wait_for_url('**/verwaltung/kunden/*')
    audit.check(f'{language} /verwaltung/kunden/<id>')
    page.get_by_role('button', name={'de': 'Abmelden', 'en': 'Log out'}[language]).click()
    page.wait_for_url(base + '/verwaltung')  # before the page is replaced below: the logout navigates
    assert audit.found == {}, json.dumps(audit.found, indent=1, ensure_ascii=False)
    # no class on these pages (NiceGUI's and Quasar's own included) that Tailwind would style is left unstyled
    # Quasar's rotate-* excepted: NiceGUI cancelled the compiler's rule for them (pages.styles)
    made = tailwind(page, candidates() | {c for c in audit.classes if not re.fullmatch(r'rotate-\d+', c)})
    assert made == STYLESHEET.read_text(), f'add to pages/styles.FRAMEWORK and rewrite the stylesheet: {missing(made)}'


# the focused element lies in the field whose label holds `name`
FOCUSED_IN = "name => !!document.activeElement && !!document.activeElement.closest('label')?.innerText.includes(name)"


def test_a_contact_message_without_a_topic_marks_and_focuses_the_topic(household, start_portal, browser: Page):  # noqa: F811
    """The topic's error at the field, marked invalid on the combobox a screen reader reads, and focused, as every
    other field's (WCAG 3.3.1, ARIA21): Quasar puts a select's attributes on a wrapper, and the focus stayed on the
    button."""
    base, page = start_portal('stadtwerke-a'), browser
    log_in(page, base, 'haushalt@example.org')
    page.goto(base + '/kontakt')
    page.get_by_label('Betreff', exact=True).fill('Frage')
    page.get_by_label('Nachricht', exact=True).fill('Wann kommt der Ableser?')
    page.get_by_role('button', name='Nachricht senden').click()
    expect(page.get_by_role('alert').filter(has_text='Bitte füllen Sie das Feld „Thema“ aus.')).to_be_visible()
    expect(page.get_by_role('combobox', name='Thema')).to_have_attribute('aria-invalid', 'true')
    assert page.evaluate(FOCUSED_IN, 'Thema'), 'the focus stayed on the button, away from the field to correct'
