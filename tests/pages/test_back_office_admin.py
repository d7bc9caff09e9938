"""The back office's administration pages: API tokens and the utility's settings; the staff login's half session."""

import asyncio
from datetime import timedelta

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from sqlmodel import Session, select

from domain.model import AuditEntry, Bill, Contract, StaffUser
from tests import clock
from tests.factories import make_customer, make_login, make_staff, portal_today
from tests.pages.conftest import button, field, see, submit_for_error
from tests.pages.test_backoffice import (
    CUSTOMERS,
    admin_login,
    create_admin,
    staff_login,
    staff_password_step,
    totp_of,
    upload,
)
from tests.pages.test_customer_card import customer_with_a_change


async def test_an_api_token_is_shown_once_and_can_be_revoked(user, db):
    from domain.model import ApiToken

    await admin_login(user, db)
    await user.open('/verwaltung/api')
    field(user, 'Bezeichnung').type('SAP IS-U')
    button(user, 'Zugang anlegen').click()
    await see(user, 'Kopieren Sie das Token jetzt')
    plain = next(e.text for e in user.find(ui.label).elements if e.text.startswith('kp_'))
    assert (
        await user.http_client.get('/api/v1/changes', headers={'Authorization': f'Bearer {plain}'})
    ).status_code == 200
    with Session(db) as session:
        assert session.exec(select(ApiToken)).one().digest != plain
    button(user, 'Widerrufen').click()
    await see(user, 'widerrufen')
    assert (
        await user.http_client.get('/api/v1/changes', headers={'Authorization': f'Bearer {plain}'})
    ).status_code == 401


async def test_settings_take_effect_at_once_and_bad_values_are_shown_at_the_field(user, db):
    from tests.factories import PASSWORD
    from tests.pages.conftest import log_in

    customer = make_customer(db, last_name='Ableser')
    make_login(db, [customer['id']], email='ableser@example.org')
    await admin_login(user, db)
    await user.open('/verwaltung/einstellungen')
    await see(user, 'Einstellungen speichern')
    field(user, 'Ablesezeitraum von (MM-TT, leer: ganzjährig)').type('13-40')
    assert (
        await submit_for_error(user, 'Einstellungen speichern', 'Ablesezeitraum von (MM-TT, leer: ganzjährig)')
        == 'Datum als MM-TT, z. B. 12-02 (ein Tag, den es gibt; 02-29 gilt in anderen Jahren als 02-28).'
    )
    opens = portal_today() + timedelta(days=30)  # a period that is closed today
    field(user, 'Ablesezeitraum von (MM-TT, leer: ganzjährig)').clear().type(f'{opens:%m-%d}')
    field(user, 'Ablesezeitraum bis (MM-TT)').clear().type(f'{opens + timedelta(days=1):%m-%d}')
    button(user, 'Einstellungen speichern').click()
    await see(user, 'Gespeichert. Die Änderungen gelten ab sofort.')
    await log_in(user, 'ableser@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    await see(user, f'Der nächste beginnt am {opens:%d.%m.%Y}')


async def test_revoking_a_token_a_colleague_has_just_revoked_says_so_and_shows_the_list(user, db):
    from domain.model import ApiToken

    await admin_login(user, db)
    await user.open('/verwaltung/api')
    field(user, 'Bezeichnung').type('SAP IS-U')
    button(user, 'Zugang anlegen').click()
    await see(user, 'Kopieren Sie das Token jetzt')
    with Session(db) as session:  # a colleague, a moment earlier
        token = session.exec(select(ApiToken)).one()
        token.revoked_at = clock.now()
        session.add(token)
        session.commit()
    button(user, 'Widerrufen').click()
    await see(user, 'Die Liste zeigt den aktuellen Stand.')
    await see(user, 'widerrufen')


async def test_a_setting_saved_and_put_back_on_the_same_page_is_put_back(user, db):
    """The page told the save what it showed when it opened, also after a save: a value saved and then put back was
    taken for 'left as it was', and the saved one stayed while the page said 'Gespeichert'."""
    from domain import profile_admin
    from storage.unit_of_work import SqlUnitOfWork

    await admin_login(user, db)
    await user.open('/verwaltung/einstellungen')
    await see(user, 'Einstellungen speichern')
    field(user, 'Kurzname').clear().type('SW Neu')
    button(user, 'Einstellungen speichern').click()
    await see(user, 'Gespeichert. Die Änderungen gelten ab sofort.')
    field(user, 'Kurzname').clear().type('SW Aue')
    button(user, 'Einstellungen speichern').click()
    for _ in range(50):  # the first save's notice is still shown: wait for the second save's new version
        with SqlUnitOfWork(db) as uow:
            version, overrides = profile_admin.stored(uow)
        if version == 2:
            break
        await asyncio.sleep(0.1)
    assert version == 2 and 'short_name' not in overrides  # the profile file's own again


def sessions_end_elsewhere(db, email: str) -> None:
    """What a password change, a lock or a reset of the second factor does to a staff login: its sessions end."""
    with Session(db) as session:
        staff = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        staff.session_epoch += 1
        session.add(staff)
        session.commit()


async def test_a_half_session_ends_with_a_password_changed_while_its_code_page_is_open(user, db):
    """The password step gives a session that only may enter the code; a password change elsewhere (or a lock)
    raises the login's epoch. The code sent from the page opened before must not make that session whole."""
    totp = make_staff(db)
    await staff_password_step(user)
    sessions_end_elsewhere(db, 'service@stadtwerke.example')  # as change_staff_password does, in another browser
    field(user, 'Code').type(totp.now())
    button(user, 'Anmelden').click()
    await see(user, 'Für Mitarbeitende des Versorgers')
    await user.open('/verwaltung/kunden')
    await see(user, 'Für Mitarbeitende des Versorgers')  # no verified session was made
    with Session(db) as session:
        assert not session.exec(select(AuditEntry).where(AuditEntry.action == 'staff_login')).all()


async def english_customer_card(user, db, customer: dict) -> None:
    """A clerk's English back office, at the customer's card."""
    await staff_login(user, make_staff(db))
    button(user, 'Show this page in English').click()
    await see(user, 'Search')
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'Master data')


