"""The engine (SQLite in WAL mode or PostgreSQL) and schema migration with Alembic."""

import sqlite3
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

MIGRATIONS = Path(__file__).resolve().parent / 'migrations'


def make_engine(url: str) -> Engine:
    if url.startswith('sqlite'):
        path = url.split('///', 1)[-1]
        if path and path != ':memory:':
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={'check_same_thread': False, 'timeout': BUSY_SECONDS})
        event.listen(engine, 'connect', _sqlite_pragmas)
        _writers_take_turns(engine, _WRITERS.setdefault(path, threading.Lock()))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (the app does this on every start)."""
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes['connection'] = connection
        command.upgrade(config, 'head')


BUSY_SECONDS = 30
WRITES = ('INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'CREATE', 'DROP', 'ALTER')
_WRITERS: dict[str, threading.Lock] = {}  # per database file: one lock for all engines of this process on it


def _writers_take_turns(engine: Engine, turn: threading.Lock) -> None:
    """SQLite lets one connection write at a time. The others wait in SQLite's busy handler, which sleeps 1, 2, 5 …
    up to 100 ms between tries: at a peak the database then sits idle while the waiting writers sleep (bench/load.py:
    submissions that waited up to seconds). So this process's writers queue on a lock instead, taken at a
    transaction's first write and given back at its end, and each starts the moment the one before has committed.
    (Other processes on the same file still meet the busy handler; several instances use PostgreSQL.)"""

    @event.listens_for(engine, 'before_cursor_execute')
    def take(connection, _cursor, statement: str, *_: object) -> None:
        if connection.info.get('writing') or not statement.lstrip()[:7].upper().startswith(WRITES):
            return
        if not turn.acquire(timeout=BUSY_SECONDS):
            raise sqlite3.OperationalError('database is locked')
        connection.info['writing'] = True

    def give_back(info: dict) -> None:
        if info.pop('writing', False):
            turn.release()

    def ended(connection) -> None:
        give_back(connection.info)

    def returned(_dbapi, record, _state) -> None:  # back in the pool without commit or rollback
        give_back(record.info)

    def thrown_away(_dbapi, record, _error=None) -> None:
        give_back(record.info)

    event.listen(engine, 'commit', ended)
    event.listen(engine, 'rollback', ended)
    event.listen(engine, 'reset', returned)
    event.listen(engine, 'invalidate', thrown_away)
    event.listen(engine, 'close', thrown_away)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.execute('PRAGMA synchronous=NORMAL')
    cursor.execute('PRAGMA busy_timeout=30000')
    cursor.close()
