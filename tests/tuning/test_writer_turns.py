"""service/tuning/writer_turns.py: SQLite writers of one process take turns, and the portal's quick transactions
run on the event loop unless they would wait (`storage.database.without_waiting`)."""

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from domain.errors import WouldWait
from service.tuning.writer_turns import TURNS, TakingTurns, take_turns
from storage.database import BUSY_SECONDS, make_engine, without_waiting
from storage.unit_of_work import SqlUnitOfWork


def test_sqlite_writers_of_one_process_take_turns_instead_of_sleeping_in_the_busy_handler(tmp_path):
    """A transaction takes this process's writer turn for the file at its first write and gives it back when
    SQLAlchemy commits, rolls back, or closes its session without either; a second writer waits for the turn (no
    "database is locked"). Reading takes no turn. (How much sooner the waiting writer goes on: bench/load.py.)"""
    path = f'{tmp_path}/turns.db'
    engine = make_engine(f'sqlite:///{path}')
    take_turns(engine)
    turn = TURNS[path]
    with engine.begin() as connection:
        connection.execute(text('CREATE TABLE t (n INTEGER)'))
    assert not turn.locked()
    first = engine.connect()
    assert isinstance(first.connection.driver_connection, TakingTurns)
    first.execute(text('SELECT count(*) FROM t'))
    assert not turn.locked()
    first.execute(text('INSERT INTO t VALUES (1)'))
    assert turn.locked()
    done: list[int] = []

    def second() -> None:
        with engine.begin() as connection:
            connection.execute(text('INSERT INTO t VALUES (2)'))
        done.append(2)

    waiting = threading.Thread(target=second)
    waiting.start()
    time.sleep(0.3)
    assert done == [] and waiting.is_alive()
    first.commit()
    waiting.join(5)
    assert done == [2] and not turn.locked()
    first.execute(text('INSERT INTO t VALUES (3)'))
    first.rollback()
    assert not turn.locked()
    with Session(engine) as session:
        session.execute(text('INSERT INTO t VALUES (4)'))
        assert turn.locked()
    assert not turn.locked()
    with engine.begin() as connection:
        assert connection.execute(text('SELECT n FROM t ORDER BY n')).scalars().all() == [1, 2]
    first.close()
    engine.dispose()


def test_a_transaction_that_may_not_wait_gives_way_at_once_to_another_writer(tmp_path):
    """`without_waiting` (the portal's quick transactions on the event loop): another writer of this process or
    another process holding SQLite's write lock makes it roll back and raise `WouldWait` at once, not wait; with
    no one else writing it commits, and the pooled connections keep their normal busy timeout."""
    path = f'{tmp_path}/quick.db'
    engine = make_engine(f'sqlite:///{path}')
    take_turns(engine)
    with engine.begin() as connection:
        connection.execute(text('CREATE TABLE t (n INTEGER)'))

    def write(n: int):
        def work() -> None:
            with SqlUnitOfWork(engine) as uow:
                assert uow.session.execute(text('SELECT count(*) FROM t')).scalar() is not None  # reads go on
                uow.session.execute(text('INSERT INTO t VALUES (:n)'), {'n': n})
                uow.commit()

        return work

    other = engine.connect()  # a writer of this process, mid-transaction
    other.execute(text('INSERT INTO t VALUES (1)'))
    started = time.perf_counter()
    with pytest.raises(WouldWait):
        without_waiting(write(2))
    other.rollback()
    outside = sqlite3.connect(path)  # another process's writer
    outside.execute('BEGIN IMMEDIATE')
    with pytest.raises(WouldWait):
        without_waiting(write(3))
    assert time.perf_counter() - started < 1 and not TURNS[path].locked()
    outside.rollback()
    outside.close()
    without_waiting(write(4))
    assert not TURNS[path].locked()
    with engine.connect() as first, engine.connect() as second:  # every pooled connection, back to normal
        assert {c.exec_driver_sql('PRAGMA busy_timeout').scalar() for c in (first, second)} == {BUSY_SECONDS * 1000}
        assert first.execute(text('SELECT n FROM t')).scalars().all() == [4]
    other.close()
    engine.dispose()


async def test_quick_transactions_run_on_the_event_loop_and_wait_in_a_thread_only_behind_another_writer(db, tmp_path):
    """On SQLite a reading submission runs on the event loop; while another writer of the process holds the turn,
    it is rolled back there and runs again in a worker thread once the writer is done: stored once, loop free."""
    from app import build
    from domain.clock import SystemClock
    from domain.model import MeterReading
    from domain.readings import meter_forms, submit_reading
    from storage.settings import Settings
    from tests.factories import add_readings, make_customer, make_login, portal_today, year_end

    customer = make_customer(db)
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13650))
    login = make_login(db, [customer['id']])
    _, portal, _ = build(Settings(), SystemClock())
    assert portal.inline is without_waiting
    threads: list[str] = []
    make = portal.unit_of_work

    def recorded():
        threads.append(threading.current_thread().name)
        return make()

    portal.unit_of_work = recorded
    assert await portal.read(meter_forms, login['id'], customer['id'])
    value = str(13650 + 10 * (portal_today() - year_end()).days)
    assert (
        await portal.act(submit_reading, login['id'], customer['id'], customer['meter_number'], {'1.8.0': value}, '')
    ).meter_number == customer['meter_number']
    assert threads == ['MainThread', 'MainThread']

    threads.clear()
    writer = make_engine(str(db.url))  # another writer of this process, mid-transaction
    take_turns(writer)
    writing = writer.connect()
    writing.execute(text("UPDATE customer SET email = 'x@example.org' WHERE id = :c"), {'c': customer['id']})
    submitting = asyncio.create_task(
        portal.act(submit_reading, login['id'], customer['id'], customer['meter_number'], {'1.8.0': value}, '')
    )
    await asyncio.sleep(0.3)  # the loop is free meanwhile
    assert not submitting.done() and threads[0] == 'MainThread' and len(threads) == 2
    writing.rollback()
    await asyncio.wait_for(submitting, 10)
    assert threads[1] != 'MainThread'
    with Session(db) as session:
        readings = session.exec(select(MeterReading).where(MeterReading.source == 'customer')).all()
    assert [(r.reading_date, r.value) for r in readings] == [(portal_today(), int(value))]  # corrected, not doubled
    writing.close()
    writer.dispose()
