"""English as the second UI language: a switch in every page's header, kept through the login."""

import pytest

from tests.factories import PASSWORD, add_readings, make_customer, make_login, set_meter, year_end
from tests.pages.conftest import button, field, follow_session, log_in, see, submit_for_error
from tests.pages.test_readings import DAYS, pdf_text


async def test_the_switch_turns_the_public_pages_english_and_back(user):
    await user.open('/')
    button(user, 'Show this page in English').click()  # the button offers English in English ("English")
    await see(user, 'Forgot your password?')
    await user.open('/registrieren')
    await user.should_see('Registration')
    field(user, 'Password')  # labels too
    button(user, 'Seite auf Deutsch anzeigen').click()
    await see(user, 'Registrierung')


async def test_an_english_customer_stays_english_after_the_login_and_gets_english_errors(user, db):
    customer = make_customer(db)
    make_login(db, [customer['id']], email='erika@example.org')
    await user.open('/')
    button(user, 'Show this page in English').click()
    await see(user, 'Forgot your password?')
    field(user, 'Email address').type('erika@example.org')
    field(user, 'Password').type('falsch-falsch')
    assert 'Email address or password is not correct' in await submit_for_error(user, 'Log in', 'Password')
    field(user, 'Password').clear().type(PASSWORD)
    button(user, 'Log in').click()
    await see(user, 'Your contracts')  # the new session id kept the language
    follow_session(user)
    await user.should_see('Electricity')  # texts made inside use cases follow too
    await user.open('/zaehlerstand')
    await user.should_see('Submit meter reading')
    await user.open('/verwaltung')
    await user.should_see('Staff login')


async def test_a_contracts_meter_names_its_registers_in_the_chosen_language(user, db):
    customer = make_customer(db)
    set_meter(db, customer['meter_number'], registers='1.8.1,1.8.2')
    make_login(db, [customer['id']], email='zweitarif@example.org')
    await log_in(user, 'zweitarif@example.org', PASSWORD)
    await user.open('/vertraege')
    await see(user, 'HT (1.8.1), NT (1.8.2)')
    button(user, 'Show this page in English').click()
    await see(user, 'peak rate HT (1.8.1), off-peak rate NT (1.8.2)')


async def test_an_open_cancellation_is_named_in_english_on_the_english_contract_page(user, db):
    import json

    from sqlmodel import Session, select

    from domain.model import Contract, ContractRequest
    from tests import clock

    customer = make_customer(db)
    make_login(db, [customer['id']], email='kuendigung@example.org')
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        content = json.dumps({'notice': 'ordinary', 'effective': 'next_possible'})
        session.add(
            ContractRequest(
                kind='cancellation',
                received_at=clock.now(),
                customer_id=customer['id'],
                contract_id=contract.id,
                email='kuendigung@example.org',
                content=content,
            )
        )
        session.commit()
    await log_in(user, 'kuendigung@example.org', PASSWORD)
    await user.open('/vertraege')
    await see(user, 'zum nächstmöglichen Zeitpunkt')
    button(user, 'Show this page in English').click()
    await see(user, 'being processed (at the next possible date)')
    await user.should_not_see('Kündigung')
    await user.should_not_see('zum nächstmöglichen Zeitpunkt')


async def test_an_english_visitor_s_reading_confirmation_is_english_throughout(user, db, tmp_path):
    """Its values came in the visitor's language, everything around them in German."""
    customer = make_customer(db, last_name='Ablesung')
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13650))
    make_login(db, [customer['id']], email='anna@example.org')
    await user.open('/')
    button(user, 'Show this page in English').click()
    await see(user, 'Forgot your password?')
    field(user, 'Email address').type('anna@example.org')
    field(user, 'Password').type(PASSWORD)
    button(user, 'Log in').click()
    await see(user, 'Your contracts')
    follow_session(user)
    await user.open('/zaehlerstand')
    await see(user, 'Submit meter reading')
    field(user, 'Meter reading').type(str(13650 + 10 * DAYS))
    button(user, 'Submit meter reading').click()
    await see(user, 'Thank you!')
    button(user, 'Confirmation as PDF').click()
    text = pdf_text((await user.download.next(timeout=5)).content, tmp_path)
    assert 'Confirmation of your meter reading' in text and 'Values submitted' in text and 'Page 1' in text
    assert customer['meter_number'] in text and 'Electricity' in text and ' at ' in text
    assert 'VAT ID DE181234567' in text  # the seller's legal line too
    for german in ('Bestätigung', 'Zählernummer', 'Hinweis', 'Seite', 'Telefon', 'Uhr', 'USt-IdNr.'):
        assert german not in text


