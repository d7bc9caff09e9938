"""Shared fixtures: a fresh database per test on every backend (SQLite always, PostgreSQL when CI gives one).

`KUNDENPORTAL_TEST_POSTGRES_URL` names a PostgreSQL server (set by .ci/run); each test gets its own
database cloned from a migrated template. Without it the PostgreSQL half is skipped, except under CI,
where a missing PostgreSQL is an error and never a silent skip.
"""

import gc
import os
import shutil
import threading
import typing
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

os.environ.update(
    {  # before the app's modules read settings
        'KUNDENPORTAL_STORAGE_SECRET': 'test-secret-0123456789abcdef',
        'KUNDENPORTAL_DEMO': '0',
        'KUNDENPORTAL_BASE_URL': 'http://portal.test',
        'KUNDENPORTAL_MAIL_POLL_SECONDS': '0.2',
        # The collector patch unfreezes everything at each shutdown of the portal, which the tests start and stop
        # hundreds of times; tests/tuning checks it, and the browser tests run the portal with it (see below).
        'KUNDENPORTAL_TUNING_SKIP': 'collector',
    }
)

from sqlalchemy import create_engine, text

from storage.database import make_engine, migrate
from tests.clock import SUITE_NOW, faketime_misuse, travel

PG_URL = os.environ.get('KUNDENPORTAL_TEST_POSTGRES_URL', '')
BACKENDS = ['sqlite', 'postgresql']


def pytest_configure(config):
    misuse = faketime_misuse(os.environ)
    if misuse:
        raise pytest.UsageError(misuse)


def pytest_sessionstart(session):
    """NiceGUI's `user` fixture collects garbage twice per test, walking every object the imports made: a tenth of
    a second each, a fifth of a page test. Those objects live as long as the run: set aside once, not walked again."""
    import app  # noqa: F401 - everything the portal imports

    gc.collect()
    gc.freeze()


def pytest_collection_finish(session):
    """The test modules and their items, imported and built by the collection, live as long as the run too."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def each_tests_app_is_let_go(request):
    """Page tests run app.py on NiceGUI's one `app` each time, and FastAPI kept two references to every run: the
    lifespan of the API's router, merged into the app's at each include_router, and a bounded cache (4,096) of the
    endpoints it classified (~200 a test), as typing keeps the API's Annotated[…, Depends(…)]. So each earlier
    test's portal (pages, engine, profile) stayed alive, and NiceGUI's two collections per test walked them all:
    a worker's page tests took three times the CPU (473 against 147 s for tests/pages). Test-only: a portal runs
    app.py once.

    What a test leaves alive on purpose or by a library's bounded cache (SQLAlchemy keeps each mapper's compiled
    statements keyed by the test's own dialect, up to 150 a mapper) is set aside after it (`gc.freeze`), as
    `pytest_sessionstart` does with the imports: a worker's collections no longer walk the earlier tests' objects
    (tests/pages on one worker: 365 → 128 s of CPU, setup and teardown having grown from 0.3 to 1.4 s a test over
    the run). So a test must end what it started (threads, pools) itself instead of leaving it to the collector."""
    from fastapi.dependencies import models
    from nicegui import Client, app

    lifespan = app.router.lifespan_context
    yield
    app.router.lifespan_context = lifespan
    if 'user' in request.fixturenames:
        # NiceGUI's reset forgets the test's clients without deleting them; a portal deletes each once its tab has
        # gone, which runs the page's own clean-up (its upload routes, an import's temporary folder)
        for client in list(Client.instances.values()):
            client.delete()
        # the portal app.py started has stopped: nothing of it may run on
        for thread in threading.enumerate():
            if thread.name.startswith('kp-hashing'):
                thread.join(2)
                assert not thread.is_alive(), 'the stopped portal left its hashing threads running'
    for cached in vars(models).values():
        if hasattr(cached, 'cache_clear'):
            cached.cache_clear()
    for clear in getattr(typing, '_cleanups', ()):
        clear()
    gc.collect()  # the test's own garbage; what survives is set aside
    gc.freeze()


def pytest_collection_modifyitems(config, items):
    if os.environ.get('CI') and not PG_URL:
        raise pytest.UsageError('CI run without KUNDENPORTAL_TEST_POSTGRES_URL: PostgreSQL tests must not be skipped')
    # The longest tests (each starts portal processes, most a Chromium) first: collected last, tests/tuning ran
    # at the end while the other workers had nothing left to do.
    items.sort(key=lambda item: not item.nodeid.startswith(('tests/browser/', 'tests/tuning/')))


@pytest.fixture(scope='session')
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('template') / 'template.db'
    engine = make_engine(f'sqlite:///{path}')
    migrate(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql('PRAGMA wal_checkpoint(TRUNCATE)')
    engine.dispose()
    return path


@pytest.fixture(scope='session')
def postgres_template() -> Iterator[str]:
    if not PG_URL:
        pytest.skip('no PostgreSQL given (KUNDENPORTAL_TEST_POSTGRES_URL)')
    global _COPY
    if _server_version() >= 150000:  # a file copy: ~25 % quicker than the WAL-logged default for a small database
        _COPY = ' STRATEGY FILE_COPY'
    name = f'kp_template_{uuid.uuid4().hex[:8]}'
    _admin(f'CREATE DATABASE {name}')
    engine = make_engine(_url(name))
    migrate(engine)
    engine.dispose()
    yield name
    _admin(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')


class _FreshDatabases:
    """Databases cloned from the template, the next one made on a thread of its own while a test runs, and a
    used one dropped there too: a clone waits for PostgreSQL's checkpoint (~0.3 s with the data the tests before
    wrote), which no longer holds up each test."""

    def __init__(self, template: str) -> None:
        self._template = template
        self._thread = ThreadPoolExecutor(1, thread_name_prefix='kp-test-databases')
        self._next = self._thread.submit(self._clone)

    def _clone(self) -> str:
        name = f'kp_test_{uuid.uuid4().hex[:12]}'
        _admin(f'CREATE DATABASE {name} TEMPLATE {self._template}{_COPY}')
        return name

    def take(self) -> str:
        name = self._next.result()
        self._next = self._thread.submit(self._clone)
        return name

    def give_back(self, name: str) -> None:
        self._thread.submit(_admin, f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')

    def close(self) -> None:
        self.give_back(self._next.result())
        self._thread.shutdown(wait=True)


@pytest.fixture(scope='session')
def postgres_databases(postgres_template) -> Iterator[_FreshDatabases]:
    databases = _FreshDatabases(postgres_template)
    yield databases
    databases.close()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == 'sqlite':
        path = tmp_path / 'portal.db'
        shutil.copy(request.getfixturevalue('sqlite_template'), path)
        yield f'sqlite:///{path}'
        return
    databases = request.getfixturevalue('postgres_databases')
    name = databases.take()
    yield _url(name)
    databases.give_back(name)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


_COPY = ''


def _server_version() -> int:
    admin = create_engine(_url('postgres'))
    with admin.connect() as connection:
        number = int(connection.execute(text('SHOW server_version_num')).scalar_one())
    admin.dispose()
    return number


def _url(database: str) -> str:
    return PG_URL.rsplit('/', 1)[0] + '/' + database


def _admin(statement: str) -> None:
    admin = create_engine(_url('postgres'), isolation_level='AUTOCOMMIT')
    with admin.connect() as connection:
        connection.execute(text(statement))
    admin.dispose()


@pytest.fixture(autouse=True)
def pinned_clock():
    """Every test starts at the suite's pinned instant (tests/clock.py); the clock ticks on from there."""
    with travel(SUITE_NOW) as traveller:
        yield traveller
