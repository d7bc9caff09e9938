"""The service desk on SQLite and PostgreSQL: search, status, and the actions staff take on request."""

from datetime import UTC

import pytest
from sqlmodel import Session, select

from domain import service_desk as desk
from domain import staff
from domain.errors import FieldRequired, NotAllowed
from domain.identification import Identifiers
from domain.model import AuditEntry, InboxMessage, OneTimeToken, PortalUser, UserCustomer
from domain.registration import register
from tests.factories import PASSWORD, add_readings, mails_to, make_customer, make_login, year_end
from tests.storage.conftest import NOW, run


@pytest.fixture
def otto(engine):

    customer = make_customer(engine, last_name='Ottokar')
    add_readings(engine, customer['meter_number'], (year_end(), 13200))
    login = make_login(engine, [customer['id']], email='ottokar@example.org')
    return customer, login


def audit(engine):
    with Session(engine) as session:
        return [(e.actor, e.action, e.customer_id) for e in session.exec(select(AuditEntry))]


def test_customers_are_found_by_number_name_meter_and_email(uow, context, clerk, otto, engine):
    customer, _ = otto
    make_customer(engine, last_name='Andere')
    for query in (customer['customer_number'], 'ottokar', customer['meter_number'], 'OTTOKAR@example'):
        with uow() as u:
            hits = desk.find_customers(u, clerk, query)
        assert [h.customer_number for h in hits] == [customer['customer_number']], query
    assert hits[0].login_state == 'active' and hits[0].login_email == 'ottokar@example.org'
    with uow() as u, pytest.raises(FieldRequired):
        desk.find_customers(u, clerk, ' x ')


def test_a_name_with_an_umlaut_is_found_in_any_case(uow, clerk, engine):
    """SQLite's lower() knows A–Z only: "Öztürk", typed as the customer spells it, found nobody."""
    customer = make_customer(engine, last_name='Öztürk', company='Ärmel & Söhne')
    for query in ('Öztürk', 'öztürk', 'ÖZTÜRK', 'ärmel'):
        with uow() as u:
            hits = desk.find_customers(u, clerk, query)
        assert [h.customer_number for h in hits] == [customer['customer_number']], query


def test_the_card_shows_login_status_readings_and_changes_but_no_secrets(uow, context, clerk, otto):
    customer, _ = otto
    with uow() as u:
        card = desk.customer_card(u, context(), clerk, customer['id'])
    assert card.login.email == 'ottokar@example.org' and card.login.state == 'active'
    assert card.login.linked == ((customer['customer_number'], customer['name']),)
    assert [r.value for r in card.readings] == ['13200.000']
    assert not any('hash' in f for f in card.login.__dataclass_fields__)


def test_a_locked_login_is_shown_and_unlocked(uow, context, clerk, otto, engine):
    from domain.accounts import login
    from domain.errors import InvalidCredentials, TooManyAttempts

    customer, _ = otto
    for n in range(20):  # guesses from many addresses hold the account back
        with pytest.raises(InvalidCredentials):
            run(uow, login, context(address=f'203.0.113.{n}'), 'ottokar@example.org', 'falsch')
    with pytest.raises(TooManyAttempts):
        run(uow, login, context(), 'ottokar@example.org', PASSWORD)
    with uow() as u:
        assert desk.customer_card(u, context(), clerk, customer['id']).login.locked_minutes > 0
    run(uow, desk.unlock_login, context(), clerk, customer['id'])
    assert run(uow, login, context(), 'ottokar@example.org', PASSWORD).user_id
    assert (f'staff:{clerk}', 'staff_unlocked_login', customer['id']) in audit(engine)


