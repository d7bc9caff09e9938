"""Zählerstand melden with NiceGUI's user fixture: each rule of docs/domain.md §3 and each bad input."""

import base64
import io
import subprocess
from datetime import date, timedelta

import pytest
from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from PIL import Image
from sqlmodel import Session, select

from domain.i18n import day, number
from domain.model import AuditEntry, MeterReading, ReviewItem
from tests.clock import SUITE_NOW
from tests.factories import (
    PASSWORD,
    add_readings,
    add_tariff,
    end_login_elsewhere,
    last_mail,
    make_customer,
    make_login,
    make_staff,
    set_meter,
    year_end,
)
from tests.pages.conftest import button, field, follow_session, log_in, see, submit_for_error
from tests.pages.test_backoffice import staff_login

TODAY = SUITE_NOW.date()  # the pinned day (tests/clock.py)
DAYS = (TODAY - date(TODAY.year - 1, 12, 31)).days  # 10 kWh a day in the history below
LAST = f'{date(TODAY.year - 1, 12, 31):%d.%m.%Y}'  # the day of the last reading in that history


def customer_readings(db):
    with Session(db) as session:
        return list(session.exec(select(MeterReading).where(MeterReading.source == 'customer')))


async def open_form(user, email='anna@example.org'):
    await log_in(user, email, PASSWORD)
    await user.open('/zaehlerstand')
    await user.should_see('Zählerstand übermitteln')


def pdf_text(content: bytes, folder) -> str:
    (folder / 'r.pdf').write_bytes(content)
    return subprocess.run(
        ['pdftotext', '-layout', str(folder / 'r.pdf'), '-'], capture_output=True, text=True, check=True
    ).stdout


async def test_a_plausible_reading_is_confirmed_on_the_page_by_mail_and_as_pdf(user, db, anna, tmp_path):
    customer, _ = anna
    await open_form(user)
    await user.should_see(f'13.650 kWh vom {LAST}')
    field(user, 'Zählerstand').type(str(13650 + 10 * DAYS))
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Ihr Zählerstand vom')
    [reading] = customer_readings(db)
    assert (reading.value, reading.reading_date, reading.plausibility) == (13650 + 10 * DAYS, TODAY, '')
    mail = last_mail(db, 'anna@example.org')
    assert 'Zählerstand ist eingegangen' in mail.subject and customer['meter_number'] in mail.text
    with Session(db) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == 'reading_submitted')).one()
    button(user, 'Bestätigung als PDF').click()  # the receipt, rendered by the same document module as bills
    response = await user.download.next(timeout=5)
    text = pdf_text(response.content, tmp_path)
    assert 'Bestätigung Ihrer Zählerstandsmeldung' in text and customer['meter_number'] in text
    assert f'{number(13650 + 10 * DAYS)} kWh' in text and customer['customer_number'] in text


async def test_after_a_reading_the_page_shows_it_as_the_last_one_and_in_the_list(user, db, anna):
    """The confirmation named the new value while 'Letzter Zählerstand' above it and the list below still showed the
    one before (a second reading on the same page was judged against what the customer could not see)."""
    await open_form(user)
    value = 13650 + 10 * DAYS
    field(user, 'Zählerstand').type(str(value))
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Ihr Zählerstand vom')
    await see(user, f'Letzter Zählerstand: {number(value)} kWh vom {day(TODAY)}')
    await user.should_not_see(f'Letzter Zählerstand: 13.650 kWh vom {LAST}')
    [table] = user.find(ui.table).elements
    assert f'{number(value)} kWh' in [row['value'] for row in table.rows]


async def test_an_implausible_value_needs_confirmation_and_a_reason(user, db, anna):
    await open_form(user)
    await user.should_not_see('Wert ist korrekt')
    field(user, 'Zählerstand').type(str(13650 + 30 * DAYS))
    message = await submit_for_error(user, 'Zählerstand übermitteln', 'Zählerstand')
    assert 'weicht stark' in message and 'Erwartet hätten wir' in message
    assert customer_readings(db) == []
    [confirm] = [c for c in user.find(ui.checkbox).elements if c.text == 'Wert ist korrekt']
    confirm.value = True
    assert 'Begründung' in await submit_for_error(user, 'Zählerstand übermitteln', 'Begründung')
    field(user, 'Begründung').type('Neues Gerät (z. B. Wärmepumpe, E-Auto, Klimaanlage)')
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'mit Ihrer Begründung gespeichert')
    [reading] = customer_readings(db)
    assert reading.plausibility == 'implausible' and reading.reason.startswith('Neues Gerät')