async def test_the_kinds_of_changes_are_named_in_the_staff_s_language(user, db):
    """The customer card and the list of changes named each kind in German in the English back office."""
    await english_customer_card(user, db, customer_with_a_change(db))
    [changes] = [table for table in user.find(ui.table).elements if any('kind' in row for row in table.rows)]
    assert [row['kind'] for row in changes.rows] == ['Online customer (on)']
    await user.open('/verwaltung/aenderungen')
    for _ in range(50):  # the list fills itself after the page is built
        rows = [row for table in user.find(ui.table).elements for row in table.rows]
        if rows:
            break
        await asyncio.sleep(0.05)
    assert [row['kind'] for row in rows] == ['Online customer (on)']
    [kinds] = [select for select in user.find(ui.select).elements if '' in select.options]
    assert kinds.options['tariff_change_requested'] == 'Tariff change'


async def test_a_half_session_ended_while_its_enrolment_page_is_open_enrols_nothing(user, db, capsys):
    password = create_admin(capsys)
    await staff_password_step(user, 'admin@stadtwerke.example', password, 'Zwei-Faktor-Anmeldung einrichten')
    code = totp_of(db, 'admin@stadtwerke.example').now()
    sessions_end_elsewhere(db, 'admin@stadtwerke.example')  # locked and unlocked, or its password reset, meanwhile
    field(user, 'Code').type(code)
    button(user, 'Einrichtung bestätigen').click()
    await see(user, 'Für Mitarbeitende des Versorgers')
    with Session(db) as session:
        staff = session.exec(select(StaffUser).where(StaffUser.email == 'admin@stadtwerke.example')).one()
        assert not staff.totp_enabled


