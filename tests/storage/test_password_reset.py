"""The "Passwort vergessen?" path (domain.password_reset) on SQLite and PostgreSQL: the link, once and for 7 days; the
temporary password, once and for 24 hours; known and unknown addresses answered alike; requests limited per hour."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from domain import accounts, password_reset
from domain.errors import InvalidCredentials, MailBudgetSpent, NotAllowed, TokenInvalid
from domain.i18n import t
from domain.model import AuditEntry, Throttle
from storage.unit_of_work import SqlUnitOfWork
from tests.clock import after
from tests.factories import PASSWORD, last_mail, mails_to
from tests.storage.conftest import NEW, NOW, both_here, login, meeting_after, request_reset, reset_token


def test_a_reset_link_sets_a_new_password_once_and_ends_other_sessions(login_user, engine, uow, context):
    old_grant = login(uow, context())
    token = reset_token(engine, uow, context())
    with uow() as work:
        password_reset.reset_password(work, context(now=after(NOW, timedelta(days=6, hours=23))), token, NEW, NEW)
    with uow() as work:
        assert not accounts.session_is_valid(work, old_grant.user_id, old_grant.epoch)
    with uow() as work, pytest.raises(TokenInvalid):
        password_reset.reset_password(work, context(), token, NEW + 'x', NEW + 'x')
    login(uow, context(), password=NEW)
    assert 'Passwort wurde geändert' in last_mail(engine, 'erika@example.org').subject


def test_a_reset_link_expires_after_7_days(login_user, engine, uow, context):
    token = reset_token(engine, uow, context())
    with uow() as work, pytest.raises(TokenInvalid):
        password_reset.reset_password(work, context(now=after(NOW, timedelta(days=7))), token, NEW, NEW)


def test_a_reset_request_for_an_unknown_email_answers_alike_and_sends_nothing(login_user, engine, uow, context):
    request_reset(uow, context(), 'niemand@example.org')
    assert mails_to(engine, 'niemand@example.org') == []


class CountingHasher:
    """The test's hasher, counting what the request path asks of it."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, 0

    def __getattr__(self, name):
        self.calls += 1
        return getattr(self.inner, name)


@pytest.mark.parametrize('profile', ['stadtwerke-a', 'stadtwerke-b'])
def test_the_reset_request_does_the_same_work_for_known_and_unknown_addresses(
    login_user, engine, uow, context, profile
):
    from domain.model import OneTimeToken, OutboxMail, ResetRequest

    def effects() -> tuple:
        with Session(engine) as session:
            return tuple(len(session.exec(select(m)).all()) for m in (OneTimeToken, OutboxMail, AuditEntry))

    before = effects()
    for email in ('erika@example.org', 'niemand@example.org'):
        ctx = context(profile)
        ctx.hasher = CountingHasher(ctx.hasher)
        with uow() as work:
            password_reset.request_password_reset(work, ctx, email)
        assert ctx.hasher.calls == 0 and effects() == before  # nothing looked up, hashed, sent or audited yet
    with Session(engine) as session:
        assert [r.email for r in session.exec(select(ResetRequest))] == ['erika@example.org', 'niemand@example.org']
        assert session.exec(select(Throttle)).all()  # the throttles count both alike


def test_a_temporary_password_must_be_changed_at_first_login(login_user, engine, uow, context):
    ctx = context('stadtwerke-b')
    request_reset(uow, ctx)
    mail = last_mail(engine, 'erika@example.org').text
    temporary = mail.split('Passwort lautet: ')[1].split()[0]
    assert 'gilt auch Ihr bisheriges Passwort weiter' in mail  # it said "gilt nicht mehr", which was not true
    old = login(uow, ctx)  # until it is used, the old password still works: nobody is locked out by a request
    with uow() as work:
        assert accounts.session_is_valid(work, old.user_id, old.epoch)
    grant = login(uow, ctx, password=temporary)
    assert grant.must_change_password
    with uow() as work:
        epoch = accounts.set_initial_password(work, ctx, grant.user_id, NEW, NEW)
    assert epoch > grant.epoch
    assert not login(uow, ctx, password=NEW).must_change_password
    with uow() as work, pytest.raises(NotAllowed):
        accounts.set_initial_password(work, ctx, grant.user_id, NEW + 'x', NEW + 'x')
    with pytest.raises(InvalidCredentials):
        login(uow, ctx, password=temporary)  # it worked once


def test_a_temporary_password_expires_after_24_hours(login_user, engine, uow, context):
    ctx = context('stadtwerke-b')
    request_reset(uow, ctx)
    temporary = last_mail(engine, 'erika@example.org').text.split('Passwort lautet: ')[1].split()[0]
    with pytest.raises(InvalidCredentials):
        login(uow, context('stadtwerke-b', now=after(NOW, timedelta(hours=24, seconds=1))), password=temporary)


def test_reset_requests_for_one_address_are_limited_per_hour(login_user, engine, uow, context):
    for n in range(3):
        request_reset(uow, context(address=f'192.0.2.{n}'))
    with uow() as work, pytest.raises(MailBudgetSpent):
        password_reset.request_password_reset(work, context(address='192.0.2.9'), 'erika@example.org')
    assert len([m for m in mails_to(engine, 'erika@example.org') if '/passwort-neu/' in m.text]) == 3


