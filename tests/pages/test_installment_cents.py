"""Abschlag for a utility that keeps the cents (`[installment] rounding = "cents"`)."""

from pathlib import Path

import pytest
from nicegui import ui

from tests.factories import PASSWORD, add_readings, add_tariff, make_customer, make_login, portal_today, year_end
from tests.pages.conftest import log_in, see

PROFILES = Path(__file__).resolve().parents[2] / 'profiles'


@pytest.fixture
def profile(tmp_path) -> str:
    """stadtwerke-a, rounding installments to cents."""
    text = (PROFILES / 'stadtwerke-a.toml').read_text(encoding='utf-8')
    text = text.replace('rounding = "up"', 'rounding = "cents"', 1)
    text = text.replace('logo = "stadtwerke-a-logo.png"', f'logo = "{PROFILES / "stadtwerke-a-logo.png"}"')
    path = tmp_path / 'cents.toml'
    path.write_text(text, encoding='utf-8')
    return str(path)


async def test_the_keyboard_hint_names_the_cent_steps_the_slider_takes(user, db):
    """The slider moves in steps of 0.01 € where the utility keeps the cents; the hint said "in 1-€-Schritten"."""
    customer = make_customer(db, last_name='Cent')
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13200))
    add_tariff(db, customer['id'], amount='87.55', paid_months=portal_today().month - 1)
    make_login(db, [customer['id']], email='cent@example.org')
    await log_in(user, 'cent@example.org', PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Neuer Abschlag: 87,55\xa0€')
    slider = user.find(ui.slider).elements.pop()
    assert slider.props['step'] == 0.01
    await user.should_not_see('1-€-Schritten')
    await user.should_see('in 1-Cent-Schritten')
