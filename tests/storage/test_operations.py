"""Running the portal: the command line's answers to a wrong configuration, backups that are not whole, the mail
sender of two processes on one SQLite file, and instances that start at once on a new PostgreSQL database."""

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, event

from domain.clock import SystemClock
from service.cli import main
from storage.database import make_engine, migrate
from storage.mail import FolderTransport, OutboxSender
from tests.conftest import PG_URL
from tests.factories import make_customer
from tests.storage.test_mail import queue


def _data_folder(tmp_path, monkeypatch, name: str):
    folder = tmp_path / name
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', f'sqlite:///{folder / "kundenportal.db"}')
    monkeypatch.setenv('KUNDENPORTAL_DATA_DIR', str(folder))
    return folder


def test_a_backup_of_a_data_folder_without_its_database_is_refused(tmp_path, monkeypatch, capsys):
    """A mistyped KUNDENPORTAL_DATA_DIR: the backup said "database and 0 documents" and left an empty database."""
    folder = _data_folder(tmp_path, monkeypatch, 'wrong')
    folder.mkdir()
    assert main(['backup', str(tmp_path / 'b.tar.gz')]) == 1
    assert 'no database at' in capsys.readouterr().err
    assert not (folder / 'kundenportal.db').exists() and not (tmp_path / 'b.tar.gz').exists()


def test_a_backup_beside_postgresql_of_a_data_folder_that_is_not_there_is_refused(tmp_path, monkeypatch, capsys):
    """With PostgreSQL the archive holds the documents only: a mistyped folder gave "0 documents" and exit 0."""
    _data_folder(tmp_path, monkeypatch, 'wrong')
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', 'postgresql+psycopg://kp@127.0.0.1:1/kundenportal')
    assert main(['backup', str(tmp_path / 'b.tar.gz')]) == 1
    assert 'no documents folder at' in capsys.readouterr().err
    assert not (tmp_path / 'b.tar.gz').exists()


def test_a_restore_says_what_it_restored_not_that_a_backup_was_written(tmp_path, monkeypatch, capsys):
    """`restore` printed the backup's own summary: "Backup written to … database and 1 documents." (and, beside
    PostgreSQL, "back it up with pg_dump -Fc") after writing nothing but the data folder."""
    source = _data_folder(tmp_path, monkeypatch, 'data')
    engine = make_engine(f'sqlite:///{source / "kundenportal.db"}')
    migrate(engine)
    make_customer(engine)
    engine.dispose()
    (source / 'documents' / 'bills').mkdir(parents=True)
    (source / 'documents' / 'bills' / 'RE1.pdf').write_bytes(b'%PDF-1.4 eins')
    assert main(['backup', str(tmp_path / 'b.tar.gz')]) == 0
    capsys.readouterr()
    target = _data_folder(tmp_path, monkeypatch, 'restored')
    assert main(['restore', str(tmp_path / 'b.tar.gz')]) == 0
    said = capsys.readouterr().out
    assert 'written' not in said and 'Restored' in said and 'database and 1 documents' in said
    assert str(target) in said


