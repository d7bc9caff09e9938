"""The engine (SQLite in WAL mode or PostgreSQL) and schema migration with Alembic."""

import sqlite3
import threading
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

from domain.errors import WouldWait

MIGRATIONS = Path(__file__).resolve().parent / 'migrations'


def make_engine(url: str, *, checkpoint_in_background: bool = False) -> Engine:
    """With `checkpoint_in_background` (the portal server), SQLite's WAL is not copied into the database file by
    whichever transaction happens to fill it (with an fsync, on the event loop for the quick transactions) but by
    `checkpoint`, which the server runs in a worker thread every few seconds."""
    if url.startswith('sqlite'):
        path = url.split('///', 1)[-1]
        if path and path != ':memory:':
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={'check_same_thread': False, 'timeout': BUSY_SECONDS})
        event.listen(engine, 'connect', _sqlite_pragmas)
        if checkpoint_in_background:
            event.listen(
                engine,
                'connect',
                lambda dbapi_connection, _record: dbapi_connection.execute('PRAGMA wal_autocheckpoint=0'),
            )
        _writers_take_turns(engine, _WRITERS.setdefault(path, threading.Lock()))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def checkpoint(engine: Engine) -> None:
    """Copy what the WAL holds into the database file, as far as no reader still needs it (PASSIVE: waits for no
    one, and writers go on meanwhile)."""
    if engine.dialect.name == 'sqlite':
        with engine.connect() as connection:
            connection.exec_driver_sql('PRAGMA wal_checkpoint(PASSIVE)')


def reachable(engine: Engine) -> bool:
    """Whether the database answers a trivial query (the health check)."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql('SELECT 1')
    except Exception:
        return False
    return True


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (the app does this on every start)."""
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes['connection'] = connection
        command.upgrade(config, 'head')


BUSY_SECONDS = 30
T = TypeVar('T')
_NOT_WAITING: ContextVar[bool] = ContextVar('not_waiting', default=False)


def without_waiting(work: Callable[[], T]) -> T:
    """Run `work` (a whole transaction) right here, on the caller's thread, as long as it need not wait for another
    writer: if this process's writer turn is taken, or another process holds SQLite's write lock, it raises
    `WouldWait` at its first write (the unit of work rolls back) instead of waiting.

    The portal runs its short customer transactions like this on the event loop: handing each to a worker thread
    cost more than the transaction itself at a peak (thread wake-ups, and a GIL hand-over with the busy event loop
    at every SQLite call — bench/load.py: 16–19 → 12 ms of CPU a submission). Reads never wait in WAL mode."""
    token = _NOT_WAITING.set(True)
    try:
        return work()
    finally:
        _NOT_WAITING.reset(token)


def waiting_allowed() -> bool:
    return not _NOT_WAITING.get()


WRITES = ('INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'CREATE', 'DROP', 'ALTER')
_WRITERS: dict[str, threading.Lock] = {}  # per database file: one lock for all engines of this process on it


def _writers_take_turns(engine: Engine, turn: threading.Lock) -> None:
    """SQLite lets one connection write at a time. The others wait in SQLite's busy handler, which sleeps 1, 2, 5 …
    up to 100 ms between tries: at a peak the database then sits idle while the waiting writers sleep (bench/load.py:
    submissions that waited up to seconds). So this process's writers queue on a lock instead, taken at a
    transaction's first write and given back at its end, and each starts the moment the one before has committed.
    (Other processes on the same file still meet the busy handler; several instances use PostgreSQL.)"""

    @event.listens_for(engine, 'before_cursor_execute')
    def take(connection, cursor, statement: str, *_: object) -> None:
        if connection.info.get('writing') or not statement.lstrip()[:7].upper().startswith(WRITES):
            return
        if _NOT_WAITING.get():
            if not turn.acquire(blocking=False):
                raise WouldWait()
            cursor.connection.execute('PRAGMA busy_timeout=0')  # another process writing: SQLITE_BUSY at once
            connection.info['not_waiting'] = True
        elif not turn.acquire(timeout=BUSY_SECONDS):
            raise sqlite3.OperationalError('database is locked')
        connection.info['writing'] = True

    def give_back(info: dict, dbapi_connection) -> None:
        if info.pop('not_waiting', False):
            dbapi_connection.execute(f'PRAGMA busy_timeout={BUSY_SECONDS * 1000}')
        if info.pop('writing', False):
            turn.release()

    # The turn is given back once SQLite has committed or rolled back (SQLAlchemy's `commit` and `rollback` events
    # come before: the next writer would find SQLite's write lock still held). The dialect's methods get the pool's
    # proxy of the connection, which carries the record's `info`.
    commit, rollback = engine.dialect.do_commit, engine.dialect.do_rollback

    def after(proxy) -> None:
        try:
            info = proxy.info
        except NotImplementedError:  # the ad-hoc proxy SQLAlchemy uses while connecting: no turn taken there
            return
        give_back(info, proxy.driver_connection)

    def do_commit(proxy) -> None:
        try:
            commit(proxy)
        finally:
            after(proxy)

    def do_rollback(proxy) -> None:
        try:
            rollback(proxy)
        finally:
            after(proxy)

    def returned(dbapi_connection, record, _state) -> None:  # back in the pool without commit or rollback
        give_back(record.info, dbapi_connection)

    def thrown_away(_dbapi, record, _error=None) -> None:
        record.info.pop('not_waiting', None)  # the connection is gone: nothing to restore
        give_back(record.info, None)

    engine.dialect.do_commit = do_commit  # type: ignore[method-assign, assignment]
    engine.dialect.do_rollback = do_rollback  # type: ignore[method-assign, assignment]
    event.listen(engine, 'reset', returned)
    event.listen(engine, 'invalidate', thrown_away)
    event.listen(engine, 'close', thrown_away)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.execute('PRAGMA synchronous=NORMAL')
    cursor.execute(f'PRAGMA busy_timeout={BUSY_SECONDS * 1000}')
    cursor.close()
