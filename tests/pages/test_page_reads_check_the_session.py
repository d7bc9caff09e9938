"""A page behind the login reads the customer's data with the session checked in the read's own transaction: a
login that ends in another browser between the page's first check and its reads (a password reset, "überall
abmelden") shows nothing of the customer and leads to the login (house rule: every handler that reads a
customer's data checks the session in the same transaction)."""

import pytest

from pages import session
from tests.factories import PASSWORD, end_login_elsewhere, make_customer, make_login
from tests.pages.conftest import log_in, see

# every page behind the login that reads the customer's data while it is built (/kontakt reads nothing more than
# the frame, which its first check reads in the same transaction)
PAGES = (
    '/uebersicht',
    '/vertraege',
    '/rechnungen',
    '/zaehlerstand',
    '/verbrauch',
    '/abschlag',
    '/abrechnungsinformation',
    '/kundendaten',
    '/posteingang',
    '/einstellungen',
    '/tarif',
    '/umzug',
    '/kuendigen',
)


@pytest.mark.parametrize('path', PAGES)
async def test_a_login_ended_after_the_page_s_first_check_shows_nothing_of_the_customer(user, db, monkeypatch, path):
    customer = make_customer(db, last_name='Seitenende')
    login = make_login(db, [customer['id']], email='seitenende@example.org')
    await log_in(user, 'seitenende@example.org', PASSWORD)
    await user.open(path)  # while the login is valid, the page is built
    await user.should_not_see('Passwort vergessen?')

    checked = session.current_with

    async def checked_then_ended_elsewhere(portal, query):
        found = await checked(portal, query)
        end_login_elsewhere(db, login['id'])  # in another browser, right after this page's check
        return found

    # on the session module, which each test's app shares (NiceGUI imports the modules that define pages afresh)
    monkeypatch.setattr(session, 'current_with', checked_then_ended_elsewhere)
    await user.open(path)
    await see(user, 'Passwort vergessen?')
