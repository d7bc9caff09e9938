"""The back office's own accounts and powers: an admin's change at the moment a colleague locks the admin, the main
colour's contrast, the enrolment's audit entry."""

import threading
import time

import pytest

from domain import api_tokens, profile_admin, staff
from domain.errors import InvalidSetting, NotAllowed
from storage.unit_of_work import SqlUnitOfWork
from tests.storage.conftest import run


@pytest.fixture
def admins(uow, context):
    for email in ('ada@stadtwerke.example', 'bert@stadtwerke.example'):
        run(uow, staff.create_staff, context(), 'cli', email, email.split('@')[0].title(), 'admin')
    with uow() as u:
        ada, bert = (u.staff.by_email(f'{name}@stadtwerke.example') for name in ('ada', 'bert'))
        return (ada.id, ada.session_epoch), (bert.id, bert.session_epoch)


def _create_token(work, ctx, ada):
    api_tokens.create_token(work, ctx, ada, 'Abrechnung', 'write')


def _create_admin(work, ctx, ada):
    staff.create_staff(work, ctx, ada, 'ada-zwei@stadtwerke.example', 'Ada Zwei', 'admin')


def _save_settings(work, ctx, ada):
    base = ctx.profile
    profile_admin.save_profile(work, ctx, ada, base, {**profile_admin.current_values(base), 'short_name': 'SW Ada'})


@pytest.mark.parametrize('use_case', [_create_token, _create_admin, _save_settings])
def test_an_admin_locked_at_the_same_moment_grants_herself_nothing_that_outlives_the_lock(
    uow, context, engine, admins, use_case
):
    """Bert locks Ada (she is leaving) at the moment Ada creates a write token for /api/v1 (or a second admin account,
    or saves the settings). Ada's request checked her account before Bert's lock was committed and wrote after it:
    a write token (an admin account) made by a locked admin outlives the lock. `set_active` takes the admins' rows
    before it checks its actor for exactly this; the other admin use cases checked first and held nothing."""
    (ada, ada_epoch), (bert, bert_epoch) = admins
    order: list[str] = []

    def lock() -> None:
        try:
            with SqlUnitOfWork(engine) as work:
                assert staff.staff_session(work, bert, bert_epoch) is not None
                staff.set_active(work, context(), bert, ada, False)
                order.append('bert locked ada')
        except NotAllowed:
            order.append('bert refused')

    class BertMeanwhile(SqlUnitOfWork):
        """Ada's request; Bert's starts once Ada's has checked her account, and has a moment to finish."""

        def __enter__(self):
            super().__enter__()
            get, checked = self.staff.get, []

            def meanwhile(staff_id):
                found = get(staff_id)
                if staff_id == ada and len(checked) == 1:  # the use case's own check, after the runner's
                    thread = threading.Thread(target=lock)
                    thread.start()
                    thread.join(timeout=1.0)  # done now, unless it waits for Ada's request
                checked.append(staff_id)
                return found

            self.staff.get = meanwhile
            real_commit = self.commit

            def commit():
                real_commit()
                order.append('ada committed')

            self.commit = commit
            return self

    try:
        with BertMeanwhile(engine) as work:
            assert staff.staff_session(work, ada, ada_epoch) is not None  # as the runner checks it
            use_case(work, context(), ada)
    except NotAllowed:
        order.append('ada refused')
    deadline = time.monotonic() + 30
    while len(order) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert order in (['ada committed', 'bert locked ada'], ['bert locked ada', 'ada refused']), order


@pytest.mark.parametrize('colour', ['#ffdd00', '#ffffff', '#8bb42d'])
def test_a_main_colour_white_text_cannot_be_read_on_is_refused(uow, context, admins, colour):
    """The main colour is the background of the header and the current menu entry (white text) and the colour of
    the other menu entries on the light page: a light one ('Stadtwerke-Gelb' #ffdd00: 1.35:1) makes the menu of every
    customer page unreadable, while the accessibility statement says WCAG 2.1 AA (1.4.3: 4.5:1) is met but for the
    PDFs and charts."""
    base = context().profile
    with pytest.raises(InvalidSetting) as error:
        run(
            uow,
            profile_admin.save_profile,
            context(),
            admins[0][0],
            base,
            {**profile_admin.current_values(base), 'primary_color': colour},
        )
    assert error.value.field == 'primary_color' and '4,5' in error.value.params['reason']
    with uow() as u:
        assert profile_admin.stored(u) == (0, {})


def test_beginning_a_staff_enrolment_is_audited(uow, context, engine):
    """It stores a new TOTP secret for the staff account (each time the enrolment page is opened, also after an
    admin reset the second factor): a change of the account, noted for customers since (`second_factor_begun`) but
    not for staff, whose accounts see every customer."""
    from sqlmodel import Session, select

    from domain.model import AuditEntry

    password = run(uow, staff.create_staff, context(), 'cli', 'neu@stadtwerke.example', 'Nora Neu', 'service')
    grant = run(uow, staff.password_step, context(), 'neu@stadtwerke.example', password)
    run(uow, staff.begin_enrolment, context(), grant.staff_id)
    with Session(engine) as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == 'staff_totp_begun'))
    assert entry.actor == f'staff:{grant.staff_id}'
