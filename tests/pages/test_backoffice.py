"""Verwaltung with the user fixture: the staff login with two factors, the service desk, the staff list."""

import pyotp
from nicegui import ui
from sqlmodel import Session, select

from domain.model import AuditEntry, InboxMessage, PortalUser, StaffUser
from domain.totp import unseal
from service.cli import main
from tests import clock
from tests.factories import (
    STAFF_PASSWORD,
    make_customer,
    make_login,
    make_staff,
)
from tests.pages.conftest import button, field, see, submit_for_error

NEW_PASSWORD = 'Verwaltung-Passwort-2026'


def create_admin(capsys, email='admin@stadtwerke.example', role='admin') -> str:
    """`kundenportal staff create`, as an operator runs it; returns the initial password it prints."""
    assert main(['staff', 'create', '--email', email, '--name', 'Ada Admin', '--role', role]) == 0
    out = capsys.readouterr().out
    return out.split('shown only now: ')[1].split()[0]


def totp_of(db, email: str) -> pyotp.TOTP:
    with Session(db) as session:
        sealed = session.exec(select(StaffUser).where(StaffUser.email == email)).one().totp_secret
    return pyotp.TOTP(unseal('test-secret-0123456789abcdef', sealed))


async def first_login(user, db, capsys) -> list[str]:
    """Password, authenticator enrolment, recovery codes, own password: the first admin's first visit."""
    codes = await to_the_start_password(user, db, capsys)
    field(user, 'Neues Passwort').type(NEW_PASSWORD)
    field(user, 'Neues Passwort wiederholen').type(NEW_PASSWORD)
    button(user, 'Passwort speichern').click()
    await see(user, 'Suchen')
    return codes


async def to_the_start_password(user, db, capsys) -> list[str]:
    """The first admin's first visit up to the page that replaces the start password; the recovery codes."""
    password = create_admin(capsys)
    await user.open('/verwaltung')
    field(user, 'E-Mail-Adresse').type('admin@stadtwerke.example')
    field(user, 'Passwort').type(password)
    button(user, 'Weiter').click()
    await see(user, 'Zwei-Faktor-Anmeldung einrichten')
    assert user.find(ui.image).elements.pop().props['alt'] == 'QR-Code zum Einrichten der Authenticator-App'
    field(user, 'Code').type(totp_of(db, 'admin@stadtwerke.example').now())
    button(user, 'Einrichtung bestätigen').click()
    await see(user, 'Ihre Wiederherstellungscodes')
    codes = next(e.text for e in user.find(ui.label).elements if e.text.count('-') == 10).split()
    button(user, 'Ich habe die Codes gesichert – weiter').click()
    await see(user, 'Neues Passwort festlegen')
    return codes


async def test_the_first_admin_enrols_and_a_later_login_needs_the_code(user, db, capsys):
    codes = await first_login(user, db, capsys)
    assert len(codes) == 10
    button(user, 'Abmelden').click()
    await see(user, 'Anmeldung für Mitarbeitende')
    field(user, 'E-Mail-Adresse').type('admin@stadtwerke.example')
    field(user, 'Passwort').type(NEW_PASSWORD)
    button(user, 'Weiter').click()
    await see(user, 'Bestätigungscode')
    await user.open('/verwaltung/kunden')  # not before the second factor
    await see(user, 'Anmeldung für Mitarbeitende')
    await user.open('/verwaltung/code')
    field(user, 'Code').type('000000')
    button(user, 'Anmelden').click()
    await see(user, 'Der Code stimmt nicht')
    field(user, 'Code').clear().type(codes[0])  # a recovery code instead of the app
    button(user, 'Anmelden').click()
    await see(user, 'Suchen')


async def test_customers_pages_are_closed_to_anonymous_and_customer_sessions(user, db):
    for path in ('/verwaltung/kunden', '/verwaltung/kunden/1', '/verwaltung/mitarbeiter', '/verwaltung/passwort'):
        await user.open(path)
        await see(user, 'Anmeldung für Mitarbeitende')


