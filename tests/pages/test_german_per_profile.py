"""German that is right in every profile (issue 23): water is not energy, the utility's own words for its meters, a
link clicked twice, a PIN page that speaks of a PIN, one and many unread messages."""

import pytest
from sqlmodel import Session

from domain.model import InboxMessage
from tests import clock
from tests.factories import PASSWORD, add_tariff, last_mail, link_in, make_customer, make_login
from tests.pages.conftest import button, log_in, see
from tests.pages.test_registration import fill_registration


@pytest.mark.profile('wasserverband-c')
async def test_a_water_contract_shows_no_malo_id_and_its_price_per_cubic_metre(user, db):
    from decimal import Decimal

    from sqlmodel import select

    from domain.model import Price

    customer = make_customer(db, 'wasserverband-c', commodity='water')
    add_tariff(db, customer['id'], working_net='2.1500', base_net='90.00')
    with Session(db) as session:
        for price in session.exec(select(Price)):
            price.unit, price.vat_rate = 'm3', Decimal('0.07')
            session.add(price)
        session.commit()
    make_login(db, [customer['id']], email='wasser@example.org')
    await log_in(user, 'wasser@example.org', PASSWORD)
    await user.open('/vertraege')
    await see(user, 'Trinkwasser · Vertrag')
    await user.should_see('2,3005 €/m³')  # 2.15 € net + 7 % VAT
    await user.should_see('Mengenpreis')  # water is not energy: no Arbeitspreis
    await user.should_not_see('Arbeitspreis')
    await user.should_not_see('ct/m')
    await user.should_not_see('41373559241')  # the factory's MaLo-ID: energy only


async def test_an_electricity_contract_keeps_its_malo_id_and_cents_per_kwh(user, db):
    customer = make_customer(db)
    add_tariff(db, customer['id'])
    make_login(db, [customer['id']], email='strom@example.org')
    await log_in(user, 'strom@example.org', PASSWORD)
    await user.open('/vertraege')
    await see(user, '41373559241')
    await user.should_see('30,00 ct/kWh')


@pytest.mark.profile('wasserverband-c')
async def test_the_water_association_asks_for_its_main_water_meter(user, db):
    from nicegui import ui

    await user.open('/registrieren')
    await see(user, 'Registrierung')
    [meter] = [e for e in user.find(ui.input).elements if e.props.get('label') == 'Zählernummer']
    assert meter.props['hint'].startswith('Nummer Ihres Hauptzählers (Wasserzähler)')
    assert 'EBZ' not in meter.props['hint']


async def test_a_used_activation_link_says_the_access_is_active(user, db):
    customer = make_customer(db)
    await user.open('/registrieren')
    fill_registration(user, customer['customer_number'], meter=customer['meter_number'])
    button(user, 'Registrieren').click()
    await see(user, 'Fast geschafft')
    path = link_in(last_mail(db, 'neu@example.org').text, '/aktivieren/')
    await user.open(path)
    button(user, 'E-Mail-Adresse bestätigen').click()
    await see(user, 'Ihre E-Mail-Adresse ist bestätigt')
    await user.open(path)
    button(user, 'E-Mail-Adresse bestätigen').click()
    await see(user, 'Ihr Zugang ist bereits aktiv – bitte melden Sie sich an.')


@pytest.mark.profile('wasserverband-c')
async def test_the_pin_page_speaks_of_a_pin_not_a_link(user, db):
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    await user.open('/registrieren')
    fill_registration(
        user, customer['customer_number'], bill=customer['bill_number'], password='Wasser-Uhr7!', repeat='Wasser-Uhr7!'
    )
    button(user, 'Registrieren').click()
    await see(user, 'fordern Sie eine neue PIN an')
    await user.should_not_see('Link')


@pytest.mark.parametrize(('unread', 'text'), [(1, '1 ungelesene Nachricht im'), (2, '2 ungelesene Nachrichten im')])
async def test_one_and_two_unread_messages(user, db, unread, text):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='post@example.org')
    with Session(db) as session:
        for n in range(unread):
            session.add(InboxMessage(customer_id=customer['id'], created_at=clock.now(), subject=f'N{n}', body='.'))
        session.commit()
    await log_in(user, 'post@example.org', PASSWORD)
    await user.should_see(text)


