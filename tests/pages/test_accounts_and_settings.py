import os
import time

import pyotp
import pytest
from nicegui import app, ui
from sqlmodel import Session, select

from domain.model import Customer, PortalUser, UserCustomer
from tests import clock
from tests.factories import PASSWORD, end_login_elsewhere, last_mail, link_in, make_customer, make_login
from tests.pages.conftest import button, field, follow_session, log_in, see, submit_for_error
from tests.pages.test_self_service import edit_contact_data


@pytest.fixture
def erika(db):
    customer = make_customer(db, last_name='Erste')
    return customer, make_login(db, [customer['id']], email='erika@example.org')


def link_customer(db, login: dict, customer: dict) -> None:
    """A second customer account under the login, as if added in the portal (without its mail)."""
    with Session(db) as session:
        session.add(UserCustomer(user_id=login['id'], customer_id=customer['id'], linked_at=clock.now()))
        session.commit()


def dialog_field(user, name):
    """The field in the open 'Kundennummer hinzufügen' dialog (the switcher is named Kundennummer too)."""
    from nicegui.testing.user_interaction import UserInteraction

    found = {e for e in user.find(ui.input).elements if e.props.get('label') == name}
    return UserInteraction(user, found, name)


async def test_a_second_customer_number_is_added_and_selected(user, db, erika):
    second = make_customer(db, last_name='Zweite')
    await log_in(user, 'erika@example.org', PASSWORD)
    button(user, 'Kundennummer hinzufügen').click()
    dialog_field(user, 'Kundennummer').type(second['customer_number'])
    dialog_field(user, 'Zählernummer').type(second['meter_number'])
    button(user, 'Hinzufügen').click()
    await see(user, 'Frau Erika Zweite')
    assert 'hinzugefügt' in last_mail(db, 'erika@example.org').subject


async def test_a_customer_number_is_removed_from_the_login_after_a_question(user, db, erika):
    first, login = erika
    second = make_customer(db, last_name='Zweite')
    link_customer(db, login, second)
    await log_in(user, 'erika@example.org', PASSWORD)
    user.find(ui.select).elements.pop().set_value(second['id'])  # the one shown is the one removed
    await see(user, 'Frau Erika Zweite')
    await user.open('/einstellungen')
    await see(user, 'Kundennummern dieses Zugangs')
    button(user, f'Kundennummer {second["customer_number"]} entfernen').click()
    await see(user, f'Möchten Sie die Kundennummer {second["customer_number"]} von Ihrem Zugang entfernen?')
    button(user, 'Ja, Kundennummer entfernen').click()
    await see(user, f'Die Kundennummer {second["customer_number"]} ist von Ihrem Zugang entfernt.')
    [switcher] = [s for s in user.find(ui.select).elements if s.props.get('label') == 'Kundennummer']
    assert list(switcher.options) == [first['id']] and switcher.value == first['id']
    await see(user, 'Ihre einzige Kundennummer lässt sich nicht entfernen.')
    assert 'Kundennummer entfernt' in last_mail(db, 'erika@example.org').subject


async def test_a_wrong_meter_number_in_the_dialog_is_explained_beside_it(user, db, erika):
    second = make_customer(db)
    await log_in(user, 'erika@example.org', PASSWORD)
    button(user, 'Kundennummer hinzufügen').click()
    dialog_field(user, 'Kundennummer').type(second['customer_number'])
    dialog_field(user, 'Zählernummer').type('1EBZ0199999999')
    assert 'passen nicht zusammen' in await submit_for_error(user, 'Hinzufügen', 'Zählernummer')


async def test_switching_customers_takes_one_selection(user, db, erika):
    _, login = erika
    second = make_customer(db, last_name='Zweite')
    link_customer(db, login, second)
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.should_see('Frau Erika Erste')
    user.find(ui.select).elements.pop().set_value(second['id'])
    await see(user, 'Frau Erika Zweite')
    await user.open('/einstellungen')  # a page with a select of its own (Abrechnungsinformation)
    [switcher] = [s for s in user.find(ui.select).elements if s.props.get('label') == 'Kundennummer']
    assert switcher.value == second['id']