async def test_search_status_and_actions_on_request(user, db, capsys):
    customer = make_customer(db, last_name='Loeschwunsch')
    make_login(db, [customer['id']], email='loeschwunsch@example.org')
    await first_login(user, db, capsys)
    field(user, 'Suche').type('loeschwunsch')
    button(user, 'Suchen').click()
    await see(user, '1 Treffer')
    await user.should_see('Zugang aktiv · loeschwunsch@example.org')
    user.find(f'{customer["customer_number"]} · {customer["name"]}').click()
    await see(user, f'Kunde {customer["customer_number"]}')
    await user.should_see('Anmelde-E-Mail:')
    button(user, 'Link zum Zurücksetzen senden').click()
    await see(user, 'Ein Link zum Zurücksetzen wurde an loeschwunsch@example.org gesendet.')
    field(user, 'Betreff').type('Ihr Zählerwechsel')
    user.find(ui.textarea).type('Am 3. Dezember kommt unser Monteur.')
    button(user, 'Nachricht senden').click()
    await see(user, 'Die Nachricht liegt im Posteingang')
    reason = 'Grund (z. B. „Bitte um Löschung“ per Brief vom …)'
    assert await submit_for_error(user, 'Zugang endgültig löschen', reason) == 'Bitte füllen Sie das Feld „Grund“ aus.'
    field(user, reason).type('Bitte um Löschung, Brief vom 20.11.')
    button(user, 'Zugang endgültig löschen').click()
    await see(user, 'Kein Portalzugang')
    with Session(db) as session:
        assert session.exec(select(PortalUser)).all() == []
        assert session.exec(select(InboxMessage)).one().subject == 'Ihr Zählerwechsel'
        actions = {e.action for e in session.exec(select(AuditEntry).where(AuditEntry.actor.like('staff:%')))}
    assert {'staff_totp_enrolled', 'staff_sent_reset', 'staff_posted_message', 'staff_deleted_login'} <= actions


async def test_an_admin_creates_a_service_colleague_who_must_enrol(user, db, capsys):
    await first_login(user, db, capsys)
    await user.open('/verwaltung/mitarbeiter')
    await see(user, 'Mitarbeitende anlegen')
    field(user, 'Name').type('Sven Service')
    field(user, 'E-Mail-Adresse').type('sven@stadtwerke.example')
    button(user, 'Anlegen').click()
    await see(user, 'Startpasswort (nur jetzt sichtbar')
    with Session(db) as session:
        sven = session.exec(select(StaffUser).where(StaffUser.email == 'sven@stadtwerke.example')).one()
    assert sven.role == 'service' and sven.must_change_password and not sven.totp_enabled


async def test_an_admin_gives_a_colleague_a_new_start_password_shown_once(user, db, capsys):
    await first_login(user, db, capsys)
    make_staff(db, 'vergesslich@stadtwerke.example', name='Vera Vergess')
    await user.open('/verwaltung/mitarbeiter')
    await see(user, 'Vera Vergess')
    button(user, 'Neues Startpasswort').click()
    await see(user, 'Neues Startpasswort für Vera Vergess (nur jetzt sichtbar')
    with Session(db) as session:
        vera = session.exec(select(StaffUser).where(StaffUser.email == 'vergesslich@stadtwerke.example')).one()
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == 'staff_start_password')).one()
    assert vera.must_change_password and vera.session_epoch == 1
    assert audit.details == 'staff=vergesslich@stadtwerke.example'


async def staff_password_step(
    user, email: str = 'service@stadtwerke.example', password: str = STAFF_PASSWORD, then: str = 'Bestätigungscode'
) -> None:
    """The staff login's first step, up to the page that follows it (`then`: the code, or the enrolment)."""
    await user.open('/verwaltung')
    field(user, 'E-Mail-Adresse').type(email)
    field(user, 'Passwort').type(password)
    button(user, 'Weiter').click()
    await see(user, then)


async def staff_login(user, totp) -> None:
    await staff_password_step(user)
    field(user, 'Code').type(totp.now())
    button(user, 'Anmelden').click()
    await see(user, 'Suchen')


async def test_a_contact_message_is_answered_into_the_customers_inbox(user, db):
    from domain.model import ContactMessage

    customer = make_customer(db, last_name='Fragend')
    make_login(db, [customer['id']], email='fragend@example.org')
    with Session(db) as session:
        session.add(
            ContactMessage(
                customer_id=customer['id'],
                created_at=clock.now(),
                topic='Rechnung',
                subject='Frage zur Rechnung',
                message='Warum ist sie so hoch?',
            )
        )
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/nachrichten')
    await see(user, 'Rechnung · Frage zur Rechnung')
    await user.should_see('Warum ist sie so hoch?')
    assert await submit_for_error(user, 'Antwort senden', 'Antwort') == 'Bitte füllen Sie das Feld „Antwort“ aus.'
    user.find(ui.textarea).type('Der Verbrauch ist gestiegen; Details im Anhang der Rechnung.')
    button(user, 'Antwort senden').click()
    await see(user, '0 Treffer')
    with Session(db) as session:
        [message] = session.exec(select(InboxMessage)).all()
    assert message.subject == 'Antwort: Frage zur Rechnung' and message.kind == 'answer'


