"""The engine (SQLite in WAL mode or PostgreSQL) and schema migration with Alembic."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent / 'migrations'
BUSY_SECONDS = 30  # how long a SQLite writer waits for another's write lock


def make_engine(url: str, *, checkpoint_in_background: bool = False) -> Engine:
    """With `checkpoint_in_background` (the portal server), SQLite's WAL is not copied into the database file by
    whichever transaction happens to fill it (with an fsync) but by
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


class UnknownSchema(RuntimeError):
    """The database is at a revision none of this version's migrations has: a newer version migrated it."""


def migrate(engine: Engine, revision: str = 'head') -> None:
    """Bring the schema to the newest migration (the app does this on every start), all of it or nothing."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if revision == 'head' and current == head_revision():
        return  # nothing to do: no write lock taken, no table checked
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config(None)).walk_revisions()}
    if current is not None and current not in known:
        raise UnknownSchema(
            f'the database is at schema revision {current}, which this version does not know (newest: '
            f'{head_revision()}): it was migrated by a newer version of the portal; run that version, or restore a '
            'backup made with this one'
        )
    with schema_change(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def alembic_config(connection: Connection | None) -> Config:
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    config.attributes['connection'] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision."""
    return str(ScriptDirectory.from_config(alembic_config(None)).get_current_head())


SCHEMA_LOCK = 0x6B70_5F73_6368  # PostgreSQL advisory lock key of the schema's changes ("kp_sch")


@contextmanager
def schema_change(engine: Engine) -> Iterator[Connection]:
    """A connection for changing the schema, in one transaction that a failure rolls back whole.

    On SQLite two things differ. Alembic's batch mode changes a table by rebuilding it (copy, drop, rename); with
    foreign keys enforced the drop of a table that others refer to fails, so a portal with customers could not
    be upgraded (migration 0012, customer.reminders_off). Foreign keys are off while the schema changes and
    checked, all of them, before the commit. And Python's sqlite3 opens no transaction for DDL (only before
    INSERT, UPDATE and DELETE), so a failing migration left the ones before it half applied (their ALTERs kept,
    the version not: the next start failed on a column that already existed). Here the transaction is SQLite's
    own, BEGIN IMMEDIATE to COMMIT (SQLAlchemy's recipe for pysqlite), on a connection of its own (an in-memory
    database, which another connection would not see, keeps the plain way). On PostgreSQL a transaction-scoped
    advisory lock makes instances started at once take turns (the second failed on a type the first had made)."""
    if engine.dialect.name != 'sqlite' or engine.url.database in (None, '', ':memory:'):
        with engine.begin() as connection:
            if engine.dialect.name == 'postgresql':  # instances started at once: one migrates, the others find it done
                connection.exec_driver_sql(f'SELECT pg_advisory_xact_lock({SCHEMA_LOCK})')
            yield connection
        return
    own = create_engine(engine.url, connect_args={'timeout': BUSY_SECONDS}, poolclass=NullPool)

    def connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # the driver's own BEGIN and COMMIT off: SQLAlchemy's below
        dbapi_connection.execute('PRAGMA journal_mode=WAL')  # as the portal's connections (a new file starts here)
        dbapi_connection.execute('PRAGMA foreign_keys=OFF')  # takes effect outside a transaction only: here
        dbapi_connection.execute(f'PRAGMA busy_timeout={BUSY_SECONDS * 1000}')

    event.listen(own, 'connect', connect)
    event.listen(own, 'begin', lambda connection: connection.exec_driver_sql('BEGIN IMMEDIATE'))
    try:
        with own.begin() as connection:
            before = _dangling(connection)
            yield connection
            after = _dangling(connection)
            new = {key: count for key, count in after.items() if count > before.get(key, 0)}
            if new:  # rows that had a row to refer to before the change and have none now
                raise RuntimeError(f'the schema change leaves references without their row (table, parent): {new}')
    finally:
        own.dispose()


def _dangling(connection: Connection) -> Counter[tuple[str, str]]:
    """SQLite's foreign-key check, counted by table and the table it refers to (rows kept from before the change,
    e.g. of an import made with foreign keys off, do not stop an upgrade: only new ones do)."""
    rows = connection.exec_driver_sql('PRAGMA foreign_key_check').all()
    return Counter((row[0], row[2]) for row in rows)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.execute('PRAGMA synchronous=NORMAL')
    cursor.execute(f'PRAGMA busy_timeout={BUSY_SECONDS * 1000}')
    cursor.close()
    # SQLite's own lower() knows A–Z only: staff searching for "Öztürk" found nobody (PostgreSQL's knows Ö)
    dbapi_connection.create_function('lower', 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value
