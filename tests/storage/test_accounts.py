"""Login and account use cases against a real database (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from domain import accounts
from domain.errors import (
    AccountNotConfirmed,
    CustomerAlreadyLinked,
    CustomerAlreadyRegistered,
    EmailAlreadyRegistered,
    IdentifiersDoNotMatch,
    InvalidCredentials,
    NotAllowed,
    PasswordTooWeak,
    TokenInvalid,
    TooManyAttempts,
    WrongCurrentPassword,
)
from domain.identification import Identifiers
from domain.model import AuditEntry, Customer, PortalUser, UserCustomer
from domain.overview import customer_choices, customer_overview
from storage.hashing import Argon2Hasher
from tests.factories import PASSWORD, last_mail, link_in, mails_to, make_customer, make_login
from tests.storage.conftest import NOW

NEW = 'Neues-Passwort-42'


@pytest.fixture
def login_user(engine):
    customer = make_customer(engine)
    return customer, make_login(engine, [customer['id']], email='erika@example.org')


def login(uow, ctx, email='erika@example.org', password=PASSWORD):
    with uow() as work:
        return accounts.login(work, ctx, email, password)


def test_login_by_email_and_password_grants_the_linked_customers(login_user, uow, context):
    customer, _ = login_user
    grant = login(uow, context(), email=' Erika@Example.org ')
    assert grant.customer_ids == (customer['id'],) and not grant.must_change_password


def test_unknown_email_and_wrong_password_get_the_identical_answer(login_user, uow, context):
    with pytest.raises(InvalidCredentials) as unknown:
        login(uow, context(), email='niemand@example.org')
    with pytest.raises(InvalidCredentials) as wrong:
        login(uow, context(), password='falsch-falsch')
    assert (unknown.value.key, unknown.value.field, unknown.value.params) == (
        wrong.value.key,
        wrong.value.field,
        wrong.value.params,
    )


def test_five_wrong_passwords_lock_the_account_for_15_minutes_whatever_the_address(login_user, uow, context):
    for n in range(5):
        with pytest.raises(InvalidCredentials):
            login(uow, context(address=f'192.0.2.{n}'), password='falsch-falsch')
    with pytest.raises(TooManyAttempts):
        login(uow, context(address='198.51.100.1'))
    login(uow, context(now=NOW + timedelta(minutes=16)))


def test_an_unknown_email_locks_exactly_like_a_known_one(login_user, uow, context):
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            login(uow, context(address='192.0.2.9'), email='niemand@example.org')
    with pytest.raises(TooManyAttempts):
        login(uow, context(address='192.0.2.10'), email='niemand@example.org')


def test_one_address_trying_many_accounts_is_locked(login_user, uow, context):
    for n in range(30):
        with pytest.raises(InvalidCredentials):
            login(uow, context(), email=f'probe{n}@example.org')
    with pytest.raises(TooManyAttempts):
        login(uow, context())


def test_an_unconfirmed_login_is_told_to_confirm_only_with_the_right_password(engine, uow, context):
    customer = make_customer(engine)
    make_login(engine, [customer['id']], email='offen@example.org', state='pending')
    with pytest.raises(InvalidCredentials):
        login(uow, context(), email='offen@example.org', password='falsch-falsch')
    with pytest.raises(AccountNotConfirmed):
        login(uow, context(), email='offen@example.org')


def test_a_hash_with_old_parameters_is_upgraded_at_login(login_user, engine, uow, context):
    ctx = context()
    ctx.hasher = Argon2Hasher()  # production parameters; the factory hashed with cheaper ones
    assert ctx.hasher.needs_rehash(_stored_hash(engine))
    login(uow, ctx)
    assert not ctx.hasher.needs_rehash(_stored_hash(engine))


def _stored_hash(engine) -> str:
    with Session(engine) as session:
        return session.exec(select(PortalUser)).one().password_hash


def reset_token(engine, uow, ctx, email='erika@example.org'):
    with uow() as work:
        accounts.request_password_reset(work, ctx, email)
    return link_in(last_mail(engine, email).text, '/passwort-neu/').rsplit('/', 1)[1]


def test_a_reset_link_sets_a_new_password_once_and_ends_other_sessions(login_user, engine, uow, context):
    old_grant = login(uow, context())
    token = reset_token(engine, uow, context())
    with uow() as work:
        accounts.reset_password(work, context(now=NOW + timedelta(days=6, hours=23)), token, NEW, NEW)
    with uow() as work:
        assert not accounts.session_is_valid(work, old_grant.user_id, old_grant.epoch)
    with uow() as work, pytest.raises(TokenInvalid):
        accounts.reset_password(work, context(), token, NEW + 'x', NEW + 'x')
    login(uow, context(), password=NEW)
    assert 'Passwort wurde geändert' in last_mail(engine, 'erika@example.org').subject


def test_a_reset_link_expires_after_7_days(login_user, engine, uow, context):
    token = reset_token(engine, uow, context())
    with uow() as work, pytest.raises(TokenInvalid):
        accounts.reset_password(work, context(now=NOW + timedelta(days=7)), token, NEW, NEW)


def test_a_reset_request_for_an_unknown_email_answers_alike_and_sends_nothing(login_user, engine, uow, context):
    with uow() as work:
        accounts.request_password_reset(work, context(), 'niemand@example.org')
    assert mails_to(engine, 'niemand@example.org') == []


def test_a_temporary_password_must_be_changed_at_first_login(login_user, engine, uow, context):
    ctx = context('stadtwerke-b')
    with uow() as work:
        accounts.request_password_reset(work, ctx, 'erika@example.org')
    temporary = last_mail(engine, 'erika@example.org').text.split('Passwort lautet: ')[1].split()[0]
    with pytest.raises(InvalidCredentials):
        login(uow, ctx)  # the old password no longer works
    grant = login(uow, ctx, password=temporary)
    assert grant.must_change_password
    with uow() as work:
        epoch = accounts.set_initial_password(work, ctx, grant.user_id, NEW, NEW)
    assert epoch > grant.epoch
    assert not login(uow, ctx, password=NEW).must_change_password
    with uow() as work, pytest.raises(NotAllowed):
        accounts.set_initial_password(work, ctx, grant.user_id, NEW + 'x', NEW + 'x')


def test_guessing_the_current_password_in_an_open_session_locks_like_a_login(login_user, uow, context, engine):
    grant = login(uow, context())
    for _ in range(5):
        with uow() as work, pytest.raises(WrongCurrentPassword):
            accounts.change_password(work, context(), grant.user_id, 'geraten-123', NEW, NEW)
    with uow() as work, pytest.raises(TooManyAttempts) as locked:
        accounts.change_password(work, context(), grant.user_id, PASSWORD, NEW, NEW)  # even the right one waits
    assert locked.value.field == 'current_password'
    with pytest.raises(TooManyAttempts):
        login(uow, context())  # one budget for the account
    with Session(engine) as session:
        wrong = session.exec(select(AuditEntry).where(AuditEntry.action == 'current_password_wrong')).all()
    assert len(wrong) == 5


def test_changing_the_password_needs_the_current_one(login_user, uow, context):
    grant = login(uow, context())
    with uow() as work, pytest.raises(WrongCurrentPassword):
        accounts.change_password(work, context(), grant.user_id, 'falsch-falsch', NEW, NEW)
    with uow() as work, pytest.raises(PasswordTooWeak):
        accounts.change_password(work, context(), grant.user_id, PASSWORD, 'kurz', 'kurz')
    with uow() as work:
        epoch = accounts.change_password(work, context(), grant.user_id, PASSWORD, NEW, NEW)
    with uow() as work:
        assert accounts.session_is_valid(work, grant.user_id, epoch)
        assert not accounts.session_is_valid(work, grant.user_id, grant.epoch)


def test_a_new_login_email_counts_only_once_confirmed_and_the_old_address_is_told(login_user, engine, uow, context):
    grant = login(uow, context())
    with uow() as work:
        accounts.request_email_change(work, context(), grant.user_id, 'Erika.Neu@example.org')
    login(uow, context())  # still the old address until confirmed
    token = link_in(last_mail(engine, 'erika.neu@example.org').text, '/email-bestaetigen/').rsplit('/', 1)[1]
    with uow() as work:
        assert accounts.confirm_email_change(work, context(), token) == 'erika.neu@example.org'
    login(uow, context(), email='erika.neu@example.org')
    assert 'erika.neu@example.org' in last_mail(engine, 'erika@example.org').text
    with uow() as work, pytest.raises(TokenInvalid):
        accounts.confirm_email_change(work, context(), token)


def test_a_login_email_in_use_cannot_be_taken(login_user, engine, uow, context):
    other = make_customer(engine)
    make_login(engine, [other['id']], email='vergeben@example.org')
    grant = login(uow, context())
    with uow() as work, pytest.raises(EmailAlreadyRegistered):
        accounts.request_email_change(work, context(), grant.user_id, 'vergeben@example.org')


def test_profile_deletion_removes_the_login_but_keeps_the_customer(login_user, engine, uow, context):
    customer, _ = login_user
    grant = login(uow, context('wasserverband-c'))
    with uow() as work:
        accounts.delete_profile(work, context('wasserverband-c'), grant.user_id)
    with Session(engine) as session:
        assert session.exec(select(PortalUser)).all() == []
        assert session.exec(select(UserCustomer)).all() == []
        assert session.get(Customer, customer['id']) is not None
        assert session.exec(select(AuditEntry).where(AuditEntry.action == 'profile_deleted')).one()
    assert 'entfernt' in last_mail(engine, 'erika@example.org').subject


def test_profile_deletion_is_refused_where_the_utility_does_it_on_request(login_user, uow, context):
    grant = login(uow, context('stadtwerke-a'))
    with uow() as work, pytest.raises(NotAllowed):
        accounts.delete_profile(work, context('stadtwerke-a'), grant.user_id)


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