async def test_a_bill_s_pdf_is_uploaded_beside_bills_csv_and_imported_with_it(user, db):
    """The picker offered PDFs and bills.csv names them (`pdf_file`), yet the page threw every PDF away: a bill with
    its PDF could not be imported here. A file of another name is still refused."""
    customer = make_customer(db, with_bill=False)
    with Session(db) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
    bills = (
        'bill_number;contract_number;bill_date;period_start;period_end;kind;amount_gross;pdf_file\n'
        f'RE-IMP-1;{contract.contract_number};2026-01-20;2025-01-01;2025-12-31;annual;1123.60;RE-IMP-1.pdf\n'
    )
    await admin_login(user, db)
    await user.open('/verwaltung/import')
    [receiver] = user.find(ui.upload).elements
    pdf = b'%PDF-1.4 Rechnung %%EOF'
    await receiver.handle_uploads([SmallFileUpload(name='RE-IMP-1.pdf', content_type='application/pdf', _data=pdf)])
    await receiver.handle_uploads([SmallFileUpload(name='..pdf', content_type='application/pdf', _data=pdf)])
    await see(user, '..pdf ist keine bekannte Importdatei')
    await upload(user, 'bills.csv', bills)
    await see(user, 'Hochgeladen: bills.csv und eine PDF-Datei')
    button(user, 'Prüfen (Vorschau)').click()
    await see(user, 'Geprüft: keine Fehler. Sie können jetzt importieren.')
    button(user, 'Importieren').click()
    await see(user, 'Import abgeschlossen.')
    with Session(db) as session:
        stored = session.exec(select(Bill).where(Bill.bill_number == 'RE-IMP-1')).one()
    assert stored.pdf_path.startswith('bills/') and stored.pdf_path.endswith('.pdf')


def _png(colour: str) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new('RGB', (40, 20), colour).save(out, 'PNG')
    return out.getvalue()


async def test_a_new_logo_takes_effect_when_the_settings_are_saved_and_is_audited(user, db, tmp_path):
    """Every upload was stored as logo.png, the name of the logo in use: it was on every new bill before anyone
    saved (or if nobody did), and saving recorded no change."""
    documents = tmp_path / 'data' / 'documents'
    await admin_login(user, db)
    for colour in ('red', 'blue'):
        await user.open('/verwaltung/einstellungen')
        await see(user, 'Einstellungen speichern')
        shown = field(user, 'Logo (PNG oder JPEG)').elements.pop().value
        before = {path.name: path.read_bytes() for path in documents.glob('logo*')}  # the logo in use among them
        [receiver] = user.find(ui.upload).elements
        await receiver.handle_uploads([SmallFileUpload(name='x.png', content_type='image/png', _data=_png(colour))])
        for _ in range(100):  # the upload's handler is a task of its own
            if field(user, 'Logo (PNG oder JPEG)').elements.pop().value != shown:
                break
            await asyncio.sleep(0.02)
        uploaded = field(user, 'Logo (PNG oder JPEG)').elements.pop().value
        assert {name: (documents / name).read_bytes() for name in before} == before  # the logo in use is as it was
        assert uploaded not in before and (documents / uploaded).read_bytes() == _png(colour)
        with Session(db) as session:  # not in effect before it is saved
            audits = session.exec(select(AuditEntry).where(AuditEntry.action == 'setting_changed')).all()
        assert not any(uploaded in a.details for a in audits)
        button(user, 'Einstellungen speichern').click()
        await see(user, 'Gespeichert. Die Änderungen gelten ab sofort.')  # (the first save's notice stays listed)
        for _ in range(100):
            with Session(db) as session:
                audits = session.exec(select(AuditEntry).where(AuditEntry.action == 'setting_changed')).all()
            if any(a.details.startswith('bill.logo') and a.details.endswith(f"→ '{uploaded}'") for a in audits):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f'{uploaded} saved without an audit entry: {[a.details for a in audits]}')


async def test_the_english_settings_page_names_its_settings_and_their_errors_in_english(user, db):
    """Its labels, headings and the reasons a value is refused were German on the English back office."""
    await admin_login(user, db)
    button(user, 'Show this page in English').click()
    await see(user, 'Search')
    await user.open('/verwaltung/einstellungen')
    await see(user, 'Save settings')
    labels = {e.props.get('label') for e in user.find(ui.input).elements}
    assert {'Name of the utility', 'Creditor identifier', 'Reading period from (MM-DD, empty: all year)'} <= labels
    assert not labels & {'Name des Versorgers', 'Gläubiger-Identifikationsnummer'}
    await user.should_see('Meter readings')  # a group's heading
    field(user, 'Creditor identifier').elements.pop().value = 'keine Angabe'
    error = await submit_for_error(user, 'Save settings', 'Creditor identifier')
    assert error == 'A creditor identifier like DE98ZZZ09999999999, with its check digit.'


async def test_the_staff_login_makes_the_browser_known_for_its_next_login(user, db):
    """The password step sets the back office's own device cookie (HttpOnly; `__Host-` behind TLS), with which the
    next login passes a hold set by strangers' guesses (storage/test_staff.py)."""
    await admin_login(user, db)
    assert user.http_client.cookies.get('kp_staff_device')
    assert not user.http_client.cookies.get('kp_device')  # the customers' cookie is another


