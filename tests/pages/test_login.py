import base64
import json
import os
import time
import uuid

import pytest
from itsdangerous import TimestampSigner
from nicegui import Client, app, ui

from pages import renewal
from tests import clock
from tests.factories import PASSWORD, make_customer, make_login
from tests.pages.conftest import button, field, log_in, submit_for_error


@pytest.fixture
def customer(db):
    customer = make_customer(db, last_name='Musterfrau')
    make_login(db, [customer['id']], email='erika@example.org')
    return customer


async def test_the_login_page_offers_registration_and_forgotten_password(user):
    await user.open('/')
    await user.should_see('Anmelden')
    await user.should_see('Passwort vergessen?')
    await user.should_see('Jetzt registrieren')


async def test_a_customer_logs_in_and_sees_name_address_and_contracts(user, customer):
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.should_see('Frau Erika Musterfrau')
    await user.should_see(customer['customer_number'])
    await user.should_see('Strom · Vertrag')
    await user.should_see('41373559241')
    await user.should_see(customer['meter_number'])


async def test_name_and_address_on_the_plain_html_dashboard_are_shown_as_text_never_as_markup(user, db):
    payload = '<img src=x onerror="alert(1)">'
    customer = make_customer(db, last_name=f'Muster{payload}', street=f'Weg & {payload}')
    make_login(db, [customer['id']], email='xss@example.org')
    await log_in(user, 'xss@example.org', PASSWORD)
    await user.should_see(customer['customer_number'])
    [card] = [
        element for element in user.find(customer['customer_number']).elements if isinstance(element, ui.html)
    ]  # the customer's card is one plain-HTML element
    assert '<img' not in card.content
    assert 'Frau Erika Muster&lt;img src=x onerror="alert(1)"&gt;' in card.content
    assert 'Weg &amp; &lt;img src=x onerror="alert(1)"&gt;' in card.content


async def test_a_wrong_password_and_an_unknown_email_get_the_same_message_at_the_field(user, customer):
    await user.open('/')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    field(user, 'Passwort').type('falsch-falsch')
    wrong_password = await submit_for_error(user, 'Anmelden', 'Passwort')
    field(user, 'E-Mail-Adresse').clear().type('niemand@example.org')
    unknown_email = await submit_for_error(user, 'Anmelden', 'Passwort')
    assert unknown_email == wrong_password
    assert wrong_password.startswith('E-Mail-Adresse oder Passwort sind nicht richtig')


async def test_after_four_wrong_passwords_the_page_says_how_long_to_wait(user, customer):
    await user.open('/')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    field(user, 'Passwort').type('falsch-falsch')
    for _ in range(4):
        assert 'nicht richtig' in await submit_for_error(user, 'Anmelden', 'Passwort')
    assert 'für 1 Minute gesperrt' in await submit_for_error(user, 'Anmelden', 'Passwort')  # 15 s, then longer


async def test_pages_behind_the_login_send_visitors_to_the_login(user):
    for path in ('/uebersicht', '/einstellungen'):
        await user.open(path)
        await user.should_see('Passwort vergessen?')


async def test_logging_out_ends_the_session(user, customer):
    await log_in(user, 'erika@example.org', PASSWORD)
    button(user, 'Abmelden').click()
    await user.should_see('Passwort vergessen?')
    await user.open('/uebersicht')
    await user.should_see('Passwort vergessen?')


async def test_after_15_idle_minutes_the_next_page_asks_to_log_in_again(user, customer):
    await log_in(user, 'erika@example.org', PASSWORD)
    # the open page's own check (every 15 s) would otherwise end the session first, now and then, and its tab show
    # the message (test_the_idle_check_logs_out_in_the_open_page): here the next page is the first to notice
    [timer] = user.find(marker='idle-check').elements
    timer.active = False
    with user:
        app.storage.user['last_active'] -= 15 * 60 + 1
    await user.open('/uebersicht')
    await user.should_see('ohne Aktivität automatisch abgemeldet')


async def test_a_minute_before_the_idle_logout_a_warning_offers_to_stay(user, customer):
    await log_in(user, 'erika@example.org', PASSWORD)
    with user:
        app.storage.user['last_active'] -= 14 * 60 + 5
    [timer] = user.find(marker='idle-check').elements
    timer.callback()
    await user.should_see('in einer Minute')
    button(user, 'Angemeldet bleiben').click()
    await user.open('/uebersicht')
    await user.should_see('Ihre Verträge')


