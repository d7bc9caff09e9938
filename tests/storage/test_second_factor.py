"""The customers' optional second factor on SQLite and PostgreSQL, and its reset by staff."""

from datetime import timedelta

import pyotp
import pytest

from domain import service_desk, staff
from domain.accounts import login
from domain.errors import SecondFactorInvalid, TooManyAttempts, WrongCurrentPassword
from domain.i18n import t
from domain.second_factor import (
    begin_second_factor,
    confirm_second_factor,
    disable_second_factor,
    login_code,
)
from tests.clock import after
from tests.factories import PASSWORD, mails_to, make_customer, make_login
from tests.storage.conftest import NOW, run


@pytest.fixture
def enrolled(uow, context, engine):
    customer = make_customer(engine)
    user = make_login(engine, [customer['id']], email='vorsichtig@example.org')
    enrolment = run(uow, begin_second_factor, context(), user['id'], PASSWORD)
    authenticator = pyotp.TOTP(enrolment.secret)
    with pytest.raises(SecondFactorInvalid):
        run(uow, confirm_second_factor, context(), user['id'], '000000')
    run(uow, confirm_second_factor, context(), user['id'], authenticator.at(NOW))
    return customer, user, authenticator


def test_with_a_second_factor_the_password_alone_gives_no_session(uow, context, enrolled, engine):
    _, user, authenticator = enrolled
    later = context(now=after(NOW, timedelta(minutes=1)))
    grant = run(uow, login, later, 'vorsichtig@example.org', PASSWORD)
    assert grant.needs_code
    full = run(uow, login_code, later, user['id'], authenticator.at(later.now))
    assert not full.needs_code and full.user_id == user['id']
    with pytest.raises(SecondFactorInvalid):  # the same code is not taken twice
        run(uow, login_code, later, user['id'], authenticator.at(later.now))
    assert any('zweitem Faktor eingeschaltet' in m.subject for m in mails_to(engine, 'vorsichtig@example.org'))


def test_code_guessing_is_throttled(uow, context, enrolled):
    _, user, authenticator = enrolled
    ctx = context(now=after(NOW, timedelta(minutes=2)))
    for _ in range(5):
        with pytest.raises(SecondFactorInvalid) as wrong:
            run(uow, login_code, ctx, user['id'], '123456')
        said = t(wrong.value.key, 'de')  # customers have no recovery codes: staff reset a lost phone
        assert 'Wiederherstellungscode' not in said and 'rufen Sie uns bitte an' in said
    with pytest.raises(TooManyAttempts):
        run(uow, login_code, ctx, user['id'], authenticator.at(ctx.now))


def test_switching_it_off_needs_the_password(uow, context, enrolled):
    _, user, _ = enrolled
    with pytest.raises(WrongCurrentPassword):
        run(uow, disable_second_factor, context(), user['id'], 'falsch')
    run(uow, disable_second_factor, context(), user['id'], PASSWORD)
    assert not run(uow, login, context(), 'vorsichtig@example.org', PASSWORD).needs_code


def test_staff_reset_it_when_the_phone_is_lost(uow, context, enrolled, engine):
    customer, _, _ = enrolled
    run(uow, staff.create_staff, context(), 'cli', 'service@stadtwerke.example', 'Sven', 'service')
    with uow() as u:
        clerk = u.staff.by_email('service@stadtwerke.example').id
        assert service_desk.customer_card(u, context(), clerk, customer['id']).login.second_factor
    run(uow, service_desk.reset_second_factor, context(), clerk, customer['id'])
    assert not run(uow, login, context(), 'vorsichtig@example.org', PASSWORD).needs_code
    assert any('ausgeschaltet' in m.subject for m in mails_to(engine, 'vorsichtig@example.org'))


def test_one_code_sent_twice_at_the_same_moment_gives_one_session(uow, context, engine):
    """Each 30-second code is accepted once; two logins with the same code at once (a phishing proxy replaying what
    it relays) both read the last used step before either wrote it, and both got the full session."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from domain.staff import StaffGrant
    from storage.unit_of_work import SqlUnitOfWork

    ctx = context()
    password = run(uow, staff.create_staff, ctx, 'cli', 'zwei@stadtwerke.example', 'Zoe Zwei', 'admin')
    grant = run(uow, staff.password_step, ctx, 'zwei@stadtwerke.example', password)
    totp = pyotp.TOTP(run(uow, staff.begin_enrolment, ctx, grant.staff_id).secret)
    run(uow, staff.confirm_enrolment, ctx, grant.staff_id, totp.at(NOW))
    later = context(now=after(NOW, timedelta(minutes=2)))
    code = totp.at(later.now)
    meeting = threading.Barrier(2)

    class Meeting(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            get = self.staff.get

            def met(staff_id):
                found = get(staff_id)
                meeting.wait(timeout=20)
                return found

            self.staff.get = met
            return self

    def step():
        try:
            with Meeting(engine) as work:
                return staff.code_step(work, later, grant.staff_id, code)
        except Exception as answer:
            return answer

    with ThreadPoolExecutor(2) as pool:
        results = [done.result(timeout=40) for done in [pool.submit(step), pool.submit(step)]]
    assert sum(isinstance(result, StaffGrant) for result in results) == 1, results


def test_a_customers_code_sent_twice_at_the_same_moment_gives_one_session(uow, context, enrolled, engine):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from storage.unit_of_work import SqlUnitOfWork

    _, user, authenticator = enrolled
    later = context(now=after(NOW, timedelta(minutes=1)))
    run(uow, login, later, 'vorsichtig@example.org', PASSWORD)
    code = authenticator.at(later.now)
    meeting = threading.Barrier(2)

    class Meeting(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            get = self.users.get

            def met(user_id):
                found = get(user_id)
                meeting.wait(timeout=20)
                return found

            self.users.get = met
            return self

    def step():
        try:
            with Meeting(engine) as work:
                return login_code(work, later, user['id'], code)
        except Exception as answer:
            return answer

    with ThreadPoolExecutor(2) as pool:
        results = [done.result(timeout=40) for done in [pool.submit(step), pool.submit(step)]]
    assert sum(isinstance(result, SecondFactorInvalid) for result in results) == 1, results


def test_beginning_the_enrolment_is_audited(uow, context, engine):
    """It stores a new secret (not in force until confirmed): a change of the login, so it is noted."""
    from sqlmodel import Session, select

    from domain.model import AuditEntry

    customer = make_customer(engine)
    user = make_login(engine, [customer['id']], email='beginnt@example.org')
    run(uow, begin_second_factor, context(), user['id'], PASSWORD)
    with Session(engine) as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == 'second_factor_begun'))
    assert entry.actor == f'user:{user["id"]}'
