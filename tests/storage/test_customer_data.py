"""Contact and bank data, the paper mandate, and what becomes of an Onlinekunde whose login goes."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from domain import accounts, customer_data, inbox, service_desk
from domain.data_export import export_data, export_json
from domain.errors import (
    ContactLimit,
    DomainError,
    EmailInvalid,
    IbanInvalid,
    NothingChanged,
    PhoneInvalid,
    PostalCodeInvalid,
)
from domain.i18n import using
from domain.model import AuditEntry, BankAccount, ContactMessage, Customer
from storage.unit_of_work import SqlUnitOfWork
from tests import clock
from tests.factories import PASSWORD, mails_to, make_customer, make_login
from tests.storage.conftest import NOW, run


def contact(customer_id: int, engine) -> customer_data.ContactData:
    with Session(engine) as session:
        c = session.get(Customer, customer_id)
        assert c is not None
        return customer_data.ContactData(c.street, c.house_number, c.postal_code, c.city, c.phone, c.email, c.paperless)


@pytest.fixture
def owner(engine):
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    return customer, login


def paperless_off(engine, customer_id: int) -> list[AuditEntry]:
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == 'paperless_off')).all()
        return [e for e in entries if e.customer_id == customer_id]


def test_an_online_customer_who_removes_the_login_gets_bills_by_post_again(uow, context, engine):
    """An Onlinekunde's bills reach only the Posteingang and a mail to the login: without the login, no bill would
    reach the customer. Paper again, and the change feed tells the billing system (paperless_off)."""
    customer = make_customer(engine, 'wasserverband-c', commodity='water', paperless=True)
    login = make_login(engine, [customer['id']], email='online@example.org')
    run(uow, accounts.delete_profile, context('wasserverband-c'), login['id'], PASSWORD)
    with Session(engine) as session:
        saved = session.get(Customer, customer['id'])
        assert saved is not None and saved.paperless is False
    [entry] = paperless_off(engine, customer['id'])
    assert entry.actor == f'user:{login["id"]}' and entry.details == 'login removed'


def test_a_login_removed_by_staff_leaves_its_online_customers_on_paper_too(uow, context, engine, clerk):
    online, on_paper = make_customer(engine, paperless=True), make_customer(engine, last_name='Papier')
    make_login(engine, [online['id'], on_paper['id']], email='zwei@example.org')
    run(uow, service_desk.delete_login, context(), clerk, online['id'], 'Bitte um Löschung per Brief')
    with Session(engine) as session:
        assert not any(c.paperless for c in session.exec(select(Customer)))
    assert len(paperless_off(engine, online['id'])) == 1 and paperless_off(engine, on_paper['id']) == []


@pytest.mark.parametrize(
    ('changes', 'error'),
    [
        ({'postal_code': '２７７５１'}, PostalCodeInvalid),  # full-width digits
        ({'postal_code': '٢٧٧٥١'}, PostalCodeInvalid),  # Arabic-Indic digits
        ({'phone': '(((((('}, PhoneInvalid),
        ({'phone': '------'}, PhoneInvalid),
        ({'phone': '٠٤٢١ ١٢٣٤٥٦'}, PhoneInvalid),
        ({'phone': '０４２２１ １２３４５'}, PhoneInvalid),
    ],
)
def test_postal_code_and_phone_take_ascii_digits_only(uow, context, engine, owner, changes, error):
    customer, login = owner
    before = contact(customer['id'], engine)
    with pytest.raises(error):
        run(uow, customer_data.change_contact_data, context(), login['id'], customer['id'], replace(before, **changes))
    assert contact(customer['id'], engine) == before


def test_an_iban_with_full_width_check_digits_is_refused(uow, context, engine, owner):
    customer, login = owner
    with pytest.raises(IbanInvalid):
        run(
            uow,
            customer_data.change_bank_account,
            context(),
            login['id'],
            customer['id'],
            'Erika Muster',
            'DE８９ 3704 0044 0532 0130 00',
            True,
            PASSWORD,
        )
    with Session(engine) as session:
        assert session.exec(select(BankAccount)).all() == []


def test_the_paper_mandate_after_a_revocation_has_a_reference_of_its_own(uow, context, engine, owner):
    """A new signature is a new mandate: SEPA wants a reference per mandate, not the revoked one's again."""
    customer, login = owner
    iban = 'DE89370400440532013000'
    run(
        uow,
        customer_data.change_bank_account,
        context(),
        login['id'],
        customer['id'],
        'Erika Muster',
        iban,
        True,
        PASSWORD,
    )
    with uow() as work:
        active = customer_data.mandate_form(work, context(), login['id'], customer['id']).reference
    run(uow, customer_data.revoke_mandate, context(), login['id'], customer['id'], PASSWORD)
    with Session(engine) as session:
        revoked = session.exec(select(BankAccount)).one().mandate_reference
    with uow() as work:
        form = customer_data.mandate_form(
            work, context(now=clock.after(NOW, timedelta(minutes=1))), login['id'], customer['id']
        )
    assert active == revoked and form.reference != revoked and form.iban == iban


