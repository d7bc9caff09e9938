"""A login's own changes against a real database (SQLite and PostgreSQL): its email (confirmed again), its
removal, further customer accounts under it, and what needs the current password."""

import dataclasses
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from domain import accounts, password_reset, registration
from domain.errors import (
    CustomerAlreadyLinked,
    CustomerAlreadyRegistered,
    IdentifiersDoNotMatch,
    LastCustomerCannotBeRemoved,
    MailBudgetSpent,
    NotAllowed,
    SessionEnded,
    TokenInvalid,
    WrongCurrentPassword,
)
from domain.identification import Identifiers
from domain.inbox import send_contact_message
from domain.model import AuditEntry, Customer, PortalUser, UserCustomer
from domain.overview import customer_choices, customer_overview
from tests.clock import after
from tests.factories import (
    PASSWORD,
    last_mail,
    link_in,
    mails_to,
    make_customer,
    make_login,
)
from tests.storage.conftest import NEW, login, reset_token, run


def test_a_new_login_email_counts_only_once_confirmed_and_the_old_address_is_told(login_user, engine, uow, context):
    grant = login(uow, context())
    with uow() as work:
        accounts.request_email_change(work, context(), grant.user_id, 'Erika.Neu@example.org', PASSWORD)
    login(uow, context())  # still the old address until confirmed
    token = link_in(last_mail(engine, 'erika.neu@example.org').text, '/email-bestaetigen/').rsplit('/', 1)[1]
    with uow() as work:
        assert accounts.confirm_email_change(work, context(), token) == 'erika.neu@example.org'
    login(uow, context(), email='erika.neu@example.org')
    assert 'erika.neu@example.org' in last_mail(engine, 'erika@example.org').text
    with uow() as work, pytest.raises(TokenInvalid):
        accounts.confirm_email_change(work, context(), token)


def test_a_login_email_in_use_cannot_be_taken_and_the_answer_does_not_tell(login_user, engine, uow, context):
    other = make_customer(engine)
    make_login(engine, [other['id']], email='vergeben@example.org')
    grant = login(uow, context())
    with uow() as work:
        taken = accounts.request_email_change(work, context(), grant.user_id, 'vergeben@example.org', PASSWORD)
    with uow() as work:
        free = accounts.request_email_change(work, context(), grant.user_id, 'frei@example.org', PASSWORD)
    assert (taken, free) == ('vergeben@example.org', 'frei@example.org')  # the same answer for both
    explained = last_mail(engine, 'vergeben@example.org')
    assert 'bereits' in explained.subject and '/email-bestaetigen/' not in explained.text
    assert '/email-bestaetigen/' in last_mail(engine, 'frei@example.org').text
    with uow() as work:
        assert work.users.by_email('vergeben@example.org').id != grant.user_id
        assert work.users.get(grant.user_id).email == 'erika@example.org'


def test_a_login_email_change_needs_the_current_password(login_user, engine, uow, context):
    grant = login(uow, context())
    with uow() as work, pytest.raises(WrongCurrentPassword):
        accounts.request_email_change(work, context(), grant.user_id, 'dieb@example.org', 'geraten')
    assert mails_to(engine, 'dieb@example.org') == []


def test_the_old_address_can_stop_a_change_and_every_session_ends(login_user, engine, uow, context):
    grant = login(uow, context())
    with uow() as work:
        accounts.request_email_change(work, context(), grant.user_id, 'dieb@example.org', PASSWORD)
    notice = last_mail(engine, 'erika@example.org')
    assert 'dieb@example.org' in notice.text and 'Haben Sie das nicht selbst beantragt' in notice.text
    stop = link_in(notice.text, '/email-aenderung-stoppen/').rsplit('/', 1)[1]
    confirm = link_in(last_mail(engine, 'dieb@example.org').text, '/email-bestaetigen/').rsplit('/', 1)[1]
    with uow() as work:
        assert accounts.stop_email_change(work, context(), stop) == 'erika@example.org'
    with uow() as work:
        assert not accounts.session_is_valid(work, grant.user_id, grant.epoch)
    with uow() as work, pytest.raises(TokenInvalid):
        accounts.confirm_email_change(work, context(), confirm)
    with uow() as work, pytest.raises(TokenInvalid):  # used once
        accounts.stop_email_change(work, context(), stop)