@pytest.mark.profile('wasserverband-c')
async def test_the_overview_shows_no_malo_id_for_a_water_contract(user, db):
    """/vertraege hid it already; /uebersicht, the first page after the login, showed it."""
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    make_login(db, [customer['id']], email='wasser@example.org')
    await log_in(user, 'wasser@example.org', PASSWORD)
    await see(user, 'Trinkwasser · Vertrag')
    await user.should_not_see('Marktlokation')
    await user.should_not_see('41373559241')


async def test_the_overview_names_the_tariff_as_the_contract_page_does(user, db):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='tarif@example.org')
    await log_in(user, 'tarif@example.org', PASSWORD)
    await see(user, 'Strom · Vertrag')
    await user.should_see('AueStrom Basis')
    await user.should_not_see('STROM-BASIS')  # the billing system's code


@pytest.mark.profile('wasserverband-c')
async def test_a_water_customer_is_not_promised_a_billing_information_under_the_energy_law(user, db):
    customer = make_customer(db, 'wasserverband-c', commodity='water', paperless=True)
    add_tariff(db, customer['id'])
    make_login(db, [customer['id']], email='info@example.org')
    await log_in(user, 'info@example.org', PASSWORD)
    await user.open('/abrechnungsinformation')
    await see(user, 'kein Strom- oder Gasvertrag')
    await user.should_not_see('erhalten Sie als Onlinekunde eine Abrechnungsinformation')
    await user.should_not_see('EnWG')


@pytest.mark.profile('wasserverband-c')
async def test_the_english_contract_page_calls_the_water_price_a_unit_price(user, db):
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    add_tariff(db, customer['id'], working_net='2.1500', base_net='90.00')
    make_login(db, [customer['id']], email='water@example.org')
    await log_in(user, 'water@example.org', PASSWORD)
    await user.open('/vertraege')
    button(user, 'Show this page in English').click()
    await see(user, 'Standing charge')
    await user.should_see('Unit price')
    await user.should_not_see('Energy price')


async def test_an_unread_message_of_another_customer_account_is_named_in_the_inbox(user, db):
    """The frame counts the unread messages of all the login's accounts; the inbox shows the selected one's."""
    from nicegui import app

    first, second = make_customer(db, last_name='Erst'), make_customer(db, last_name='Zweit')
    make_login(db, [first['id'], second['id']], email='zwei@example.org')
    await log_in(user, 'zwei@example.org', PASSWORD)
    with user:
        shown = app.storage.user['customer_id']
    other = second if shown == first['id'] else first
    with Session(db) as session:
        session.add(InboxMessage(customer_id=other['id'], created_at=clock.now(), subject='Preisänderung', body='…'))
        session.commit()
    await user.open('/posteingang')
    await see(user, 'Posteingang (1 ungelesen)')
    await user.should_see(f'1 ungelesene Nachricht zur Kundennummer {other["customer_number"]}')


@pytest.mark.profile('wasserverband-c')
async def test_a_water_meter_is_not_described_with_electricity_registers(user, db):
    """OBIS 1.8.x and "Eintarif" (single rate) are the electricity tariff's words."""
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    make_login(db, [customer['id']], email='zaehlwerk@example.org')
    await log_in(user, 'zaehlwerk@example.org', PASSWORD)
    await user.open('/vertraege')
    await see(user, 'Trinkwasser · Vertrag')
    await user.should_not_see('1.8.0')
    await user.should_not_see('Eintarif')


@pytest.mark.profile('wasserverband-c')
async def test_the_water_consumption_page_says_nothing_of_gas(user, db):
    from tests.factories import add_readings, year_end

    customer = make_customer(db, 'wasserverband-c', commodity='water')
    add_readings(db, customer['meter_number'], (year_end(2), 100), (year_end(), 160))
    make_login(db, [customer['id']], email='verbrauch@example.org')
    await log_in(user, 'verbrauch@example.org', PASSWORD)
    await user.open('/verbrauch')
    await see(user, 'Ihr Verbrauch je Abrechnungsjahr aus den Zählerständen.')
    await user.should_not_see('Gas')
