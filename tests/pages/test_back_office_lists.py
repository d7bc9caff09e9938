"""The back office's lists show at most LIST_LIMIT entries and say when there are more ("500 Treffer" hid the
rest of a longer queue)."""

from datetime import timedelta

from nicegui import ui
from sqlmodel import Session

from domain.model import AuditEntry, ContactMessage, ReviewItem
from domain.staff import LIST_LIMIT
from tests import clock
from tests.factories import make_customer, make_staff
from tests.pages.conftest import see
from tests.pages.test_backoffice import staff_login

MORE = f'{LIST_LIMIT} Einträge aufgeführt; es gibt weitere, die hier nicht stehen'


def changes(db, count: int) -> None:
    customer = make_customer(db, last_name='Vielaendernd')
    with Session(db) as session:
        for n in range(count):
            session.add(
                AuditEntry(
                    at=clock.now() - timedelta(minutes=n),
                    actor='user:1',
                    action='contact_data_changed',
                    customer_id=customer['id'],
                    details=f'phone=0421 {n}',
                )
            )
        session.commit()


async def test_the_changes_list_says_when_more_changes_are_open_than_it_shows(user, db):
    changes(db, LIST_LIMIT + 1)
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/aenderungen')
    await see(user, MORE)
    table = user.find(ui.table).elements.pop()
    assert len(table.rows) == LIST_LIMIT
    assert table.rows[0]['details'] == 'phone=0421 0'  # the newest first: the oldest one is the one not shown


async def test_a_full_changes_list_is_counted_as_it_is(user, db):
    changes(db, LIST_LIMIT)
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/aenderungen')
    await see(user, f'{LIST_LIMIT} Treffer')
    await user.should_not_see('es gibt weitere')


async def test_the_review_queue_says_when_more_are_open_than_it_shows(user, db):
    customer = make_customer(db, last_name='Pruefling')
    with Session(db) as session:
        for n in range(LIST_LIMIT + 1):
            session.add(
                ReviewItem(
                    customer_id=customer['id'],
                    kind='installment_reduction',
                    created_at=clock.now() - timedelta(minutes=LIST_LIMIT - n),
                    details=f'amount={n} current=100',
                )
            )
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/pruefungen')
    await see(user, MORE)
    assert len(user.find('Zustimmen').elements) == LIST_LIMIT


async def test_the_message_list_says_when_more_are_open_than_it_shows(user, db):
    customer = make_customer(db, last_name='Schreibend')
    with Session(db) as session:
        for n in range(LIST_LIMIT + 1):
            session.add(
                ContactMessage(
                    customer_id=customer['id'],
                    topic='Sonstiges',
                    subject=f'Frage {n}',
                    message='Bitte rufen Sie mich an.',
                    created_at=clock.now() - timedelta(minutes=LIST_LIMIT - n),
                )
            )
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/nachrichten')
    await see(user, MORE)
    await user.should_see('Frage 0')  # the oldest open ones first: they wait longest
    await user.should_not_see(f'Frage {LIST_LIMIT}')
