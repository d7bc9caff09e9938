import pytest

from tests.factories import PASSWORD, last_mail, link_in, make_customer, make_login, pin_in
from tests.pages.conftest import button, field, log_in, see, submit_for_error


def fill_registration(
    user,
    customer_number,
    email='neu@example.org',
    meter='',
    bill='',
    repeat=PASSWORD,
    password=PASSWORD,
    label='Kundennummer',
):
    field(user, label).type(customer_number)
    if meter:
        field(user, 'Zählernummer').type(meter)
    if bill:
        field(user, 'Rechnungsnummer').type(bill)
    field(user, 'E-Mail-Adresse').type(email)
    field(user, 'Passwort').type(password)
    field(user, 'Passwort wiederholen').type(repeat)


async def test_registration_by_activation_link_then_login(user, db):
    customer = make_customer(db)
    await user.open('/registrieren')
    fill_registration(user, customer['customer_number'], meter=customer['meter_number'])
    button(user, 'Registrieren').click()
    await see(user, 'Fast geschafft')
    await user.should_see('Spam')
    path = link_in(last_mail(db, 'neu@example.org').text, '/aktivieren/')
    await user.open(path)
    button(user, 'E-Mail-Adresse bestätigen').click()
    await see(user, 'Ihre E-Mail-Adresse ist bestätigt')
    await log_in(user, 'neu@example.org', PASSWORD)
    await user.should_see(customer['customer_number'])


async def test_a_wrong_pair_is_explained_beside_the_meter_number(user, db):
    customer = make_customer(db)
    await user.open('/registrieren')
    fill_registration(user, customer['customer_number'], meter='1EBZ0199999999')
    message = await submit_for_error(user, 'Registrieren', 'Zählernummer')
    assert 'Leerzeichen, Punkte und Bindestriche dürfen Sie mit eingeben' in message  # as the hint says
    assert '8 Ziffern, beginnt mit 4' in message


async def test_a_customer_number_in_the_wrong_format_is_explained_at_its_field(user, db):
    await user.open('/registrieren')
    fill_registration(user, '12345', meter='1EBZ0100000001')
    assert '8 Ziffern, beginnt mit 4' in await submit_for_error(user, 'Registrieren', 'Kundennummer')


async def test_different_passwords_are_pointed_out_at_the_repetition(user, db):
    customer = make_customer(db)
    await user.open('/registrieren')
    fill_registration(user, customer['customer_number'], meter=customer['meter_number'], repeat=PASSWORD + 'x')
    assert 'stimmen nicht überein' in await submit_for_error(user, 'Registrieren', 'Passwort wiederholen')


async def test_an_email_already_registered_gets_guidance_to_log_in(user, db):
    first, second = make_customer(db), make_customer(db)
    make_login(db, [first['id']], email='da@example.org')
    await user.open('/registrieren')
    fill_registration(user, second['customer_number'], email='da@example.org', meter=second['meter_number'])
    message = await submit_for_error(user, 'Registrieren', 'E-Mail-Adresse')
    assert 'bereits registriert' in message and 'Kundennummer hinzufügen' in message


@pytest.mark.profile('stadtwerke-b')
async def test_stadtwerke_b_asks_for_the_contract_account_number(user, db):
    customer = make_customer(db, 'stadtwerke-b')
    await user.open('/registrieren')
    label = 'Kundennummer (Vertragskontonummer)'
    assert 'IR und 8 Ziffern' in field(user, label).elements.pop().props['hint']
    fill_registration(user, customer['customer_number'].lower(), meter=customer['meter_number'], label=label)
    button(user, 'Registrieren').click()
    await see(user, 'Fast geschafft')


