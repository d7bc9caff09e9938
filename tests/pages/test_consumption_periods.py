"""Verbrauchshistorie: what the chart and table say they show (years or months), and changes written as in Germany."""

from datetime import timedelta

from nicegui import ui

from tests.factories import PASSWORD, add_readings, make_customer, make_login, year_end
from tests.pages.conftest import log_in, see


async def test_a_meter_with_months_only_names_them_months_and_compares_with_the_month_before(user, db):
    """A meter read monthly for less than a year has no whole billing year yet: the page shows its months, but called
    them "Verbrauch je Jahr" and each month's change to the month before "Veränderung zum Vorjahr"."""
    customer = make_customer(db, last_name='Monat')
    first = year_end()  # 31 December of last year, then about a month apart
    add_readings(db, customer['meter_number'], (first, 1000), (first + timedelta(days=31), 1300))
    add_readings(db, customer['meter_number'], (first + timedelta(days=59), 1550))
    make_login(db, [customer['id']], email='monat@example.org')
    await log_in(user, 'monat@example.org', PASSWORD)
    await user.open('/verbrauch')
    await see(user, 'Verbrauch je Monat für Zähler')
    await user.should_not_see('Verbrauch je Jahr')
    table = next(iter(user.find(ui.table).elements))
    assert [c['label'] for c in table.columns][-1] == 'Veränderung zum Vormonat'
    assert [r['change'] for r in table.rows] == ['–', '-16,7 %']


async def test_a_change_that_rounds_to_nothing_is_written_without_a_minus(user, db):
    """3,199 kWh after 3,200 kWh is −0.03 %: the table showed "-0,0 %"."""
    customer = make_customer(db, last_name='Gleich')
    add_readings(db, customer['meter_number'], (year_end(3), 10000), (year_end(2), 13200), (year_end(), 16399))
    make_login(db, [customer['id']], email='gleich@example.org')
    await log_in(user, 'gleich@example.org', PASSWORD)
    await user.open('/verbrauch')
    await see(user, 'Verbrauch je Jahr')
    table = next(iter(user.find(ui.table).elements))
    assert [r['change'] for r in table.rows] == ['–', '0,0 %']
