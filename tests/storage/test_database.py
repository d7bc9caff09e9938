import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select

import domain.model  # noqa: F401
from domain.model import AuditEntry, Customer, MeterReading
from storage.database import alembic_config, head_revision, make_engine, migrate, schema_change
from tests import clock
from tests.factories import add_readings, make_customer, make_login


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
    assert differences == []  # types too: a column whose migration and model differ fails here


def test_a_fresh_sqlite_file_is_created_and_migrated(tmp_path):
    engine = make_engine(f'sqlite:///{tmp_path}/new/portal.db')
    migrate(engine)
    assert 'customer' in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.exec_driver_sql('PRAGMA journal_mode').scalar() == 'wal'


def test_a_portal_with_customers_upgrades_from_an_earlier_schema(engine):
    """Back to 0009 (before the e-invoices) with a customer, a login, a bill and readings, and up again: the tables
    that others refer to are rebuilt on SQLite (0012 made customer.reminders_off so), nothing is lost."""
    customer = make_customer(engine)
    make_login(engine, [customer['id']])
    add_readings(engine, customer['meter_number'], (clock.today(), 4711))
    with schema_change(engine) as connection:
        command.downgrade(alembic_config(connection), '0009')
    assert 'reminders_off' not in {c['name'] for c in inspect(engine).get_columns('customer')}
    migrate(engine)
    with Session(engine) as session:
        [row] = session.exec(select(Customer))
        assert row.customer_number == customer['customer_number'] and row.reminders_off is False
        assert [r.value for r in session.exec(select(MeterReading))] == [4711]
    with engine.connect() as connection:
        assert connection.exec_driver_sql('SELECT version_num FROM alembic_version').scalar() == head_revision()


def test_a_migration_that_fails_leaves_the_schema_as_it_was(tmp_path):
    """All of it or nothing: 0012 fails on a table in its way; 0010 and 0011, run before it, are undone too (the
    driver used to commit their ALTERs at once, and the next start failed on a column already there)."""
    engine = make_engine(f'sqlite:///{tmp_path}/portal.db')
    migrate(engine, '0009')
    with engine.begin() as connection:
        connection.exec_driver_sql('CREATE TABLE readingreminder (id INTEGER PRIMARY KEY)')
    with pytest.raises(OperationalError, match='already exists'):
        migrate(engine)
    assert 'vat_id' not in {c['name'] for c in inspect(engine).get_columns('customer')}
    assert 'billinginformation' not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.exec_driver_sql('SELECT version_num FROM alembic_version').scalar() == '0009'
        assert connection.exec_driver_sql('PRAGMA foreign_keys').scalar() == 1  # the portal's own connections
    with engine.begin() as connection:
        connection.exec_driver_sql('DROP TABLE readingreminder')
    migrate(engine)
    assert 'vat_id' in {c['name'] for c in inspect(engine).get_columns('customer')}
    engine.dispose()