async def test_the_idle_check_logs_out_in_the_open_page(user, customer):
    await log_in(user, 'erika@example.org', PASSWORD)
    with user:
        app.storage.user['last_active'] -= 15 * 60 + 1
    [timer] = user.find(marker='idle-check').elements
    timer.callback()
    await user.should_see('ohne Aktivität automatisch abgemeldet')


async def test_the_accessibility_statement_is_linked_from_every_page(user):
    await user.open('/')
    await user.should_see('Erklärung zur Barrierefreiheit')
    [footer] = user.find('Erklärung zur Barrierefreiheit').elements  # plain HTML: the fixture cannot click it
    assert (
        '<a href="/barrierefreiheit" class="nicegui-link text-grey-8">Erklärung zur Barrierefreiheit</a>'
        in footer.content
    )
    await user.open('/barrierefreiheit')
    await user.should_see('Stand der Vereinbarkeit')
    await user.should_see('Barriere melden')
    await user.should_see('Marktüberwachungsstelle der Länder')


async def test_no_redirect_after_login_leaves_the_portal(user, customer):
    await user.open('/?next=https://evil.example/&redirect=//evil.example')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    field(user, 'Passwort').type(PASSWORD)
    button(user, 'Anmelden').click()
    await user.should_see('Ihre Verträge', retries=50)  # always the portal's own overview
    answer = await user.http_client.get('/anmelden/code?next=https://evil.example/')
    assert answer.status_code in (302, 307) and answer.headers['location'] == '/'


async def test_the_login_gives_a_new_session_id_and_the_old_one_opens_nothing(user, customer):
    await user.open('/')
    before = user.http_client.cookies['session']
    await log_in(user, 'erika@example.org', PASSWORD)
    after = user.http_client.cookies['session']
    assert before != after
    user.http_client.cookies.set('session', before)  # what an attacker who planted the old id would hold
    answer = await user.http_client.get('/uebersicht')
    assert answer.status_code in (302, 307) and answer.headers['location'] == '/'
    assert (await user.http_client.get('/anmelden/weiter?t=erfunden')).headers['location'] == '/'
    user.http_client.cookies.set('session', after)
    assert (await user.http_client.get('/uebersicht')).status_code == 200


async def test_activity_renews_the_idle_clock_without_writing_the_session_storage_on_every_click(user, customer):
    await log_in(user, 'erika@example.org', PASSWORD)
    with user:
        app.storage.user['last_active'] -= 3
        written = app.storage.user['last_active']
    await user.open('/vertraege')
    with user:
        assert app.storage.user['last_active'] == written  # 3 s ago: not worth a write
        app.storage.user['last_active'] -= 60
    await user.open('/vertraege')
    with user:
        assert time.time() - app.storage.user['last_active'] < 2


@pytest.mark.profile('stadtwerke-b')
async def test_an_old_portal_user_name_is_answered_with_the_email_rule_and_the_registration(user, db):
    customer = make_customer(db, 'stadtwerke-b')
    make_login(db, [customer['id']], email='mueller@example.org')
    await user.open('/')
    field(user, 'E-Mail-Adresse').type('mueller83')
    field(user, 'Passwort').type(PASSWORD)
    message = await submit_for_error(user, 'Anmelden', 'E-Mail-Adresse')
    assert message.startswith('Ihr Benutzername ist jetzt Ihre E-Mail-Adresse.')
    user.find('Mit E-Mail-Adresse registrieren').click()
    await user.should_see('Registrierung')


async def test_elsewhere_something_without_an_at_sign_asks_for_the_email_address(user, customer):
    await user.open('/')
    await user.should_not_see('Mit E-Mail-Adresse registrieren')
    field(user, 'E-Mail-Adresse').type(customer['customer_number'])
    field(user, 'Passwort').type(PASSWORD)
    message = await submit_for_error(user, 'Anmelden', 'E-Mail-Adresse')
    assert message == 'Bitte melden Sie sich mit Ihrer E-Mail-Adresse an, z. B. name@beispiel.de.'
    await user.should_not_see('Mit E-Mail-Adresse registrieren')


