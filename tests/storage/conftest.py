import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from domain import accounts, password_reset
from domain.clock import BERLIN
from domain.ports import Context
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork
from tests import clock
from tests.clock import SUITE_NOW, travel
from tests.factories import CHEAP_HASHER, PASSWORD, last_mail, link_in, make_customer, make_login

FAST_HASHER = CHEAP_HASHER
NOW = SUITE_NOW  # the storage tests' clock stands still at the suite's instant: times can be compared exactly
NEW = 'Neues-Passwort-42'  # a password the login changes to


@pytest.fixture(autouse=True)
def pinned_clock():
    with travel(SUITE_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def uow(engine):
    return lambda: SqlUnitOfWork(engine)


@pytest.fixture
def context():
    """A use case's context; `now` as the portal's clock would give it. A test's `NOW + timedelta(…)` adds to the
    wall clock: in the night the clocks go forward it can name 02:30, which no clock shows; it is read as the instant
    it means (03:30 CEST), so that the use case's own arithmetic sees what it would in production."""

    def make(profile: str = 'stadtwerke-a', now: datetime | None = None, address: str = '192.0.2.1') -> Context:
        return Context(
            Settings(profile=profile).load_profile(),
            'test-secret',
            'http://portal.test',
            FAST_HASHER,
            (now or clock.now()).astimezone(UTC).astimezone(BERLIN),
            address=address,
        )

    return make


def run(uow, use_case, ctx, *args):
    """A use case in its own unit of work, as a page would run it."""
    with uow() as u:
        return use_case(u, ctx, *args)


@pytest.fixture
def clerk(uow, context) -> int:
    """A customer-service staff member (role `service`); returns the id."""
    from domain import staff

    run(uow, staff.create_staff, context(), 'cli', 'service@stadtwerke.example', 'Sven Service', 'service')
    with uow() as u:
        return u.staff.by_email('service@stadtwerke.example').id


def both_here(looked: list[bool], n: int = 2) -> None:
    """Where simulated instances meet: each waits here until all `n` have come (polled, not a timed wait: those never
    return under faketime, README; gives up after two seconds)."""
    looked.append(True)
    for _ in range(100):
        if len(looked) >= n:
            return
        time.sleep(0.02)


def meeting_after(read: str, looked: list[bool], n: int = 2) -> type[SqlUnitOfWork]:
    """A unit of work whose repository method `read` ('data.bank_account') waits in `both_here` once it has read:
    `n` simulated requests that all read before any of them writes."""
    repository, method = read.split('.')

    class Meeting(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            target = getattr(self, repository)
            original = getattr(target, method)

            def met(*args, **kwargs):
                found = original(*args, **kwargs)
                both_here(looked, n)
                return found

            setattr(target, method, met)
            return self

    return Meeting


def at_the_same_moment(engine, use_case, n: int = 2) -> list:
    """`use_case(work)` run by `n` requests at once, each in its own unit of work, all of them held right after
    they have looked their one-time token up (so each found it unused) until all have: what each returned or
    raised, in order."""
    meeting = threading.Barrier(n)

    class Meeting(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            find, latest = self.tokens.find, self.tokens.latest

            def met(looked_up):
                meeting.wait(timeout=20)
                return looked_up

            self.tokens.find = lambda *args: met(find(*args))
            self.tokens.latest = lambda *args: met(latest(*args))
            return self

    def one():
        try:
            with Meeting(engine) as work:
                return use_case(work)
        except Exception as answer:
            return answer

    with ThreadPoolExecutor(n) as pool:
        return [done.result(timeout=40) for done in [pool.submit(one) for _ in range(n)]]


@pytest.fixture
def login_user(engine):
    customer = make_customer(engine)
    return customer, make_login(engine, [customer['id']], email='erika@example.org')


def login(uow, ctx, email='erika@example.org', password=PASSWORD, device=''):
    with uow() as work:
        return accounts.login(work, ctx, email, password, device)


def request_reset(uow, ctx, email='erika@example.org') -> None:
    """The request as the page makes it, and the background's turn that works it off."""
    with uow() as work:
        password_reset.request_password_reset(work, ctx, email)
    with uow() as work:
        password_reset.send_requested_resets(work, ctx)


def reset_token(engine, uow, ctx, email='erika@example.org'):
    request_reset(uow, ctx, email)
    return link_in(last_mail(engine, email).text, '/passwort-neu/').rsplit('/', 1)[1]