def test_the_export_holds_the_logins_own_activity_but_no_one_elses_data(uow, context, engine, clerk, pinned_clock):
    """Someone registered the customer; staff removed that login on request; the customer registers and downloads
    their data (Art. 15): their own log in full (the logins too, which concern no customer), of the others only when
    and what happened, not the earlier login's address nor anyone's IP address."""
    customer = make_customer(engine)
    earlier = make_login(engine, [customer['id']], email='vorher@example.org')
    stale = contact(customer['id'], engine)
    run(
        uow,
        customer_data.change_contact_data,
        context(address='203.0.113.77'),
        earlier['id'],
        customer['id'],
        replace(stale, phone='0170 1234567'),
    )
    run(uow, service_desk.customer_card, context(address='10.20.30.40'), clerk, customer['id'])
    run(uow, service_desk.delete_login, context(address='10.20.30.40'), clerk, customer['id'], 'Fremdregistrierung')
    pinned_clock.shift(timedelta(days=1))  # the customer registers the next day (SQLite may give the same id again)
    login = make_login(engine, [customer['id']], email='kundin@example.org')
    with uow() as work:
        accounts.login(work, context(address='198.51.100.23'), 'kundin@example.org', PASSWORD, '')
    with uow() as work:
        exported = json.loads(export_json(export_data(work, context(), login['id'])))
    text = json.dumps(exported, ensure_ascii=False)
    assert [s for s in ('vorher@example.org', '203.0.113.77', '10.20.30.40') if s in text] == []
    assert '198.51.100.23' in json.dumps(exported['activity'])  # the login's own log
    others = {(entry['action'], entry['actor']) for entry in exported['customers'][0]['activity']}
    assert {('contact_data_changed', 'another login'), ('staff_deleted_login', 'staff')} <= others


def test_a_form_from_a_second_tab_changes_only_what_was_changed_in_it(uow, context, engine, owner):
    """Two tabs show /kundendaten; the first changes the phone and goes online, the second (still showing the old
    phone and paper) the street: the phone and the consent stay, and no paperless_off reaches the billing system."""
    customer, login = owner
    seen = contact(customer['id'], engine)
    first = replace(seen, phone='04221 98765', paperless=True)
    run(uow, customer_data.change_contact_data, context(), login['id'], customer['id'], first, seen)
    second = replace(seen, street='Lindenallee')
    run(uow, customer_data.change_contact_data, context(), login['id'], customer['id'], second, seen)
    assert contact(customer['id'], engine) == replace(first, street='Lindenallee')
    assert paperless_off(engine, customer['id']) == []