@pytest.mark.profile('stadtwerke-b')
async def test_the_utility_s_own_identifier_is_named_in_english_on_english_pages(user, db):
    make_customer(db, 'stadtwerke-b')
    await user.open('/registrieren')
    button(user, 'Show this page in English').click()
    await see(user, 'Registration')
    field(user, 'Customer number (contract account number)').type('IR99999999')
    field(user, 'Meter number').type('1EBZ0100009999')
    field(user, 'Email address').type('neu@example.org')
    field(user, 'Password').type(PASSWORD)
    field(user, 'Repeat password').type(PASSWORD)
    error = await submit_for_error(user, 'Register', 'Meter number')
    assert 'Please check Customer number (contract account number) (IR and 8 digits, e.g. IR12345678) and Meter' in (
        error
    )
    assert 'Kundennummer' not in error and 'Zählernummer' not in error


@pytest.mark.profile('wasserverband-c')
async def test_the_water_utility_s_hints_are_english_on_english_pages(user):
    await user.open('/registrieren')
    button(user, 'Show this page in English').click()
    await see(user, 'Registration')
    hints = {name: next(iter(field(user, name).elements)).props.get('hint', '') for name in FIELDS}
    assert hints['Customer number'] == '6 to 10 digits, as on your bill'
    assert hints['Meter number'].startswith('The number of your main meter (water meter)')
    assert hints['Password'].startswith('At least 8 characters')


FIELDS = ('Customer number', 'Meter number', 'Password')


def _reason_suggestions(user, label: str) -> list[str]:
    from nicegui import ui

    [reason] = [
        e for e in user.client.layout.descendants() if isinstance(e, ui.input) and e.props.get('label') == label
    ]
    return reason.props['_autocomplete']


async def test_the_english_reading_form_suggests_reasons_in_english_and_the_bank_form_hints_in_english(user, db, anna):
    await log_in(user, 'anna@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    button(user, 'Show this page in English').click()
    await see(user, 'Submit meter reading')
    suggestions = _reason_suggestions(user, 'Reason')
    assert 'Longer absence' in suggestions and 'Längere Abwesenheit' not in suggestions
    await user.open('/kundendaten')
    await see(user, 'Bank details')
    from nicegui import ui

    [iban] = [e for e in user.find(ui.input).elements if e.props.get('label') == 'IBAN']
    assert iban.props['hint'] == 'e.g. DE89 3704 0044 0532 0130 00'  # was German: "z. B. …"


@pytest.mark.profile('wasserverband-c')
async def test_a_water_meter_is_offered_no_heat_pump_or_electric_car_as_a_reason(user, db, pinned_clock):
    from datetime import datetime

    from domain.clock import BERLIN
    from tests.clock import today

    pinned_clock.move_to(datetime(today().year, 12, 10, 10, 0, tzinfo=BERLIN))  # in the reading period (02.12.–26.01.)
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    add_readings(db, customer['meter_number'], (year_end(2), 100), (year_end(), 260))
    make_login(db, [customer['id']], email='wasser@example.org')
    await log_in(user, 'wasser@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    await see(user, 'Zählerstand übermitteln')
    suggestions = _reason_suggestions(user, 'Begründung')
    assert 'Wasserrohrbruch oder Leck' in suggestions
    assert not any('Wärmepumpe' in s or 'E-Auto' in s for s in suggestions), suggestions


async def test_an_english_customer_s_move_is_kept_in_the_inbox_under_an_english_subject(user, db):
    from datetime import timedelta

    from domain.i18n import day
    from tests.clock import today
    from tests.factories import add_tariff

    customer = make_customer(db)
    make_login(db, [customer['id']], email='move@example.org')
    add_tariff(db, customer['id'])
    await log_in(user, 'move@example.org', PASSWORD)
    await user.open('/umzug')
    button(user, 'Show this page in English').click()
    await see(user, 'Move-out date')
    field(user, 'Move-out date').type(day(today() + timedelta(days=30)))
    field(user, 'Street').type('New Street')
    field(user, 'House number').type('7')
    field(user, 'Postcode').type('10115')
    field(user, 'Town').type('Berlin')
    button(user, 'Report move').click()
    await see(user, 'U-000001')
    await user.open('/posteingang')
    await see(user, 'Your notice of moving (U-000001) has been received')
    await user.should_not_see('ist eingegangen')


async def test_the_english_contact_form_names_its_topics_in_english_and_keeps_them_german_for_the_staff(user, db, anna):
    from nicegui import ui
    from sqlmodel import Session, select

    from domain.model import ContactMessage

    await log_in(user, 'anna@example.org', PASSWORD)
    await user.open('/kontakt')
    button(user, 'Show this page in English').click()
    await see(user, 'Topic')
    [topic] = [e for e in user.find(ui.select).elements if e.props.get('label') == 'Topic']
    assert list(topic.options.values()) == [
        'Meter reading',
        'Installment',
        'Bill',
        'Move',
        'Bank details',
        'Deletion of my account',
        'Other',
    ]
    topic.value = 'Abschlag'
    field(user, 'Subject').type('Lower installment')
    user.find(ui.textarea).type('Please lower my installment.')
    button(user, 'Send message').click()
    await see(user, 'Thank you for your message')
    with Session(db) as session:
        assert session.exec(select(ContactMessage)).one().topic == 'Abschlag'


async def test_switching_the_language_while_logged_in_is_kept_for_later_mails(user, db):
    """The language for what the portal writes later (the bill run's mail, reminders) was taken at the login only:
    a customer who switched to English after logging in got the next bill's mail in German."""
    from sqlmodel import Session, select

    from domain.model import AuditEntry, PortalUser

    customer = make_customer(db)
    login = make_login(db, [customer['id']], email='switch@example.org')
    await log_in(user, 'switch@example.org', PASSWORD)
    button(user, 'Show this page in English').click()
    await see(user, 'Your contracts')
    with Session(db) as session:
        assert session.get(PortalUser, login['id']).language == 'en'
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == 'language_changed')).one()
        assert entry.actor == f'user:{login["id"]}' and entry.details == 'de → en' and entry.address
    button(user, 'Seite auf Deutsch anzeigen').click()
    await see(user, 'Ihre Verträge')
    with Session(db) as session:
        assert session.get(PortalUser, login['id']).language == 'de'


