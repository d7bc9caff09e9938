"""Abschlag: the slider with the live result, a change from the next due date, a reduction for staff to review
(user fixture)."""

from decimal import Decimal

from nicegui import ui

from domain.i18n import day, money
from domain.model import InstallmentPlan, ReviewItem
from tests.factories import (
    PASSWORD,
    add_readings,
    add_tariff,
    end_login_elsewhere,
    last_mail,
    mails_to,
    make_customer,
    make_login,
    portal_today,
    year_end,
)
from tests.pages.conftest import button, field, log_in, see, submit_for_error
from tests.pages.test_self_service import actions, rows


async def test_the_slider_shows_the_new_amount_and_the_result_live(user, db, otto):
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Aktueller Abschlag: 92,00\xa0€ monatlich')
    await user.should_see('Neuer Abschlag: 92,00\xa0€')
    slider = user.find(ui.slider).elements.pop()
    assert slider.props['aria-label'] == 'Monatlicher Abschlag'
    before = result_text(user)
    slider.set_value(150)
    await user.should_see('Neuer Abschlag: 150,00\xa0€')
    after = result_text(user)
    assert after != before and ('Guthaben' in after or 'Nachzahlung' in after)  # whatever day it is: it moves


def result_text(user) -> str:
    return next(e.text for e in user.find(ui.label).elements if e.text.startswith('Voraussichtliches Ergebnis'))


async def test_a_new_installment_applies_from_the_next_due_date_and_is_mailed(user, db, otto):
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Neuer Abschlag')
    user.find(ui.slider).elements.pop().set_value(100)
    button(user, 'Abschlag ändern').click()
    await see(user, 'Ihr neuer Abschlag von 100,00\xa0€ gilt ab')
    plans = rows(db, InstallmentPlan)
    assert [p.amount for p in plans] == [92, 100] and plans[1].valid_from > portal_today()
    mail = last_mail(db, 'otto@example.org')
    assert 'Ihr neuer Abschlag' in mail.subject and '100,00\xa0€' in mail.text and 'Erstmals fällig am' in mail.text
    assert 'installment_changed' in actions(db)
    await user.open('/abschlag')  # said alike for a plan the billing system sent (not "Bereits beauftragt")
    await see(user, f'Ab {day(plans[1].valid_from)} gilt bereits ein neuer Abschlag von 100,00\xa0€.')


async def test_an_installment_changed_after_the_login_ended_elsewhere_changes_nothing(user, db, otto):
    _, login = otto
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Neuer Abschlag')
    user.find(ui.slider).elements.pop().set_value(100)
    end_login_elsewhere(db, login['id'])
    button(user, 'Abschlag ändern').click()
    await see(user, 'Passwort vergessen?')
    assert [p.amount for p in rows(db, InstallmentPlan)] == [92]
    assert 'installment_changed' not in actions(db)


async def test_a_reduction_beyond_the_limit_goes_to_review_with_reading_and_reason(user, db, otto):
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Neuer Abschlag')
    user.find(ui.slider).elements.pop().set_value(50)
    await user.should_see('prüfen wir persönlich')
    assert 'Aktueller Zählerstand' in await submit_for_error(user, 'Abschlag ändern', 'Aktueller Zählerstand')
    field(user, 'Aktueller Zählerstand').type('15.000,5')
    assert 'nur die Ziffern vor dem Komma' in await submit_for_error(user, 'Abschlag ändern', 'Aktueller Zählerstand')
    field(user, 'Aktueller Zählerstand').clear().type('15000')
    assert 'Begründung' in await submit_for_error(user, 'Abschlag ändern', 'Begründung')
    field(user, 'Begründung').type('Auszug eines Mitbewohners')
    button(user, 'Abschlag ändern').click()
    await see(user, 'prüfen wir und melden uns')
    [item] = rows(db, ReviewItem)
    assert (item.kind, item.reason) == ('installment_reduction', 'Auszug eines Mitbewohners')
    assert 'reading=15000' in item.details
    assert [p.amount for p in rows(db, InstallmentPlan)] == [92]  # unchanged until staff decide
    assert 'persönlich' in last_mail(db, 'otto@example.org').text