def test_an_address_typed_in_a_form_is_saved_whole_not_mixed_with_one_the_import_changed(uow, context, engine, owner):
    """The form shows the old address; meanwhile the billing system's import records a move (street, postal code,
    city). The customer then corrects the street only: the street typed joined the imported postal code and city,
    an address that exists nowhere. The address is taken from the form as a whole now."""
    customer, login = owner
    seen = contact(customer['id'], engine)
    with Session(engine) as session:  # the import, meanwhile
        stored = session.get(Customer, customer['id'])
        stored.street, stored.house_number, stored.postal_code, stored.city = 'Am Deich', '7', '26721', 'Emden'
        session.add(stored)
        session.commit()
    typed = replace(seen, street='Lindenallee', phone='04221 98765')
    run(uow, customer_data.change_contact_data, context(), login['id'], customer['id'], typed, seen)
    now = contact(customer['id'], engine)
    assert (now.street, now.house_number, now.postal_code, now.city) == (
        'Lindenallee',
        seen.house_number,
        seen.postal_code,
        seen.city,
    )
    assert now.phone == '04221 98765'


@pytest.mark.parametrize('before', [None, 'DE02120300000000202051'])
def test_a_bank_account_saved_twice_at_once_leaves_one_current_account(context, engine, owner, before):
    """ "Bankverbindung speichern" clicked twice, or in two tabs. Both requests found the same current account (or
    none) before either wrote: one was saved, the other told that the data changed meanwhile (migration 0016). Now
    each holds the login's row once the current password is checked, so the second looks up the account after the
    first is saved, and replaces it in turn: one current account either way, each with its own mandate."""
    customer, login = owner
    if before:  # given the day before
        yesterday = context(now=clock.after(NOW, timedelta(days=-1)))
        with SqlUnitOfWork(engine) as work:
            customer_data.change_bank_account(work, yesterday, login['id'], customer['id'], 'A', before, True, PASSWORD)
    meeting = threading.Barrier(2)

    def save(iban):
        meeting.wait()  # both start at once (no timeout: timed waits never end under faketime)
        try:
            with SqlUnitOfWork(engine) as work:
                return customer_data.change_bank_account(
                    work, context(), login['id'], customer['id'], 'Erika Muster', iban, True, PASSWORD
                )
        except DomainError as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(save, ['DE89370400440532013000', 'DE12500105170648489890']))
    assert {type(answer).__name__ for answer in answers} <= {'BankView', 'ConcurrentChange'}
    assert any(type(answer).__name__ == 'BankView' for answer in answers)
    with Session(engine) as session:
        current = session.exec(select(BankAccount).where(col(BankAccount.superseded_at).is_(None))).all()
        references = [a.mandate_reference for a in session.exec(select(BankAccount))]
    assert len(current) == 1 and current[0].mandate_revoked_at is None
    assert len(set(references)) == len(references)  # saved within the same second: each its own reference


def test_the_bank_account_in_force_saved_again_keeps_its_mandate(uow, context, engine, owner):
    """Saving the same holder, IBAN and mandate again revoked the mandate for a new reference, with a mail and a
    change for the billing system."""
    customer, login = owner
    args = (login['id'], customer['id'], 'Erika Muster', 'DE89 3704 0044 0532 0130 00', True, PASSWORD)
    first = run(uow, customer_data.change_bank_account, context(), *args)
    with pytest.raises(NothingChanged):
        run(uow, customer_data.change_bank_account, context(), *args)
    with Session(engine) as session:
        [account] = session.exec(select(BankAccount)).all()
        changes = session.exec(select(AuditEntry).where(AuditEntry.action == 'bank_account_changed')).all()
    assert account.mandate_revoked_at is None and len(changes) == 1 and first is not None
    no_mandate = (*args[:4], False, PASSWORD)  # the same account without the mandate is a change
    run(uow, customer_data.change_bank_account, context(), *no_mandate)
    with Session(engine) as session:
        [ended] = session.exec(select(AuditEntry).where(AuditEntry.action == 'mandate_revoked')).all()
    mail = mails_to(engine, 'erika@example.org')[-1]  # it said "Ein SEPA-Lastschriftmandat haben Sie nicht erteilt"
    assert f'Ihr SEPA-Lastschriftmandat {account.mandate_reference} haben Sie damit widerrufen' in mail.text
    assert ended.details == f'reference={account.mandate_reference}' and 'widerrufen' in mail.subject