async def test_the_session_steps_are_plain_redirects_and_a_handover_not_understood_asks_for_a_new_login(
    user, customer, monkeypatch
):
    made = []
    original = Client.__init__

    def noted(self, page, *args, **kwargs):
        made.append(page.path)
        original(self, page, *args, **kwargs)

    monkeypatch.setattr(Client, '__init__', noted)
    await log_in(user, 'erika@example.org', PASSWORD)
    assert made == ['/', '/uebersicht']  # no NiceGUI client for the two steps between
    handover = {'token': 'abc', 'kind': 'customer', 'at': clock.now().timestamp(), 'grant': {'user_id': 1}}
    data = base64.b64encode(json.dumps({'id': str(uuid.uuid4()), renewal.HANDOVER: handover}).encode())
    secret = os.environ['KUNDENPORTAL_STORAGE_SECRET']  # the session cookie's signature, as the portal makes it
    user.http_client.cookies.set('session', TimestampSigner(secret).sign(data).decode())
    answer = await user.http_client.get('/anmelden/weiter?t=abc')
    assert answer.status_code in (302, 307) and answer.headers['location'] == '/'
    assert answer.headers['cache-control'] == 'no-store'


async def test_staying_after_the_idle_minutes_have_passed_does_not_revive_the_session(user, customer):
    """The warning stayed open past the limit (a tab in the background, the page's check 15 s apart): "Angemeldet
    bleiben" clicked then started the idle clock again, and the session lived on."""
    await log_in(user, 'erika@example.org', PASSWORD)
    with user:
        app.storage.user['last_active'] -= 14 * 60 + 5
    [timer] = user.find(marker='idle-check').elements
    timer.active = False
    timer.callback()
    await user.should_see('in einer Minute')
    with user:
        app.storage.user['last_active'] -= 60  # the click comes after the limit
    button(user, 'Angemeldet bleiben').click()
    await user.should_see('ohne Aktivität automatisch abgemeldet')
    await user.open('/uebersicht')
    await user.should_see('Passwort vergessen?')


def first_steps(user) -> list[tuple[str | None, str]]:
    """Each login's first step, as it goes by: the session cookie it sets and the second step it sends to."""
    steps = []

    async def note(response):
        location = response.headers.get('location', '')
        if response.request.url.path == '/anmelden/weiter' and location.startswith('/anmelden/weiter'):
            steps.append((response.cookies.get('session'), location))

    user.http_client.event_hooks['response'].append(note)
    return steps


async def test_the_login_handover_starts_no_session_a_second_time_after_logging_out(user, customer):
    """The second step of the one-time ticket lived only in the signed cookie: sent once more within its minute (by
    anyone holding that cookie, in any browser), it started the session again after the customer had logged out."""
    steps = first_steps(user)
    await log_in(user, 'erika@example.org', PASSWORD)
    [(handover_cookie, second_step)] = steps
    button(user, 'Abmelden').click()
    await user.should_see('Passwort vergessen?')
    assert (await user.http_client.get('/uebersicht')).headers['location'] == '/'  # logged out
    user.http_client.cookies.set('session', handover_cookie)  # the cookie between the two steps, once more
    answer = await user.http_client.get(second_step)
    assert answer.headers['location'] == '/'
    assert (await user.http_client.get('/uebersicht')).status_code != 200


async def test_the_handover_of_a_first_login_starts_no_session_after_a_second_login(user, customer):
    """Log in, log out, log in again within the minute: the second login's first step cleared the storage that held
    the first handover's mark, and the first step's cookie, sent once more, started a session again."""
    steps = first_steps(user)
    await log_in(user, 'erika@example.org', PASSWORD)
    handover_cookie, second_step = steps[0]
    button(user, 'Abmelden').click()
    await user.should_see('Passwort vergessen?')
    await log_in(user, 'erika@example.org', PASSWORD)  # the customer again, in the same browser, within the minute
    button(user, 'Abmelden').click()
    await user.should_see('Passwort vergessen?')
    assert (await user.http_client.get('/uebersicht')).headers['location'] == '/'  # logged out
    user.http_client.cookies.set('session', handover_cookie)  # the cookie between the first login's two steps
    answer = await user.http_client.get(second_step)
    assert answer.headers['location'] == '/'
    assert (await user.http_client.get('/uebersicht')).status_code != 200