async def test_the_review_queue_decides_with_a_message(user, db):
    from domain.model import ReviewItem

    customer = make_customer(db, last_name='Pruefling')
    with Session(db) as session:
        session.add(
            ReviewItem(
                customer_id=customer['id'],
                kind='implausible_reading',
                created_at=clock.now(),
                details='meter=X date=2026-12-10 readings= 1.8.0=99999',
                reason='Neue Sauna',
            )
        )
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/pruefungen')
    await see(user, 'Unplausibler Zählerstand')
    await user.should_see('Begründung der Kundin oder des Kunden: Neue Sauna')
    user.find(ui.textarea).type('Danke, der Wert ist plausibel.')
    button(user, 'Zustimmen').click()
    await see(user, '0 Treffer')
    with Session(db) as session:
        assert session.exec(select(ReviewItem)).one().status == 'accepted'


async def test_changes_are_marked_and_exported_as_csv(user, db):
    from domain.model import AuditEntry as Entry

    customer = make_customer(db, last_name='Aendernd')
    with Session(db) as session:
        session.add(
            Entry(
                at=clock.now(),
                actor='user:1',
                action='bank_account_changed',
                customer_id=customer['id'],
                details='iban=DE…3000',
            )
        )
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/aenderungen')
    await see(user, '1 Treffer')
    table = user.find(ui.table).elements.pop()
    assert table.rows[0]['kind'] == 'Bankverbindung und SEPA-Mandat' and table.rows[0]['state'] == 'offen'
    table.selected = [table.rows[0]]
    button(user, 'Ausgewählte als übernommen markieren').click()
    await see(user, '0 Treffer')
    assert (
        await submit_for_error(user, 'Änderungen als CSV', 'Seit (Datum)')
        == 'Bitte geben Sie ein Datum ein, ab dem exportiert wird.'
    )
    field(user, 'Seit (Datum)').type('01.01.0001')  # overflowed the query: no answer at all
    assert 'TT.MM.JJJJ' in await submit_for_error(user, 'Änderungen als CSV', 'Seit (Datum)')
    field(user, 'Seit (Datum)').clear().type('01.01.2026')
    button(user, 'Änderungen als CSV').click()
    response = await user.download.next(timeout=5)
    assert response.content.startswith('\ufeff'.encode())  # a spreadsheet (German Excel) reads it as UTF-8: umlauts
    lines = response.content.decode('utf-8-sig').splitlines()
    assert lines[0] == 'at;actor;action;customer_number;details'
    assert any(f'bank_account_changed;{customer["customer_number"]}' in line for line in lines)


async def admin_login(user, db) -> None:
    totp = make_staff(db, email='admin@stadtwerke.example', role='admin', name='Ada Admin')
    await user.open('/verwaltung')
    field(user, 'E-Mail-Adresse').type('admin@stadtwerke.example')
    field(user, 'Passwort').type(STAFF_PASSWORD)
    button(user, 'Weiter').click()
    await see(user, 'Bestätigungscode')
    field(user, 'Code').type(totp.now())
    button(user, 'Anmelden').click()
    await see(user, 'Suchen')


CUSTOMERS = (
    'customer_number;salutation;first_name;last_name;company;street;house_number;postal_code;city;email;'
    'phone;paperless\n40007777;Herr;Ingo;Import;;Weg;2;27749;Aue;ingo@example.org;;0\n'
)


async def upload(user, name: str, content: str) -> None:
    from nicegui.elements.upload_files import SmallFileUpload

    element = user.find(ui.upload).elements.pop()
    await element.handle_uploads([SmallFileUpload(name=name, content_type='text/csv', _data=content.encode())])


async def test_an_import_is_previewed_with_its_errors_before_anything_is_written(user, db):
    from domain.model import Customer

    await admin_login(user, db)
    await user.open('/verwaltung/import')
    await see(user, 'Noch keine Datei hochgeladen.')
    await upload(user, 'customers.csv', CUSTOMERS.replace('ingo@example.org', 'ingo-at-example'))
    await see(user, 'Hochgeladen: customers.csv')
    button(user, 'Prüfen (Vorschau)').click()
    await see(user, 'customers.csv: 1 Fehler – diese Datei wird nicht importiert')
    await user.should_see('customers.csv:2:')
    await upload(user, 'customers.csv', CUSTOMERS)
    # the new file is in once the old file's report is gone (NiceGUI runs the upload's handler as a task of its own)
    await user.should_not_see('customers.csv:2:', retries=100)
    button(user, 'Prüfen (Vorschau)').click()
    await see(user, 'customers.csv: 1 Zeilen – 1 neu, 0 geändert, 0 unverändert')
    with Session(db) as session:
        assert session.exec(select(Customer).where(Customer.customer_number == '40007777')).first() is None
    button(user, 'Importieren').click()
    await see(user, 'Import abgeschlossen.')
    with Session(db) as session:
        assert session.exec(select(Customer).where(Customer.customer_number == '40007777')).one().city == 'Aue'
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == 'import_customers')).one()
    assert entry.actor.startswith('staff:')


