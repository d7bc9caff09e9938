import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

import domain.model  # noqa: F401
from domain.model import AuditEntry, Customer
from storage.database import make_engine, migrate
from tests import clock


def test_migrations_build_the_whole_schema_from_an_empty_database(database_url):
    engine = make_engine(database_url)
    migrate(engine)  # the fixture's database is migrated already: a second run must change nothing
    tables = set(inspect(engine).get_table_names())
    assert {
        'customer',
        'contract',
        'meter',
        'meterreading',
        'price',
        'installmentplan',
        'payment',
        'bill',
        'portaluser',
        'usercustomer',
        'onetimetoken',
        'auditentry',
        'outboxmail',
        'throttle',
        'setting',
    } <= tables
    engine.dispose()


def test_the_migrations_match_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert [d for d in differences if d[0] != 'modify_type'] == []


def test_a_fresh_sqlite_file_is_created_and_migrated(tmp_path):
    engine = make_engine(f'sqlite:///{tmp_path}/new/portal.db')
    migrate(engine)
    assert 'customer' in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.exec_driver_sql('PRAGMA journal_mode').scalar() == 'wal'


def test_the_unit_of_work_keeps_nothing_without_commit(uow):
    with uow() as work:
        work.session.add(Customer(customer_number='40000001'))
    with uow() as work:
        work.session.add(Customer(customer_number='40000002'))
        work.commit()
    with Session(uow().engine) as session:
        assert [c.customer_number for c in session.exec(select(Customer))] == ['40000002']


def test_the_unit_of_work_rolls_back_when_the_use_case_fails(uow):
    try:
        with uow() as work:
            work.audit(AuditEntry(at=clock.now(), actor='test', action='half'))
            work.session.flush()
            raise RuntimeError('use case failed')
    except RuntimeError:
        pass
    with Session(uow().engine) as session:
        assert list(session.exec(select(AuditEntry))) == []


def test_instants_come_back_timezone_aware_and_money_exact(engine):
    from datetime import date
    from decimal import Decimal

    from domain.model import Price

    with Session(engine) as session:
        session.add(
            Price(
                tariff_code='T',
                valid_from=date(2026, 1, 1),
                working_price_net=Decimal('0.265'),
                base_price_net_per_year=Decimal('120.005'),
                vat_rate=Decimal('0.19'),
            )
        )
        session.add(AuditEntry(at=clock.now(), actor='test', action='x'))
        session.commit()
    with Session(engine) as session:
        price = session.exec(select(Price)).one()
        assert price.working_price_net == Decimal('0.265000')
        assert price.base_price_net_per_year == Decimal('120.01')
        assert session.exec(select(AuditEntry)).one().at.tzinfo is not None


def test_sqlite_writers_of_one_process_take_turns_instead_of_sleeping_in_the_busy_handler(tmp_path):
    """A transaction takes this process's writer turn for the file at its first write and gives it back at commit,
    at rollback, and when its session is closed without either; a second writer waits for the turn (no "database
    is locked"). Reading takes no turn. (How much sooner the waiting writer goes on: bench/load.py.)"""
    import threading
    import time

    from sqlalchemy import text

    from storage.database import _WRITERS

    path = f'{tmp_path}/turns.db'
    engine = make_engine(f'sqlite:///{path}')
    turn = _WRITERS[path]
    with engine.begin() as connection:
        connection.execute(text('CREATE TABLE t (n INTEGER)'))
    assert not turn.locked()
    first = engine.connect()
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
    import sqlite3
    import time

    from sqlalchemy import text

    from domain.errors import WouldWait
    from storage.database import _WRITERS, BUSY_SECONDS, without_waiting
    from storage.unit_of_work import SqlUnitOfWork

    path = f'{tmp_path}/quick.db'
    engine = make_engine(f'sqlite:///{path}')
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
    assert time.perf_counter() - started < 1 and not _WRITERS[path].locked()
    outside.rollback()
    outside.close()
    without_waiting(write(4))
    assert not _WRITERS[path].locked()
    with engine.connect() as first, engine.connect() as second:  # every pooled connection, back to normal
        assert {c.exec_driver_sql('PRAGMA busy_timeout').scalar() for c in (first, second)} == {BUSY_SECONDS * 1000}
        assert first.execute(text('SELECT n FROM t')).scalars().all() == [4]
    other.close()
    engine.dispose()


def test_the_server_checkpoints_sqlites_wal_itself_not_the_transaction_that_fills_it(tmp_path):
    """No transaction copies the WAL into the database file on its way (an fsync on the event loop); `checkpoint`,
    run by the server in a worker thread, does."""
    import sqlite3

    from sqlalchemy import text

    from storage.database import checkpoint

    path = tmp_path / 'wal.db'
    engine = make_engine(f'sqlite:///{path}', checkpoint_in_background=True)
    with engine.begin() as connection:
        assert connection.exec_driver_sql('PRAGMA wal_autocheckpoint').scalar() == 0
        connection.execute(text('CREATE TABLE t (n INTEGER)'))
        connection.execute(text('INSERT INTO t VALUES (1)'))

    def in_the_file() -> list[str]:  # the database file alone, without its WAL
        file = sqlite3.connect(f'file:{path}?immutable=1', uri=True)
        try:
            return [row[0] for row in file.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        finally:
            file.close()

    assert in_the_file() == []
    checkpoint(engine)
    assert in_the_file() == ['t']
    engine.dispose()
