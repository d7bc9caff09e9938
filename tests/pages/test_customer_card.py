"""The back office's customer card (user fixture): the registers of its readings, the kinds of its changes in words,
a business customer's e-invoice IDs, a mail that did not arrive."""

from datetime import timedelta

from nicegui import ui
from sqlmodel import Session, select

from domain.model import AuditEntry, OutboxMail
from tests import clock
from tests.factories import add_readings, make_customer, make_login, make_staff, set_meter, year_end
from tests.pages.conftest import see
from tests.pages.test_backoffice import staff_login


async def test_the_customer_card_names_the_register_of_each_reading(user, db):
    customer = make_customer(db, last_name='Zweitarif')
    set_meter(db, customer['meter_number'], registers='1.8.1,1.8.2')
    add_readings(db, customer['meter_number'], (year_end(), 1000), obis='1.8.1')
    add_readings(db, customer['meter_number'], (year_end(), 500), obis='1.8.2')
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'Zählerstände')
    registers = {row['register'] for table in user.find(ui.table).elements for row in table.rows if 'register' in row}
    assert registers == {'HT (1.8.1)', 'NT (1.8.2)'}


async def test_the_customer_card_says_whether_bills_go_by_post(user, db):
    online = make_customer(db, last_name='Online', paperless=True)
    post = make_customer(db, last_name='Post')
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{online["id"]}')
    await see(user, 'Onlinekunde: Rechnungen und Schreiben nur im Posteingang des Portals')
    await user.open(f'/verwaltung/kunden/{post["id"]}')
    await see(user, 'Rechnungen und Schreiben per Post')


def customer_with_a_change(db) -> dict:
    """A customer who went paperless (an audit entry of a kind the billing system takes over)."""
    customer = make_customer(db, last_name='Wechsel')
    with Session(db) as session:
        session.add(AuditEntry(at=clock.now(), actor='user:1', action='paperless_on', customer_id=customer['id']))
        session.commit()
    return customer


async def test_the_customer_cards_changes_name_their_kind_in_words(user, db):
    """Also the entries that are no change for the billing system ('contact_message' and 'bill_issued' stood beside
    'Umzug')."""
    customer = customer_with_a_change(db)
    with Session(db) as session:
        for minutes, action in ((1, 'contact_message'), (2, 'bill_issued')):
            at = clock.now() - timedelta(minutes=minutes)
            session.add(AuditEntry(at=at, actor='user:1', action=action, customer_id=customer['id']))
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'Zählerstände')
    [changes] = [table for table in user.find(ui.table).elements if any('kind' in row for row in table.rows)]
    kinds = [row['kind'] for row in changes.rows]
    assert kinds == ['Onlinekunde (an)', 'Kontaktanfrage gesendet', 'Rechnung erstellt']  # not 'paperless_on'
    assert [column['label'] for column in changes.columns] == ['Zeit', 'Wer', 'Art', 'Details']


async def test_the_customer_card_shows_a_business_customers_e_invoice_ids(user, db):
    firma = make_customer(db, company='Bäckerei Beispiel GmbH', vat_id='DE131234568')
    amt = make_customer(db, company='Gemeinde Aue-Süd', leitweg_id='04011000-1234512345-06')
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{firma["id"]}')
    await see(user, 'Rechnungen als E-Rechnung (ZUGFeRD, EN 16931) · USt-IdNr. DE131234568')
    await user.open(f'/verwaltung/kunden/{amt["id"]}')
    await see(user, 'Rechnungen als XRechnung · Leitweg-ID 04011000-1234512345-06')


def outbox(db, recipient: str, *states: tuple[str, str]) -> None:
    """Mails to the recipient, oldest first: (status, last error)."""
    with Session(db) as session:
        for n, (status, error) in enumerate(states):
            at = clock.now() - timedelta(hours=len(states) - n)
            session.add(
                OutboxMail(
                    created_at=at,
                    recipient=recipient,
                    subject=f'Mail {n}',
                    text='',
                    html='',
                    status=status,
                    next_attempt_at=at,
                    last_error=error,
                )
            )
        session.commit()