async def test_a_foreign_customer_id_in_the_session_is_never_shown(user, db, erika):
    foreign = make_customer(db, last_name='Fremd')
    make_login(db, [foreign['id']])
    await log_in(user, 'erika@example.org', PASSWORD)
    with user:
        app.storage.user['customer_id'] = foreign['id']
    await user.open('/uebersicht')
    await see(user, 'Frau Erika Erste')
    await user.should_not_see('Fremd')


async def test_changing_the_password_needs_the_current_one(user, db, erika):
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/einstellungen')
    field(user, 'Aktuelles Passwort').type('falsch-falsch')
    field(user, 'Neues Passwort').type('Neues-Passwort-42')
    field(user, 'Passwort wiederholen').type('Neues-Passwort-42')
    assert 'nicht richtig' in await submit_for_error(user, 'Passwort ändern', 'Aktuelles Passwort')
    field(user, 'Aktuelles Passwort').clear().type(PASSWORD)
    button(user, 'Passwort ändern').click()
    await see(user, 'Ihr Passwort wurde geändert')
    await user.open('/uebersicht')  # this session continues with the new epoch
    await see(user, 'Ihre Verträge')
    assert 'Passwort wurde geändert' in last_mail(db, 'erika@example.org').subject


async def test_a_new_login_email_is_confirmed_by_a_link_sent_there(user, db, erika):
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/einstellungen')
    field(user, 'Neue E-Mail-Adresse').type('keine-adresse')
    assert 'gültige E-Mail-Adresse' in await submit_for_error(user, 'E-Mail-Adresse ändern', 'Neue E-Mail-Adresse')
    field(user, 'Neue E-Mail-Adresse').clear().type('erika.neu@example.org')
    field(user, 'Aktuelles Passwort').type(PASSWORD)
    button(user, 'E-Mail-Adresse ändern').click()
    await see(user, 'Bitte bestätigen Sie die neue Adresse')
    await user.open(link_in(last_mail(db, 'erika.neu@example.org').text, '/email-bestaetigen/'))
    await see(user, 'Bitte bestätigen Sie, dass Sie sich künftig mit dieser E-Mail-Adresse anmelden')
    with Session(db) as session:  # opened only (as a mail scanner does): nothing has changed yet
        assert session.exec(select(PortalUser)).one().email == 'erika@example.org'
    button(user, 'Bestätigen').click()
    await see(user, 'lautet jetzt erika.neu@example.org')
    assert 'erika.neu@example.org' in last_mail(db, 'erika@example.org').text


async def test_where_the_utility_deletes_on_request_the_page_says_whom_to_ask(user, db, erika):
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/einstellungen')
    await user.should_see('Profil entfernen')
    await user.should_see('04221 555-0')
    assert not [b for b in user.find(ui.button).elements if b.text == 'Entfernen']


@pytest.mark.profile('wasserverband-c')
async def test_profil_entfernen_asks_again_then_deletes_the_login(user, db):
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    make_login(db, [customer['id']], email='weg@example.org')
    await log_in(user, 'weg@example.org', PASSWORD)
    await user.open('/einstellungen')
    button(user, 'Entfernen').click()
    await user.should_see('wirklich entfernen')
    field(user, 'Aktuelles Passwort').type(PASSWORD)
    button(user, 'Ja, Zugang endgültig löschen').click()
    await see(user, 'Ihr Zugang wurde entfernt')
    assert 'entfernt' in last_mail(db, 'weg@example.org').subject
    await user.open('/')
    field(user, 'E-Mail-Adresse').type('weg@example.org')
    field(user, 'Passwort').type(PASSWORD)
    assert 'nicht richtig' in await submit_for_error(user, 'Anmelden', 'Passwort')