@pytest.mark.parametrize('cut', ['not a backup', 'cut off'])
def test_a_restore_of_what_is_no_whole_backup_says_so_and_writes_nothing(tmp_path, monkeypatch, capsys, cut):
    """A traceback (tarfile.ReadError, EOFError) instead of a message."""
    source = _data_folder(tmp_path, monkeypatch, 'data')
    engine = make_engine(f'sqlite:///{source / "kundenportal.db"}')
    migrate(engine)
    make_customer(engine)
    engine.dispose()
    (source / 'documents' / 'bills').mkdir(parents=True)
    for n in range(30):
        (source / 'documents' / 'bills' / f'RE{n}.pdf').write_bytes(os.urandom(20_000))
    assert main(['backup', str(tmp_path / 'b.tar.gz')]) == 0
    whole = (tmp_path / 'b.tar.gz').read_bytes()
    (tmp_path / 'x.tar.gz').write_bytes(b'hello\n' if cut == 'not a backup' else whole[: len(whole) * 2 // 3])
    target = _data_folder(tmp_path, monkeypatch, 'restored')
    capsys.readouterr()
    assert main(['restore', str(tmp_path / 'x.tar.gz')]) == 1
    assert 'is not a whole backup of the portal' in capsys.readouterr().err
    assert not target.exists() or not [p for p in target.rglob('*') if p.is_file()]


@pytest.mark.parametrize(
    ('variable', 'value', 'said'),
    [
        ('KUNDENPORTAL_PROFILE', 'stadtwerke-x', "KUNDENPORTAL_PROFILE: unknown profile 'stadtwerke-x'"),
        ('KUNDENPORTAL_PORT', 'abc', 'KUNDENPORTAL_PORT: Input should be a valid integer'),
        ('KUNDENPORTAL_PORT', '70000', 'KUNDENPORTAL_PORT: Input should be less than or equal to 65535'),
        ('KUNDENPORTAL_SMTP_PORT', '0', 'KUNDENPORTAL_SMTP_PORT: Input should be greater than or equal to 1'),
        ('KUNDENPORTAL_STORAGE_SECRET', None, 'KUNDENPORTAL_STORAGE_SECRET must be set'),
    ],
)
def test_a_wrong_configuration_is_a_message_not_a_traceback(tmp_path, monkeypatch, capsys, variable, value, said):
    """Every command ended in a traceback; an SMTP port of 70000 made every batch of mails fail before it was
    counted, so a mail was tried again every five minutes for ever."""
    _data_folder(tmp_path, monkeypatch, 'data')
    if value is None:
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv('KUNDENPORTAL_DEMO', raising=False)
    else:
        monkeypatch.setenv(variable, value)
    assert main(['remind']) == 2
    assert said in capsys.readouterr().err


def test_a_database_of_a_newer_version_is_a_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    """Software rolled back (or a newer portal's backup restored) over a migrated database: each command ended in
    Alembic's traceback "Can't locate revision identified by …"."""
    folder = _data_folder(tmp_path, monkeypatch, 'data')
    engine = make_engine(f'sqlite:///{folder / "kundenportal.db"}')
    migrate(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
    engine.dispose()
    assert main(['remind']) == 2
    said = capsys.readouterr().err
    assert said.startswith('kundenportal: ') and '0999' in said and 'Traceback' not in said, said


def test_a_wrong_value_in_the_profile_file_is_named_in_the_file(tmp_path, monkeypatch, capsys):
    """Said as an environment variable that does not exist (KUNDENPORTAL_PASSWORD_MIN_LENGTH)."""
    _data_folder(tmp_path, monkeypatch, 'data')
    from storage.settings import PROFILES

    text = (PROFILES / 'stadtwerke-a.toml').read_text(encoding='utf-8')
    assert '[password]\nmin_length = 8' in text
    own = tmp_path / 'portal.toml'
    own.write_text(text.replace('[password]\nmin_length = 8', '[password]\nmin_length = "acht"'), encoding='utf-8')
    monkeypatch.setenv('KUNDENPORTAL_PROFILE', str(own))
    assert main(['remind']) == 2
    said = capsys.readouterr().err
    assert f'KUNDENPORTAL_PROFILE {own}: password.min_length: Input should be a valid integer' in said, said
    assert 'KUNDENPORTAL_PASSWORD' not in said


def test_two_sqlite_processes_never_send_one_mail_twice(tmp_path):
    """Both read a mail as due (SQLite has no row locks) and both took its lease: the lease is taken only while the
    mail is still due, and only the process that took it sends it."""
    url = f'sqlite:///{tmp_path / "kundenportal.db"}'
    first_engine, second_engine = make_engine(url), make_engine(url)
    migrate(first_engine)
    queue(first_engine, 'a@example.org')
    clock = SystemClock()
    first = OutboxSender(first_engine, FolderTransport(tmp_path / 'o1', clock), 'p@x.example', clock)
    second = OutboxSender(second_engine, FolderTransport(tmp_path / 'o2', clock), 'p@x.example', clock)
    seconds: list[list] = []

    @event.listens_for(first_engine, 'before_cursor_execute')
    def meanwhile(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith('UPDATE outboxmail SET next_attempt_at') and not seconds:
            seconds.append(second._claim(10))  # the other process, between this one's reading and its lease

    claimed = [m.id for m in first._claim(10)] + [m.id for m in seconds[0]]
    first_engine.dispose()
    second_engine.dispose()
    assert len(claimed) == 1


@pytest.mark.skipif(not PG_URL, reason='no PostgreSQL given (KUNDENPORTAL_TEST_POSTGRES_URL)')
def test_two_instances_starting_at_once_on_a_new_postgresql_database_both_start():
    """After a reboot the instances start at once and each migrates: one failed on a type the other had just made
    (no lock on PostgreSQL); now they take turns, and the second finds the schema done."""
    server = PG_URL.rsplit('/', 1)[0]
    name = f'kp_twostart_{uuid.uuid4().hex[:8]}'
    admin = create_engine(f'{server}/postgres', isolation_level='AUTOCOMMIT')
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE {name}')
    script = 'import sys; from storage.database import make_engine, migrate; migrate(make_engine(sys.argv[1]))'
    try:
        starts = [
            subprocess.Popen([sys.executable, '-c', script, f'{server}/{name}'], stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outcomes = [(start.wait(timeout=300), start.stderr.read()[-300:]) for start in starts]
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')
        admin.dispose()
    assert [code for code, _ in outcomes] == [0, 0], outcomes