async def test_a_lower_value_is_refused_with_an_explanation(user, db, anna):
    await open_form(user)
    field(user, 'Zählerstand').type('12000')
    message = await submit_for_error(user, 'Zählerstand übermitteln', 'Zählerstand')
    assert f'kleiner als der letzte Zählerstand (13.650 vom {LAST})' in message
    assert customer_readings(db) == []


@pytest.mark.parametrize(
    ('value', 'expected'),
    [
        ('', 'Zählerstand'),
        ('13.650,5', 'nur die Ziffern vor dem Komma'),
        ('1234567', 'höchstens 6 Stellen'),
        ('abc', 'nur die Ziffern'),
    ],
)
async def test_bad_values_are_explained_at_the_field(user, db, anna, value, expected):
    await open_form(user)
    if value:
        field(user, 'Zählerstand').type(value)
    assert expected in await submit_for_error(user, 'Zählerstand übermitteln', 'Zählerstand')


@pytest.mark.parametrize(
    ('value', 'expected'),
    [
        ((TODAY + timedelta(days=1)).strftime('%d.%m.%Y'), 'nicht in der Zukunft'),
        ('31.02.2026', 'TT.MM.JJJJ'),
        (f'30.12.{TODAY.year - 1}', f'bereits ein Zählerstand vom {LAST}'),
    ],
)
async def test_bad_reading_dates_are_explained(user, db, anna, value, expected):
    await open_form(user)
    field(user, 'Zählerstand').type('14000')
    field(user, 'Ablesedatum').clear().type(value)
    assert expected in await submit_for_error(user, 'Zählerstand übermitteln', 'Ablesedatum')


async def test_a_second_reading_on_the_same_day_replaces_the_first(user, db, anna):
    await open_form(user)
    for value in (13650 + 10 * DAYS, 13650 + 11 * DAYS):
        field(user, 'Zählerstand').clear().type(str(value))
        button(user, 'Zählerstand übermitteln').click()
        await see(user, f'Zählerstand: {value:,} kWh'.replace(',', '.'))
    [reading] = customer_readings(db)
    assert reading.value == 13650 + 11 * DAYS
    assert 'replaces_same_day' in last_audit(db, 'reading_submitted').details


def last_audit(db, action):
    with Session(db) as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
        return session.exec(query).first()


async def test_two_rate_meters_have_a_field_per_register(user, db):
    customer = make_customer(db, last_name='Zweitarif')
    set_meter(db, customer['meter_number'], registers='1.8.1,1.8.2')
    make_login(db, [customer['id']], email='ht@example.org')
    await open_form(user, 'ht@example.org')
    field(user, 'Zählerstand HT').type('1200')
    assert 'Zählerstand NT' in await submit_for_error(user, 'Zählerstand übermitteln', 'Zählerstand NT')
    field(user, 'Zählerstand NT').type('800')
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Ihr Zählerstand vom')
    assert {(r.obis, r.value) for r in customer_readings(db)} == {('1.8.1', 1200), ('1.8.2', 800)}


def labels_and_hints(user) -> dict[str, str]:
    """Every input's accessible name (its label) with its hint."""
    return {e.props.get('label'): e.props.get('hint', '') for e in user.find(ui.input).elements}


async def log_in_english(user, email: str) -> None:
    await user.open('/')
    button(user, 'Show this page in English').click()
    await see(user, 'Forgot your password?')
    field(user, 'Email address').type(email)
    field(user, 'Password').type(PASSWORD)
    button(user, 'Log in').click()
    await see(user, 'Your contracts')
    follow_session(user)


@pytest.fixture
def two_rate(db):
    customer = make_customer(db, last_name='Zweitarif')
    set_meter(db, customer['meter_number'], registers='1.8.1,1.8.2')
    add_readings(db, customer['meter_number'], (year_end(), 1000), obis='1.8.1')
    add_readings(db, customer['meter_number'], (year_end(), 500), obis='1.8.2')
    make_login(db, [customer['id']], email='zweitarif@example.org')
    return customer


async def test_the_german_form_names_the_registers_as_ui_md_says_with_a_german_hint(user, db, two_rate):
    await open_form(user, 'zweitarif@example.org')
    fields = labels_and_hints(user)
    assert fields['Zählerstand HT'] == fields['Zählerstand NT'] == 'kWh, höchstens 6 Ziffern vor dem Komma'
    assert 'Ablesedatum' in fields
    await user.should_see(f'Letzter Zählerstand (Zählerstand HT): 1.000 kWh vom {year_end():%d.%m.%Y}')