async def test_the_customer_card_says_when_the_newest_mail_to_the_login_address_did_not_arrive(user, db):
    """The customer who calls because "the PIN never came": the card shows the mail server's answer."""
    refused = make_customer(db, last_name='Tippfehler')
    make_login(db, [refused['id']], email='tipp@exmaple.org')
    outbox(db, 'tipp@exmaple.org', ('sent', ''), ('failed', '550 5.1.1 User unknown'))
    mended = make_customer(db, last_name='Behoben')
    make_login(db, [mended['id']], email='behoben@example.org')
    outbox(db, 'behoben@example.org', ('failed', '550 5.1.1 User unknown'), ('sent', ''))
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{refused["id"]}')
    await see(user, 'Nicht zugestellt: die letzte Mail an tipp@exmaple.org')
    await see(user, '„Mail 1“). Antwort des Mailservers: 550 5.1.1 User unknown')
    await user.open(f'/verwaltung/kunden/{mended["id"]}')
    await see(user, 'Zählerstände')
    await user.should_not_see('Nicht zugestellt')  # a later mail went out: the address works


async def test_the_customer_card_releases_a_registration_held_back_by_wrong_pairs(user, db):
    from domain.model import Throttle

    customer = make_customer(db, last_name='Gesperrt')
    with Session(db) as session:
        key = f'identify:number:{customer["customer_number"]}'
        session.add(Throttle(key=key, failures=20, locked_until=clock.after(clock.now(), timedelta(minutes=50))))
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'Registrieren und Hinzufügen dieser Kundennummer sind noch 50 Minuten gesperrt')
    user.find('Registrierung freigeben').click()
    await see(user, 'Die Sperre ist aufgehoben.')
    with Session(db) as session:
        assert session.get(Throttle, key).locked_until is None


async def test_the_customer_cards_changes_say_who_in_words(user, db):
    """The column "Wer" showed 'staff:1', 'user:1' and 'system': which colleague unlocked the login, or whether the
    customer changed it in the portal, was not to be read."""
    from domain.model import StaffUser

    customer = make_customer(db, last_name='Wer')
    totp = make_staff(db, name='Petra Pflug')
    with Session(db) as session:
        [petra] = session.exec(select(StaffUser)).all()
        for minutes, actor in ((1, f'staff:{petra.id}'), (2, 'user:1'), (3, 'system'), (4, 'api:SAP')):
            at = clock.now() - timedelta(minutes=minutes)
            session.add(AuditEntry(at=at, actor=actor, action='paperless_on', customer_id=customer['id']))
        session.commit()
    await staff_login(user, totp)
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'Zählerstände')
    [changes] = [table for table in user.find(ui.table).elements if any('actor' in row for row in table.rows)]
    assert [row['actor'] for row in changes.rows] == [
        'Petra Pflug',
        'Kundin oder Kunde (im Portal)',
        'Kundenportal (automatisch)',
        'Abrechnungssystem (SAP)',
    ]


async def test_a_message_to_a_customer_nobody_can_notify_says_so(user, db):
    """No portal login and no email address: the message lies in an inbox nobody opens, and the clerk was told "eine
    Benachrichtigung ist unterwegs" (none was); the letter must go by post."""
    from tests.pages.conftest import button, field

    customer = make_customer(db, last_name='Ohnepost', email='')
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'Nachricht senden')
    field(user, 'Betreff').type('Ihr Zählerwechsel')
    user.find(ui.textarea).type('Am 3. Dezember kommt unser Monteur.')
    button(user, 'Nachricht senden').click()
    await see(user, 'Die Nachricht liegt im Posteingang')
    await user.should_not_see('eine Benachrichtigung ist unterwegs')
    await see(user, 'weder einen Portalzugang noch eine E-Mail-Adresse')
    with Session(db) as session:
        assert session.exec(select(OutboxMail)).all() == []
