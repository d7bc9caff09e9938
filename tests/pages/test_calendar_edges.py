"""The calendar's edges through the real pages (docs/domain.md §4): early and mid December, the turn of the year, a
leap day, both DST switches, a reading period across the new year, a billing year ending in June and 11
installments. Each test moves the pinned clock (tests/clock.py) to its day before it builds its data."""

from datetime import UTC, date, datetime, timedelta

import pytest
from nicegui import app, ui
from sqlmodel import Session, col, select

from domain.clock import BERLIN
from domain.model import Contract, InstallmentPlan, MeterReading, Payment
from tests.factories import PASSWORD, add_readings, add_tariff, last_mail, make_customer, make_login, year_end
from tests.pages.conftest import button, field, log_in, see, submit_for_error

EMAIL = 'kalender@example.org'


def at(clock, text: str) -> None:
    """Move the portal's (and the test's) clock to a local time in Germany, e.g. '2026-12-02 10:00'."""
    clock.move_to(datetime.fromisoformat(text).replace(tzinfo=BERLIN))


def household(db, *, paid_months: int | None = None, per_year: int = 12, billing_month: int = 12) -> dict:
    """3,200 kWh a year at 0.30 €/kWh and 144 € a year base price: 1,104 € a year, 92 € a month (docs/domain.md §4
    vector), with the installments of this year paid up to last month unless told otherwise."""
    customer = make_customer(db, last_name='Kalender')
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13200))
    today = datetime.now(BERLIN).date()
    paid = today.month - 1 if paid_months is None else paid_months
    add_tariff(db, customer['id'], amount='92', per_year=per_year, paid_months=paid)
    if billing_month != 12:
        with Session(db) as session:
            contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
            contract.billing_month = billing_month
            session.add(contract)
            session.commit()
    make_login(db, [customer['id']], email=EMAIL)
    return customer


def result_text(user) -> str:
    return next(e.text for e in user.find(ui.label).elements if e.text.startswith('Voraussichtliches Ergebnis'))


async def slide_to(user, amount: int) -> str:
    user.find(ui.slider).elements.pop().set_value(amount)
    await user.should_see(f'Neuer Abschlag: {amount},00\xa0€')
    return result_text(user)


def plans(db) -> list[InstallmentPlan]:
    with Session(db) as session:
        return list(session.exec(select(InstallmentPlan).order_by(col(InstallmentPlan.valid_from))))


async def test_on_2_december_the_next_due_date_is_the_15th_and_a_change_is_projected_into_next_year(
    user, db, pinned_clock
):
    at(pinned_clock, '2026-12-02 10:00')
    household(db)
    await log_in(user, EMAIL, PASSWORD)
    await user.should_see('92,00\xa0€ monatlich, nächste Fälligkeit 15.12.2026')
    await user.open('/abschlag')
    await see(user, 'im Abrechnungsjahr 2027')
    assert result_text(user) == 'Voraussichtliches Ergebnis 2027: ausgeglichen'  # 12 × 92 € = 1,104 €
    assert await slide_to(user, 100) == 'Voraussichtliches Ergebnis 2027: 96,00\xa0€ Guthaben'
    assert await slide_to(user, 90) == 'Voraussichtliches Ergebnis 2027: 24,00\xa0€ Nachzahlung'
    await slide_to(user, 100)
    button(user, 'Abschlag ändern').click()
    await see(user, 'Ihr neuer Abschlag von 100,00\xa0€ gilt ab 15.01.2027')
    assert [(p.amount, p.valid_from) for p in plans(db)][-1] == (100, date(2027, 1, 15))
    assert 'Erstmals fällig am: 15.01.2027' in last_mail(db, EMAIL).text
    await user.open('/uebersicht')  # the change is pending; December's installment stays as it is
    await user.should_see('92,00\xa0€ monatlich, nächste Fälligkeit 15.12.2026')


