"""SQLite lets one connection write at a time. The others wait in SQLite's busy handler, which sleeps 1, 2, 5 …
up to 100 ms between tries: at a peak the database then sits idle while the waiting writers sleep (submissions
that waited up to seconds). So this process's writers queue on a lock per database file instead, taken at a
transaction's first write and given back the moment SQLite has committed or rolled back, and the next one starts
at once. (Other processes on the same file still meet the busy handler; several instances use PostgreSQL.)

The portal's quick transactions on the event loop (`storage.database.without_waiting`, `Portal.inline`) rely on
it: such a transaction must not sleep in the busy handler while the whole loop waits, so it takes the turn only
if it is free and turns SQLite's busy timeout off meanwhile (another process writing: SQLITE_BUSY at once), and
gives way with `WouldWait` otherwise. Without the turns there is no inline path.

Only public interfaces: Python's `sqlite3.connect(factory=…)` makes each connection one that gives the turn back
in its own `commit`, `rollback` and `close` (SQLAlchemy's `commit`/`rollback` events come before SQLite's, when
the next writer would still find SQLite's write lock held), set through SQLAlchemy's `do_connect` event; the turn
is taken in its `before_cursor_execute` event. Written for SQLAlchemy 2.1, whose pool rolls back a connection given
back to it (which gives the turn back too)."""

import sqlite3
import threading

from sqlalchemy import Engine, event

from domain.errors import WouldWait
from service.tuning.guard import Patch
from storage.database import BUSY_SECONDS, waiting_allowed

WRITES = ('INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'CREATE', 'DROP', 'ALTER')
TURNS: dict[str, threading.Lock] = {}  # per database file: one lock for all engines of this process on it


class TakingTurns(sqlite3.Connection):
    """A SQLite connection that gives its writer turn back once SQLite has ended its transaction."""

    turn: threading.Lock  # the file's, on the subclass made for it
    writing = False  # holds the turn
    not_waiting = False  # took it in `without_waiting`: busy timeout off until the transaction ends

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_back()

    def close(self) -> None:
        self.not_waiting = False  # the connection is gone: nothing to restore
        try:
            super().close()
        finally:
            self.give_back()

    def take(self) -> None:
        """At the transaction's first write."""
        if not waiting_allowed():
            if not self.turn.acquire(blocking=False):
                raise WouldWait()
            self.execute('PRAGMA busy_timeout=0')
            self.not_waiting = True
        elif not self.turn.acquire(timeout=BUSY_SECONDS):
            raise sqlite3.OperationalError('database is locked')
        self.writing = True

    def give_back(self) -> None:
        if self.not_waiting:
            self.not_waiting = False
            self.execute(f'PRAGMA busy_timeout={BUSY_SECONDS * 1000}')
        if self.writing:
            self.writing = False
            self.turn.release()


def take_turns(engine: Engine) -> None:
    """From now on the engine's SQLite connections take turns (connections made before are closed when returned)."""
    path = engine.url.database or ''
    connection_class = type('TakingTurnsOnFile', (TakingTurns,), {'turn': TURNS.setdefault(path, threading.Lock())})

    @event.listens_for(engine, 'do_connect')
    def as_taking_turns(_dialect, _record, _args, kwargs) -> None:
        kwargs['factory'] = connection_class

    @event.listens_for(engine, 'before_cursor_execute')
    def take(_connection, cursor, statement: str, *_: object) -> None:
        dbapi = cursor.connection
        if isinstance(dbapi, TakingTurns) and not dbapi.writing and statement.lstrip()[:7].upper().startswith(WRITES):
            dbapi.take()

    engine.dispose()


PATCH = Patch('writer_turns', 'SQLAlchemy', '2.1.*')  # applied per engine: `service.tuning.inline_path`