async def test_a_change_sent_after_the_staff_login_ended_elsewhere_changes_nothing(user, db):
    """The admin's password was changed in another browser meanwhile (which ends the other sessions): creating an
    API token stores nothing and leads back to the staff login."""
    from domain.model import ApiToken

    await admin_login(user, db)
    await user.open('/verwaltung/api')
    field(user, 'Bezeichnung').type('SAP IS-U')
    with Session(db) as session:
        admin = session.exec(select(StaffUser).where(StaffUser.email == 'admin@stadtwerke.example')).one()
        admin.session_epoch += 1
        session.add(admin)
        session.commit()
    button(user, 'Zugang anlegen').click()
    await see(user, 'Anmeldung für Mitarbeitende')
    with Session(db) as session:
        assert session.exec(select(ApiToken)).all() == []


async def test_a_document_reaches_only_its_customer(user, db):
    from tests.factories import PASSWORD
    from tests.pages.conftest import log_in

    customer = make_customer(db, last_name='Dokument')
    make_login(db, [customer['id']], email='dokument@example.org')
    other = make_customer(db, last_name='Andere')
    make_login(db, [other['id']], email='andere@example.org')
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'PDF-Dokument anhängen (optional)')
    from nicegui.elements.upload_files import SmallFileUpload

    [upload] = user.find(ui.upload).elements  # the file picker's receiver
    await upload.handle_uploads(
        [
            SmallFileUpload(
                name='Zaehlerwechsel.pdf', content_type='application/pdf', _data=b'%PDF-1.4 Ankuendigung %%EOF'
            )
        ]
    )
    await see(user, 'Angehängt: Zaehlerwechsel.pdf')
    field(user, 'Betreff').type('Ankündigung Zählerwechsel')
    user.find(ui.textarea).type('Im Anhang die Ankündigung.')
    button(user, 'Nachricht senden').click()
    await see(user, 'Die Nachricht liegt im Posteingang')
    with Session(db) as session:
        message = session.exec(select(InboxMessage)).one()
    assert message.kind == 'document' and message.document_path.startswith('inbox/')
    await log_in(user, 'dokument@example.org', PASSWORD)
    answer = await user.http_client.get(f'/posteingang/dokument/{message.id}')
    assert answer.status_code == 200 and answer.content.startswith(b'%PDF')
    button(user, 'Abmelden').click()
    await see(user, 'Passwort vergessen?')
    await log_in(user, 'andere@example.org', PASSWORD)
    assert (await user.http_client.get(f'/posteingang/dokument/{message.id}')).status_code == 404


async def test_an_open_staff_page_warns_and_then_logs_out_after_the_idle_minutes(user, db):
    """A customer card left open on a desk's screen stayed readable: only the next action noticed the idle time."""
    from nicegui import app as nicegui_app

    customer = make_customer(db, last_name='Offen')
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'Offen')
    with user:
        nicegui_app.storage.user['staff_active'] -= 14 * 60 + 5
    [timer] = user.find(marker='idle-check').elements
    timer.callback()
    await see(user, 'in einer Minute')
    with user:
        nicegui_app.storage.user['staff_active'] -= 60
    timer.callback()
    await see(user, 'Sie wurden nach 15 Minuten ohne Aktivität abgemeldet.')
    with user:
        assert 'staff_id' not in nicegui_app.storage.user


async def test_a_staff_session_ends_after_the_idle_minutes(user, db):
    from nicegui import app as nicegui_app

    await staff_login(user, make_staff(db))
    with user:
        nicegui_app.storage.user['staff_active'] -= 16 * 60
    await user.open('/verwaltung/kunden')
    await see(user, 'Sie wurden nach 15 Minuten ohne Aktivität abgemeldet.')


async def test_a_search_with_more_hits_than_listed_says_so(user, db):
    """51 customers named alike: the page listed 50 and said "50 Treffer", the 51st nowhere and no word of it."""
    from domain.service_desk import SEARCH_LIMIT

    for _ in range(SEARCH_LIMIT + 1):
        make_customer(db, last_name='Vielfach')
    await staff_login(user, make_staff(db))
    field(user, 'Suche').type('vielfach')
    button(user, 'Suchen').click()
    await see(user, f'Mehr als {SEARCH_LIMIT} Treffer')
    assert f'{SEARCH_LIMIT} Treffer' not in {label.text for label in user.find(ui.label).elements}