def test_a_confirmed_new_email_ends_every_session(login_user, engine, uow, context):
    grant = login(uow, context())
    with uow() as work:
        accounts.request_email_change(work, context(), grant.user_id, 'erika.neu@example.org', PASSWORD)
    token = link_in(last_mail(engine, 'erika.neu@example.org').text, '/email-bestaetigen/').rsplit('/', 1)[1]
    with uow() as work:
        accounts.confirm_email_change(work, context(), token)
    with uow() as work:
        assert not accounts.session_is_valid(work, grant.user_id, grant.epoch)
    assert 'rufen Sie uns bitte sofort an' in last_mail(engine, 'erika@example.org').text


def test_email_change_mails_are_limited_per_login_and_say_when_the_next_is_possible(login_user, engine, uow, context):
    grant = login(uow, context())
    for n in range(3):
        with uow() as work:
            accounts.request_email_change(work, context(), grant.user_id, f'neu{n}@example.org', PASSWORD)
    with uow() as work, pytest.raises(MailBudgetSpent) as refused:
        accounts.request_email_change(work, context(), grant.user_id, 'neu3@example.org', PASSWORD)
    assert refused.value.field == 'new_email' and refused.value.params['at']
    assert mails_to(engine, 'neu3@example.org') == []
    with uow() as work:  # an hour later the login may ask again
        accounts.request_email_change(
            work,
            context(now=after(context().now, timedelta(hours=1, minutes=1))),
            grant.user_id,
            'neu3@example.org',
            PASSWORD,
        )


def test_profile_deletion_removes_the_login_but_keeps_the_customer(login_user, engine, uow, context):
    customer, _ = login_user
    grant = login(uow, context('wasserverband-c'))
    with uow() as work:
        accounts.delete_profile(work, context('wasserverband-c'), grant.user_id, PASSWORD)
    with Session(engine) as session:
        assert session.exec(select(PortalUser)).all() == []
        assert session.exec(select(UserCustomer)).all() == []
        assert session.get(Customer, customer['id']) is not None
        assert session.exec(select(AuditEntry).where(AuditEntry.action == 'profile_deleted')).one()
    assert 'entfernt' in last_mail(engine, 'erika@example.org').subject


def test_profile_deletion_is_refused_where_the_utility_does_it_on_request(login_user, uow, context):
    grant = login(uow, context('stadtwerke-a'))
    with uow() as work, pytest.raises(NotAllowed):
        accounts.delete_profile(work, context('stadtwerke-a'), grant.user_id, PASSWORD)


def test_a_second_customer_number_is_added_with_its_meter_number(login_user, engine, uow, context):
    first, _ = login_user
    second = make_customer(engine)
    grant = login(uow, context())
    ids = Identifiers(second['customer_number'], second['meter_number'])
    with uow() as work:
        assert accounts.add_customer(work, context(), grant.user_id, ids) == second['id']
    with uow() as work:
        assert [c.customer_id for c in customer_choices(work, grant.user_id)] == sorted([first['id'], second['id']])
    with uow() as work, pytest.raises(CustomerAlreadyLinked):
        accounts.add_customer(work, context(), grant.user_id, ids)
    with uow() as work, pytest.raises(IdentifiersDoNotMatch):
        accounts.add_customer(work, context(), grant.user_id, Identifiers(second['customer_number'], '1EBZ0199999999'))


