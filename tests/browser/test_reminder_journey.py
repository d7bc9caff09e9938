"""The reading reminder's journey in a real Chromium (docs/domain.md §10): the portal mails it when the reading period
begins, its link opens /ablesung with the one-time code and the meter number filled in, and the reading goes in
without a login."""

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.clock import SUITE_NOW
from tests.factories import add_readings, link_in, make_customer, year_end

pytestmark = [pytest.mark.browser, pytest.mark.parametrize('database_url', ['postgresql'], indirect=True)]
ROOT = Path(__file__).resolve().parents[2]


def period_from_today(folder: Path) -> Path:
    """The water association's profile with its reading period beginning on the pinned day (whatever day that is)."""
    today = SUITE_NOW.date()
    start = today if (today.month, today.day) != (2, 29) else today - timedelta(days=1)
    end = start + timedelta(days=50)
    text = (ROOT / 'profiles' / 'wasserverband-c.toml').read_text(encoding='utf-8')
    text = text.replace('period_start = "12-02"', f'period_start = "{start:%m-%d}"')
    text = text.replace('period_end = "01-26"', f'period_end = "{end:%m-%d}"')
    target = folder / 'wasserverband-today.toml'
    target.write_text(text, encoding='utf-8')
    return target


def test_the_reminders_link_opens_the_code_form_filled_in_and_the_reading_goes_in(
    engine, start_portal, mail, browser: Page, tmp_path
):
    customer = make_customer(
        engine, 'wasserverband-c', commodity='water', last_name='Erinnert', email='erinnert@example.org'
    )
    add_readings(engine, customer['meter_number'], (year_end(2), 100), (year_end(), 190))
    base = start_portal(str(period_from_today(tmp_path)))  # its hourly background mails the reminder at once
    text = mail.wait_for('erinnert@example.org', 'Bitte melden Sie Ihren Zählerstand')
    page = browser
    page.goto(base + link_in(text, '/ablesung'))
    code = text.split('Ihr Ablesecode: ')[1].split(' ')[0]
    expect(page.get_by_label('Ablesecode')).to_have_value(code)
    expect(page.get_by_label('Zählernummer')).to_have_value(customer['meter_number'])
    page.get_by_role('button', name='Weiter').click()
    days = (SUITE_NOW.date() - year_end()).days
    page.get_by_label('Zählerstand', exact=True).fill(str(190 + round(90 * days / 365)))
    page.get_by_role('button', name='Zählerstand übermitteln').click()
    expect(page.get_by_text('Ihr Zählerstand vom')).to_be_visible()
