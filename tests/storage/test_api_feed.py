"""The billing system's change feed (GET /api/v1/changes) below the HTTP layer: cursors and revoked tokens."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from domain import api_tokens, staff
from domain.errors import NotAllowed
from domain.model import AuditEntry
from storage.unit_of_work import SqlUnitOfWork
from tests.storage.conftest import run


@pytest.fixture
def admin_id(uow, context) -> int:
    run(uow, staff.create_staff, context(), 'cli', 'admin@stadtwerke.example', 'Ada Admin', 'admin')
    with uow() as u:
        return u.staff.by_email('admin@stadtwerke.example').id


def _token(uow, ctx, admin_id: int) -> int:
    plain = run(uow, api_tokens.create_token, ctx, admin_id, 'SAP IS-U', 'read')
    with uow() as u:
        token = api_tokens.authenticate(u, ctx, plain)
    assert token is not None and token.id is not None
    return token.id


def _change(uow, ctx, action: str = 'paperless_on') -> None:
    with uow() as u:
        u.audit(AuditEntry(at=ctx.now, actor='user:1', action=action, details=''))
        u.commit()


def test_a_cursor_beyond_the_feed_does_not_swallow_later_changes(uow, context, admin_id):
    """A cursor beyond the newest change was answered back as it was; sent back, it acknowledged every change made
    meanwhile (ids below it) without ever delivering it."""
    ctx = context()
    token_id = _token(uow, ctx, admin_id)
    with uow() as u:
        page = api_tokens.changes(u, token_id, 10**6, 100)
    assert page.items == []
    _change(uow, ctx)  # a customer switches to paperless now
    with uow() as u:
        again = api_tokens.changes(u, token_id, page.cursor, 100)  # the client sends back what it got
    with uow() as u:
        restart = api_tokens.changes(u, token_id, None, 100)  # or goes on without a cursor
    assert [c.kind for c in again.items] == ['paperless_on'] and [c.kind for c in restart.items] == ['paperless_on']


def test_a_token_revoked_after_the_request_was_authenticated_reads_no_changes(uow, context, admin_id):
    ctx = context()
    token_id = _token(uow, ctx, admin_id)  # authenticated ...
    _change(uow, ctx)
    run(uow, api_tokens.revoke_token, ctx, admin_id, token_id)  # ... and revoked before the feed is read
    with uow() as u, pytest.raises(NotAllowed):
        api_tokens.changes(u, token_id, None, 100)


def test_a_token_with_a_long_name_can_answer_a_request(uow, context, engine, admin_id):
    """Token names may have 100 characters, the audit's actor 60: on PostgreSQL the answer failed."""
    from domain import contract_requests
    from domain.cancellation import cancel
    from tests.factories import make_customer
    from tests.storage.test_cancellation import declaration, stored

    customer = make_customer(engine)
    run(uow, cancel, context(), declaration(customer['customer_number']))
    [request] = stored(engine)
    name = 'Abrechnungssystem SAP IS-U Produktion der Stadtwerke Aue GmbH'  # 61 characters
    run(uow, api_tokens.create_token, context(), admin_id, name, 'write')
    with uow() as u:
        [token] = u.api.all()
    run(uow, contract_requests.api_answer, context(), token.id, request.id, True, 'Vertrag endet zum 31.12.')
    assert stored(engine)[0].status == 'accepted' and stored(engine)[0].decided_by == f'api:{name}'[:60]


def test_a_token_name_over_100_characters_is_refused_not_cut(uow, context, admin_id, engine):
    from sqlmodel import Session, select

    from domain.errors import TooLong
    from domain.model import ApiToken

    with pytest.raises(TooLong):
        run(uow, api_tokens.create_token, context(), admin_id, 'A' * 101, 'read')
    run(uow, api_tokens.create_token, context(), admin_id, 'B' * 100, 'read')
    with Session(engine) as session:
        assert [t.name for t in session.exec(select(ApiToken))] == ['B' * 100]
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == 'api_token_created'))
    assert entry.details == f'name={"B" * 100} scope=read'


def test_only_admins_see_the_billing_system_s_tokens(uow, context, admin_id, clerk):
    """Creating and revoking them was for admins only, the list for any staff member (the page was the only guard)."""
    from domain.errors import NotAllowed

    _token(uow, context(), admin_id)
    with uow() as u:
        assert [row.name for row in api_tokens.token_list(u, admin_id)] == ['SAP IS-U']
        with pytest.raises(NotAllowed):
            api_tokens.token_list(u, clerk)


def test_a_change_committed_after_a_later_one_still_reaches_the_feed(uow, context, engine, admin_id):
    """PostgreSQL takes ids before the commit: a change with id N committing after one with N + 1 fell below the
    cursor the feed had answered after N + 1, and never reached the billing system."""
    if engine.dialect.name != 'postgresql':
        pytest.skip('ids taken before the commit: PostgreSQL')  # SQLite writes one transaction at a time
    ctx = context()
    token_id = _token(uow, ctx, admin_id)
    inserted, release = threading.Event(), threading.Event()

    class Slow(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            commit = self.session.commit

            def late():  # its change inserted (its id taken), the commit still to come
                inserted.set()
                release.wait(20)
                commit()

            self.session.commit = late
            return self

    def slow() -> None:
        with Slow(engine) as u:
            u.audit(AuditEntry(at=ctx.now, actor='user:1', action='paperless_on', details='slow'))
            u.commit()

    def feed(cursor: int | None) -> api_tokens.ChangePage:
        with uow() as u:
            return api_tokens.changes(u, token_id, cursor, 100)

    with ThreadPoolExecutor(2) as pool:
        first_change = pool.submit(slow)
        assert inserted.wait(20)
        _change(uow, ctx, 'paperless_off')  # a later id, committed first
        read = pool.submit(feed, None)
        time.sleep(0.5)
        assert not read.done()  # the feed waits for the change still to commit
        release.set()
        first_change.result(timeout=20)
        first = read.result(timeout=20)
    second = feed(first.cursor)
    assert sorted(c.kind for c in first.items + second.items) == ['paperless_off', 'paperless_on']
