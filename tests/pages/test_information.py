"""Abrechnungsinformation for the customer: the list with each entry's PDF, nothing for anybody else, and the interval
chosen on the page or in the settings (user fixture)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from nicegui import ui
from sqlmodel import Session, select

from domain.model import BillingInformation, Contract, Customer, InstallmentPlan, Price, id_of
from domain.ports import Context
from storage.information import run_information
from storage.settings import Settings
from tests import clock
from tests.factories import CHEAP_HASHER, PASSWORD, add_readings, last_mail, make_customer, make_login, set_meter
from tests.pages.conftest import button, log_in, see


def remote_online_customer(db, email: str, name: str) -> dict:
    """A smart meter (monthly information) whose billing year ends with this month: last month's end is due, on
    whatever day the suite runs."""
    today = clock.today()
    customer = make_customer(db, paperless=True, with_bill=False, last_name=name)
    set_meter(db, customer['meter_number'], kind='smart')
    make_login(db, [customer['id']], email=email)
    start = date(today.year - 1, today.month, 1)  # the first day after the year before ended
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.billing_month = today.month
        session.add(contract)
        if session.exec(select(Price).where(Price.tariff_code == 'STROM-BASIS')).first() is None:
            session.add(
                Price(
                    tariff_code='STROM-BASIS',
                    valid_from=date(today.year - 3, 1, 1),
                    unit='kWh',
                    working_price_net=Decimal('0.2500'),
                    base_price_net_per_year=Decimal('120.00'),
                    vat_rate=Decimal('0.19'),
                )
            )
        session.add(InstallmentPlan(contract_id=id_of(contract), valid_from=start, amount=Decimal(95)))
        session.commit()
    add_readings(db, customer['meter_number'], (start - timedelta(days=366), 40000), (start - timedelta(days=1), 43000))
    return customer


def make_information(db, tmp_path) -> None:
    context = Context(
        Settings(profile='stadtwerke-a', demo=True).load_profile(), 'secret', 'http://portal.test', CHEAP_HASHER,
        clock.now(),
    )  # fmt: skip
    assert run_information(db, context, tmp_path / 'data' / 'documents').made == 2


async def test_the_customer_finds_the_entry_and_its_pdf_and_nobody_else_does(user, db, tmp_path):
    remote_online_customer(db, 'fern@example.org', 'Fern')
    remote_online_customer(db, 'fremd@example.org', 'Fremd')
    make_information(db, tmp_path)
    with Session(db) as session:
        own, foreign = session.exec(select(BillingInformation).order_by(BillingInformation.id)).all()
    await log_in(user, 'fern@example.org', PASSWORD)
    await user.open('/abrechnungsinformation')
    await see(user, f'Stand {own.through:%d.%m.%Y}')
    await see(user, 'Zählerstand geschätzt')
    button(user, 'PDF herunterladen').click()
    response = await user.download.next(timeout=5)
    assert response.content.startswith(b'%PDF')
    answers = [await user.http_client.get(f'/abrechnungsinformation/{i}.pdf') for i in (foreign.id, 99999)]
    assert [a.status_code for a in answers] == [404, 404] and answers[0].text == answers[1].text


async def test_the_interval_is_chosen_in_the_settings_and_confirmed_by_mail(user, db):
    customer = remote_online_customer(db, 'fern@example.org', 'Fern')
    await log_in(user, 'fern@example.org', PASSWORD)
    await user.open('/einstellungen')
    await see(user, 'Wie oft möchten Sie die Abrechnungsinformation erhalten?')
    [select_] = [s for s in user.find(ui.select).elements if s.props.get('aria-label') == 'Abrechnungsinformation']
    assert list(select_.options.values()) == ['monatlich', 'alle 3 Monate', 'alle 6 Monate']  # a smart meter
    assert select_.value == 1
    select_.set_value(3)
    await see(user, 'Gespeichert: Sie erhalten die Abrechnungsinformation alle 3 Monate.')
    with Session(db) as session:
        assert session.get(Customer, customer['id']).information_months == 3
    assert 'alle 3 Monate' in last_mail(db, 'fern@example.org').text
    select_.set_value(1)  # and back to the value the page was built with
    await see(user, 'Gespeichert: Sie erhalten die Abrechnungsinformation monatlich.')
    with Session(db) as session:
        assert session.get(Customer, customer['id']).information_months == 1


async def test_a_water_customer_is_told_there_is_none_for_water(user, db):
    customer = make_customer(db, commodity='water', paperless=True, with_bill=False)
    make_login(db, [customer['id']], email='wasser@example.org')
    await log_in(user, 'wasser@example.org', PASSWORD)
    await user.open('/abrechnungsinformation')
    await see(user, 'gibt es für Strom und Gas')
    await user.open('/einstellungen')
    await see(user, 'Passwort ändern')  # the page is there
    await user.should_not_see('Wie oft möchten Sie die Abrechnungsinformation erhalten?')


@pytest.mark.profile('wasserverband-c')
async def test_a_water_association_s_menu_has_no_billing_information(user, db):
    """§40b EnWG is for electricity and gas: every customer of a water association found a menu item leading to a
    page saying there is none."""
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    make_login(db, [customer['id']], email='wasser@example.org')
    await log_in(user, 'wasser@example.org', PASSWORD)
    await see(user, 'Rechnungen')
    await user.should_not_see('Abrechnungsinformation')