@pytest.mark.profile('wasserverband-c')
async def test_water_customers_register_with_the_bill_number_and_confirm_by_pin(user, db):
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    await user.open('/registrieren')
    fill_registration(
        user, customer['customer_number'], bill=customer['bill_number'], password='Wasser-Uhr7!', repeat='Wasser-Uhr7!'
    )
    button(user, 'Registrieren').click()
    await see(user, 'E-Mail-Adresse bestätigen')
    pin = pin_in(last_mail(db, 'neu@example.org').text)
    wrong = '000000' if pin != '000000' else '111111'
    field(user, 'PIN').type(wrong)
    assert 'noch 4 Versuche' in await submit_for_error(user, 'Bestätigen', 'PIN')
    assert 'in 5 Minuten' in await submit_for_error(user, 'Neue PIN anfordern', 'PIN')
    field(user, 'PIN').clear().type(pin)
    button(user, 'Bestätigen').click()
    await see(user, 'Ihr Zugang aktiv')
    await log_in(user, 'neu@example.org', 'Wasser-Uhr7!')


@pytest.mark.profile('wasserverband-c')
async def test_the_water_association_demands_all_four_character_classes(user, db):
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    await user.open('/registrieren')
    fill_registration(
        user, customer['customer_number'], bill=customer['bill_number'], password='wasseruhr', repeat='wasseruhr'
    )
    message = await submit_for_error(user, 'Registrieren', 'Passwort')
    assert 'ein Großbuchstabe, eine Ziffer, ein Sonderzeichen' in message


@pytest.mark.profile('wasserverband-c')
async def test_either_meter_or_bill_number_is_required(user, db):
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    await user.open('/registrieren')
    fill_registration(user, customer['customer_number'], password='Wasser-Uhr7!', repeat='Wasser-Uhr7!')
    message = await submit_for_error(user, 'Registrieren', 'Rechnungsnummer')
    assert message == 'Bitte geben Sie die Rechnungsnummer oder Zählernummer an.'


async def test_an_invalid_activation_link_says_what_to_do(user):
    await user.open('/aktivieren/falsch')
    button(user, 'E-Mail-Adresse bestätigen').click()
    await see(user, 'ungültig oder abgelaufen')


async def test_e_mail_erneut_senden_sends_a_few_mails_then_says_when_the_next_is_possible(user, db):
    from tests.factories import mails_to

    customer = make_customer(db)
    await user.open('/registrieren')
    fill_registration(user, customer['customer_number'], meter=customer['meter_number'])
    button(user, 'Registrieren').click()
    await see(user, 'Fast geschafft')
    for _ in range(3):
        button(user, 'E-Mail erneut senden').click()
        await see(user, 'Wir haben die E-Mail erneut')
    for _ in range(12):  # as the probe did: 15 clicks in all
        button(user, 'E-Mail erneut senden').click()
    await see(user, 'Eine weitere E-Mail können Sie ab')
    assert len(mails_to(db, 'neu@example.org')) == 1 + 3  # the registration's own mail and three more


async def test_an_activation_link_opened_only_activates_nothing(user, db):
    """A mail scanner at a mistyped address (someone else's) opens every link: the login it would activate is one
    whose mails, reset links included, go to that stranger. The page asks first, as the login email change's does."""
    from sqlmodel import Session, select

    from domain.model import PortalUser

    customer = make_customer(db)
    await user.open('/registrieren')
    fill_registration(user, customer['customer_number'], email='vertippt@example.org', meter=customer['meter_number'])
    button(user, 'Registrieren').click()
    await see(user, 'Fast geschafft')
    await user.open(link_in(last_mail(db, 'vertippt@example.org').text, '/aktivieren/'))
    await see(user, 'Registrierung bestätigen')
    with Session(db) as session:  # opened only (as a mail scanner does): still waiting for its owner
        assert session.exec(select(PortalUser)).one().state == 'pending'
    button(user, 'E-Mail-Adresse bestätigen').click()
    await see(user, 'Ihre E-Mail-Adresse ist bestätigt')
    with Session(db) as session:
        assert session.exec(select(PortalUser)).one().state == 'active'
