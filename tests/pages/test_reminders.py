"""Reading reminders in the pages (docs/domain.md §10): the link fills in the code, the opt-out link asks before it
stops them, the settings switch them, staff see the list (user fixture)."""

import pytest
from nicegui import ui
from sqlmodel import Session

from domain.model import Customer
from domain.ports import Context
from domain.reminders import opt_out_mac
from storage.settings import Settings
from tests import clock
from tests.factories import CHEAP_HASHER, PASSWORD, last_mail, make_customer, make_login, make_staff, set_meter
from tests.pages.conftest import button, field, log_in, see
from tests.pages.test_backoffice import staff_login


def mac_for(customer_id: int) -> str:
    settings = Settings(profile='stadtwerke-a', demo=True)
    ctx = Context(settings.load_profile(), settings.storage_secret, '', CHEAP_HASHER, clock.now())
    return opt_out_mac(ctx, customer_id)


async def test_the_reminders_link_fills_in_code_and_meter_number(user):
    await user.open('/ablesung?code=ABCD-EFGH-JKLM&zaehler=1EBZ0100000619')
    await see(user, 'Zählerstand ohne Anmeldung melden')
    assert field(user, 'Ablesecode').elements.pop().value == 'ABCD-EFGH-JKLM'
    assert field(user, 'Zählernummer').elements.pop().value == '1EBZ0100000619'


async def test_the_opt_out_link_asks_first_then_stops_the_reminders(user, db):
    customer = make_customer(db, email='stopp@example.org')
    await user.open(f'/erinnerungen-abbestellen/{customer["id"]}/{"0" * 24}')
    button(user, 'Erinnerungen abbestellen').click()
    await see(user, 'Diese Aktion ist nicht möglich.')  # the uniform answer to a wrong link
    with Session(db) as session:
        assert not session.get(Customer, customer['id']).reminders_off
    await user.open(f'/erinnerungen-abbestellen/{customer["id"]}/{mac_for(customer["id"])}')
    with Session(db) as session:  # opening the page (a mail scanner does) changes nothing
        assert not session.get(Customer, customer['id']).reminders_off
    button(user, 'Erinnerungen abbestellen').click()
    await see(user, 'Erledigt: Sie erhalten keine Ablese-Erinnerungen mehr per E-Mail.')
    with Session(db) as session:
        assert session.get(Customer, customer['id']).reminders_off
    assert 'Keine Ablese-Erinnerungen mehr' in last_mail(db, 'stopp@example.org').subject


@pytest.mark.profile('wasserverband-c')  # reads from 2 December to 26 January: reminders at its start and end
async def test_the_settings_switch_the_reminders_with_a_confirmation(user, db):
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    make_login(db, [customer['id']], email='einstellung@example.org')
    await log_in(user, 'einstellung@example.org', PASSWORD)
    await user.open('/einstellungen')
    await see(user, 'Ablese-Erinnerungen')
    [box] = [c for c in user.find(ui.checkbox).elements if c.text == 'Ablese-Erinnerungen per E-Mail']
    assert box.value is True
    box.set_value(False)
    await see(user, 'Gespeichert: Sie erhalten keine Ablese-Erinnerungen mehr.')
    with Session(db) as session:
        assert session.get(Customer, customer['id']).reminders_off
    assert 'Keine Ablese-Erinnerungen mehr' in last_mail(db, 'einstellung@example.org').subject


@pytest.mark.parametrize(
    'profile', ['stadtwerke-a', pytest.param('wasserverband-c', marks=pytest.mark.profile('wasserverband-c'))]
)
async def test_no_reminder_setting_where_no_reminder_is_ever_sent(user, db, profile):
    """A utility that takes readings all year has no period to remind of; a customer whose meter is read remotely
    reads nothing: the card promised "Zu Beginn jeder Ablesezeit erinnern wir Sie" to both."""
    customer = make_customer(db, profile, commodity='water' if profile == 'wasserverband-c' else 'electricity')
    if profile == 'wasserverband-c':
        set_meter(db, customer['meter_number'], kind='radio')
    make_login(db, [customer['id']], email='ohne@example.org')
    await log_in(user, 'ohne@example.org', PASSWORD)
    await user.open('/einstellungen')
    await see(user, 'Passwort ändern')
    await user.should_not_see('Ablese-Erinnerungen')


async def test_staff_find_the_reminders_page(user, db):
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/erinnerungen')
    await see(user, 'Die Ablese-Erinnerungen per E-Mail')
    await see(user, '0 Treffer')


async def test_the_mail_programs_one_click_post_stops_the_reminders(user, db):
    customer = make_customer(db, email='klick@example.org')
    wrong = await user.http_client.post(f'/erinnerungen-abbestellen/{customer["id"]}/{"0" * 24}')
    huge = await user.http_client.post(f'/erinnerungen-abbestellen/{2**40}/{"0" * 24}')
    assert (wrong.status_code, huge.status_code) == (404, 422)
    done = await user.http_client.post(f'/erinnerungen-abbestellen/{customer["id"]}/{mac_for(customer["id"])}')
    assert done.status_code == 200 and 'keine Ablese-Erinnerungen mehr' in done.text
    with Session(db) as session:
        assert session.get(Customer, customer['id']).reminders_off
