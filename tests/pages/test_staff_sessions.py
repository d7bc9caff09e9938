"""The staff session in the back office's handlers: an ended session (locked, its second factor reset by an admin,
idle) changes nothing and reads nothing, checked in the handler's own transaction."""

import pytest
from nicegui import app
from sqlmodel import Session, select

from domain import service_desk as desk
from domain.model import AuditEntry, StaffUser
from service.runner import Portal
from tests.factories import make_customer, make_staff
from tests.pages.conftest import button, field, follow_session, see
from tests.pages.test_backoffice import NEW_PASSWORD, staff_login, to_the_start_password


def stored(db, email: str) -> StaffUser:
    with Session(db) as session:
        return session.exec(select(StaffUser).where(StaffUser.email == email)).one()


def reset_second_factor(db, email: str) -> None:
    """What an admin's "Zweiten Faktor zurücksetzen" does to a staff member: no authenticator, every session ends."""
    with Session(db) as session:
        staff = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        staff.totp_enabled, staff.totp_secret, staff.totp_last_step = False, '', 0
        staff.session_epoch += 1
        session.add(staff)
        session.commit()


async def at_the_first_password(user, db, capsys) -> None:
    """The first admin's first login up to the page that replaces the start password."""
    await to_the_start_password(user, db, capsys)
    follow_session(user)


@pytest.mark.parametrize('ended', ['second factor reset', 'idle'])
async def test_the_start_password_page_sets_nothing_once_the_session_has_ended(user, db, capsys, ended):
    """A page left open: it gives neither a new password nor a session without the second factor."""
    await at_the_first_password(user, db, capsys)
    before = stored(db, 'admin@stadtwerke.example').password_hash
    if ended == 'idle':
        with user:
            app.storage.user['staff_active'] -= 16 * 60
    else:
        reset_second_factor(db, 'admin@stadtwerke.example')
    field(user, 'Neues Passwort').type(NEW_PASSWORD)
    field(user, 'Neues Passwort wiederholen').type(NEW_PASSWORD)
    button(user, 'Passwort speichern').click()
    await see(user, 'Anmeldung für Mitarbeitende')
    assert stored(db, 'admin@stadtwerke.example').password_hash == before
    await user.open('/verwaltung/kunden')
    await see(user, 'Anmeldung für Mitarbeitende')


async def test_the_start_password_page_is_only_for_a_start_password(user, db):
    await staff_login(user, make_staff(db))
    await user.open('/verwaltung/passwort')
    await see(user, 'Suchen')  # the customer search instead


def end_just_before(monkeypatch, db, method: str, target) -> None:
    """The staff login ends (its second factor reset: every session ends) right before `Portal.<method>` runs
    `target`, after every earlier look at the session."""
    original = getattr(Portal, method)

    async def ending(portal, use_case, *args, **kwargs):
        if use_case is target:
            reset_second_factor(db, 'service@stadtwerke.example')
        return await original(portal, use_case, *args, **kwargs)

    monkeypatch.setattr(Portal, method, ending)


async def test_a_search_checks_the_session_in_its_own_transaction(user, db, monkeypatch):
    """The session ends after every earlier look at it and just before the search's transaction begins: the search
    still finds nobody, since the login is checked in the transaction that searches."""
    make_customer(db, last_name='Gesucht')
    await staff_login(user, make_staff(db))
    end_just_before(monkeypatch, db, 'read', desk.find_customers)
    field(user, 'Suche').type('Gesucht')
    button(user, 'Suchen').click()
    await see(user, 'Anmeldung für Mitarbeitende')
    await user.should_not_see('Gesucht')


async def test_a_customer_card_checks_the_session_in_its_own_transaction(user, db, monkeypatch):
    """The same for the customer card, which also notes in the audit that staff looked at it: after the login
    ended, no card is shown and nobody is noted as having looked."""
    customer = make_customer(db, last_name='Angesehen')
    await staff_login(user, make_staff(db))
    end_just_before(monkeypatch, db, 'act', desk.customer_card)
    await user.open(f'/verwaltung/kunden/{customer["id"]}')
    await see(user, 'Anmeldung für Mitarbeitende')
    await user.should_not_see('Angesehen')
    with Session(db) as session:
        assert not session.exec(select(AuditEntry).where(AuditEntry.customer_id == customer['id'])).all()