async def test_a_handler_in_a_page_whose_session_has_ended_changes_nothing(user, db, erika):
    _, login = erika
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/einstellungen')
    end_login_elsewhere(db, login['id'])  # e.g. the password was reset in another browser meanwhile
    field(user, 'Neue E-Mail-Adresse').type('anders@example.org')
    field(user, 'Aktuelles Passwort').type(PASSWORD)
    button(user, 'E-Mail-Adresse ändern').click()
    await see(user, 'Passwort vergessen?')
    from tests.factories import mails_to

    assert mails_to(db, 'anders@example.org') == []


async def test_a_second_factor_confirmed_after_the_login_ended_elsewhere_is_not_switched_on(user, db, erika):
    from sqlmodel import Session

    from domain.model import PortalUser

    _, login = erika
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/einstellungen')
    field(user, 'Aktuelles Passwort').type(PASSWORD)
    button(user, 'Zweiten Faktor einrichten').click()
    await see(user, 'Scannen Sie den QR-Code')
    secret = next(e.text for e in user.find(ui.label).elements if e.text.startswith('Ohne Kamera')).split(': ')[1]
    field(user, 'Code aus der App').type(pyotp.TOTP(secret).now())
    end_login_elsewhere(db, login['id'])
    button(user, 'Einrichtung bestätigen').click()
    await see(user, 'Passwort vergessen?')
    with Session(db) as session:
        assert not session.get(PortalUser, login['id']).totp_enabled


async def test_an_optional_second_factor_is_set_up_and_asked_at_the_next_login(user, db):
    customer = make_customer(db, last_name='Doppelt')
    make_login(db, [customer['id']], email='doppelt@example.org')
    await log_in(user, 'doppelt@example.org', PASSWORD)
    await user.open('/einstellungen')
    field(user, 'Aktuelles Passwort').type(PASSWORD)
    button(user, 'Zweiten Faktor einrichten').click()
    await see(user, 'Scannen Sie den QR-Code')
    secret = next(e.text for e in user.find(ui.label).elements if e.text.startswith('Ohne Kamera')).split(': ')[1]
    authenticator = pyotp.TOTP(secret)
    field(user, 'Code aus der App').type('000000')
    assert 'Code stimmt nicht' in await submit_for_error(user, 'Einrichtung bestätigen', 'Code aus der App')
    field(user, 'Code aus der App').clear().type(authenticator.now())
    button(user, 'Einrichtung bestätigen').click()
    await see(user, 'Die Anmeldung mit zweitem Faktor ist eingeschaltet.')
    button(user, 'Abmelden').click()
    await see(user, 'Passwort vergessen?')
    field(user, 'E-Mail-Adresse').type('doppelt@example.org')
    field(user, 'Passwort').type(PASSWORD)
    button(user, 'Anmelden').click()
    await see(user, 'Bestätigungscode')
    await user.open('/uebersicht')  # the password alone opens nothing
    await see(user, 'Passwort vergessen?')
    await user.open('/anmelden/code')
    field(user, 'Code').type(authenticator.at(int(time.time()) + 30))  # the next code: not the one used
    button(user, 'Anmelden').click()
    await user.should_see('Ihre Verträge', retries=50)


async def at_the_code_page(user, db, name: str) -> tuple[dict, pyotp.TOTP]:
    """A login with a second factor (its email `name`@example.org) after the right password, on the code page."""
    from domain.totp import seal

    customer = make_customer(db, last_name=name.capitalize())
    login = make_login(db, [customer['id']], email=f'{name}@example.org')
    secret = pyotp.random_base32()
    with Session(db) as session:
        account = session.get_one(PortalUser, login['id'])
        account.totp_enabled, account.totp_secret = True, seal(os.environ['KUNDENPORTAL_STORAGE_SECRET'], secret)
        session.add(account)
        session.commit()
    await user.open('/')
    field(user, 'E-Mail-Adresse').type(f'{name}@example.org')
    field(user, 'Passwort').type(PASSWORD)
    button(user, 'Anmelden').click()
    await see(user, 'Bestätigungscode')
    return login, pyotp.TOTP(secret)