def test_a_login_held_back_at_the_customer_s_own_computer_is_shown_and_unlocked(uow, context, clerk, otto):
    """Eight wrong passwords from her own computer: the growing delays hold her back there. The card said "nicht
    gesperrt" (it looked at the hold from everywhere only), and "Entsperren" did not let her in."""
    from domain.accounts import login
    from domain.errors import InvalidCredentials, TooManyAttempts

    customer, _ = otto
    for _ in range(8):
        with pytest.raises((InvalidCredentials, TooManyAttempts)):
            run(uow, login, context(), 'ottokar@example.org', 'falsch')
    with pytest.raises(TooManyAttempts):
        run(uow, login, context(), 'ottokar@example.org', PASSWORD)
    with uow() as u:
        assert desk.customer_card(u, context(), clerk, customer['id']).login.locked_minutes > 0
    run(uow, desk.unlock_login, context(), clerk, customer['id'])
    with uow() as u:
        assert desk.customer_card(u, context(), clerk, customer['id']).login.locked_minutes == 0
    assert run(uow, login, context(), 'ottokar@example.org', PASSWORD).user_id


def test_a_pending_registration_gets_a_new_link_and_the_old_one_ends(uow, context, clerk, engine):
    customer = make_customer(engine, last_name='Wartend')
    run(
        uow,
        register,
        context(),
        Identifiers(customer['customer_number'], customer['meter_number']),
        'wartend@example.org',
        'Sicheres-Passwort-1',
        'Sicheres-Passwort-1',
    )
    with uow() as u:
        card = desk.customer_card(u, context(), clerk, customer['id'])
    assert card.login.state == 'pending'
    run(uow, desk.resend_activation, context(), clerk, customer['id'])
    with Session(engine) as session:
        tokens = session.exec(select(OneTimeToken).where(OneTimeToken.purpose == 'activation')).all()
    assert len(tokens) == 2 and sum(t.used_at is None for t in tokens) == 1
    assert len([m for m in mails_to(engine, 'wartend@example.org') if 'aktivieren' in m.text]) == 2
    with pytest.raises(NotAllowed):  # no reset for a login that is not active yet
        run(uow, desk.send_reset, context(), clerk, customer['id'])


def test_a_reset_link_goes_to_the_registered_address_only(uow, context, clerk, otto, engine):
    customer, _ = otto
    run(uow, desk.send_reset, context(), clerk, customer['id'])
    assert len([m for m in mails_to(engine, 'ottokar@example.org') if '/passwort-neu/' in m.text]) == 1
    assert (f'staff:{clerk}', 'staff_sent_reset', customer['id']) in audit(engine)


def test_deleting_a_login_on_request_keeps_the_customer_and_needs_a_reason(uow, context, clerk, otto, engine):
    customer, _ = otto
    with pytest.raises(FieldRequired):
        run(uow, desk.delete_login, context(), clerk, customer['id'], ' ')
    run(uow, desk.delete_login, context(), clerk, customer['id'], 'Bitte um Löschung per Brief vom 20.11.')
    with Session(engine) as session:
        assert session.exec(select(PortalUser)).all() == [] and session.exec(select(UserCustomer)).all() == []
    with uow() as u:
        assert desk.customer_card(u, context(), clerk, customer['id']).login is None
    assert (f'staff:{clerk}', 'staff_deleted_login', customer['id']) in audit(engine)


def test_a_message_lands_in_the_inbox_with_a_mail_notice(uow, context, clerk, otto, engine):
    customer, _ = otto
    with pytest.raises(FieldRequired):
        run(uow, desk.post_message, context(), clerk, customer['id'], 'Betreff', '')
    run(uow, desk.post_message, context(), clerk, customer['id'], 'Ihr Zählerwechsel', 'Am 3.12. kommt …')
    with Session(engine) as session:
        [message] = session.exec(select(InboxMessage)).all()
    assert (message.subject, message.created_at) == ('Ihr Zählerwechsel', NOW.astimezone(UTC))  # an instant
    assert any('Posteingang' in m.subject for m in mails_to(engine, 'ottokar@example.org'))


