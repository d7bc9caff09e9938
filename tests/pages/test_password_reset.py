import pytest
from nicegui import app
from sqlmodel import Session

from domain.model import PortalUser
from tests.factories import PASSWORD, end_login_elsewhere, link_in, make_customer, make_login
from tests.pages.conftest import button, field, follow_session, log_in, mail_arrives, see, submit_for_error

NEW = 'Neues-Passwort-42'


@pytest.fixture
def login(db):
    customer = make_customer(db)
    return make_login(db, [customer['id']], email='erika@example.org')


async def test_a_reset_link_sets_a_new_password_and_works_only_once(user, db, login):
    await user.open('/passwort-vergessen')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    button(user, 'Link anfordern').click()
    await see(user, 'Wenn zu dieser E-Mail-Adresse ein Zugang besteht')
    path = link_in((await mail_arrives(db, 'erika@example.org')).text, '/passwort-neu/')
    await user.open(path)
    field(user, 'Neues Passwort').type(NEW)
    field(user, 'Passwort wiederholen').type(NEW)
    button(user, 'Passwort speichern').click()
    await see(user, 'Ihr neues Passwort ist gespeichert')
    await log_in(user, 'erika@example.org', NEW)
    await user.open(path)
    await see(user, 'ungültig oder abgelaufen')


async def test_an_unknown_email_gets_the_same_answer(user, db, login):
    await user.open('/passwort-vergessen')
    field(user, 'E-Mail-Adresse').type('niemand@example.org')
    button(user, 'Link anfordern').click()
    await see(user, 'Wenn zu dieser E-Mail-Adresse ein Zugang besteht')


async def test_a_weak_new_password_is_refused_at_its_field(user, db, login):
    await user.open('/passwort-vergessen')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    button(user, 'Link anfordern').click()
    await see(user, 'Wenn zu dieser E-Mail-Adresse')
    await user.open(link_in((await mail_arrives(db, 'erika@example.org')).text, '/passwort-neu/'))
    field(user, 'Neues Passwort').type('kurz')
    field(user, 'Passwort wiederholen').type('kurz')
    assert 'mindestens 8 Zeichen' in await submit_for_error(user, 'Passwort speichern', 'Neues Passwort')


async def log_in_with_a_temporary_password(user, db) -> None:
    await user.open('/passwort-vergessen')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    button(user, 'Vorläufiges Passwort anfordern').click()
    await see(user, 'Wenn zu dieser E-Mail-Adresse')
    temporary = (await mail_arrives(db, 'erika@example.org')).text.split('Passwort lautet: ')[1].split()[0]
    await user.open('/')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    field(user, 'Passwort').type(temporary)
    button(user, 'Anmelden').click()
    await see(user, 'vorläufigen Passwort angemeldet')


@pytest.mark.profile('stadtwerke-b')
async def test_a_temporary_password_must_be_replaced_at_the_first_login(user, db, login):
    await log_in_with_a_temporary_password(user, db)
    await user.open('/uebersicht')  # no way around it
    await see(user, 'vorläufigen Passwort angemeldet')
    await user.open('/kuendigen')  # nor the cancellation page, which showed the customer's data in the portal's frame
    await see(user, 'vorläufigen Passwort angemeldet')
    download = await user.http_client.get('/rechnungen/RE20260000001.pdf')  # nor a download (a 404 for no such bill)
    assert download.status_code in (302, 303, 307) and download.headers['location'] == '/'
    field(user, 'Neues Passwort').type(NEW)
    field(user, 'Passwort wiederholen').type(NEW)
    button(user, 'Passwort speichern').click()
    await see(user, 'Ihre Verträge')


async def test_a_password_reset_ends_the_other_open_sessions(user, db, login):
    await log_in(user, 'erika@example.org', PASSWORD)
    end_login_elsewhere(db, login['id'])
    await user.open('/uebersicht')
    await see(user, 'Passwort vergessen?')


@pytest.mark.profile('stadtwerke-b')
@pytest.mark.parametrize('ended', ['idle', 'logged out in another tab', 'ended elsewhere'])
async def test_the_page_for_the_temporary_password_sets_none_once_the_session_has_ended(user, db, login, ended):
    """A page left open on a shared computer: the password is not set, and the session does not come back."""
    await log_in_with_a_temporary_password(user, db)
    follow_session(user)
    with Session(db) as session:
        before = session.get(PortalUser, login['id']).password_hash
    if ended == 'ended elsewhere':
        end_login_elsewhere(db, login['id'])
    else:
        with user:
            if ended == 'idle':
                app.storage.user['last_active'] -= 16 * 60
            else:
                app.storage.user.clear()
    field(user, 'Neues Passwort').type(NEW)
    field(user, 'Passwort wiederholen').type(NEW)
    button(user, 'Passwort speichern').click()
    await see(user, 'Passwort vergessen?')  # the login page
    with Session(db) as session:
        assert session.get(PortalUser, login['id']).password_hash == before
    await user.open('/uebersicht')
    await see(user, 'Passwort vergessen?')


@pytest.mark.parametrize('typed', ['', 'erika.example.org'])
async def test_an_empty_or_malformed_email_is_refused_at_its_field_not_answered_as_sent(user, db, login, typed):
    """No account is looked at for it, so saying so tells nobody anything; "Wenn zu dieser E-Mail-Adresse ein Zugang
    besteht, haben wir Ihnen … gesendet" for a typo left the customer waiting for a mail that never comes."""
    await user.open('/passwort-vergessen')
    if typed:
        field(user, 'E-Mail-Adresse').type(typed)
    assert (
        await submit_for_error(user, 'Link anfordern', 'E-Mail-Adresse')
        == 'Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@beispiel.de.'
    )
    await user.should_not_see('Wenn zu dieser E-Mail-Adresse ein Zugang besteht')
