"""Tarif wechseln and Umzug melden through the pages (User fixture), and what the contract page shows of them."""

import asyncio
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from nicegui import ui
from sqlmodel import Session, select

from domain.i18n import day
from domain.model import Contract, ContractRequest, Price
from domain.moves import reading_field
from domain.tariffs import starts
from tests.clock import today
from tests.factories import PASSWORD, add_readings, add_tariff, make_customer, make_login, year_end
from tests.pages.conftest import button, field, log_in, see, submit_for_error
from tests.storage.test_tariffs_and_moves import oeko_dearer_from, prices


@pytest.fixture
def household(db):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='erika@example.org')
    add_tariff(db, customer['id'])
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(1), 13000))
    prices(db, ('STROM-OEKO', '0.2600', '110.00'), ('STROM-FIX24', '0.2400', '150.00'))
    return customer


def requests_of(db) -> list[ContractRequest]:
    with Session(db) as session:
        return list(session.exec(select(ContractRequest)))


async def test_a_contract_ending_before_the_first_possible_change_says_so(user, db, household):
    ends = today() + timedelta(days=10)  # a change starts at least 14 days ahead
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == household['id'])).one()
        contract.end_date = ends
        session.add(contract)
        session.commit()
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/tarif')
    await see(user, f'Dieser Vertrag endet am {day(ends)}')
    await user.should_not_see('Diesen Tarif wählen')


async def test_the_tariffs_are_listed_cheapest_first_and_one_is_chosen(user, db, household):
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/vertraege')
    await see(user, 'AueStrom Basis')  # the tariff's name, not its code
    user.find('Tarif wechseln').click()
    await see(user, 'Ihr Verbrauch im letzten Abrechnungsjahr: 3.000 kWh')
    labels = sorted(user.find(ui.label).elements, key=lambda e: e.id)  # ids grow in the order the page is built
    names = [label.text for label in labels if label.text.startswith('AueStrom')]
    assert names == ['AueStrom Fix 24', 'AueStrom Basis', 'AueStrom Öko']
    await user.should_see('Bei Ihrem Verbrauch: 1.035,30\xa0€ im Jahr')  # money keeps the € with its amount
    await user.should_see('Ihr Tarif')
    named = {b.props.get('aria-label') for b in user.find(ui.button).elements}  # the name says which tariff
    assert {'Diesen Tarif wählen: AueStrom Öko', 'Diesen Tarif wählen: AueStrom Fix 24'} <= named
    user.find(marker='choose-STROM-OEKO').click()
    await see(user, 'Gewählt: AueStrom Öko')
    button(user, 'Tarif wechseln').click()
    await see(user, 'Ihr Tarifwechsel zum')
    [request] = requests_of(db)
    assert request.kind == 'tariff_change'
    await user.open('/vertraege')
    start = day(date.fromisoformat(json.loads(request.content)['start']))
    await see(user, f'Anfrage zum Tarifwechsel T-{request.id:06d} vom {day(today())}: in Bearbeitung ({start})')


async def test_a_price_change_known_for_a_start_offered_is_shown_beside_todays(user, db, household):
    second = starts(today())[1]
    oeko_dearer_from(db, second)
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/tarif')
    await see(user, 'Arbeitspreis 30,94 ct/kWh · Grundpreis 130,90\xa0€ im Jahr')
    await see(user, f'Ab {day(second)}: Arbeitspreis 35,70 ct/kWh · Grundpreis 142,80\xa0€ im Jahr')