def test_a_locked_staff_member_can_do_nothing(uow, context, clerk, otto):
    admin_password = run(uow, staff.create_staff, context(), 'cli', 'admin@stadtwerke.example', 'Ada', 'admin')
    assert admin_password
    with uow() as u:
        admin_id = u.staff.by_email('admin@stadtwerke.example').id
    run(uow, staff.set_active, context(), admin_id, clerk, False)
    with uow() as u, pytest.raises(NotAllowed):
        desk.find_customers(u, clerk, 'ottokar')


def test_the_service_desk_too_sends_only_a_few_mails_an_hour_to_one_address(uow, context, clerk, otto, engine):
    from domain.errors import MailBudgetSpent

    customer, _ = otto
    for _ in range(3):
        run(uow, desk.send_reset, context(), clerk, customer['id'])
    with pytest.raises(MailBudgetSpent):
        run(uow, desk.send_reset, context(), clerk, customer['id'])


def test_looking_at_a_customer_does_not_push_their_changes_off_the_card(uow, context, engine, clerk):
    """Each look at the card is audited under the customer, and the card lists the last 30 entries: after 30 looks
    (a call, a few reloads, colleagues) it showed only looks."""
    customer = make_customer(engine)
    with uow() as u:
        u.audit(AuditEntry(at=context().now, actor='user:1', action='paperless_on', customer_id=customer['id']))
        u.commit()
    for _ in range(31):
        card = run(uow, desk.customer_card, context(), clerk, customer['id'])
    assert [c.action for c in card.changes] == ['paperless_on']


def test_the_staff_export_since_a_day_holds_what_the_list_since_that_day_shows(uow, context, clerk):
    """The changes page counts "seit 04.12.2026" from midnight in Germany, the download counted from midnight UTC: a
    change at 00:30 was listed but not exported."""
    from datetime import datetime

    from domain import exports
    from domain.clock import BERLIN

    at = datetime(2026, 12, 4, 0, 30, tzinfo=BERLIN)
    with uow() as u:
        u.audit(AuditEntry(at=at, actor='user:1', action='paperless_on'))
        u.commit()
    assert 'paperless_on' in run(uow, exports.staff_export, context(), clerk, 'changes', at.date())


def test_a_long_login_address_held_back_at_one_address_is_shown_and_unlocked(uow, context, clerk, engine):
    """Keys over 200 characters are kept hashed: the holds of a login of 185 characters were not found by the card
    ("nicht gesperrt") nor lifted by "Entsperren"."""
    from domain.accounts import login
    from domain.errors import InvalidCredentials, TooManyAttempts

    long = 'a' * 60 + '@' + 'b' * 50 + '.' + 'c' * 50 + '.' + 'd' * 20 + '.de'
    customer = make_customer(engine, last_name='Lang')
    make_login(engine, [customer['id']], email=long)
    for _ in range(8):
        with pytest.raises((InvalidCredentials, TooManyAttempts)):
            run(uow, login, context(), long, 'falsch')
    with pytest.raises(TooManyAttempts):
        run(uow, login, context(), long, PASSWORD)
    with uow() as u:
        assert desk.customer_card(u, context(), clerk, customer['id']).login.locked_minutes > 0
    run(uow, desk.unlock_login, context(), clerk, customer['id'])
    assert run(uow, login, context(), long, PASSWORD).user_id


def test_a_reset_link_staff_send_is_in_german_whatever_their_pages_language(uow, context, clerk, engine):
    """Other mails of staff actions go in German (the customer's language is not known); the reset link followed
    the clerk's pages."""
    from domain.i18n import using

    customer = make_customer(engine, last_name='Reset')
    make_login(engine, [customer['id']], email='reset@example.org')
    with using('en'):
        run(uow, desk.send_reset, context(), clerk, customer['id'])
    [mail] = mails_to(engine, 'reset@example.org')
    assert mail.text.startswith('Guten Tag') and 'Passwort' in mail.subject


