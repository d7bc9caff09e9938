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
