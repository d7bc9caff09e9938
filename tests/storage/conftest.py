from datetime import UTC, datetime

import pytest

from domain.ports import Context
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork
from tests.factories import CHEAP_HASHER

FAST_HASHER = CHEAP_HASHER
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def uow(engine):
    return lambda: SqlUnitOfWork(engine)


@pytest.fixture
def context():
    def make(profile: str = 'stadtwerke-a', now: datetime = NOW, address: str = '192.0.2.1') -> Context:
        return Context(
            Settings(profile=profile).load_profile(),
            'test-secret',
            'http://portal.test',
            FAST_HASHER,
            address=address,
            now=now,
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