def test_a_customer_number_is_taken_off_the_login_but_not_the_last_nor_another_s(login_user, engine, uow, context):
    """A number added by mistake (a relative's) or a flat given up: its owner could not register it while it hung on
    this login, and only deleting the whole profile took it off. The customer's data stays; an Onlinekunde gets paper
    again, as after a deleted profile; it can be added again."""
    first, _ = login_user
    second = make_customer(engine, paperless=True)
    foreign = make_customer(engine)
    make_login(engine, [foreign['id']], email='nachbar@example.org')
    grant = login(uow, context())
    ids = Identifiers(second['customer_number'], second['meter_number'])
    run(uow, accounts.add_customer, context(), grant.user_id, ids)
    with uow() as work, pytest.raises(NotAllowed):  # not this login's
        accounts.remove_customer(work, context(), grant.user_id, foreign['id'])
    assert run(uow, accounts.remove_customer, context(), grant.user_id, second['id']) == first['id']
    with uow() as work:
        assert [c.customer_id for c in customer_choices(work, grant.user_id)] == [first['id']]
    with Session(engine) as session:
        assert session.get(Customer, second['id']).paperless is False  # nobody would see its bills in the portal
        actions = [(a.action, a.customer_id) for a in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    assert ('customer_removed', second['id']) in actions and ('paperless_off', second['id']) in actions
    with Session(engine) as session:  # the billing system reads why: the login itself stays
        [paper] = session.exec(select(AuditEntry).where(AuditEntry.action == 'paperless_off')).all()
    assert paper.details == 'removed from the login'
    mail = last_mail(engine, 'erika@example.org')
    assert 'Kundennummer entfernt' in mail.subject and second['customer_number'] in mail.text
    with uow() as work, pytest.raises(LastCustomerCannotBeRemoved):
        accounts.remove_customer(work, context(), grant.user_id, first['id'])
    assert run(uow, accounts.add_customer, context(), grant.user_id, ids) == second['id']  # and back again


def test_a_customer_of_another_login_cannot_be_added(login_user, engine, uow, context):
    foreign = make_customer(engine)
    make_login(engine, [foreign['id']])
    grant = login(uow, context())
    with uow() as work, pytest.raises(CustomerAlreadyRegistered):
        accounts.add_customer(
            work, context(), grant.user_id, Identifiers(foreign['customer_number'], foreign['meter_number'])
        )


def test_the_overview_of_a_foreign_customer_is_refused(login_user, engine, uow, context):
    customer, _ = login_user
    foreign = make_customer(engine)
    grant = login(uow, context())
    with uow() as work:
        view = customer_overview(work, grant.user_id, customer['id'])
    assert view.customer_number == customer['customer_number'] and view.contracts[0].commodity == 'Strom'
    with uow() as work, pytest.raises(NotAllowed):
        customer_overview(work, grant.user_id, foreign['id'])


def test_profile_removal_needs_the_current_password(login_user, engine, uow, context):
    grant = login(uow, context('wasserverband-c'))
    with uow() as work, pytest.raises(WrongCurrentPassword):
        accounts.delete_profile(work, context('wasserverband-c'), grant.user_id, 'geraten')
    with Session(engine) as session:
        assert session.exec(select(PortalUser)).one().id == grant.user_id


def test_bank_account_and_mandate_need_the_current_password(login_user, engine, uow, context):
    from domain import customer_data
    from domain.model import BankAccount

    customer, _ = login_user
    grant = login(uow, context())
    with uow() as work, pytest.raises(WrongCurrentPassword):
        customer_data.change_bank_account(
            work, context(), grant.user_id, customer['id'], 'Dieb', 'DE89370400440532013000', True, 'geraten'
        )
    with Session(engine) as session:
        assert session.exec(select(BankAccount)).all() == []
    with uow() as work:
        customer_data.change_bank_account(
            work, context(), grant.user_id, customer['id'], 'Erika', 'DE89370400440532013000', True, PASSWORD
        )
    with uow() as work, pytest.raises(WrongCurrentPassword):
        customer_data.revoke_mandate(work, context(), grant.user_id, customer['id'], 'geraten')
    with Session(engine) as session:
        assert session.exec(select(BankAccount)).one().mandate_revoked_at is None


def test_an_email_change_asked_for_while_the_owner_resets_the_password_does_nothing(engine, uow, context):
    """The thief's request hashed the current password while the owner's reset committed: it went on with what it
    had read, stored a new confirmation link after the reset had revoked the old ones, and the link moved the
    login to the thief's address (the session had been checked before the hash, in the same transaction)."""
    customer = make_customer(engine)
    account = make_login(engine, [customer['id']], email='erika@example.org')
    with uow() as work:
        epoch = work.users.get(account['id']).session_epoch
    token = reset_token(engine, uow, context())
    base = context()

    class ResetWhileHashing:
        done = False

        def __getattr__(self, name):
            return getattr(base.hasher, name)

        def verify(self, hashed, password):
            right = base.hasher.verify(hashed, password)
            if not self.done:  # the owner's reset commits while the thief's request hashes
                self.done = True
                with uow() as other:
                    password_reset.reset_password(other, context(), token, NEW, NEW)
            return right

    with uow() as work, pytest.raises(SessionEnded):
        assert accounts.session_is_valid(work, account['id'], epoch)  # the runner's check, same transaction
        accounts.request_email_change(
            work, dataclasses.replace(base, hasher=ResetWhileHashing()), account['id'], 'dieb@example.org', PASSWORD
        )
    assert mails_to(engine, 'dieb@example.org') == []
    with Session(engine) as session:
        assert session.exec(select(PortalUser)).one().email == 'erika@example.org'


@pytest.mark.parametrize('how', ['reset', 'change'])
def test_a_new_password_ends_a_pending_change_of_the_login_email(engine, uow, context, how):
    """Someone who knew the password asked to move the login to their own address; the owner resets or changes the
    password. That person's confirmation link moved the login all the same (and the next reset mail with it)."""
    customer = make_customer(engine)
    account = make_login(engine, [customer['id']], email='erika@example.org')
    with uow() as work:
        accounts.request_email_change(work, context(), account['id'], 'dieb@example.org', PASSWORD)
    confirm = link_in(last_mail(engine, 'dieb@example.org').text, '/email-bestaetigen/').rsplit('/', 1)[1]
    if how == 'reset':
        token = reset_token(engine, uow, context())
        with uow() as work:
            password_reset.reset_password(work, context(), token, NEW, NEW)
    else:
        with uow() as work:
            accounts.change_password(work, context(), account['id'], PASSWORD, NEW, NEW)
    with uow() as work, pytest.raises(TokenInvalid):
        accounts.confirm_email_change(work, context(), confirm)


def test_the_service_desk_takes_the_login_s_row_before_the_new_address_s_mail_budget(
    login_user, clerk, uow, context, engine
):
    """The order every change of a login takes its rows in: the customer's own email change holds the login, then
    the new address's mail budget; the service desk setting the login email took the budget first, and the two at
    once to the same address deadlocked on PostgreSQL. While the login is held, the desk's change waits for it
    without holding the budget's row."""
    if engine.dialect.name == 'sqlite':
        pytest.skip('row locks: PostgreSQL')
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import text

    from domain import lost_access, mail_budget

    customer, account = login_user
    with uow() as earlier:  # a mail to the address earlier this hour: its budget's row is there
        mail_budget.spend(earlier, context(), 'neu@example.org')
        earlier.commit()
    held = uow()
    work = held.__enter__()
    work.users.hold(account['id'])  # as the customer's change holds it while it goes on

    def desk():
        with uow() as other:
            return lost_access.set_login_email(other, context(), clerk, customer['id'], 'neu@example.org')

    with ThreadPoolExecutor(1) as pool:
        moved = pool.submit(desk)
        waiting = 0
        for _ in range(200):  # until the desk's transaction waits for a lock
            with engine.connect() as probe:
                waiting = probe.execute(
                    text(
                        'SELECT count(*) FROM pg_stat_activity '
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).scalar_one()
            if waiting:
                break
            time.sleep(0.05)
        with engine.connect() as probe:
            budget = probe.execute(
                text("SELECT key FROM throttle WHERE key = 'mail:to:neu@example.org' FOR UPDATE SKIP LOCKED")
            ).all()
        held.__exit__(None, None, None)  # the customer's change ends
        assert moved.result(timeout=30) == 'neu@example.org'
    assert waiting == 1 and budget  # the budget's row was not held while it waited


def test_a_new_login_does_not_inherit_the_counts_of_a_deleted_one(uow, context, engine):
    """SQLite gives a deleted login's id to the next login made: the stranger found the contact form used up."""
    ctx = context('wasserverband-c')
    first = make_customer(engine, 'wasserverband-c', commodity='water')
    gone = make_login(engine, [first['id']], email='gone@example.org')
    for n in range(10):
        run(uow, send_contact_message, ctx, gone['id'], first['id'], 'Sonstiges', f'Frage {n}', 'Text')
    run(uow, accounts.delete_profile, ctx, gone['id'], PASSWORD)
    second = make_customer(engine, 'wasserverband-c', commodity='water', last_name='Neu')
    new = make_login(engine, [second['id']], email='new@example.org')
    if new['id'] != gone['id']:
        pytest.skip('ids are not given again (PostgreSQL)')
    run(uow, send_contact_message, ctx, new['id'], second['id'], 'Sonstiges', 'Erste Frage', 'Text')


def with_phone_changed(uow, engine, ctx, email: str, *phones: str) -> tuple[dict, dict]:
    """A water customer's login whose phone number was changed (each change confirmed by a mail naming it)."""
    from dataclasses import replace

    from domain import customer_data

    customer = make_customer(engine, 'wasserverband-c', commodity='water')
    user = make_login(engine, [customer['id']], email=email)
    with uow() as work:
        before = customer_data.contact_data(work, user['id'], customer['id'])
    for phone in phones:
        run(uow, customer_data.change_contact_data, ctx, user['id'], customer['id'], replace(before, phone=phone))
    return customer, user


def all_sent(engine) -> None:
    """The sender delivered every mail queued so far."""
    from domain.model import OutboxMail

    with Session(engine) as session:
        for mail in session.exec(select(OutboxMail)):
            mail.status, mail.sent_at = 'sent', mail.created_at
            session.add(mail)
        session.commit()


def test_a_deleted_profile_leaves_no_copies_of_its_mails_and_old_ones_are_forgotten(uow, context, engine):
    """After "Profil entfernen" the confirmations with the new phone number stayed in the outbox for good; sent
    mails were never forgotten at all."""
    ctx = context('wasserverband-c')
    _, gone = with_phone_changed(uow, engine, ctx, 'weg@example.org', '0171 5550199')
    with_phone_changed(uow, engine, ctx, 'bleibt@example.org', '0171 5550111', '0171 5550222')
    run(uow, accounts.forget_old_throttles, ctx)  # nothing is old yet
    all_sent(engine)
    run(uow, accounts.delete_profile, ctx, gone['id'], PASSWORD)
    # the newest sent stays without its text (the card's notice of a bouncing address), and that it was deleted
    assert [(m.status, m.text) for m in mails_to(engine, 'weg@example.org')][:1] == [('sent', '')]
    assert [m.status for m in mails_to(engine, 'weg@example.org')][1:] == ['queued']
    assert all('0171 5550199' not in m.text for m in mails_to(engine, 'weg@example.org'))
    assert len(mails_to(engine, 'bleibt@example.org')) > 1
    run(uow, accounts.forget_old_throttles, context('wasserverband-c', now=after(ctx.now, timedelta(days=91))))
    kept = mails_to(engine, 'bleibt@example.org')
    assert [(m.status, m.text) for m in kept] == [('sent', '')]  # the newest, for the card, without its text
    # the deleted login's address is nobody's any more: its kept copy goes too (the deletion's own mail is queued)
    assert [m.status for m in mails_to(engine, 'weg@example.org')] == ['queued']


def test_a_customer_added_in_another_tab_while_the_profile_is_removed_is_not_left_behind(engine, uow, context):
    """One tab removes the profile, another adds a second customer account at the same moment. The removal read the
    login's customers, the other tab linked the second and committed (its insert waited for nothing: the removal
    held the login's row without its key), and the removal then deleted that link too: the second customer, an
    Onlinekunde, was left with bills online that reach nobody, and neither its profile_deleted nor its
    paperless_off reached the change feed. With the login held by the tab that adds, it waits for the removal and
    then finds no login (the removal waits 2 s for it in vain)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from storage.unit_of_work import SqlUnitOfWork
    from tests.storage.conftest import both_here

    ctx = context('wasserverband-c')
    first = make_customer(engine, 'wasserverband-c', commodity='water')
    second = make_customer(engine, 'wasserverband-c', commodity='water', paperless=True)
    account = make_login(engine, [first['id']], email='weg@example.org')
    looked: list[bool] = []
    removing = threading.Event()

    class Meeting(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            customer_ids = self.users.customer_ids

            def met(user_id):
                found = customer_ids(user_id)
                removing.set()
                both_here(looked)  # the other tab adds meanwhile
                return found

            self.users.customer_ids = met
            return self

    def remove():
        with Meeting(engine) as work:
            accounts.delete_profile(work, ctx, account['id'], PASSWORD)

    def add():
        assert removing.wait(20)
        try:
            with uow() as work:
                ids = Identifiers(second['customer_number'], second['meter_number'])
                return accounts.add_customer(work, ctx, account['id'], ids)
        except Exception as error:
            return error
        finally:
            both_here(looked)

    with ThreadPoolExecutor(2) as pool:
        removed, added = pool.submit(remove), pool.submit(add)
        removed.result(timeout=90)
        added = added.result(timeout=90)
    with Session(engine) as session:
        assert session.exec(select(PortalUser)).all() == []
        customer = session.get(Customer, second['id'])
        deleted = session.exec(
            select(AuditEntry).where(AuditEntry.action == 'profile_deleted', AuditEntry.customer_id == second['id'])
        ).all()
    if added == second['id']:  # linked before the removal: the removal must have taken it into account
        assert deleted and not customer.paperless
    else:
        assert isinstance(added, Exception) and customer.paperless  # never linked: as the billing system has it


def test_an_address_only_an_unconfirmed_registration_holds_can_become_the_login_email(login_user, engine, uow, context):
    """Erika once began a registration with her new address and never confirmed it. A registration may simply be
    done again over an unconfirmed one; her change of the login email was told „bereits registriert … melden Sie
    sich einfach mit dieser Adresse an“, where the login then answered „noch nicht bestätigt“: stuck for a week."""
    other = make_customer(engine)
    with uow() as work:
        registration.register(
            work, context(), Identifiers(other['customer_number'], other['meter_number']), 'neu@example.org', NEW, NEW
        )
    grant = login(uow, context())
    with uow() as work:
        accounts.request_email_change(work, context(), grant.user_id, 'neu@example.org', PASSWORD)
    token = link_in(last_mail(engine, 'neu@example.org').text, '/email-bestaetigen/').rsplit('/', 1)[1]
    with uow() as work:
        assert accounts.confirm_email_change(work, context(), token) == 'neu@example.org'
    login(uow, context(), email='neu@example.org')
    with Session(engine) as session:  # the unconfirmed registration is gone; its customer may register afresh
        assert [u.state for u in session.exec(select(PortalUser))] == ['active']
