"""Staff accounts on SQLite and PostgreSQL: two factors, recovery codes, no replay, throttling, admin rights."""

from datetime import timedelta

import pyotp
import pytest
from sqlmodel import Session, select

from domain import staff
from domain.errors import (
    EmailAlreadyRegistered,
    InvalidCredentials,
    NotAllowed,
    SecondFactorInvalid,
    StartPasswordExpired,
    TooManyAttempts,
)
from domain.model import AuditEntry, RecoveryCode, StaffUser
from tests.clock import after
from tests.storage.conftest import NOW, run


@pytest.fixture
def admin(uow, context):
    """A first admin (as `kundenportal staff create` makes one), enrolled; returns (id, password, TOTP)."""
    ctx = context()
    password = run(uow, staff.create_staff, ctx, 'cli', 'Admin@Stadtwerke.example', 'Ada Admin', 'admin')
    grant = run(uow, staff.password_step, ctx, 'admin@stadtwerke.example', password)
    enrolment = run(uow, staff.begin_enrolment, ctx, grant.staff_id)
    totp = pyotp.TOTP(enrolment.secret)
    _, codes = run(uow, staff.confirm_enrolment, ctx, grant.staff_id, totp.at(NOW))
    return grant.staff_id, password, totp, codes


def test_the_password_alone_gives_only_a_half_session(uow, context):
    ctx = context()
    password = run(uow, staff.create_staff, ctx, 'cli', 'neu@stadtwerke.example', 'Nina Neu', 'service')
    grant = run(uow, staff.password_step, ctx, 'neu@stadtwerke.example', password)
    assert (grant.verified, grant.enrolled, grant.must_change_password) == (False, False, True)
    with pytest.raises(NotAllowed):  # no code step before an authenticator is enrolled
        run(uow, staff.code_step, ctx, grant.staff_id, '123456')


def test_enrolment_needs_a_valid_code_and_gives_ten_recovery_codes_stored_hashed(uow, context, engine, admin):
    staff_id, _, _, codes = admin
    assert len(codes) == 10 and all(len(c) == 11 and c[5] == '-' for c in codes)
    with Session(engine) as session:
        stored = session.exec(select(RecoveryCode.digest)).all()
        secret = session.get(StaffUser, staff_id).totp_secret
    assert len(stored) == 10 and not any(c.replace('-', '') in stored for c in codes)
    assert len(secret) > 32 and not secret.isupper()  # sealed, not the base32 secret itself


def test_a_totp_code_is_accepted_once_and_a_wrong_one_never(uow, context, admin):
    staff_id, _, totp, _ = admin
    later = context(now=after(NOW, timedelta(minutes=2)))
    assert run(uow, staff.code_step, later, staff_id, totp.at(later.now)).verified
    with pytest.raises(SecondFactorInvalid):  # the same code again (replay)
        run(uow, staff.code_step, later, staff_id, totp.at(later.now))
    with pytest.raises(SecondFactorInvalid):
        run(uow, staff.code_step, context(now=after(NOW, timedelta(minutes=5))), staff_id, '000000')


def test_a_recovery_code_works_once(uow, context, admin):
    staff_id, _, _, codes = admin
    assert run(uow, staff.code_step, context(), staff_id, codes[3]).verified
    with pytest.raises(SecondFactorInvalid):
        run(uow, staff.code_step, context(), staff_id, codes[3])


def test_code_guessing_is_throttled(uow, context, admin):
    staff_id, _, totp, _ = admin
    ctx = context(now=after(NOW, timedelta(minutes=3)))
    for _ in range(5):
        with pytest.raises(SecondFactorInvalid):
            run(uow, staff.code_step, ctx, staff_id, '999999')
    with pytest.raises(TooManyAttempts):  # even the right code waits now
        run(uow, staff.code_step, ctx, staff_id, totp.at(ctx.now))


def test_wrong_passwords_and_unknown_emails_answer_alike(uow, context, admin):
    for email in ('admin@stadtwerke.example', 'niemand@stadtwerke.example'):
        with pytest.raises(InvalidCredentials):
            run(uow, staff.password_step, context(), email, 'Falsch-Passwort-1')


def test_strangers_guessing_at_a_staff_address_do_not_lock_its_owner_out_of_a_known_browser(uow, context, admin):
    """Twenty wrong passwords from twenty addresses held the account back for everyone, its owner in the office too,
    and nothing lifted it: anyone who knew a staff address could lock the back office. A browser the owner logged in
    from before passes with the right password (as a customer's does); any other still waits."""
    _, password, _, _ = admin
    office = context(address='198.51.100.7')
    device = run(uow, staff.password_step, office, 'admin@stadtwerke.example', password).device
    assert device
    for n in range(20):
        with pytest.raises(InvalidCredentials):
            run(uow, staff.password_step, context(address=f'203.0.113.{n}'), 'admin@stadtwerke.example', 'Falsch-1')
    with pytest.raises(TooManyAttempts):  # a browser never seen, even with the right password
        run(uow, staff.password_step, office, 'admin@stadtwerke.example', password)
    again = run(uow, staff.password_step, office, 'admin@stadtwerke.example', password, device)
    assert (again.verified, again.device) == (False, device)  # still the code to come
    with pytest.raises(TooManyAttempts):  # the hold stays for everyone else
        run(uow, staff.password_step, context(address='203.0.113.99'), 'admin@stadtwerke.example', password)
    with pytest.raises(InvalidCredentials):  # a known browser with a wrong password is counted as any other
        run(uow, staff.password_step, office, 'admin@stadtwerke.example', 'Falsch-1', device)