def test_a_temporary_password_dies_when_the_password_is_changed(login_user, engine, uow, context):
    """Someone who read the mailbox for a moment asked for one; the owner changes the password: it no longer works,
    as reset links do not."""
    ctx = context('stadtwerke-b')
    request_reset(uow, ctx)
    temporary = last_mail(engine, 'erika@example.org').text.split('Passwort lautet: ')[1].split()[0]
    grant = login(uow, ctx)
    with uow() as work:
        accounts.change_password(work, ctx, grant.user_id, PASSWORD, NEW, NEW)
    with pytest.raises(InvalidCredentials):
        login(uow, context('stadtwerke-b', now=after(NOW, timedelta(hours=3))), password=temporary)


def test_the_reset_mail_is_in_the_language_the_request_was_made_in(login_user, engine, uow, context):
    """The mail is made later by the background, which has no visitor: an English visitor got it in German."""
    from domain.i18n import using

    for language in ('en', 'de'):
        with using(language), uow() as work:  # the page, in the visitor's language
            password_reset.request_password_reset(work, context(), 'erika@example.org')
    with uow() as work:  # the background
        password_reset.send_requested_resets(work, context())
    english, german = [m.subject for m in mails_to(engine, 'erika@example.org')]
    assert 'Set a new password' in english and 'Set a new password' not in german


def test_a_request_worked_off_by_two_instances_at_the_same_moment_is_sent_once(login_user, engine, uow, context):
    """Every instance works the requests off every 5 s. Two that read the same request at the same moment (on
    SQLite no row lock holds the second back) both sent a mail: two links, the first already revoked by the second
    (with `temporary_password` two passwords, the first one dead)."""
    with uow() as work:
        password_reset.request_password_reset(work, context(), 'erika@example.org')
    looked: list[bool] = []

    class Meeting(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            session = self.resets.session
            plain = session.exec

            def met(statement, *args, **kwargs):  # the claim's read, held until both have read
                session.exec = plain
                found = list(plain(statement, *args, **kwargs))
                both_here(looked)
                return found

            session.exec = met
            return self

    def work_off():
        with Meeting(engine) as work:
            return password_reset.send_requested_resets(work, context())

    with ThreadPoolExecutor(2) as pool:
        done = [future.result(timeout=90) for future in [pool.submit(work_off) for _ in range(2)]]
    assert sorted(done) == [0, 1]
    assert len([mail for mail in mails_to(engine, 'erika@example.org') if 'Passwort' in mail.subject]) == 1


def test_a_reset_worked_off_while_the_new_address_is_confirmed_sends_no_link_to_the_old_one(
    login_user, engine, uow, context
):
    """The background found the login by the address a reset was asked for; the owner confirmed the new login email
    before it had stored the link (which revokes every reset link). The link then went to the old address and stayed
    valid: whoever reads the old mailbox sets the password of the moved login. Held and read again before the link
    is made, the login is found moved, and nobody gets a link (the background waits 2 s for it in vain)."""
    from domain.model import OneTimeToken
    from tests.factories import link_in

    _, account = login_user
    with uow() as work:
        accounts.request_email_change(work, context(), account['id'], 'erika.neu@example.org', PASSWORD)
    confirm = link_in(last_mail(engine, 'erika.neu@example.org').text, '/email-bestaetigen/').rsplit('/', 1)[1]
    with uow() as work:
        password_reset.request_password_reset(work, context(), 'erika@example.org')
    looked: list[bool] = []

    Meeting = meeting_after('users.by_email', looked)

    def work_off():
        with Meeting(engine) as work:
            return password_reset.send_requested_resets(work, context())

    def confirm_new_address():
        try:
            with uow() as work:
                return accounts.confirm_email_change(work, context(), confirm)
        finally:
            both_here(looked)

    with ThreadPoolExecutor(2) as pool:
        background = pool.submit(work_off)
        owner = pool.submit(confirm_new_address)
        background.result(timeout=90)
        assert owner.result(timeout=90) == 'erika.neu@example.org'
    with Session(engine) as session:
        usable = session.exec(
            select(OneTimeToken).where(OneTimeToken.purpose == 'reset', OneTimeToken.used_at == None)  # noqa: E711
        ).all()
    assert usable == []  # a link mailed to the old address before the change was revoked by it


def test_the_temporary_password_mail_says_it_works_once_within_24_hours(login_user, engine, uow, context):
    """The reset link's mail names its validity; the temporary password's did not, so a customer trying it the next
    evening was only told „E-Mail-Adresse oder Passwort sind nicht richtig“."""
    request_reset(uow, context('stadtwerke-b'))
    mail = last_mail(engine, 'erika@example.org').text
    assert 'gültig 24 Stunden, nur einmal verwendbar' in mail
    assert 'gültig 24 Stunden, einmal verwendbar' in t('forgot.intro_temporary', 'de')  # as the link's page says
    assert timedelta(hours=24) == password_reset.TEMPORARY_PASSWORD_VALID  # the texts name it