def test_a_registration_held_back_by_wrong_pairs_from_anywhere_is_shown_and_released_by_staff(
    uow, context, clerk, engine
):
    """Anyone who knows a customer number can hold its registration back (20 wrong pairs an hour from anywhere):
    the customer who calls is let through by the service desk."""
    from domain.errors import IdentifiersDoNotMatch, TooManyAttempts

    customer = make_customer(engine)
    for n in range(20):
        with uow() as u, pytest.raises(IdentifiersDoNotMatch):
            ids = Identifiers(customer['customer_number'], f'1EBZ01{n:08d}9')
            register(u, context(address=f'198.51.100.{n}'), ids, 'x@example.org', PASSWORD, PASSWORD)
    right = Identifiers(customer['customer_number'], customer['meter_number'])
    with uow() as u, pytest.raises(TooManyAttempts):
        register(u, context(), right, 'kunde@example.org', PASSWORD, PASSWORD)
    card = run(uow, desk.customer_card, context(), clerk, customer['id'])
    assert card.login is None and card.registration_held == 60
    run(uow, desk.unlock_registration, context(), clerk, customer['id'])
    assert run(uow, desk.customer_card, context(), clerk, customer['id']).registration_held == 0
    with uow() as u:
        register(u, context(), right, 'kunde@example.org', PASSWORD, PASSWORD)
    assert ('staff:' + str(clerk), 'staff_unlocked_registration', customer['id']) in audit(engine)


def test_staff_deleting_a_login_forgets_as_the_customer_s_own_deletion_does(uow, context, engine, clerk):
    """The mail copies (the new phone number in a confirmation) stayed, and on SQLite the next login made, given the
    deleted one's id, found the contact form used up."""
    from domain.inbox import send_contact_message
    from tests.storage.test_account_changes import all_sent, with_phone_changed

    ctx = context('wasserverband-c')
    first, gone = with_phone_changed(uow, engine, ctx, 'weg@example.org', '0171 5550199')
    for n in range(10):
        run(uow, send_contact_message, ctx, gone['id'], first['id'], 'Sonstiges', f'Frage {n}', 'Text')
    all_sent(engine)
    run(uow, desk.delete_login, ctx, clerk, first['id'], 'Bitte um Löschung per Brief')
    assert all('0171 5550199' not in m.text for m in mails_to(engine, 'weg@example.org'))
    second = make_customer(engine, 'wasserverband-c', commodity='water', last_name='Neu')
    new = make_login(engine, [second['id']], email='neu@example.org')
    if new['id'] == gone['id']:  # SQLite gives the id again
        run(uow, send_contact_message, ctx, new['id'], second['id'], 'Sonstiges', 'Erste Frage', 'Text')


def test_a_reset_or_activation_staff_send_is_in_the_customer_s_language(uow, context, engine, clerk):
    from domain.i18n import using

    english = make_customer(engine)
    make_login(engine, [english['id']], email='english@example.org', language='en')
    run(uow, desk.send_reset, context(), clerk, english['id'])
    assert 'password' in mails_to(engine, 'english@example.org')[-1].subject.lower()
    german = make_customer(engine)
    make_login(engine, [german['id']], email='deutsch@example.org', language='de', state='pending')
    with using('en'):  # the clerk's pages
        run(uow, desk.resend_activation, context(), clerk, german['id'])
    assert 'Please confirm' not in mails_to(engine, 'deutsch@example.org')[-1].subject