async def test_the_customer_card_names_an_empty_field_in_the_staff_s_language(user, db):
    """On the English back office "Please fill in the field “Betreff”" (and „Grund“) named the field in German."""
    await english_customer_card(user, db, customer_with_a_change(db))
    assert await submit_for_error(user, 'Send message', 'Subject') == 'Please fill in the field “Subject”.'


async def double_click_a_message(user, db, document: bytes = b'') -> list[str]:
    """A message (with `document` attached, if any) sent with a double click from a customer's card; the kinds of
    the inbox entries it made."""
    from domain.model import InboxMessage

    customer = make_customer(db, last_name='Doppelklick')
    make_login(db, [customer['id']], email='doppel@example.org')
    await staff_login(user, make_staff(db))
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'Nachricht senden')
    if document:
        [receiver] = user.find(ui.upload).elements
        upload = SmallFileUpload(name='brief.pdf', content_type='application/pdf', _data=document)
        await receiver.handle_uploads([upload])
        await see(user, 'brief.pdf')
    field(user, 'Betreff').type('Ihr Zählerwechsel')
    user.find(ui.textarea).type('Am 3. Dezember kommt unser Monteur.')
    button(user, 'Nachricht senden').click()
    button(user, 'Nachricht senden').click()  # the second click of a double click
    await see(user, 'Die Nachricht liegt im Posteingang')
    await asyncio.sleep(0.5)
    with Session(db) as session:
        return [m.kind for m in session.exec(select(InboxMessage)).all()]


async def test_a_double_click_on_nachricht_senden_posts_one_message(user, db):
    """The back office's changes are guarded against a double click as the customers' pages are (pages/once.py)."""
    assert len(await double_click_a_message(user, db)) == 1


async def test_a_double_click_on_nachricht_senden_with_a_document_posts_one_message(user, db):
    """As the double click above, with a PDF attached: the second click found the attachment taken by the first and
    posted the message again without it."""
    kinds = await double_click_a_message(user, db, b'%PDF-1.4\n' + b'x' * 2000)
    assert kinds == ['document'], kinds


async def test_a_change_a_colleague_marks_at_the_same_moment_is_answered_on_the_page(user, db, monkeypatch):
    """The mark failed on the key a colleague had just taken: an error in the log, no word on the page."""
    from domain import change_list
    from domain.errors import ConcurrentChange

    customer = make_customer(db, last_name='Aendernd')
    with Session(db) as session:
        session.add(
            AuditEntry(at=clock.now(), actor='user:1', action='bank_account_changed', customer_id=customer['id'])
        )
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/aenderungen')
    await see(user, '1 Treffer')

    def raced(*args, **kwargs):
        raise ConcurrentChange()

    monkeypatch.setattr(change_list, 'mark_taken_over', raced)
    table = user.find(ui.table).elements.pop()
    table.selected = [table.rows[0]]
    button(user, 'Ausgewählte als übernommen markieren').click()
    await see(user, 'gleichzeitig an anderer Stelle gespeichert')


async def test_the_items_to_review_read_in_german_not_as_stored(user, db):
    """Staff read "from=120.00 to=80.00" and "date=2026-12-10 readings=7 1.8.0=99999" (ids and codes)."""
    from decimal import Decimal

    from domain.model import ReviewItem

    customer = make_customer(db, last_name='Senkend')
    with Session(db) as session:
        common = {'customer_id': customer['id'], 'created_at': clock.now(), 'reason': 'Neue Heizung'}
        details = f'from={Decimal("120.00")} to={Decimal("80.00")} reading=4711'
        session.add(ReviewItem(kind='installment_reduction', details=details, **common))
        details = f'meter={customer["meter_number"]} date=2026-12-10 readings=7 1.8.0=99999.000'
        session.add(ReviewItem(kind='implausible_reading', details=details, **common))
        session.add(ReviewItem(kind='bill_copy', details='bill=RE20250000001 pdf=lost', **common))
        session.commit()
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/pruefungen')
    await see(user, 'Abschlag bisher 120,00\xa0€, gewünscht 80,00\xa0€ · Zählerstand dazu: 4711')
    await see(user, f'Zähler {customer["meter_number"]}, abgelesen am 10.12.2026 · Zählerstand: 99.999')
    await see(user, 'Rechnung RE20250000001 · die Datei des Portals fehlt')
    shown = ' '.join(e.text for e in user.find(ui.label).elements)
    assert 'from=' not in shown and 'readings=' not in shown and '2026-12-10' not in shown