async def test_the_english_consumption_download_has_english_headings(user, db, anna):
    """The CSV was made in the page's handler, outside any use case: `t` there fell back to German, so the English
    page's download had "Zählernummer;Zeitraum;Beginn;Ende;Verbrauch;Einheit"."""
    await log_in(user, 'anna@example.org', PASSWORD)
    await user.open('/verbrauch')
    button(user, 'Show this page in English').click()
    await see(user, 'Consumption history')
    button(user, 'Download as CSV').click()
    content = (await user.download.next(timeout=5)).content.decode('utf-8-sig')
    assert content.splitlines()[0] == 'Meter number;Period;Start;End;Consumption;Unit'


async def test_the_english_back_office_names_the_contact_topics_in_english(user, db, anna):
    """The filter offered "Zählerstand", "Abschlag", … and each message was headed "N-000001 · Abschlag · …" on the
    English back office; the topic stays stored in German (the filter's value)."""
    import asyncio

    from nicegui import ui
    from sqlmodel import Session

    from domain.model import ContactMessage
    from tests import clock
    from tests.factories import make_staff
    from tests.pages.test_backoffice import staff_login

    customer, _ = anna
    with Session(db) as session:
        session.add(
            ContactMessage(
                customer_id=customer['id'], created_at=clock.now(), topic='Abschlag', subject='Lower', message='Please.'
            )
        )
        session.commit()
    await staff_login(user, make_staff(db))
    button(user, 'Show this page in English').click()
    await see(user, 'Search')
    await user.open('/verwaltung/nachrichten')
    await see(user, 'N-000001 · Installment · Lower')
    await user.should_not_see('Abschlag')
    [topic] = [e for e in user.find(ui.select).elements if e.props.get('label') == 'Topic']
    assert topic.options['Abschlag'] == 'Installment' and topic.options['Sonstiges'] == 'Other'
    topic.value = 'Abschlag'  # filters by the stored (German) topic
    await asyncio.sleep(0.3)
    await see(user, '1 result')


async def test_the_english_list_of_changes_asks_for_the_date_as_dd_mm_yyyy(user, db):
    """The field "Since (date)" showed the German placeholder "TT.MM.JJJJ" on the English back office."""
    from nicegui import ui

    from tests.factories import make_staff
    from tests.pages.test_backoffice import staff_login

    await staff_login(user, make_staff(db))
    button(user, 'Show this page in English').click()
    await see(user, 'Search')
    await user.open('/verwaltung/aenderungen')
    await see(user, 'Changes')
    [since] = [e for e in user.find(ui.input).elements if e.props.get('label') == 'Since (date)']
    assert since.props.get('placeholder') == 'DD.MM.YYYY'


async def test_the_tariffs_are_described_in_english_on_english_pages(user, db):
    """The profile's descriptions ("100 % Strom aus erneuerbaren Quellen …") stood German on the English /tarif."""
    from tests.factories import add_tariff
    from tests.storage.test_tariffs_and_moves import prices

    customer = make_customer(db)
    make_login(db, [customer['id']], email='erika@example.org')
    add_tariff(db, customer['id'])
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(1), 13000))
    prices(db, ('STROM-OEKO', '0.2600', '110.00'), ('STROM-FIX24', '0.2400', '150.00'))
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/tarif')
    await see(user, '100 % Strom aus erneuerbaren Quellen, Preisgarantie 12 Monate.')
    button(user, 'Show this page in English').click()
    await see(user, 'Change tariff')
    await user.should_see('100 % electricity from renewable sources, prices guaranteed for 12 months.')
    await user.should_not_see('Strom aus erneuerbaren Quellen')