def test_the_card_still_says_an_address_bounces_after_the_copies_are_forgotten(uow, context, engine, clerk):
    """The hourly clean-up after 90 days, or deleting a login whose address is also the contact address, took the
    failed mail the card's notice looks at."""
    from datetime import timedelta

    from domain import accounts
    from domain.model import OutboxMail
    from tests.clock import after

    ctx = context('wasserverband-c')
    customer = make_customer(engine, 'wasserverband-c', commodity='water', email='same@example.org')
    login = make_login(engine, [customer['id']], email='same@example.org')
    with Session(engine) as session:
        session.add(
            OutboxMail(
                recipient='same@example.org',
                subject='Ihre Rechnung',
                text='…',
                html='',
                created_at=ctx.now,
                next_attempt_at=ctx.now,
                status='failed',
                attempts=1,
                last_error='550 5.1.1 user unknown',
            )
        )
        session.commit()
    run(uow, accounts.delete_profile, ctx, login['id'], PASSWORD)
    later_ctx = context('wasserverband-c', now=after(ctx.now, timedelta(days=91)))
    run(uow, accounts.forget_old_throttles, later_ctx)
    card = run(uow, desk.customer_card, later_ctx, clerk, customer['id'])
    assert [u.email for u in card.undelivered] == ['same@example.org']


def test_an_address_set_on_the_service_desk_is_mailed_in_the_customer_s_language(uow, context, engine, clerk):
    """The reset and activation mails staff cause follow the customer's language; the new login address set on the
    phone sent its password link and the notice to the old address in German to an English customer."""
    from domain import lost_access

    english = make_customer(engine, last_name='English')
    make_login(engine, [english['id']], email='old@example.org', language='en')
    run(uow, lost_access.set_login_email, context(), clerk, english['id'], 'new@example.org')
    assert 'Set a new password' in mails_to(engine, 'new@example.org')[-1].subject
    assert 'Your login email address has been changed' in mails_to(engine, 'old@example.org')[-1].subject


def test_the_search_takes_percent_and_underscore_as_they_are_typed(uow, clerk, engine):
    """`%` and `_` went into LIKE as wildcards: "%%" listed every customer, and "ma_x" (part of an address such as
    ma_x@…) found "Maix" and "Max" too."""
    wanted = make_customer(engine, last_name='Unterstrich', email='ma_x@example.org')
    make_customer(engine, last_name='Maix', email='maix@example.org')
    for query, expected in (('%%', []), ('__', []), ('ma_x', [wanted['customer_number']])):
        with uow() as u:
            hits = desk.find_customers(u, clerk, query)
        assert [h.customer_number for h in hits] == expected, query


def test_a_name_or_address_pasted_with_combining_marks_is_found(uow, clerk, engine):
    """ "Müller" pasted from a mail or a PDF as 'u' + U+0308 (as the login's address is taken: NFC) found nobody."""
    import unicodedata

    customer = make_customer(engine, last_name='Müller')
    make_login(engine, [customer['id']], email='jörg@example.org')
    for query in ('Müller', 'jörg@example'):
        with uow() as u:
            hits = desk.find_customers(u, clerk, unicodedata.normalize('NFD', query))
        assert [h.customer_number for h in hits] == [customer['customer_number']], query


def test_a_name_is_found_surname_first_and_with_ss_for_sharp_s(uow, clerk, engine):
    """A clerk types the name as the caller gives it: "Strauß, Erika" (surname first, as on every list), or "STRAUSS"
    (the capitals of ß, as printed on an envelope): both found nobody, as "Weiss" missed "Weiß"."""
    customer = make_customer(engine, last_name='Strauß')
    company = make_customer(engine, company='Gießerei Weiß GmbH')
    make_customer(engine, last_name='Strausberg')
    for query, expected in (
        ('Strauß, Erika', customer),
        ('Strauß Erika', customer),
        ('STRAUSS', customer),
        ('strauss erika', customer),
        ('giesserei weiss', company),
        ('Weiß Gießerei', company),
    ):
        with uow() as u:
            hits = desk.find_customers(u, clerk, query)
        assert [h.customer_number for h in hits] == [expected['customer_number']], query
    with uow() as u:  # words each in a different customer's name find neither
        assert desk.find_customers(u, clerk, 'Strausberg Weiß') == []