def test_the_contact_form_takes_ten_messages_an_hour_from_a_login(uow, context, engine, owner):
    """Each message lands in the staff's queue and sends a confirmation mail: a script on an open session must not
    flood either. The eleventh within the hour is refused at its field, and nothing of it is saved."""
    customer, login = owner
    for n in range(10):
        run(uow, inbox.send_contact_message, context(), login['id'], customer['id'], 'Sonstiges', f'Frage {n}', 'Text')
    with pytest.raises(ContactLimit) as refused:
        run(uow, inbox.send_contact_message, context(), login['id'], customer['id'], 'Sonstiges', 'Frage 11', 'Text')
    assert refused.value.field == 'message' and refused.value.params['at']
    with Session(engine) as session:
        assert len(session.exec(select(ContactMessage)).all()) == 10


def test_the_mail_about_changed_contact_data_lists_the_changes_in_the_mails_language(uow, context, engine, owner):
    customer, login = owner
    before = contact(customer['id'], engine)
    with using('en'):  # as the runner does for a visitor who chose English
        run(
            uow,
            customer_data.change_contact_data,
            context(),
            login['id'],
            customer['id'],
            replace(before, phone='04221 12345', paperless=True),
        )
    [mail] = mails_to(engine, 'erika@example.org')
    assert 'Phone: 04221 12345' in mail.text and 'Online customer (bills online only): yes' in mail.text
    assert 'Telefon' not in mail.text and ': ja' not in mail.text


def test_on_english_pages_the_errors_name_the_fields_in_english(engine, uow, context):
    """ "Please fill in the field “Straße”", "… “Betreff”": the use cases' own labels were German."""
    import pytest

    from domain.customer_data import ContactData, change_contact_data
    from domain.errors import DomainError
    from domain.i18n import t, using
    from domain.inbox import TOPICS, send_contact_message
    from tests.factories import make_customer, make_login

    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='englisch@example.org')
    address = ContactData(
        street='',
        house_number='1',
        postal_code='27749',
        city='Aue',
        phone='',
        email='englisch@example.org',
        paperless=False,
    )
    texts = []
    for attempt in (
        lambda work: change_contact_data(work, context(), login['id'], customer['id'], address),
        lambda work: send_contact_message(work, context(), login['id'], customer['id'], next(iter(TOPICS)), '', 'Hi'),
    ):
        with using('en'), uow() as work, pytest.raises(DomainError) as raised:
            attempt(work)
        texts.append(t(raised.value.key, 'en', **raised.value.params))
    assert texts == ['Please fill in the field “Street”.', 'Please fill in the field “Subject”.']


def test_the_csv_export_holds_what_the_json_does_and_payments_too(uow, context, engine):
    """The ZIP of CSV files left out the login's own log (logins, password changes, with their addresses), and both
    formats the payments the portal shows ("gezahlte Abschläge") and the requests staff reviewed (their reasons)."""
    import io
    import zipfile
    from datetime import date
    from decimal import Decimal

    from domain.data_export import export_zip
    from domain.model import Contract, Payment, ReviewItem

    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='zip@example.org')
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        session.add(Payment(contract_id=contract.id, paid_on=date(2026, 3, 15), amount=Decimal('87.13')))
        session.add(
            ReviewItem(
                customer_id=customer['id'],
                kind='installment_reduction',
                created_at=clock.now(),
                details='from=92 to=70',
                reason='Auszug eines Mitbewohners',
            )
        )
        session.commit()
    with uow() as work:
        accounts.login(work, context(address='198.51.100.23'), 'zip@example.org', PASSWORD, '')
    with uow() as work:
        data = export_data(work, context(), login['id'])
    assert '87.13' in export_json(data).decode() and 'Auszug eines Mitbewohners' in export_json(data).decode()
    archive = zipfile.ZipFile(io.BytesIO(export_zip(data)))
    assert {'login_activity.csv', 'payments.csv'} <= set(archive.namelist())
    assert '198.51.100.23' in archive.read('login_activity.csv').decode()
    assert '2026-03-15;87.13' in archive.read('payments.csv').decode()