async def test_a_code_sent_more_than_five_minutes_after_the_password_is_not_taken(user, db):
    """The code page left open: its code must follow the password within five minutes, when it is sent too."""
    _, authenticator = await at_the_code_page(user, db, 'spaet')
    follow_session(user)
    with user:
        app.storage.user['pending_since'] -= 6 * 60
    field(user, 'Code').type(authenticator.now())
    assert 'innerhalb von fünf Minuten' in await submit_for_error(user, 'Anmelden', 'Code')
    await user.open('/uebersicht')
    await see(user, 'Passwort vergessen?')


async def test_a_code_sent_after_the_password_changed_elsewhere_is_not_taken(user, db):
    """The password step waits for the code; the password is reset in another browser meanwhile (every session
    ends). The code from the page opened before made a session all the same."""
    login, authenticator = await at_the_code_page(user, db, 'geaendert')
    end_login_elsewhere(db, login['id'])
    field(user, 'Code').type(authenticator.now())
    assert 'inzwischen geändert' in await submit_for_error(user, 'Anmelden', 'Code')
    await user.open('/uebersicht')
    await see(user, 'Passwort vergessen?')


async def test_the_contact_form_keeps_what_changed_elsewhere_while_it_was_open(user, db):
    """The page sends what its form showed (`seen`): the phone the import changed while the form stood open stays,
    the field the customer changed is saved."""
    customer = make_customer(db, last_name='Offen')
    make_login(db, [customer['id']], email='otto@example.org')
    await edit_contact_data(user)
    with Session(db) as session:  # the billing system's import, meanwhile
        stored = session.get(Customer, customer['id'])
        stored.phone = '04221 11111'
        session.add(stored)
        session.commit()
    field(user, 'E-Mail-Adresse für Schriftverkehr').clear().type('post@example.org')
    button(user, 'Bestätigen').click()
    await see(user, 'Ihre Änderungen sind gespeichert')
    with Session(db) as session:
        saved = session.get(Customer, customer['id'])
        assert (saved.phone, saved.email) == ('04221 11111', 'post@example.org')


async def test_the_old_address_s_stop_link_asks_before_it_stops_the_change(user, db):
    """A mail scanner at the old mailbox opens every link: opening the page stopped the change of the login email and
    ended every session. Now the page asks, and only the button stops it."""
    from domain import accounts
    from domain.ports import Context
    from storage.settings import Settings
    from storage.unit_of_work import SqlUnitOfWork
    from tests import clock
    from tests.factories import CHEAP_HASHER, last_mail, link_in

    customer = make_customer(db)
    login = make_login(db, [customer['id']], email='alt@example.org')
    settings = Settings(profile='stadtwerke-a', demo=True)
    ctx = Context(settings.load_profile(), settings.storage_secret, 'http://portal.test', CHEAP_HASHER, clock.now())
    with SqlUnitOfWork(db) as work:
        accounts.request_email_change(work, ctx, login['id'], 'neu@example.org', PASSWORD)
    stop = link_in(last_mail(db, 'alt@example.org').text, '/email-aenderung-stoppen/').rsplit('/', 1)[1]

    def epoch() -> int:
        with Session(db) as session:
            return session.get_one(PortalUser, login['id']).session_epoch

    before = epoch()
    await user.open(f'/email-aenderung-stoppen/{stop}')
    await user.should_see('nicht selbst beantragt')
    assert epoch() == before  # only opened: no session ended, the change stands
    button(user, 'Änderung stoppen').click()
    await see(user, 'Die Änderung Ihrer Anmelde-E-Mail-Adresse ist gestoppt')
    assert epoch() == before + 1
