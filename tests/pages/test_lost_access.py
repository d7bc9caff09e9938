"""Nobody locked out (issue 23), through the pages: `/zugang-verloren` from the login page, the answer that reveals
nothing, and the service desk's "Anmelde-E-Mail-Adresse ändern"."""

import pytest
from nicegui import ui
from sqlmodel import Session, select

from domain.model import PortalUser
from tests.factories import last_mail, link_in, mails_to, make_customer, make_login, make_staff
from tests.pages.conftest import button, field, see, submit_for_error
from tests.pages.test_backoffice import staff_login


async def fill(user, customer_number: str, meter: str, email: str) -> None:
    await user.open('/')
    user.find('Kein Zugriff mehr auf Ihre E-Mail-Adresse?').click()
    await see(user, 'Nennen Sie uns Ihre Kundennummer')
    field(user, 'Name').type('Lotte Muster')
    field(user, 'Kundennummer').type(customer_number)
    field(user, 'Zählernummer').type(meter)
    field(user, 'Neue E-Mail-Adresse').type(email)


async def test_a_customer_asks_for_a_new_login_address_from_the_login_page(user, db):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='lotte@alt.example')
    await fill(user, customer['customer_number'], customer['meter_number'], 'lotte@neu.example')
    field(user, 'Telefon').type('0351 123 456')
    button(user, 'Anfrage senden').click()
    await see(user, 'Wir haben eine Bestätigung an lotte@neu.example gesendet')
    assert 'Anfrage erhalten' in last_mail(db, 'lotte@neu.example').text
    # staff find it in the review queue, call back, and accept: the login moves to the new address
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/pruefungen')
    await see(user, 'Neue Anmelde-E-Mail-Adresse (kein Zugriff mehr)')
    await see(user, 'Neue Anmelde-Adresse: lotte@neu.example · Telefon für den Rückruf: 0351123456')
    await see(user, 'Name: Lotte Muster')
    user.find(ui.textarea).type('Rückruf am Vormittag, Angaben bestätigt.')
    button(user, 'Zustimmen').click()
    await see(user, '0 Treffer')
    assert link_in(last_mail(db, 'lotte@neu.example').text, '/passwort-neu/')
    with Session(db) as session:
        assert session.exec(select(PortalUser)).all()[0].email == 'lotte@neu.example'


async def test_numbers_that_do_not_match_get_the_same_answer(user, db):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='lotte@alt.example')
    await fill(user, customer['customer_number'], 'FALSCH-1', 'jemand@neu.example')
    button(user, 'Anfrage senden').click()
    await see(user, 'Wir haben eine Bestätigung an jemand@neu.example gesendet')


async def test_a_bad_address_is_answered_at_its_field(user, db):
    customer = make_customer(db)
    await fill(user, customer['customer_number'], customer['meter_number'], 'keine-adresse')
    message = await submit_for_error(user, 'Anfrage senden', 'Neue E-Mail-Adresse')
    assert 'gültige E-Mail-Adresse' in message


async def test_staff_set_the_new_login_address_at_the_service_desk(user, db):
    customer = make_customer(db, last_name='Lotte')
    make_login(db, [customer['id']], email='lotte@alt.example')
    other = make_customer(db)
    make_login(db, [other['id']], email='belegt@example.org')
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    user.find('Anmelde-E-Mail-Adresse ändern').click()
    field(user, 'Neue E-Mail-Adresse').type('belegt@example.org')
    message = await submit_for_error(user, 'Adresse eintragen', 'Neue E-Mail-Adresse')
    assert 'gehört bereits zu einem anderen Zugang' in message
    field(user, 'Neue E-Mail-Adresse').clear()
    field(user, 'Neue E-Mail-Adresse').type('lotte@neu.example')
    button(user, 'Adresse eintragen').click()
    await see(user, 'Die Anmelde-E-Mail-Adresse ist jetzt lotte@neu.example')
    with Session(db) as session:
        assert session.exec(select(PortalUser).where(PortalUser.email == 'lotte@neu.example')).one()
    assert link_in(last_mail(db, 'lotte@neu.example').text, '/passwort-neu/')
    assert 'lotte@neu.example' in mails_to(db, 'lotte@alt.example')[-1].text


@pytest.mark.parametrize(
    ('profile', 'asked', 'not_asked'),
    [
        pytest.param(p, asked, no, marks=pytest.mark.profile(p))
        for p, asked, no in (
            ('stadtwerke-b', 'Ihre Kundennummer, Ihre Zählernummer und', 'Rechnung'),
            ('wasserverband-c', 'die Nummer von Zähler oder Rechnung', None),
        )
    ],
)
async def test_the_intro_asks_for_the_numbers_its_form_offers(user, profile, asked, not_asked):
    """A utility that takes the meter number only asked for "die Nummer von Zähler oder Rechnung"; the form has no
    field for a bill's number."""
    await user.open('/zugang-verloren')
    await see(user, asked)
    labels = {e.props.get('label') for e in user.find(ui.input).elements}
    assert ('Rechnungsnummer' in labels) == (not_asked is None)
    if not_asked:
        await user.should_not_see(not_asked)