def test_only_admins_create_staff_and_an_email_is_used_once(uow, context, admin):
    admin_id = admin[0]
    run(uow, staff.create_staff, context(), admin_id, 'service@stadtwerke.example', 'Sven Service', 'service')
    with pytest.raises(EmailAlreadyRegistered):
        run(uow, staff.create_staff, context(), admin_id, 'SERVICE@stadtwerke.example', 'Doppelt', 'service')
    with uow() as u:
        service_id = u.staff.by_email('service@stadtwerke.example').id
    with pytest.raises(NotAllowed):
        run(uow, staff.create_staff, context(), service_id, 'x@stadtwerke.example', 'X', 'admin')
    with uow() as u, pytest.raises(NotAllowed):
        staff.staff_list(u, service_id)


def test_locking_a_colleague_ends_their_sessions_and_is_audited(uow, context, engine, admin):
    admin_id = admin[0]
    password = run(uow, staff.create_staff, context(), admin_id, 'sven@stadtwerke.example', 'Sven', 'service')
    grant = run(uow, staff.password_step, context(), 'sven@stadtwerke.example', password)
    run(uow, staff.set_active, context(), admin_id, grant.staff_id, False)
    with uow() as u:
        assert staff.staff_session(u, grant.staff_id, grant.epoch) is None
    with pytest.raises(InvalidCredentials):
        run(uow, staff.password_step, context(), 'sven@stadtwerke.example', password)
    with pytest.raises(NotAllowed):  # nobody locks themselves out
        run(uow, staff.set_active, context(), admin_id, admin_id, False)
    with Session(engine) as session:
        actions = [(e.actor, e.action) for e in session.exec(select(AuditEntry))]
    assert ('cli', 'staff_created') in actions and (f'staff:{admin_id}', 'staff_locked') in actions


def test_unlocking_a_colleague_who_is_not_locked_leaves_their_session(uow, context, engine, admin):
    """A page shown before another admin's click: "Entsperren" on an active account raised its session epoch and
    logged the colleague out, and was audited as an unlock."""
    admin_id = admin[0]
    password = run(uow, staff.create_staff, context(), admin_id, 'sven@stadtwerke.example', 'Sven', 'service')
    grant = run(uow, staff.password_step, context(), 'sven@stadtwerke.example', password)
    run(uow, staff.set_active, context(), admin_id, grant.staff_id, True)
    with uow() as u:
        assert staff.staff_session(u, grant.staff_id, grant.epoch) is not None
    with Session(engine) as session:
        assert 'staff_unlocked' not in [e.action for e in session.exec(select(AuditEntry))]


def test_a_new_password_follows_the_staff_rule_and_ends_other_sessions(uow, context, admin):
    staff_id, _, _, _ = admin
    with uow() as u:
        epoch = u.staff.get(staff_id).session_epoch
    with pytest.raises(Exception, match='password_weak'):
        run(uow, staff.change_staff_password, context(), staff_id, 'kurz', 'kurz')
    grant = run(uow, staff.change_staff_password, context(), staff_id, 'Neues-Passwort-2026', 'Neues-Passwort-2026')
    assert grant.epoch == epoch + 1 and not grant.must_change_password


def test_without_a_temporary_password_the_password_is_not_changed_without_the_current_one(uow, context, admin):
    """A session left open must not be enough to take the login over (the page is for the temporary password)."""
    staff_id, _, _, _ = admin
    run(uow, staff.change_staff_password, context(), staff_id, 'Neues-Passwort-2026', 'Neues-Passwort-2026')
    with uow() as u:
        before = u.staff.get(staff_id).password_hash
    with pytest.raises(NotAllowed):
        run(uow, staff.change_staff_password, context(), staff_id, 'Fremdes-Passwort-2026', 'Fremdes-Passwort-2026')
    with uow() as u:
        assert u.staff.get(staff_id).password_hash == before


