"""The engine (SQLite in WAL mode or PostgreSQL) and schema migration with Alembic."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

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


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (the app does this on every start)."""
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes['connection'] = connection
        command.upgrade(config, 'head')


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.execute('PRAGMA synchronous=NORMAL')
    cursor.execute(f'PRAGMA busy_timeout={BUSY_SECONDS * 1000}')
    cursor.close()
