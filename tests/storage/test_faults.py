"""Faults: the process dies in the middle of a reading submission (kill -9 after the rows are written, before the
commit): nothing of it may remain and the retry stores the reading once. PostgreSQL restarted under load: the
customers get the clear "not reachable, nothing saved" answer, and the portal recovers by itself.
(SMTP down while mails queue: tests/storage/test_mail.py.)"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from domain.errors import StorageUnavailable
from domain.model import AuditEntry, MeterReading, OutboxMail
from domain.readings import submit_reading
from storage.database import make_engine, migrate
from storage.unit_of_work import SqlUnitOfWork
from tests import clock
from tests.factories import make_customer, make_login
from tests.storage.conftest import run

ROOT = Path(__file__).parents[2]

DYING = """
import sys, time
from domain.readings import submit_reading
from storage.database import make_engine
from storage.unit_of_work import SqlUnitOfWork
from datetime import datetime
from domain.ports import Context
from storage.settings import Settings
from tests.factories import CHEAP_HASHER

url, flag, user_id, customer_id, meter, now = sys.argv[1:7]


class DiesBeforeCommit(SqlUnitOfWork):
    def commit(self):
        self.session.flush()  # the rows are in the database's transaction, not committed
        open(flag, 'w').close()
        time.sleep(120)  # killed here


ctx = Context(Settings(profile='stadtwerke-a').load_profile(), 'test-secret', 'http://portal.test', CHEAP_HASHER,
              datetime.fromisoformat(now), address='192.0.2.1')
with DiesBeforeCommit(make_engine(url)) as uow:
    submit_reading(uow, ctx, int(user_id), int(customer_id), meter, {'1.8.0': '1234'}, '')
"""


def counts(engine, meter_number: str) -> tuple[int, int, int]:
    with Session(engine) as s:
        readings = s.exec(select(func.count()).select_from(MeterReading)).one()
        audits = s.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == 'reading_submitted')
        ).one()
        mails = s.exec(
            select(func.count()).select_from(OutboxMail).where(col(OutboxMail.text).contains(meter_number))
        ).one()
    return readings, audits, mails


def test_a_process_killed_during_a_reading_leaves_nothing_and_the_retry_stores_it_once(
    engine, database_url, uow, context, tmp_path
):
    customer = make_customer(engine, email='erika@example.org')
    login = make_login(engine, [customer['id']])
    flag = tmp_path / 'rows-written'
    child = subprocess.Popen(
        [
            sys.executable,
            '-c',
            DYING,
            database_url,
            str(flag),
            str(login['id']),
            str(customer['id']),
            customer['meter_number'],
            clock.now().isoformat(),
        ],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert child.poll() is None, 'the submitting process ended before writing its rows'
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert counts(engine, customer['meter_number']) == (0, 0, 0)

    for _ in range(2):  # the customer retries, then clicks once more
        run(
            uow,
            submit_reading,
            context(),
            login['id'],
            customer['id'],
            customer['meter_number'],
            {'1.8.0': '1234'},
            '',  # today
        )
    with Session(engine) as s:
        stored = s.exec(select(MeterReading)).all()
    assert [(r.obis, r.value) for r in stored] == [('1.8.0', 1234)]
    assert counts(engine, customer['meter_number'])[1:] == (2, 2)  # each accepted submission audited and confirmed


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of this test's own, since it is restarted (the shared one serves the other tests)."""
    if not glob.glob('/usr/lib/postgresql/*/bin/pg_ctl'):
        if os.environ.get('CI'):
            pytest.fail('CI run without PostgreSQL binaries')
        pytest.skip('PostgreSQL binaries not installed')
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    folder = subprocess.run(
        ['bash', str(ROOT / '.ci' / 'postgres.sh'), str(port)], check=True, capture_output=True, text=True
    ).stdout.strip()
    pg_ctl = sorted(glob.glob('/usr/lib/postgresql/*/bin/pg_ctl'))[-1]
    as_postgres = ['runuser', '-u', 'postgres', '--'] if os.getuid() == 0 else []

    options = f'-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off'

    def ctl(action: str) -> None:
        extra = ['-m', 'fast'] if action == 'stop' else ['-o', options, '-l', f'{folder}/log']
        subprocess.run([*as_postgres, pg_ctl, '-D', folder, '-w', action, *extra], check=True, capture_output=True)

    yield f'postgresql+psycopg://postgres@127.0.0.1:{port}/postgres', ctl
    ctl('stop')
    shutil.rmtree(folder, ignore_errors=True)


def test_postgresql_restarted_under_load_gives_a_clear_answer_and_recovers_by_itself(own_postgres, context):
    url, ctl = own_postgres
    engine = make_engine(url)
    migrate(engine)
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']])
    uow = lambda: SqlUnitOfWork(engine)  # noqa: E731 - as the portal builds it
    outcomes: list[tuple[float, str]] = []
    stop = threading.Event()

    def customers_at_work() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                run(
                    uow,
                    submit_reading,
                    context(),
                    login['id'],
                    customer['id'],
                    customer['meter_number'],
                    {'1.8.0': str(1000 + n)},
                    '',  # today
                )
                outcomes.append((time.monotonic(), 'ok'))
            except StorageUnavailable:
                outcomes.append((time.monotonic(), 'unavailable'))
                time.sleep(0.05)
            except Exception as error:  # anything else would reach the customer as "Fehler"
                outcomes.append((time.monotonic(), repr(error)))

    workers = [threading.Thread(target=customers_at_work) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1)
        ctl('stop')  # every open connection of the pool is cut
        time.sleep(1)
        ctl('start')
        restarted = time.monotonic()
        time.sleep(2)
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
        engine.dispose()
    kinds = {kind for _, kind in outcomes}
    assert kinds - {'ok', 'unavailable'} == set(), kinds  # only the clear answer, never an unexpected error
    assert 'unavailable' in kinds  # the restart was noticed
    assert any(kind == 'ok' and at > restarted for at, kind in outcomes), 'recovered without a restart of the portal'
    last_failure = max(at for at, kind in outcomes if kind == 'unavailable')
    assert last_failure < restarted + 1