def test_two_admins_locking_each_other_at_the_same_moment_leave_one_admin(uow, context, engine):
    """Each checked its own account before the other's lock was committed, and both succeeded: no admin was left,
    and only `kundenportal staff create` on the server could help."""
    import threading
    import time

    from storage.unit_of_work import SqlUnitOfWork

    for email in ('ada@stadtwerke.example', 'bert@stadtwerke.example'):
        run(uow, staff.create_staff, context(), 'cli', email, email.split('@')[0].title(), 'admin')
    with uow() as u:
        ada, bert = (u.staff.by_email(f'{name}@stadtwerke.example') for name in ('ada', 'bert'))
        epochs = {ada.id: ada.session_epoch, bert.id: bert.session_epoch}
        ada, bert = ada.id, bert.id
    answers: dict[str, object] = {}

    def lock(actor: int, other: int, name: str) -> None:
        try:
            with SqlUnitOfWork(engine) as work:
                me = staff.staff_session(work, actor, epochs[actor])  # as the runner checks it, its row kept
                assert me is not None
                staff.set_active(work, context(), actor, other, False)
                answers[name] = 'locked'
        except NotAllowed as refused:
            answers[name] = refused

    class BertMeanwhile(SqlUnitOfWork):
        """Ada's request, with Bert's starting while Ada's has checked her account and not yet committed."""

        def __enter__(self):
            super().__enter__()
            get = self.staff.get

            def meanwhile(staff_id):
                found = get(staff_id)
                if 'bert' not in answers and staff_id == bert:  # Ada's request, after its check of Ada
                    answers['bert'] = 'running'
                    threading.Thread(target=lock, args=(bert, ada, 'bert')).start()
                    time.sleep(0.5)  # Bert's request has read what it could by now
                return found

            self.staff.get = meanwhile
            return self

    with BertMeanwhile(engine) as work:
        me = staff.staff_session(work, ada, epochs[ada])
        assert me is not None
        staff.set_active(work, context(), ada, bert, False)
    deadline = time.monotonic() + 30
    while answers['bert'] == 'running' and time.monotonic() < deadline:
        time.sleep(0.05)
    assert isinstance(answers['bert'], NotAllowed)  # Bert was locked before his request could check him
    with uow() as u:
        assert [s.email for s in u.staff.all() if s.role == 'admin' and s.active] == ['ada@stadtwerke.example']


def test_a_start_password_not_used_within_seven_days_is_void(uow, context, engine):
    """ASVS 2.3.1: a start password handed over and forgotten (or on a note) did not expire."""
    password = run(uow, staff.create_staff, context(), 'cli', 'spaet@stadtwerke.example', 'Sam Spät', 'service')
    almost = context(now=after(NOW, timedelta(days=staff.START_PASSWORD_DAYS, minutes=-1)))
    assert run(uow, staff.password_step, almost, 'spaet@stadtwerke.example', password).must_change_password
    too_late = context(now=after(NOW, timedelta(days=staff.START_PASSWORD_DAYS)))
    with pytest.raises(StartPasswordExpired) as error:
        run(uow, staff.password_step, too_late, 'spaet@stadtwerke.example', password)
    assert error.value.params == {'days': 7}
    with pytest.raises(InvalidCredentials):  # a wrong one still says only that
        run(uow, staff.password_step, too_late, 'spaet@stadtwerke.example', 'Falsch-Passwort-1')
    with Session(engine) as session:
        actions = session.exec(select(AuditEntry.action).where(AuditEntry.actor.startswith('staff:'))).all()
    assert 'staff_start_password_expired' in actions


def test_an_admin_gives_a_colleague_a_new_start_password_which_ends_the_colleagues_sessions(
    uow, context, engine, admin
):
    admin_id = admin[0]
    old = run(uow, staff.create_staff, context(), admin_id, 'vergesslich@stadtwerke.example', 'Vera Vergess', 'service')
    colleague = run(uow, staff.password_step, context(), 'vergesslich@stadtwerke.example', old)
    weeks_later = context(now=after(NOW, timedelta(days=30)))  # the first start password has long expired
    new = run(uow, staff.new_start_password, weeks_later, admin_id, colleague.staff_id)
    assert new != old
    with uow() as u:
        assert staff.staff_session(u, colleague.staff_id, colleague.epoch) is None  # its sessions have ended
    with pytest.raises(InvalidCredentials):
        run(uow, staff.password_step, weeks_later, 'vergesslich@stadtwerke.example', old)
    grant = run(uow, staff.password_step, weeks_later, 'vergesslich@stadtwerke.example', new)
    assert grant.must_change_password  # to be replaced at this login
    with Session(engine) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == 'staff_start_password')).one()
    assert (audit.actor, audit.details) == (f'staff:{admin_id}', 'staff=vergesslich@stadtwerke.example')
    with pytest.raises(NotAllowed):  # a service member may not, nor an admin for themselves
        run(uow, staff.new_start_password, weeks_later, colleague.staff_id, admin_id)
    with pytest.raises(NotAllowed):
        run(uow, staff.new_start_password, weeks_later, admin_id, admin_id)


def test_the_command_line_gives_the_first_admin_a_new_start_password(capsys, monkeypatch, database_url, admin):
    """No other admin can help the first one whose password is forgotten: `kundenportal staff password`."""
    from service.cli import main
    from tests import clock

    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    assert main(['staff', 'password', '--email', 'ADMIN@stadtwerke.example'], clock) == 0
    printed = capsys.readouterr().out
    assert 'New start password for ADMIN@stadtwerke.example, shown only now: ' in printed and 'within 7 days' in printed
    assert main(['staff', 'password', '--email', 'niemand@stadtwerke.example'], clock) == 1
    assert 'no staff account' in capsys.readouterr().err