def test_the_export_holds_the_bank_accounts_replaced_in_the_portal(uow, context, engine):
    """A replaced account stays in the table (superseded, with its IBAN and its mandate's end); the export named
    only the current one."""
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='bank@example.org')
    for iban in ('DE02120300000000202051', 'DE89370400440532013000'):
        args = (login['id'], customer['id'], 'Erika Muster', iban, True, PASSWORD)
        run(uow, customer_data.change_bank_account, context(), *args)
    with uow() as work:
        exported = json.loads(export_json(export_data(work, context(), login['id'])))['customers'][0]
    assert exported['bank_account']['iban'] == 'DE89370400440532013000'
    [earlier] = exported['earlier_bank_accounts']
    assert earlier['iban'] == 'DE02120300000000202051' and earlier['superseded_at'] is not None


def test_the_export_does_not_hand_out_who_else_asked_for_the_login(uow, context, engine, clerk):
    """Anyone who knows the two numbers may ask for the login to be moved to their address ("Zugang verloren");
    staff call back and decline. The customer's export (cdfbc2d) handed that person's address, phone and name out:
    of others, when and what, not who."""
    from domain import lost_access, requests
    from domain.identification import Identifiers
    from domain.model import ReviewItem

    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='kundin@example.org')
    ids = Identifiers(customer['customer_number'], customer['meter_number'])
    run(uow, lost_access.request_new_login_email, context(), 'Max Fremd', ids, 'fremd@example.org', '0171 5550199')
    with Session(engine) as session:
        item_id = session.exec(select(ReviewItem.id)).one()
    run(uow, requests.decide_review, context(), clerk, item_id, False, 'Rückruf: nicht die Kundin')
    with uow() as work:
        exported = json.loads(export_json(export_data(work, context(), login['id'])))['customers'][0]
    [asked] = exported['requests_for_review']
    assert (asked['kind'], asked['status']) == ('lost_access', 'rejected') and asked['decided_at']
    assert [s for s in ('fremd@example.org', '5550199', 'Fremd') if s in json.dumps(exported)] == []


@pytest.mark.parametrize(
    'imported',
    [
        {'postal_code': '1012 AB', 'city': 'Amsterdam'},  # an address abroad, as the billing system holds it
        {'postal_code': '6020', 'city': 'Innsbruck'},
        {'house_number': ''},  # a farm without a house number
        {'phone': '04221 12345 (abends)'},
    ],
)
def test_a_value_left_as_the_billing_system_holds_it_does_not_block_another_change(
    uow, context, engine, owner, imported
):
    """The import takes any postal code, phone and an empty house number; the form showed them and the customer only
    ticked "Onlinekunde": that was refused at a field the customer had not touched (an address abroad could never
    be kept, so the consent could never be given). What the customer left as it is is not the customer's input."""
    customer, login = owner
    with Session(engine) as session:
        stored = session.get(Customer, customer['id'])
        assert stored is not None
        for key, value in imported.items():
            setattr(stored, key, value)
        session.add(stored)
        session.commit()
    seen = contact(customer['id'], engine)
    run(
        uow,
        customer_data.change_contact_data,
        context(),
        login['id'],
        customer['id'],
        replace(seen, paperless=True),
        seen,
    )
    assert contact(customer['id'], engine) == replace(seen, paperless=True)
    assert 'Onlinekunde (Rechnung nur online): ja' in mails_to(engine, login['email'])[-1].text


