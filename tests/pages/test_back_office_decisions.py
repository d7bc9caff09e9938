"""Verwaltung: what the customer receives after staff decide on what they asked for."""

from datetime import timedelta

from nicegui import ui
from sqlmodel import Session, select

from domain.model import Contract, ReviewItem
from tests import clock
from tests.factories import add_tariff, last_mail, make_customer, make_login, make_staff, portal_today
from tests.pages.conftest import button, see
from tests.pages.test_backoffice import staff_login


async def test_an_accepted_reduction_is_mailed_with_its_amount_and_first_due_date(user, db):
    """DOMAIN §4: a changed installment is confirmed by a mail with the amount and the first due date (and it is the
    direct debit's pre-notification); the mail after staff accepted a reduction named neither."""
    customer = make_customer(db, last_name='Senkend')
    make_login(db, [customer['id']], email='senkend@example.org')
    add_tariff(db, customer['id'], amount='92')
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract_number = contract.contract_number
        session.add(
            ReviewItem(
                customer_id=customer['id'],
                contract_id=contract.id,
                kind='installment_reduction',
                created_at=clock.now(),
                details='from=92 to=70 reading=4711',
                reason='Auszug eines Mitbewohners',
            )
        )
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/pruefungen')
    await see(user, 'Abschlag bisher 92,00\xa0€, gewünscht 70,00\xa0€')
    user.find(ui.textarea).type('Einverstanden.')
    button(user, 'Zustimmen').click()
    await see(user, '0 Treffer')
    mail = last_mail(db, 'senkend@example.org')
    assert 'Neuer Abschlag: 70,00\xa0€' in mail.text, mail.text
    # the first 15th (the plan's monthly due day) at least stadtwerke-a's 14 days' notice ahead (15.01.2027 in December)
    earliest = portal_today() + timedelta(days=14)
    next_month = earliest.replace(day=1) + timedelta(days=31)
    first_due = earliest.replace(day=15) if earliest.day <= 15 else next_month.replace(day=15)
    assert f'Erstmals fällig am: {first_due:%d.%m.%Y}' in mail.text and contract_number in mail.text