def test_a_database_left_half_upgraded_by_the_old_migration_goes_on(tmp_path):
    """Before 03.12.2026 a failed upgrade of an SQLite portal left the version at 0009 and 0010's columns added."""
    engine = make_engine(f'sqlite:///{tmp_path}/portal.db')
    migrate(engine, '0009')
    with engine.begin() as connection:
        for table, column in (('customer', 'vat_id'), ('customer', 'leitweg_id'), ('bill', 'xml_path')):
            connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR NOT NULL DEFAULT ''")
    migrate(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql('SELECT version_num FROM alembic_version').scalar() == head_revision()
    engine.dispose()


def test_an_in_memory_database_gets_its_schema_too():
    engine = make_engine('sqlite://')
    migrate(engine)
    assert 'customer' in inspect(engine).get_table_names()
    engine.dispose()


def test_rows_that_had_lost_their_reference_before_do_not_stop_an_upgrade(tmp_path):
    """SQLite's foreign-key check after an upgrade raises only for references the change itself broke."""
    engine = make_engine(f'sqlite:///{tmp_path}/portal.db')
    migrate(engine, '0011')
    raw = engine.raw_connection()  # an orphan, e.g. from a repair by hand with foreign keys off
    raw.execute('PRAGMA foreign_keys=OFF')
    raw.execute(
        'INSERT INTO meter (meter_number, contract_id, kind, registers, pre_decimal_digits) '
        "VALUES ('X1', 999, 'conventional', '1.8.0', 6)"
    )
    raw.commit()
    raw.close()
    migrate(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql('SELECT version_num FROM alembic_version').scalar() == head_revision()
    engine.dispose()


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


def test_two_current_bank_accounts_left_by_the_race_before_0016_keep_the_newest(tmp_path):
    """Migration 0016 adds the unique index only after putting right what a double click could make before it."""
    engine = make_engine(f'sqlite:///{tmp_path}/before-0016.db')
    migrate(engine, '0015')
    customer = _customer_as_of_then(engine)
    with engine.begin() as connection:
        for iban in ('DE89370400440532013000', 'DE02120300000000202051'):
            connection.execute(
                text(
                    'INSERT INTO bankaccount (customer_id, holder, iban, mandate_reference, created_at, '
                    "mandate_granted_at) VALUES (:customer, 'Erika', :iban, :iban, :at, :at)"
                ),
                {'customer': customer['id'], 'iban': iban, 'at': clock.now()},
            )
    migrate(engine)
    with engine.connect() as connection:
        current = connection.execute(text('SELECT iban FROM bankaccount WHERE superseded_at IS NULL')).all()
        active = connection.execute(text('SELECT iban FROM bankaccount WHERE mandate_revoked_at IS NULL')).all()
    engine.dispose()
    assert current == active == [('DE02120300000000202051',)]  # superseded as the portal does: mandate revoked


def test_the_answers_given_before_0020_are_kept_as_the_first_of_each_message(tmp_path):
    """Migration 0020 keeps every answer in a table of its own; the one answer each message kept is taken over."""
    engine = make_engine(f'sqlite:///{tmp_path}/before-0020.db')
    migrate(engine, '0019')
    customer = _customer_as_of_then(engine)
    with engine.begin() as connection:
        for subject, answer in (('Umzug', 'Vielen Dank, erledigt.'), ('Abschlag', '')):
            connection.execute(
                text(
                    'INSERT INTO contactmessage (customer_id, created_at, topic, subject, message, status, answer, '
                    'answered_at) VALUES (:customer, :at, :subject, :subject, :subject, :status, :answer, :answered)'
                ),
                {
                    'customer': customer['id'],
                    'at': clock.now(),
                    'subject': subject,
                    'status': 'answered' if answer else 'open',
                    'answer': answer,
                    'answered': clock.now() if answer else None,
                },
            )
    migrate(engine)
    with engine.connect() as connection:
        kept = connection.execute(text('SELECT message_id, staff_id, text FROM contactanswer')).all()
    engine.dispose()
    assert kept == [(1, None, 'Vielen Dank, erledigt.')]


def _customer_as_of_then(engine) -> dict:
    """A customer written in the columns of the first schema (the models have columns later migrations add)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO customer (customer_number, salutation, first_name, last_name, company, street, '
                "house_number, postal_code, city, email, phone, paperless) VALUES ('40009999', 'Frau', 'Erika', "
                "'Früher', '', 'Hauptstraße', '1', '27749', 'Aue', '', '', false)"
            )
        )
        return {'id': connection.execute(text("SELECT id FROM customer WHERE customer_number = '40009999'")).scalar()}


def test_0025_binds_a_reminder_s_code_to_its_customer_and_a_letter_s_to_the_meter_s(engine, context):
    """The backfill gave every code the customer of the meter's contract now: the previous tenant's reminder code,
    mailed before the meter was handed on, opened the next tenant's readings. A letter's code (printed for the
    meter's address, also before the contract began or in its first night) stays valid, and a reminder's code keeps
    working when the letters' codes are issued."""
    from datetime import timedelta

    from domain.errors import ReadingCodeInvalid
    from domain.model import Contract, Meter, ReadingCode, id_of
    from domain.reading_codes import code_digest, new_code, open_by_code
    from storage.unit_of_work import SqlUnitOfWork

    ctx = context()
    old = make_customer(engine, meter_number='1EBZ0177777777')
    new = make_customer(engine, meter_number='1EBZ0188888888', contract_start=ctx.today - timedelta(days=5))
    with Session(engine) as session:  # the meter handed on five days ago
        meter = session.exec(select(Meter).where(Meter.meter_number == '1EBZ0177777777')).one()
        ended = session.get_one(Contract, meter.contract_id)
        ended.end_date = ctx.today - timedelta(days=6)
        meter.contract_id = session.exec(select(Contract.id).where(Contract.customer_id == new['id'])).one()
        session.add_all([ended, meter])
        session.commit()
        meter_id = id_of(meter)
    with schema_change(engine) as connection:
        command.downgrade(alembic_config(connection), '0024')
    theirs, letter, mine = new_code(), new_code(), new_code()
    made = {theirs: clock.now() - timedelta(days=30), letter: clock.now() - timedelta(days=20), mine: clock.now()}
    with engine.begin() as connection:
        for code, at in made.items():
            connection.execute(
                text('INSERT INTO readingcode (meter_id, digest, created_at, expires_at) VALUES (:m, :d, :c, :e)'),
                {'m': meter_id, 'd': code_digest(ctx, code), 'c': at, 'e': clock.now() + timedelta(days=20)},
            )
        for customer, code, key in ((old, theirs, 'a'), (new, mine, 'b')):  # mailed with a reminder each
            connection.execute(
                text(
                    'INSERT INTO readingreminder (customer_id, meter_id, period_end, kind, email, queued_at, key) '
                    "VALUES (:c, :m, :p, 'start', 'r@example.org', :q, :k)"
                ),
                {'c': customer['id'], 'm': meter_id, 'p': ctx.today, 'q': made[code], 'k': key},
            )
    migrate(engine)
    with SqlUnitOfWork(engine) as uow, pytest.raises(ReadingCodeInvalid):
        open_by_code(uow, ctx, theirs, '1EBZ0177777777')
    for code in (letter, mine):  # the letter printed before the new contract began: for its address
        with SqlUnitOfWork(engine) as uow:
            assert open_by_code(uow, ctx, code, '1EBZ0177777777').meter_number == '1EBZ0177777777'
    with Session(engine) as session:
        codes = sorted((c.customer_id, c.kind) for c in session.exec(select(ReadingCode)))
    assert codes == sorted([(old['id'], 'reminder'), (new['id'], 'letter'), (new['id'], 'reminder')])


def test_0027_writes_a_login_address_stored_decomposed_in_nfc_so_that_its_owner_still_logs_in(engine, context):
    """Addresses are compared in NFC since 0027; one stored with 'u' and a combining mark would no longer be found.
    An address whose NFC form another login has keeps its form (that other login is the one it reaches now)."""
    from domain.accounts import login
    from storage.unit_of_work import SqlUnitOfWork
    from tests.factories import PASSWORD

    customer, other = make_customer(engine), make_customer(engine, meter_number='1EBZ0199999999')
    decomposed = make_login(engine, [customer['id']], email='ju\u0308rgen@example.org')
    make_login(engine, [other['id']], email='g\u00f6tz@example.org')
    twin = make_login(engine, [], email='go\u0308tz@example.org')
    with schema_change(engine) as connection:
        command.downgrade(alembic_config(connection), '0026')
    migrate(engine)
    with SqlUnitOfWork(engine) as uow:
        assert login(uow, context(), 'J\u00fcrgen@example.org', PASSWORD).user_id == decomposed['id']
    with engine.connect() as connection:
        kept = connection.execute(text('SELECT email FROM portaluser WHERE id = :id'), {'id': twin['id']}).scalar()
    assert kept == 'go\u0308tz@example.org'


def test_0027_an_address_change_asked_for_before_it_is_confirmed_in_nfc_so_that_its_owner_still_logs_in(
    engine, context
):
    """The link's token kept the new address in the form it was typed before 0027 ('u' and a combining mark), and
    0027 rewrote the logins only: confirmed after the upgrade (the link is valid for two days), the login took that
    form, and its owner, whose typed address is compared in NFC now, was no longer found."""
    from domain.accounts import EMAIL_CHANGE_VALID, confirm_email_change, login
    from domain.tokens import new_link_token, stored
    from storage.unit_of_work import SqlUnitOfWork
    from tests.factories import PASSWORD

    ctx = context()
    changing = make_login(engine, [make_customer(engine)['id']])
    plain = new_link_token()
    with schema_change(engine) as connection:
        command.downgrade(alembic_config(connection), '0026')
    with Session(engine) as session:  # the change asked for with the portal before 0027
        address = 'ju\u0308rgen@example.org'
        session.add(stored(ctx.secret, changing['id'], 'email_change', plain, ctx.now, EMAIL_CHANGE_VALID, address))
        session.commit()
    migrate(engine)
    with SqlUnitOfWork(engine) as uow:
        confirm_email_change(uow, ctx, plain)
    with SqlUnitOfWork(engine) as uow:
        assert login(uow, context(), 'J\u00fcrgen@example.org', PASSWORD).user_id == changing['id']


def test_a_database_of_a_newer_version_is_refused_with_its_revision_named(engine):
    """A database a newer portal has migrated (a backup restored into an older one, a rollback of the software):
    Alembic's "Can't locate revision" came out of every start and command as a traceback."""
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(RuntimeError, match=r'0999.*newer version'):
        migrate(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql('SELECT version_num FROM alembic_version').scalar() == '0999'