@pytest.mark.parametrize(
    'email',
    ['erika@example.org;', 'erika@example.org,', 'erika@example..org', 'erika.@example.org', '<erika@example.org>'],
)
def test_a_contact_address_with_a_stray_character_is_refused_at_its_field(uow, context, engine, owner, email):
    """Copied from an address list or mistyped: such an address was saved, and every letter, reading reminder and
    e-invoice to it was refused by the relay (RCPT TO syntax) and retried until given up."""
    customer, login = owner
    before = contact(customer['id'], engine)
    with pytest.raises(EmailInvalid) as refused:
        run(
            uow, customer_data.change_contact_data, context(), login['id'], customer['id'], replace(before, email=email)
        )
    assert refused.value.field == 'contact_email'
    assert contact(customer['id'], engine) == before


def test_the_export_holds_the_contract_requests_declared_and_not_a_visitor_s_details(uow, context, engine, clerk):
    """A cancellation, a move, a tariff change are kept as received (`ContractRequest`) with their status, the day
    they take effect and the answer: the export (Art. 15/20) named none of them. Declared by someone else (a visitor
    with the customer number, §312k BGB), when and what and how it was settled, not that person's name or address."""
    from domain import contract_requests
    from domain.cancellation import CancellationForm, cancel

    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='kuendigt@example.org')
    own = CancellationForm(False, '', 'Erika Muster', customer['customer_number'], '', True, '', 'kuendigt@example.org')
    run(uow, cancel, context(), own, login['id'])
    visitor = replace(own, name='Max Fremd', email='fremd@example.org')
    run(uow, cancel, context(), visitor)
    with Session(engine) as session:
        from domain.model import ContractRequest

        first = session.exec(select(ContractRequest).order_by(col(ContractRequest.id))).first()
    run(uow, contract_requests.staff_answer, context(), clerk, first.id, True, 'Ihr Vertrag endet wie gewünscht.')
    with uow() as work:
        exported = json.loads(export_json(export_data(work, context(), login['id'])))['customers'][0]
    mine, theirs = exported['contract_requests']
    assert (mine['kind'], mine['status'], mine['answer']) == (
        'cancellation',
        'accepted',
        'Ihr Vertrag endet wie gewünscht.',
    )
    assert mine['reference'] == f'K-{first.id:06d}' and mine['effective'] and mine['content']['name'] == 'Erika Muster'
    assert (theirs['kind'], theirs['status']) == ('cancellation', 'open') and theirs['received_at']
    assert [s for s in ('fremd@example.org', 'Max Fremd') if s in json.dumps(exported)] == []


def test_the_export_names_the_login_s_second_factor_language_and_devices(uow, context, engine):
    """The login's second factor (on or off), its language and the browsers it logged in from (KnownDevice, kept for
    the login's holds) are held about the login: the export named only its address and times."""
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='zwei-faktoren@example.org', totp_enabled=True)
    with uow() as work, using('en'):  # the pages in English at the login
        accounts.login(work, context(), 'zwei-faktoren@example.org', PASSWORD, '')
    with uow() as work:
        exported = json.loads(export_json(export_data(work, context(), login['id'])))['login']
    assert exported['second_factor'] is True and exported['language'] == 'en'
    [device] = exported['devices']
    assert device['created_at'] and device['last_used_at'] and 'digest' not in device


def test_the_export_holds_the_reading_reminders_mailed_to_the_customer(uow, context, engine):
    """Who got which reading reminder, at which address (`ReadingReminder`, listed for staff): not in the export."""
    from datetime import date

    from domain.model import Meter, ReadingReminder

    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erinnert@example.org')
    with Session(engine) as session:
        meter = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        session.add(
            ReadingReminder(
                customer_id=customer['id'],
                meter_id=meter.id,
                period_end=date(2026, 12, 31),
                kind='start',
                email='erinnert@example.org',
                queued_at=clock.now(),
                key=f'{meter.id}:2026-12-31:start',
            )
        )
        session.commit()
    with uow() as work:
        exported = json.loads(export_json(export_data(work, context(), login['id'])))['customers'][0]
    [reminder] = exported['reading_reminders']
    assert reminder['meter_number'] == customer['meter_number'] and reminder['email'] == 'erinnert@example.org'
    assert (reminder['kind'], reminder['period_end']) == ('start', '2026-12-31')


