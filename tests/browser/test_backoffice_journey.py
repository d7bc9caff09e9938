"""The back office in a real Chromium: a customer writes, a staff member (password + TOTP) answers, the
customer reads the answer in the Posteingang."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_self_service_journeys import log_in
from tests.factories import STAFF_PASSWORD, make_customer, make_login, make_staff

# The storage paths run on both databases in tests/storage; the journeys run once, on PostgreSQL, to keep the
# suite under ten minutes.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize('database_url', ['postgresql'], indirect=True)]


def test_staff_answer_a_contact_message_that_the_customer_then_reads(engine, start_portal, mail, browser: Page):
    customer = make_customer(engine, last_name='Fragend')
    make_login(engine, [customer['id']], email='fragend@example.org')
    totp = make_staff(engine)
    base, page = start_portal('stadtwerke-a'), browser

    log_in(page, base, 'fragend@example.org')
    page.get_by_role('link', name='Kontakt').first.click()
    page.get_by_label('Thema').click()
    page.get_by_role('option', name='Rechnung').click()
    page.get_by_label('Betreff').fill('Frage zur Jahresrechnung')
    page.get_by_label('Nachricht').fill('Warum ist die Nachzahlung so hoch? <img src=x onerror="window.__xss=1">')
    page.get_by_role('button', name='Nachricht senden').click()
    expect(page.get_by_text(re.compile('Vielen Dank für Ihre Nachricht'))).to_be_visible()
    page.get_by_role('button', name='Abmelden').click()
    expect(page.get_by_role('button', name='Anmelden')).to_be_visible()

    page.goto(base + '/verwaltung')
    page.get_by_label('E-Mail-Adresse').fill('service@stadtwerke.example')
    page.get_by_label('Passwort', exact=True).fill(STAFF_PASSWORD)
    page.get_by_role('button', name='Weiter').click()
    page.get_by_label('Code').fill(totp.now())
    page.get_by_role('button', name='Anmelden').click()
    page.get_by_role('link', name='Kontaktanfragen').click()
    expect(page.get_by_role('heading', name=re.compile('Rechnung · Frage zur Jahresrechnung'))).to_be_visible()
    expect(page.get_by_text('<img src=x onerror="window.__xss=1">', exact=False)).to_be_visible()  # shown as text
    assert page.evaluate('window.__xss') is None  # and never run
    page.get_by_label('Antwort', exact=True).fill('Ihr Verbrauch ist um 20 % gestiegen; der Abschlag passt sich an.')
    page.get_by_role('button', name='Antwort senden').click()
    expect(page.get_by_text('0 Treffer')).to_be_visible()
    page.get_by_role('button', name='Abmelden').click()
    expect(page.get_by_text('Anmeldung für Mitarbeitende').first).to_be_visible()
    assert '/posteingang' in mail.wait_for('fragend@example.org', 'Antwort auf Ihre Nachricht')

    log_in(page, base, 'fragend@example.org')
    page.get_by_role('link', name=re.compile('Posteingang')).first.click()
    page.get_by_text('Antwort: Frage zur Jahresrechnung').first.click()
    expect(page.get_by_text(re.compile('Ihr Verbrauch ist um 20 % gestiegen'))).to_be_visible()
    assert page.evaluate('window.__xss') is None  # the quoted message in the answer is text too