async def test_the_english_form_labels_and_hints_the_registers_in_english_and_submits_by_obis_code(
    user, db, two_rate, tmp_path
):
    await log_in_english(user, 'zweitarif@example.org')
    await user.open('/zaehlerstand')
    await user.should_see('Submit meter reading')
    fields = labels_and_hints(user)
    hint = 'kWh, at most 6 digits before the decimal point'
    assert fields['Meter reading peak rate (HT)'] == fields['Meter reading off-peak rate (NT)'] == hint
    assert not {'Zählerstand HT', 'Zählerstand NT', 'Ablesedatum'} & set(fields)
    await user.should_see(f'Last meter reading (Meter reading peak rate (HT)): 1.000 kWh of {year_end():%d.%m.%Y}')
    field(user, 'Meter reading peak rate (HT)').type('1200')
    message = await submit_for_error(user, 'Submit meter reading', 'Meter reading off-peak rate (NT)')
    assert message == 'Please fill in the field “Meter reading off-peak rate (NT)”.'
    field(user, 'Meter reading off-peak rate (NT)').type('600')
    button(user, 'Submit meter reading').click()
    await see(user, 'Meter reading peak rate (HT): 1.200 kWh')
    await user.should_see('Meter reading off-peak rate (NT): 600 kWh')
    assert {(r.obis, r.value) for r in customer_readings(db)} == {('1.8.1', 1200), ('1.8.2', 600)}
    assert 'Meter reading off-peak rate (NT): 600 kWh' in last_mail(db, 'zweitarif@example.org').text
    button(user, 'Confirmation as PDF').click()
    response = await user.download.next(timeout=5)
    assert 'Meter reading peak rate (HT): 1.200 kWh' in pdf_text(response.content, tmp_path)