async def test_a_move_is_reported_with_its_reading_and_new_address(user, db, household):
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/umzug')
    await see(user, 'Zählerstände am Auszugstag')
    field(user, 'Auszugsdatum').type(day(today() + timedelta(days=400)))
    assert 'Datum vom' in await submit_for_error(user, 'Umzug melden', 'Auszugsdatum')
    field(user, 'Auszugsdatum').clear()
    field(user, 'Auszugsdatum').type(day(today()))
    days = (today() - year_end(1)).days
    field(user, 'Zählerstand bei Auszug').type(str(13000 + 3000 * days // 365))
    field(user, 'Straße').type('Neue Straße')
    field(user, 'Hausnummer').type('7')
    field(user, 'PLZ').type('10115')
    await see(user, 'außerhalb unseres Versorgungsgebiets')
    field(user, 'Ort').type('Berlin')
    button(user, 'Umzug melden').click()
    await see(user, 'Ihre Umzugsmeldung ist bei uns eingegangen')
    await user.should_see('Umzugsmeldung als PDF speichern')
    [request] = requests_of(db)
    assert request.kind == 'move' and request.effective == today()
    await user.open('/vertraege')
    await see(user, f'Umzugsmeldung U-{request.id:06d}')


async def test_a_move_abroad_is_reported_with_the_country_s_postal_code(user, db, household):
    """A Dutch postal code ('1234 AB') was refused as 'fünf Ziffern': nobody moving abroad could report the move."""
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/umzug')
    await see(user, 'Land (nur wenn nicht Deutschland)')
    field(user, 'Auszugsdatum').type(day(today()))
    days = (today() - year_end(1)).days
    field(user, 'Zählerstand bei Auszug').type(str(13000 + 3000 * days // 365))
    field(user, 'Straße').type('Keizersgracht')
    field(user, 'Hausnummer').type('12')
    field(user, 'PLZ').type('1015 CJ')
    field(user, 'Ort').type('Amsterdam')
    assert 'fünf Ziffern' in await submit_for_error(user, 'Umzug melden', 'PLZ')
    field(user, 'Land (nur wenn nicht Deutschland)').type('Niederlande')
    await see(user, 'Diese Anschrift liegt außerhalb unseres Versorgungsgebiets')
    assert field(user, 'PLZ').elements.pop().props['inputmode'] == 'text'
    button(user, 'Umzug melden').click()
    await see(user, 'Ihre Umzugsmeldung ist bei uns eingegangen')
    await user.should_see('Keizersgracht 12, 1015 CJ Amsterdam, NIEDERLANDE')
    [request] = requests_of(db)
    assert json.loads(request.content)['continue'] == 'no'


async def test_a_bad_reading_at_move_out_is_answered_at_its_field(user, db, household):
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/umzug')
    field(user, 'Auszugsdatum').type(day(today()))
    field(user, 'Zählerstand bei Auszug').type('12,5')
    message = await submit_for_error(user, 'Umzug melden', 'Zählerstand bei Auszug')
    assert 'nur die Ziffern vor dem Komma' in message
    assert requests_of(db) == []
    assert reading_field(household['meter_number'], '1.8.0') == f'out_{household["meter_number"]}_1.8.0'


async def test_a_double_click_on_tarif_wechseln_sends_one_request(user, db, household):
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/tarif')
    user.find(marker='choose-STROM-OEKO').click()
    await see(user, 'Gewählt: AueStrom Öko')
    button(user, 'Tarif wechseln').click()
    button(user, 'Tarif wechseln').click()  # the second click of a double click
    await see(user, 'Ihr Tarifwechsel zum')
    await asyncio.sleep(0.3)
    assert len(requests_of(db)) == 1


async def test_a_double_click_on_umzug_melden_sends_one_request(user, db, household):
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/umzug')
    field(user, 'Auszugsdatum').type(day(today() + timedelta(days=30)))
    field(user, 'Straße').type('Neue Straße')
    field(user, 'Hausnummer').type('7')
    field(user, 'PLZ').type('10115')
    field(user, 'Ort').type('Berlin')
    button(user, 'Umzug melden').click()
    button(user, 'Umzug melden').click()
    await see(user, 'Ihre Umzugsmeldung ist bei uns eingegangen')
    await asyncio.sleep(0.3)
    assert len(requests_of(db)) == 1


async def test_without_a_running_contract_tarif_and_umzug_say_so(user, db, household):
    """Both pages were blank under their title (Tarif) or offered a move form without meters that took the request."""
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == household['id'])).one()
        contract.end_date = today() - timedelta(days=1)
        session.add(contract)
        session.commit()
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/tarif')
    await see(user, 'keinen laufenden Vertrag, dessen Tarif Sie wechseln können')
    await user.open('/umzug')
    await see(user, 'keinen laufenden Vertrag, den Sie mit einem Umzug beenden oder mitnehmen können')
    await user.should_not_see('Auszugsdatum')


async def test_the_contract_page_names_both_prices_of_a_coming_change(user, db, household):
    """A change of the base price alone read "Preisänderung ab …: Arbeitspreis 29,75 ct/kWh", today's unit price."""
    with Session(db) as session:
        [today_s] = session.exec(select(Price).where(Price.tariff_code == 'STROM-BASIS')).all()
        session.add(
            Price(
                tariff_code='STROM-BASIS',
                valid_from=today() + timedelta(days=30),
                unit='kWh',
                working_price_net=today_s.working_price_net,
                base_price_net_per_year=Decimal('150.00'),
                vat_rate=Decimal('0.19'),
            )
        )
        session.commit()
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/vertraege')
    await see(user, f'Preisänderung ab {day(today() + timedelta(days=30))}: Arbeitspreis ')
    await see(user, 'Grundpreis 178,50\xa0€ pro Jahr')