def test_the_zip_holds_the_contract_requests_and_devices_as_csv(uow, context, engine):
    import io
    import zipfile

    from domain.cancellation import CancellationForm, cancel
    from domain.data_export import export_zip

    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='zip-k@example.org')
    own = CancellationForm(False, '', 'Erika Muster', customer['customer_number'], '', True, '', 'zip-k@example.org')
    run(uow, cancel, context(), own, login['id'])
    with uow() as work:
        accounts.login(work, context(), 'zip-k@example.org', PASSWORD, '')
    with uow() as work:
        archive = zipfile.ZipFile(io.BytesIO(export_zip(export_data(work, context(), login['id']))))
    assert {'contract_requests.csv', 'login_devices.csv'} <= set(archive.namelist())
    assert '"name"": ""Erika Muster""' in archive.read('contract_requests.csv').decode()


def test_a_deleted_login_leaves_no_addresses_in_its_own_log(uow, context, engine):
    """The login's own entries (no customer's: its logins, wrong passwords, an email change asked for) hold the
    client's IP address and the addresses typed; the billing system's change feed reads none of them. They stayed for
    good after the profile was deleted ("deletion removes the portal login and personal portal data"): when and what
    stays, not from where nor which address. The customer's changes keep theirs (the change feed, a mandate's proof)."""
    customer = make_customer(engine, 'wasserverband-c', commodity='water')
    login = make_login(engine, [customer['id']], email='weg@example.org')
    ctx = context('wasserverband-c', address='198.51.100.23')
    with uow() as work:
        accounts.login(work, ctx, 'weg@example.org', PASSWORD, '')
    run(uow, accounts.request_email_change, ctx, login['id'], 'neu@example.org', PASSWORD)
    run(
        uow,
        customer_data.change_contact_data,
        ctx,
        login['id'],
        customer['id'],
        replace(contact(customer['id'], engine), phone='0170 1234567'),
    )
    run(uow, accounts.delete_profile, ctx, login['id'], PASSWORD)
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.actor == f'user:{login["id"]}')).all()
    own = [e for e in entries if e.customer_id is None]
    assert {e.action for e in own} >= {'login', 'email_change_requested'}
    assert [e.action for e in own if '198.51.100.23' in e.address or 'neu@example.org' in e.details] == []
    [changed] = [e for e in entries if e.action == 'contact_data_changed']
    assert changed.address == '198.51.100.23'


def test_a_mandate_revoked_twice_at_once_is_revoked_once(context, engine, owner):
    """ "Mandat widerrufen" in two tabs: both found the mandate in force before either had revoked it (the login's row
    was held only after that), and both revoked it, each with its change for the billing system and its mail. Looked
    up once the login is held, the second finds it revoked (and the first waits 2 s for it in vain)."""
    from tests.storage.conftest import meeting_after

    customer, login = owner
    with SqlUnitOfWork(engine) as work:
        customer_data.change_bank_account(
            work, context(), login['id'], customer['id'], 'Erika Muster', 'DE89370400440532013000', True, PASSWORD
        )
    looked: list[bool] = []

    Meeting = meeting_after('data.bank_account', looked)

    def revoke(_):
        try:
            with Meeting(engine) as work:
                return customer_data.revoke_mandate(work, context(), login['id'], customer['id'], PASSWORD)
        except DomainError as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(revoke, range(2)))
    assert sorted(type(answer).__name__ for answer in answers) == ['NoneType', 'NotAllowed']
    with Session(engine) as session:
        revoked = session.exec(select(AuditEntry).where(AuditEntry.action == 'mandate_revoked')).all()
    assert len(revoked) == 1
    assert len([m for m in mails_to(engine, 'erika@example.org') if 'widerruf' in m.subject.lower()]) == 1


