"""Login and account use cases against a real database (SQLite and PostgreSQL)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from domain import accounts, password_reset, second_factor, staff
from domain.errors import (
    AccountNotConfirmed,
    InvalidCredentials,
    PasswordTooWeak,
    TokenInvalid,
    TooManyAttempts,
    WrongCurrentPassword,
)
from domain.model import AuditEntry, PortalUser, Throttle
from domain.throttle import ThrottleState
from storage.hashing import Argon2Hasher
from tests.clock import after
from tests.factories import (
    PASSWORD,
    STAFF_PASSWORD,
    last_mail,
    link_in,
    mails_to,
    make_customer,
    make_login,
    make_staff,
)
from tests.storage.conftest import FAST_HASHER, NEW, NOW, at_the_same_moment, login, request_reset, reset_token


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


def test_wrong_passwords_from_one_address_wait_longer_and_longer_for_that_address_only(login_user, uow, context):
    def attempt(seconds: float, address: str = '192.0.2.1', password: str = 'falsch-falsch'):
        return login(uow, context(address=address, now=after(NOW, timedelta(seconds=seconds))), password=password)

    for second in (0, 1, 2, 3):  # three are free; the fourth costs 15 seconds
        with pytest.raises(InvalidCredentials):
            attempt(second)
    for second, wait in ((19, 30), (50, 60), (111, 120)):  # each miss after the wait doubles the next one
        with pytest.raises(TooManyAttempts):
            attempt(second - 2, password=PASSWORD)  # even the right password waits, from this address
        with pytest.raises(InvalidCredentials):
            attempt(second)
        with pytest.raises(TooManyAttempts):
            attempt(second + wait - 1)
    assert attempt(300, address='198.51.100.7', password=PASSWORD).user_id  # the owner, elsewhere, gets in


def test_five_wrong_passwords_from_five_addresses_do_not_lock_the_customer_out(login_user, uow, context):
    for n in range(5):
        with pytest.raises(InvalidCredentials):
            login(uow, context(address=f'192.0.2.{n}'), password='falsch-falsch')
    assert login(uow, context(address='198.51.100.1')).user_id


def test_a_flood_of_guesses_holds_the_account_back_but_not_for_a_browser_it_knows(login_user, uow, context):
    device = login(uow, context(address='198.51.100.1')).device  # the customer's own browser
    assert device
    for n in range(20):
        with pytest.raises(InvalidCredentials):
            login(uow, context(address=f'203.0.113.{n}'), password='falsch-falsch')
    with pytest.raises(TooManyAttempts):  # a new browser, even with the right password, waits
        login(uow, context(address='198.51.100.1'))
    assert login(uow, context(address='198.51.100.2'), device=device).user_id  # the known one gets in
    with pytest.raises(TooManyAttempts):
        login(uow, context(address='198.51.100.2'), device='forged-device-cookie')
    login(uow, context(now=after(NOW, timedelta(minutes=16))))


def test_an_unknown_email_is_held_back_exactly_like_a_known_one(login_user, uow, context):
    for n in range(20):
        with pytest.raises(InvalidCredentials):
            login(uow, context(address=f'192.0.2.{n}'), email='niemand@example.org')
    with pytest.raises(TooManyAttempts):
        login(uow, context(address='192.0.2.200'), email='niemand@example.org')


def test_one_address_trying_many_accounts_is_locked(login_user, uow, context):
    for n in range(30):
        with pytest.raises(InvalidCredentials):
            login(uow, context(), email=f'probe{n}@example.org')
    with pytest.raises(TooManyAttempts):
        login(uow, context())


class _HeldHasher:
    """The tests' hasher, with `verify` (or `hash`) held at `gate` (a barrier all hashing requests meet at, or an
    event the test sets): while it waits, the request is exactly where it spends its time at a peak."""

    def __init__(self, gate, entered: threading.Event | None = None, held: str = 'verify') -> None:
        self.gate, self.entered, self.held = gate, entered, held

    def __getattr__(self, name):
        return getattr(FAST_HASHER, name)

    def _wait(self, what: str) -> None:
        if what == self.held:
            if self.entered is not None:
                self.entered.set()
            self.gate.wait(timeout=20)

    def verify(self, password_hash: str, password: str) -> bool:
        self._wait('verify')
        return FAST_HASHER.verify(password_hash, password)

    def hash(self, password: str) -> str:
        self._wait('hash')
        return FAST_HASHER.hash(password)


def goes_through_while_held(context, held_request, other_request, held_in: str = 'verify'):
    """`other_request()` finishes within seconds while `held_request(ctx)` waits in its password hash (`verify`, or
    `hash`: a new password's)."""
    entered, release = threading.Event(), threading.Event()
    held = replace(context(), hasher=_HeldHasher(release, entered, held_in))
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(held_request, held)
        assert entered.wait(10)
        started = time.monotonic()
        result = other_request()
        assert time.monotonic() - started < 5 and not first.done()
        release.set()
        return first.result(timeout=20), result


def test_no_lock_is_held_while_a_password_is_hashed(login_user, engine, uow, context):
    """A login from the same address (PostgreSQL: its count's row) and any change at all (SQLite: one writer at a
    time) go through while another login's password is being hashed; a right password with nothing to forgive
    writes no count."""
    other = make_login(engine, [make_customer(engine)['id']], email='otto@example.org')
    first, second = goes_through_while_held(
        context, lambda held: login(uow, held), lambda: login(uow, context(), email='otto@example.org')
    )
    assert (first.user_id, second.user_id) == (login_user[1]['id'], other['id'])
    with Session(engine) as session:
        assert session.exec(select(Throttle)).all() == []


def test_no_lock_is_held_while_the_current_password_or_a_staff_password_is_hashed(login_user, engine, uow, context):
    def change(held):
        with uow() as work:
            return accounts.change_password(work, held, login_user[1]['id'], PASSWORD, NEW, NEW)

    epoch, grant = goes_through_while_held(context, change, lambda: login(uow, context()))  # the same pair
    assert epoch > grant.epoch
    make_staff(engine, email='admin@stadtwerke.example', role='admin')

    def staff_login(ctx):
        with uow() as work:
            return staff.password_step(work, ctx, 'admin@stadtwerke.example', STAFF_PASSWORD)

    first, second = goes_through_while_held(context, staff_login, lambda: staff_login(context()))  # the same keys
    assert first.staff_id == second.staff_id


def test_no_lock_is_held_while_the_new_password_of_a_change_is_hashed(login_user, engine, uow, context):
    """The change holds the login's row once the current password is checked (a reset meanwhile ends it): the new
    password is hashed before, or every other change of the portal (SQLite) waited for the hash."""
    other = make_login(engine, [make_customer(engine)['id']], email='otto@example.org')

    def change(held):
        with uow() as work:
            return accounts.change_password(work, held, login_user[1]['id'], PASSWORD, NEW, NEW)

    epoch, grant = goes_through_while_held(
        context, change, lambda: login(uow, context(), email='otto@example.org'), 'hash'
    )
    assert grant.user_id == other['id'] and epoch > 0


def test_a_temporary_password_used_twice_at_the_same_moment_logs_in_once(login_user, engine, uow, context):
    ctx = context('stadtwerke-b')
    request_reset(uow, ctx)
    temporary = last_mail(engine, 'erika@example.org').text.split('Passwort lautet: ')[1].split()[0]
    results = at_the_same_moment(engine, lambda work: accounts.login(work, ctx, 'erika@example.org', temporary))
    assert sorted(type(result).__name__ for result in results) == ['InvalidCredentials', 'SessionGrant']
    with uow() as work:  # the one that lost is not counted as a guess
        assert work.throttles.peek('login:account:erika@example.org') == ThrottleState()


def test_a_new_login_email_confirmed_twice_at_the_same_moment_changes_it_once(login_user, engine, uow, context):
    with uow() as work:
        accounts.request_email_change(work, context(), login_user[1]['id'], 'erika.neu@example.org', PASSWORD)
    token = link_in(last_mail(engine, 'erika.neu@example.org').text, '/email-bestaetigen/').rsplit('/', 1)[1]
    results = at_the_same_moment(engine, lambda work: accounts.confirm_email_change(work, context(), token))
    assert sorted(type(result).__name__ for result in results) == ['TokenInvalid', 'str']
    assert len(mails_to(engine, 'erika.neu@example.org')) == 2  # the link, and one confirmation


def test_a_reset_link_used_twice_at_the_same_moment_sets_one_password(login_user, engine, uow, context):
    token = reset_token(engine, uow, context())
    held = replace(context(), hasher=_HeldHasher(threading.Barrier(2), held='hash'))

    def attempt(password):
        try:
            with uow() as work:
                return password_reset.reset_password(work, held, token, password, password)
        except TokenInvalid as refused:
            return refused

    with ThreadPoolExecutor(2) as pool:
        results = [done.result(timeout=30) for done in [pool.submit(attempt, pw) for pw in (NEW, NEW + '-zwei')]]
    assert sorted(type(result).__name__ for result in results) == ['TokenInvalid', 'str']
    chosen = NEW if results[0] == 'erika@example.org' else NEW + '-zwei'
    login(uow, context(), password=chosen)
    with pytest.raises(InvalidCredentials):
        login(uow, context(address='198.51.100.3'), password=NEW + '-zwei' if chosen == NEW else NEW)


def test_wrong_passwords_hashed_at_the_same_moment_are_each_counted(login_user, engine, uow, context):
    meeting = threading.Barrier(3)
    held = replace(context(), hasher=_HeldHasher(meeting))

    def guess():
        with pytest.raises(InvalidCredentials):
            login(uow, held, password='falsch-falsch')

    with ThreadPoolExecutor(3) as pool:
        for done in [pool.submit(guess) for _ in range(3)]:
            done.result(timeout=30)
    with uow() as work:
        assert work.throttles.peek('login:pair:erika@example.org|192.0.2.1').failures == 3
        assert work.throttles.peek('login:account:erika@example.org').failures == 3
    login(uow, context(address='198.51.100.9'))  # the right password, elsewhere: three misses lock nothing
    with uow() as work:  # nor does a success from another address forgive this address's misses
        assert work.throttles.peek('login:pair:erika@example.org|192.0.2.1').failures == 3
    login(uow, context())
    with uow() as work:
        assert work.throttles.peek('login:pair:erika@example.org|192.0.2.1') == ThrottleState()


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


def test_a_hash_with_argon2_cffis_default_parameters_is_upgraded_to_the_owasp_setting(engine, uow, context):
    from argon2 import PasswordHasher

    customer = make_customer(engine)
    old = PasswordHasher().hash(PASSWORD)  # m=65536, t=3, p=4: what the portal stored until December 2026
    assert old.startswith('$argon2id$v=19$m=65536,t=3,p=4$')
    make_login(engine, [customer['id']], email='alt@example.org', password_hash=old)
    ctx = context()
    ctx.hasher = Argon2Hasher()
    assert ctx.hasher.needs_rehash(old) and ctx.hasher.verify(old, PASSWORD)  # the old hash still logs in
    login(uow, ctx, email='alt@example.org', password=PASSWORD)
    upgraded = _stored_hash(engine)
    assert upgraded.startswith('$argon2id$v=19$m=19456,t=2,p=1$') and ctx.hasher.verify(upgraded, PASSWORD)


def _stored_hash(engine) -> str:
    with Session(engine) as session:
        return session.exec(select(PortalUser)).one().password_hash


def test_guessing_the_current_password_in_an_open_session_is_slowed_like_a_login(login_user, uow, context, engine):
    grant = login(uow, context())
    for _ in range(4):
        with uow() as work, pytest.raises(WrongCurrentPassword):
            accounts.change_password(work, context(), grant.user_id, 'geraten-123', NEW, NEW)
    with uow() as work, pytest.raises(TooManyAttempts) as locked:
        accounts.change_password(work, context(), grant.user_id, PASSWORD, NEW, NEW)  # even the right one waits
    assert locked.value.field == 'current_password'
    with pytest.raises(TooManyAttempts):
        login(uow, context())  # one budget for the account and this address
    with Session(engine) as session:
        wrong = session.exec(select(AuditEntry).where(AuditEntry.action == 'current_password_wrong')).all()
    assert len(wrong) == 4


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


def test_a_second_factor_is_set_up_only_with_the_current_password(login_user, uow, context):
    grant = login(uow, context())
    with uow() as work, pytest.raises(WrongCurrentPassword):
        second_factor.begin_second_factor(work, context(), grant.user_id, 'geraten')


def test_counts_nobody_added_to_for_a_day_are_forgotten_hourly(login_user, engine, uow, context):
    with pytest.raises(InvalidCredentials):
        login(uow, context(), password='falsch-falsch')
    with uow() as work:
        assert accounts.forget_old_throttles(work, context(now=after(NOW, timedelta(hours=23)))) == 0
    with uow() as work:
        assert accounts.forget_old_throttles(work, context(now=after(NOW, timedelta(days=1, minutes=1)))) > 0
    with Session(engine) as session:
        assert session.exec(select(Throttle)).all() == []


def test_a_login_with_the_old_password_does_not_undo_a_reset_made_while_it_hashed(login_user, engine, uow, context):
    """The login upgrades an old hash: it must not write the old password back over a new one set meanwhile."""
    token = reset_token(engine, uow, context())
    production = Argon2Hasher()  # the factory's hash has other parameters: the login rehashes

    class ResetWhileVerifying:
        dummy_hash, needs_rehash, hash = production.dummy_hash, production.needs_rehash, production.hash

        def verify(self, stored: str, password: str) -> bool:
            right = production.verify(stored, password)
            if not getattr(self, 'done', False):
                self.done = True
                with uow() as work:  # the owner's reset commits while the old password is checked
                    password_reset.reset_password(work, context(), token, NEW, NEW)
            return right

    ctx = context()
    ctx.hasher = ResetWhileVerifying()
    with pytest.raises(InvalidCredentials):
        login(uow, ctx)
    login(uow, context(), password=NEW)
    with pytest.raises(InvalidCredentials):
        login(uow, context())  # the old password stays dead


def test_an_email_typed_with_a_combining_umlaut_is_the_same_login(engine, uow, context):
    """'ü' as one character (NFC) or as 'u' + U+0308 (NFD, e.g. pasted from a macOS document) is one address."""
    customer = make_customer(engine)
    make_login(engine, [customer['id']], email='j\u00fcrgen@example.org')
    assert login(uow, context(), email='Ju\u0308rgen@example.org').user_id


def test_two_logins_at_once_while_the_hash_is_upgraded_both_get_in(login_user, engine, uow, context):
    """Two tabs / devices log in at once right after a parameter upgrade: both hashed the old hash."""
    production = Argon2Hasher()

    class OtherLoginWhileVerifying:
        dummy_hash, needs_rehash, hash = production.dummy_hash, production.needs_rehash, production.hash
        nested = False

        def verify(self, stored, password):
            right = production.verify(stored, password)
            if not self.nested:
                self.nested = True
                ctx2 = context()
                ctx2.hasher = production
                login(uow, ctx2)  # the other device's login rehashes and commits first
            return right

    ctx = context()
    ctx.hasher = OtherLoginWhileVerifying()
    assert login(uow, ctx).user_id  # the right password: must not be refused