async def test_a_double_click_on_importieren_imports_once(user, db):
    await admin_login(user, db)
    await user.open('/verwaltung/import')
    await upload(user, 'customers.csv', CUSTOMERS)
    await see(user, 'Hochgeladen: customers.csv')
    button(user, 'Prüfen (Vorschau)').click()
    await see(user, 'Geprüft: keine Fehler. Sie können jetzt importieren.')
    button(user, 'Importieren').click()
    button(user, 'Importieren').click()
    await see(user, 'Import abgeschlossen.')
    await asyncio.sleep(0.5)
    with Session(db) as session:
        runs = session.exec(select(AuditEntry).where(AuditEntry.action == 'import_customers')).all()
    assert len(runs) == 1, [(r.actor, r.details) for r in runs]


async def test_a_file_not_in_utf_8_is_reported_at_the_check(user, db):
    await admin_login(user, db)
    await user.open('/verwaltung/import')
    data = CUSTOMERS.replace('Ingo', 'Jürgen').encode('cp1252')  # as many billing systems write it
    [receiver] = user.find(ui.upload).elements
    await receiver.handle_uploads([SmallFileUpload(name='customers.csv', content_type='text/csv', _data=data)])
    await see(user, 'Hochgeladen: customers.csv')
    button(user, 'Prüfen (Vorschau)').click()
    await see(user, 'customers.csv: 1 Fehler – diese Datei wird nicht importiert')
    await see(user, 'kein UTF-8-Text (bitte den Export als UTF-8 speichern)')


async def test_a_wrong_line_is_reported_in_the_back_office_s_language(user, db):
    """Staff read the import's reasons in German, as every other text of theirs (they were the CLI's English);
    the column's name stays as it stands in the file."""
    await admin_login(user, db)
    await user.open('/verwaltung/import')
    await upload(user, 'customers.csv', CUSTOMERS.replace('ingo@example.org;;0', 'ingo(at)example.org;;2'))
    await see(user, 'Hochgeladen: customers.csv')
    button(user, 'Prüfen (Vorschau)').click()
    await see(user, "customers.csv:2: email 'ingo(at)example.org' ist keine E-Mail-Adresse")
    await user.should_not_see('is not')


async def test_a_logo_upload_that_is_no_usable_image_is_refused(user, db):
    """Only the first bytes were looked at: a PNG's signature and no image after it became the logo field's value."""
    await admin_login(user, db)
    await user.open('/verwaltung/einstellungen')
    await see(user, 'Einstellungen speichern')
    shown = field(user, 'Logo (PNG oder JPEG)').elements.pop().value
    [receiver] = user.find(ui.upload).elements
    broken = b'\x89PNG\r\n\x1a\n' + b'kein Bild' * 10
    await receiver.handle_uploads([SmallFileUpload(name='logo.png', content_type='image/png', _data=broken)])
    await see(user, 'Bitte ein PNG- oder JPEG-Bild hochladen (bis 25 Megapixel).')
    assert field(user, 'Logo (PNG oder JPEG)').elements.pop().value == shown


async def test_a_malformed_colour_is_refused_visibly_at_its_field(user, db):
    """The colour input (ui.color_input) has no error of its own: Form.show set a Python attribute nobody renders, so
    the admin saw neither 'Gespeichert' nor why (WCAG 3.3.1: the error must be identified and described in text)."""
    await admin_login(user, db)
    await user.open('/verwaltung/einstellungen')
    await see(user, 'Einstellungen speichern')
    [colour] = [e for e in user.find(ui.color_input).elements if e.props.get('label') == 'Hauptfarbe']
    colour.value = 'rot'
    button(user, 'Einstellungen speichern').click()
    for _ in range(100):
        if colour.props.get('error-message'):
            break
        await asyncio.sleep(0.05)
    assert colour.props.get('error-message') == 'Farbe als #RRGGBB, z. B. #00588f.'
    assert colour.props.get('error') is True and colour.props.get('aria-invalid') == 'true'