def test_bills_online_chosen_in_two_tabs_at_once_is_one_change(context, engine, owner):
    """Both tabs found the customer on paper before either had saved: both saved, and the billing system got
    paperless_on twice, the customer two mails. With the login held before the customer is read, the second finds
    the consent given ("Nichts geändert"), as one sent after the other does (the first waits 2 s for it in vain)."""
    from tests.storage.conftest import meeting_after

    customer, login = owner
    seen = contact(customer['id'], engine)
    looked: list[bool] = []

    Meeting = meeting_after('customers.get', looked)

    def save(_):
        try:
            with Meeting(engine) as work:
                online = replace(seen, paperless=True)
                return customer_data.change_contact_data(work, context(), login['id'], customer['id'], online, seen)
        except DomainError as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(save, range(2)))
    assert sorted(type(answer).__name__ for answer in answers) == ['ContactData', 'NothingChanged']
    with Session(engine) as session:
        assert len(session.exec(select(AuditEntry).where(AuditEntry.action == 'paperless_on')).all()) == 1
    assert len(mails_to(engine, 'erika@example.org')) == 1


def test_a_message_opened_in_two_tabs_at_once_is_noted_read_once(context, engine, owner):
    """Both requests found it unread before either had marked it: two inbox_read entries in the customer's log. Now
    the mark is a conditional UPDATE: the second finds it read and notes nothing."""
    from datetime import UTC, datetime

    from domain.model import InboxMessage
    from tests.storage.conftest import meeting_after

    customer, login = owner
    with Session(engine) as session:
        message = InboxMessage(customer_id=customer['id'], created_at=datetime(2024, 1, 2, tzinfo=UTC), subject='Hallo')
        session.add(message)
        session.commit()
        message_id = message.id
    looked: list[bool] = []

    Meeting = meeting_after('data.inbox', looked)

    def open_it(_):
        with Meeting(engine) as work:
            inbox.mark_read(work, context(), login['id'], customer['id'], message_id)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(open_it, range(2)))
    with Session(engine) as session:
        assert len(session.exec(select(AuditEntry).where(AuditEntry.action == 'inbox_read')).all()) == 1
        assert session.get(InboxMessage, message_id).read_at is not None


def test_a_serbian_iban_is_a_sepa_account_since_serbia_joined_sepa(uow, context, engine, owner):
    """Serbia is in SEPA's geographical scope since May 2025 (its banks debit and credit by SEPA from 2026); its
    IBANs were refused as "nicht gültig"."""
    customer, login = owner
    args = (login['id'], customer['id'], 'Jovan Petrović', 'RS35 2600 0560 1001 6113 79', True, PASSWORD)
    run(uow, customer_data.change_bank_account, context(), *args)
    with Session(engine) as session:
        [account] = session.exec(select(BankAccount)).all()
    assert account.iban == 'RS35260005601001611379' and account.mandate_reference
    assert len(mails_to(engine, 'erika@example.org')) == 1


def test_a_valid_iban_outside_sepa_is_refused_as_such_not_as_mistyped(uow, context, engine, owner):
    """A Turkish IBAN is a correct IBAN, only of an account no SEPA debit reaches: "nicht gültig … bitte prüfen"
    sent the customer to look for a typing error that is not there."""
    from domain.errors import IbanOutsideSepa
    from domain.i18n import t

    customer, login = owner
    args = (login['id'], customer['id'], 'Ayşe Yılmaz', 'TR33 0006 1005 1978 6457 8413 26', True, PASSWORD)
    with pytest.raises(IbanOutsideSepa) as raised:
        run(uow, customer_data.change_bank_account, context(), *args)
    assert raised.value.field == 'iban' and 'SEPA' in t(raised.value.key)
    with Session(engine) as session:
        assert session.exec(select(BankAccount)).all() == []
    with pytest.raises(IbanInvalid):  # a typing error stays one
        mistyped = 'TR33 0006 1005 1978 6457 8413 27'
        run(uow, customer_data.change_bank_account, context(), *args[:3], mistyped, True, PASSWORD)