async def test_radio_meters_are_read_remotely_and_say_so(user, db):
    customer = make_customer(db, last_name='Funk')
    set_meter(db, customer['meter_number'], kind='radio')
    add_readings(db, customer['meter_number'], (year_end(), 4321), source='remote')
    make_login(db, [customer['id']], email='funk@example.org')
    await log_in(user, 'funk@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    stichtag = f'31.12.{TODAY.year}'  # the end of the billing year
    await see(user, f'Diesen Funkzähler lesen wir aus der Ferne ab, zum Stichtag {stichtag}.')
    await user.should_see(f'Letzter übermittelter Wert (Zählerstand): 4.321 kWh vom {year_end():%d.%m.%Y}')
    await user.should_not_see('Zählerstand übermitteln')
    await user.should_not_see('Ablesezeitraum')  # no period banner above a meter that needs no reading


async def test_a_remote_meter_names_its_register_in_english(user, db):
    customer = make_customer(db, last_name='Funk')
    set_meter(db, customer['meter_number'], kind='smart', registers='1.8.1,1.8.2')
    add_readings(db, customer['meter_number'], (year_end(), 4321), obis='1.8.1', source='remote')
    make_login(db, [customer['id']], email='funk@example.org')
    await log_in_english(user, 'funk@example.org')
    await user.open('/zaehlerstand')
    await see(user, 'We read this smart meter remotely, for the reference date')
    await user.should_see(f'Last transmitted value (Meter reading peak rate (HT)): 4.321 kWh of {year_end():%d.%m.%Y}')


async def test_gas_readings_show_the_kwh_they_mean(user, db):
    from decimal import Decimal

    customer = make_customer(db, commodity='gas', last_name='Gas')
    set_meter(db, customer['meter_number'], z_number=Decimal('0.9640'), calorific_value=Decimal('11.250'))
    a_year_ago = TODAY - timedelta(days=365)  # 1,500 m³ a year: today's 1,500 m³ more are plausible on any day
    add_readings(db, customer['meter_number'], (a_year_ago - timedelta(days=365), 1000), (a_year_ago, 2500))
    make_login(db, [customer['id']], email='gas@example.org')
    await open_form(user, 'gas@example.org')
    field(user, 'Zählerstand').type(str(2500 + 1500))
    button(user, 'Zählerstand übermitteln').click()
    await see(user, '1.500 m³ ≈ 16.268 kWh')


async def test_the_reading_suggests_the_installment_it_implies(user, db, anna):
    customer, _ = anna
    add_tariff(db, customer['id'], amount='50', paid_months=TODAY.month - 1)
    await open_form(user)
    field(user, 'Zählerstand').type(str(13650 + 12 * DAYS))
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Nach diesem Zählerstand empfehlen wir einen Abschlag von')
    await user.should_see('Abschlag anpassen')


@pytest.mark.profile('wasserverband-c')
async def test_outside_the_reading_period_the_page_says_when_it_opens(user, db):
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    make_login(db, [customer['id']], email='wasser@example.org')
    await log_in(user, 'wasser@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    if date(TODAY.year, 1, 26) < TODAY < date(TODAY.year, 12, 2):
        await see(user, f'Der nächste beginnt am 02.12.{TODAY.year}')
        await user.should_not_see('Zählerstand übermitteln')
    else:
        await see(user, 'Der Ablesezeitraum läuft bis 26.01.')


async def test_another_customers_meter_cannot_be_reached(user, db, anna):
    from domain.errors import NotAllowed
    from domain.readings import submit_reading
    from storage.unit_of_work import SqlUnitOfWork

    foreign = make_customer(db, last_name='Fremd')
    _, login = anna
    with SqlUnitOfWork(db) as uow, pytest.raises(NotAllowed):
        submit_reading(uow, None, login['id'], foreign['id'], foreign['meter_number'], {'1.8.0': '5'}, '')


async def test_a_reading_sent_after_the_login_ended_elsewhere_stores_nothing_and_leads_to_the_login(user, db, anna):
    _, login = anna
    await open_form(user)
    field(user, 'Zählerstand').type(str(13650 + 10 * DAYS))
    end_login_elsewhere(db, login['id'])  # a password reset in another browser ends this login
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Passwort vergessen?')
    assert customer_readings(db) == []
    with Session(db) as session:
        assert not session.exec(select(AuditEntry).where(AuditEntry.action == 'reading_submitted')).all()


async def test_a_photo_goes_with_a_confirmed_implausible_value_to_staff(user, db, anna):
    await open_form(user)
    field(user, 'Zählerstand').type(str(13650 + 30 * DAYS))
    await submit_for_error(user, 'Zählerstand übermitteln', 'Zählerstand')
    [confirm] = [c for c in user.find(ui.checkbox).elements if c.text == 'Wert ist korrekt']
    confirm.value = True
    field(user, 'Begründung').type('Neues Gerät (z. B. Wärmepumpe, E-Auto, Klimaanlage)')
    upload = user.find(ui.upload).elements.pop()
    await upload.handle_uploads([SmallFileUpload(name='a.txt', content_type='text/plain', _data=b'kein Foto')])
    await see(user, 'Diese Datei können wir nicht als Foto lesen')
    exif = Image.Exif()
    exif[0x8825] = {2: (52.0, 31.0, 12.0)}  # a GPS position: it must not reach staff
    picture = io.BytesIO()
    Image.new('RGB', (4000, 3000), 'grey').save(picture, 'JPEG', exif=exif.tobytes())
    await upload.handle_uploads(
        [SmallFileUpload(name='IMG_0001.JPG', content_type='image/jpeg', _data=picture.getvalue())]
    )
    await see(user, 'Das Foto ist angefügt')
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'mit Ihrer Begründung gespeichert')
    with Session(db) as session:
        review = session.exec(select(ReviewItem).where(ReviewItem.kind == 'implausible_reading')).one()
    stored = review.details.split('photo=')[1]
    assert stored.startswith('photos/') and stored.endswith('.jpg') and 'IMG_0001' not in stored
    # the same photo again with a value refused: the file (named by its content) was deleted, the review's too
    field(user, 'Zählerstand').clear().type(str(13650 + 31 * DAYS))
    await submit_for_error(user, 'Zählerstand übermitteln', 'Zählerstand')
    [confirm] = [c for c in user.find(ui.checkbox).elements if c.text == 'Wert ist korrekt']
    confirm.value = True
    field(user, 'Begründung').type('Neues Gerät (z. B. Wärmepumpe, E-Auto, Klimaanlage)')
    await upload.handle_uploads(
        [SmallFileUpload(name='IMG_0001.JPG', content_type='image/jpeg', _data=picture.getvalue())]
    )
    await see(user, 'Das Foto ist angefügt')
    field(user, 'Ablesedatum').clear().type('01.01.1999')
    await submit_for_error(user, 'Zählerstand übermitteln', 'Ablesedatum')
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/pruefungen')
    await see(user, 'Zählerstand')
    [image] = [i for i in user.find(ui.image).elements if str(i.props.get('alt', '')).startswith('Foto des Zählers')]
    shown = Image.open(io.BytesIO(base64.b64decode(str(image.source).split(',', 1)[1])))
    assert shown.size == (2000, 1500) and dict(shown.getexif()) == {}


async def test_a_session_ended_before_the_page_refreshes_after_a_reading_leads_to_the_login(
    user, db, anna, monkeypatch
):
    """The reading is stored; the login ends (another browser) before the page reads the meter again: the browser
    goes to the login, as every other handler does, instead of the handler failing with SessionEnded."""
    import pages.readings

    _, login = anna
    shown = pages.readings._proposal

    def ended_meanwhile(result):
        shown(result)
        end_login_elsewhere(db, login['id'])

    monkeypatch.setattr(pages.readings, '_proposal', ended_meanwhile)
    await open_form(user)
    field(user, 'Zählerstand').type(str(13650 + 10 * DAYS))
    button(user, 'Zählerstand übermitteln').click()
    await user.should_see('Anmelden')
    assert len(customer_readings(db)) == 1