async def test_an_installment_with_cents_is_kept_by_the_slider(user, db):
    """The billing system imported 87,50 €: the slider started at 87 € ("Neuer Abschlag: 87,00 €"), and "Abschlag
    ändern" without moving it stored a new plan of 87,00 € and mailed it (and the use case read the page's 87.50 as
    8.750 €). Now it starts at 87,50 €, and unmoved it is the current installment."""
    customer = make_customer(db, last_name='Cent')
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13200))
    add_tariff(db, customer['id'], amount='87.50', paid_months=portal_today().month - 1)
    make_login(db, [customer['id']], email='cent@example.org')
    await log_in(user, 'cent@example.org', PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Neuer Abschlag: 87,50\xa0€')
    slider = user.find(ui.slider).elements.pop()
    assert (slider.value, slider.props['step']) == (87.5, 1)  # moved, whole euros as the utility rounds
    button(user, 'Abschlag ändern').click()
    await see(user, 'Das ist Ihr aktueller Abschlag')
    assert [p.amount for p in rows(db, InstallmentPlan)] == [Decimal('87.50')]
    slider.set_value(95)
    await see(user, 'Neuer Abschlag: 95,00\xa0€')


async def test_a_slider_value_far_outside_its_range_is_taken_as_its_end(user, db, otto):
    """A value the slider cannot give (a client of its own sends 1e30) raised in the rounding: nothing was shown
    and "Abschlag ändern" did nothing. It counts as the slider's end, which the use case checks again."""
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Neuer Abschlag')
    slider = user.find(ui.slider).elements.pop()
    highest = Decimal(str(slider.props['max']))
    slider.set_value(1e30)
    await user.should_see(f'Neuer Abschlag: {money(highest)}')
    button(user, 'Abschlag ändern').click()
    await see(user, f'Ihr neuer Abschlag von {money(highest)} gilt ab')
    assert [p.amount for p in rows(db, InstallmentPlan)] == [92, highest]


async def test_a_new_contract_with_only_its_move_in_reading_says_there_is_nothing_to_project_from(user, db):
    from datetime import timedelta

    start = portal_today() - timedelta(days=3)
    customer = make_customer(db, contract_start=start, with_bill=False)
    add_readings(db, customer['meter_number'], (start, 1000))
    add_tariff(db, customer['id'], amount='60')
    make_login(db, [customer['id']], email='neu@example.org')
    await log_in(user, 'neu@example.org', PASSWORD)
    await user.open('/abschlag')
    await see(user, 'noch keine Zählerstände, aus denen wir hochrechnen können')
    await user.should_not_see('etwa 0 kWh')


async def test_the_amount_already_ordered_chosen_again_is_no_new_change(user, db, otto):
    """A change to 100 € waits for its first due date; the page opens at 100 € and "Abschlag ändern" unmoved stored,
    mailed and fed the same change a second time (the billing system got two changes, the customer two mails)."""
    await log_in(user, 'otto@example.org', PASSWORD)
    await user.open('/abschlag')
    await see(user, 'Neuer Abschlag')
    user.find(ui.slider).elements.pop().set_value(100)
    button(user, 'Abschlag ändern').click()
    await see(user, 'Ihr neuer Abschlag von 100,00\xa0€ gilt ab')
    await user.open('/abschlag')
    await see(user, 'Neuer Abschlag: 100,00\xa0€')
    button(user, 'Abschlag ändern').click()
    await see(user, 'Diesen Abschlag haben Sie bereits gewählt: er gilt ab')
    assert actions(db).count('installment_changed') == 1
    assert len([m for m in mails_to(db, 'otto@example.org') if 'Ihr neuer Abschlag' in m.subject]) == 1
    user.find(ui.slider).elements.pop().set_value(92)  # back to today's amount: that is a change
    button(user, 'Abschlag ändern').click()
    await see(user, 'Ihr neuer Abschlag von 92,00\xa0€ gilt ab')