async def test_on_1_december_the_december_installment_can_still_change(user, db, pinned_clock):
    at(pinned_clock, '2026-12-01 08:00')
    household(db, paid_months=11)
    await log_in(user, EMAIL, PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Der neue Abschlag gilt ab der Fälligkeit am 15.12.2026')
    await user.should_not_see('im Abrechnungsjahr 2027')
    assert result_text(user) == 'Voraussichtliches Ergebnis: ausgeglichen'  # 11 paid + 1 left = 1,104 €
    assert await slide_to(user, 150) == 'Voraussichtliches Ergebnis: 58,00\xa0€ Guthaben'


@pytest.mark.parametrize(
    ('moment', 'next_due'),
    [('2026-12-15 09:00', '15.12.2026'), ('2026-12-16 09:00', '15.01.2027'), ('2026-12-31 23:00', '15.01.2027')],
)
async def test_mid_december_the_dashboard_names_the_next_due_date_of_the_current_plan(
    user, db, pinned_clock, moment, next_due
):
    at(pinned_clock, moment)
    household(db)
    await log_in(user, EMAIL, PASSWORD)
    await user.should_see(f'92,00\xa0€ monatlich, nächste Fälligkeit {next_due}')


async def test_on_a_due_day_the_installment_due_that_day_counts_once_before_and_after_its_payment_is_in(
    user, db, pinned_clock
):
    """On the 15th the installment due that day is neither paid yet (the billing system's payment for it comes in
    later that day or the next) nor reachable by a change: it was counted nowhere, and 12 × 92 € for a year of
    1,104 € showed "92,00 € Nachzahlung" on each due day of the year (and "ausgeglichen" the day before and after)."""
    at(pinned_clock, '2027-06-15 09:00')
    customer = household(db)  # January to May paid; June's is due today
    await log_in(user, EMAIL, PASSWORD)
    await user.should_see('92,00\xa0€ monatlich, nächste Fälligkeit 15.06.2027')
    await user.open('/abschlag')
    await see(user, 'Der neue Abschlag gilt ab der Fälligkeit am 15.07.2027')
    assert result_text(user) == 'Voraussichtliches Ergebnis: ausgeglichen'
    with Session(db) as session:  # the payment of the day arrives: counted once, not twice
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        session.add(Payment(contract_id=contract.id, paid_on=date(2027, 6, 15), amount=92))
        session.commit()
    await user.open('/abschlag')
    await see(user, 'Der neue Abschlag gilt ab der Fälligkeit am 15.07.2027')
    assert result_text(user) == 'Voraussichtliches Ergebnis: ausgeglichen'


async def test_an_installment_paid_early_by_transfer_counts_once_on_its_due_day(user, db, pinned_clock):
    """A customer who pays by standing order on the 10th (before the due date on the 15th): on the due day the
    June installment, already in, was counted a second time as due today ('92,00 € Guthaben' on every 15th for a
    balanced year; the day before the due day alike)."""
    at(pinned_clock, '2027-06-15 09:00')
    customer = household(db, paid_months=5)
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        session.add(Payment(contract_id=contract.id, paid_on=date(2027, 6, 10), amount=92))
        session.commit()
    await log_in(user, EMAIL, PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Der neue Abschlag gilt ab der Fälligkeit am 15.07.2027')
    assert result_text(user) == 'Voraussichtliches Ergebnis: ausgeglichen'
    at(pinned_clock, '2027-06-14 09:00')  # the day before: the same
    await log_in(user, EMAIL, PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Der neue Abschlag gilt ab der Fälligkeit am 15.07.2027')
    assert result_text(user) == 'Voraussichtliches Ergebnis: ausgeglichen'


async def test_a_reading_begun_on_new_years_eve_and_sent_after_midnight_keeps_its_day(user, db, pinned_clock):
    at(pinned_clock, '2026-12-31 23:59:40')
    customer = household(db)
    await log_in(user, EMAIL, PASSWORD)
    await user.open('/zaehlerstand')
    await see(user, 'Zählerstand übermitteln')
    assert field(user, 'Ablesedatum').elements.pop().value == '31.12.2026'
    field(user, 'Zählerstand').type('16400')
    pinned_clock.shift(timedelta(seconds=40))  # the customer is slow: it is 2027 when they press the button
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Ihr Zählerstand vom 31.12.2026')
    with Session(db) as session:
        reading = session.exec(select(MeterReading).where(MeterReading.source == 'customer')).one()
    assert reading.reading_date == date(2026, 12, 31)
    assert reading.submitted_at.astimezone(BERLIN).date() == date(2027, 1, 1)
    await user.open('/zaehlerstand')  # a new page: the new year's day
    await see(user, 'Zählerstand übermitteln')
    assert field(user, 'Ablesedatum').elements.pop().value == '01.01.2027'
    await user.open('/abschlag')  # 2027 is this year now: its due dates, nothing paid in it yet
    await see(user, 'Der neue Abschlag gilt ab der Fälligkeit am 15.01.2027')
    await user.should_not_see('im Abrechnungsjahr')
    assert result_text(user).startswith('Voraussichtliches Ergebnis: ')
    await user.open('/uebersicht')
    await user.should_see('nächste Fälligkeit 15.01.2027')
    assert customer['meter_number']


async def test_a_leap_day_is_a_reading_date_and_a_day_of_the_projection(user, db, pinned_clock):
    at(pinned_clock, '2028-02-29 12:00')
    household(db)
    await log_in(user, EMAIL, PASSWORD)
    await user.open('/zaehlerstand')
    await see(user, 'Zählerstand übermitteln')
    field(user, 'Zählerstand').type('13800')  # 600 kWh in 60 days: a little above the usual 526
    for wrong in ('29.02.2027', '30.02.2028'):
        field(user, 'Ablesedatum').elements.pop().value = wrong
        assert 'TT.MM.JJJJ' in await submit_for_error(user, 'Zählerstand übermitteln', 'Ablesedatum')
    field(user, 'Ablesedatum').elements.pop().value = '29.02.2028'  # 600 kWh in 60 days: a little above the usual 526
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Ihr Zählerstand vom 29.02.2028')
    await user.open('/abschlag')
    await see(user, 'bis 31.12.2028')
    before = result_text(user)
    assert await slide_to(user, 120) != before


async def test_across_the_spring_dst_switch_the_idle_logout_counts_real_minutes(user, db, pinned_clock):
    at(pinned_clock, '2027-03-28 01:50')  # at 02:00 CET the clocks jump to 03:00 CEST
    household(db)
    await log_in(user, EMAIL, PASSWORD)
    pinned_clock.shift(timedelta(minutes=14))  # 03:04 on the wall, 14 minutes idle
    await user.open('/uebersicht')
    await user.should_see('Ihre Verträge')
    pinned_clock.shift(timedelta(minutes=15, seconds=30))  # 15.5 minutes since that page, by any clock
    await user.open('/uebersicht')
    await user.should_see('Passwort vergessen?')  # on the login page
    with user:
        assert 'user_id' not in app.storage.user


async def test_across_the_autumn_dst_switch_a_reading_shows_the_local_time_it_arrived(user, db, pinned_clock, tmp_path):
    pinned_clock.move_to(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 02:30 for the second time that night (CET)
    household(db)
    await log_in(user, EMAIL, PASSWORD)
    await user.open('/zaehlerstand')
    await see(user, 'Zählerstand übermitteln')
    assert field(user, 'Ablesedatum').elements.pop().value == '25.10.2026'
    field(user, 'Zählerstand').type('15900')
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Ihr Zählerstand vom 25.10.2026')
    with Session(db) as session:
        reading = session.exec(select(MeterReading).where(MeterReading.source == 'customer')).one()
    assert reading.submitted_at.astimezone(BERLIN).strftime('%d.%m.%Y %H:%M %Z') == '25.10.2026 02:30 CET'


@pytest.mark.profile('wasserverband-c')
@pytest.mark.parametrize(
    ('moment', 'expected', 'open_'),
    [
        ('2026-12-01 10:00', 'Der nächste beginnt am 02.12.2026', False),
        ('2026-12-02 00:05', 'Der Ablesezeitraum läuft bis 26.01.2027', True),
        ('2027-01-10 10:00', 'Der Ablesezeitraum läuft bis 26.01.2027', True),
        ('2027-01-26 23:30', 'Der Ablesezeitraum läuft bis 26.01.2027', True),
        ('2027-01-27 00:10', 'Der nächste beginnt am 02.12.2027', False),
    ],
)
async def test_a_reading_period_across_the_new_year(user, db, pinned_clock, moment, expected, open_):
    at(pinned_clock, moment)
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    make_login(db, [customer['id']], email='wasser@example.org')
    await log_in(user, 'wasser@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    await see(user, expected)
    if open_:
        await user.should_see('Zählerstand übermitteln')
    else:
        await user.should_not_see('Zählerstand übermitteln')


@pytest.mark.profile('wasserverband-c')
async def test_a_reading_begun_on_the_period_s_last_day_and_sent_after_midnight_keeps_its_day(user, db, pinned_clock):
    """As on New Year's Eve: the form opened at 23:59:40 on 26.01., the period's last day, dated that day, and sent
    40 seconds later was refused ("nur im Ablesezeitraum"); a reading dated on the new day is still refused."""
    at(pinned_clock, '2027-01-26 23:59:40')
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    add_readings(db, customer['meter_number'], (date(2025, 12, 31), 1000), (date(2026, 12, 31), 1100))
    make_login(db, [customer['id']], email='wasser@example.org')
    await log_in(user, 'wasser@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    await see(user, 'Zählerstand übermitteln')
    assert field(user, 'Ablesedatum').elements.pop().value == '26.01.2027'
    field(user, 'Zählerstand').type('1108')
    pinned_clock.shift(timedelta(seconds=40))
    field(user, 'Ablesedatum').elements.pop().value = '27.01.2027'
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Zählerstände nehmen wir nur im Ablesezeitraum entgegen')
    field(user, 'Ablesedatum').elements.pop().value = '26.01.2027'
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Ihr Zählerstand vom 26.01.2027')
    with Session(db) as session:
        stored = session.exec(select(MeterReading).where(MeterReading.source == 'customer')).one()
    assert (stored.reading_date, stored.value) == (date(2027, 1, 26), 1108)


@pytest.mark.profile('wasserverband-c')
async def test_in_january_a_reading_dated_in_december_belongs_to_the_open_period(user, db, pinned_clock):
    at(pinned_clock, '2027-01-10 10:00')
    customer = make_customer(db, 'wasserverband-c', commodity='water')
    make_login(db, [customer['id']], email='wasser@example.org')
    await log_in(user, 'wasser@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    await see(user, 'Zählerstand übermitteln')
    field(user, 'Ablesedatum').elements.pop().value = '28.12.2026'
    field(user, 'Zählerstand').type('420')
    button(user, 'Zählerstand übermitteln').click()
    await see(user, 'Ihr Zählerstand vom 28.12.2026')


@pytest.mark.parametrize(
    ('moment', 'label', 'next_due'),
    [
        ('2027-05-20 10:00', 'Voraussichtliches Ergebnis:', '15.06.2027'),  # 15 June is 26 days ahead: this year
        ('2027-06-10 10:00', 'Voraussichtliches Ergebnis 07/2027–06/2028:', '15.06.2027'),  # 5 days: the next year
    ],
)
async def test_a_billing_year_ending_in_june(user, db, pinned_clock, moment, label, next_due):
    at(pinned_clock, moment)
    household(db, billing_month=6, paid_months=0)
    await log_in(user, EMAIL, PASSWORD)
    await user.should_see(f'nächste Fälligkeit {next_due}')
    await user.open('/abschlag')
    await see(user, label)
    before = result_text(user)
    assert await slide_to(user, 130) != before


async def test_with_11_installments_december_has_none_and_the_change_reaches_january(user, db, pinned_clock):
    at(pinned_clock, '2026-11-20 10:00')  # the last due date of 2026 was 15 November
    household(db, per_year=11, paid_months=11)
    await log_in(user, EMAIL, PASSWORD)
    await user.should_see('nächste Fälligkeit 15.01.2027')
    await user.open('/abschlag')
    await see(user, 'im Abrechnungsjahr 2027')
    assert await slide_to(user, 100) == 'Voraussichtliches Ergebnis 2027: 4,00\xa0€ Nachzahlung'  # 11 × 100 − 1,104
    assert await slide_to(user, 101) == 'Voraussichtliches Ergebnis 2027: 7,00\xa0€ Guthaben'


async def test_a_mandate_granted_just_after_midnight_shows_the_day_it_was_granted(user, db, pinned_clock):
    """The database keeps the instant in UTC, where 00:30 in Germany is still the day before."""
    at(pinned_clock, '2026-12-04 00:30')
    customer = make_customer(db, last_name='Nacht')
    make_login(db, [customer['id']], email=EMAIL)
    await log_in(user, EMAIL, PASSWORD)
    await user.open('/kundendaten')
    await see(user, 'Bankverbindung speichern')
    field(user, 'Kontoinhaber').type('Erika Nacht')
    field(user, 'IBAN').type('DE89 3704 0044 0532 0130 00')
    [mandate] = [c for c in user.find(ui.checkbox).elements if c.text == 'SEPA-Lastschriftmandat erteilen']
    mandate.value = True
    field(user, 'Aktuelles Passwort').type(PASSWORD)
    button(user, 'Bankverbindung speichern').click()
    await see(user, 'Ihre Bankverbindung ist gespeichert')
    await user.should_see('SEPA-Lastschriftmandat erteilt am 04.12.2026')
