"""Backup and restore of the embedded default (SQLite online backup plus documents), and of PostgreSQL with
pg_dump/pg_restore as docs/operations.md describes."""

import subprocess
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from service.cli import main
from storage.database import make_engine, migrate
from tests.factories import make_customer


def count(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        value = connection.execute(text(f'SELECT count(*) FROM {table}')).scalar_one()
    engine.dispose()
    return value


def test_a_sqlite_backup_taken_while_writing_restores_into_an_empty_folder(tmp_path, monkeypatch, capsys):
    data = tmp_path / 'data'
    url = f'sqlite:///{data / "kundenportal.db"}'
    data.mkdir()
    engine = make_engine(url)
    migrate(engine)
    for _ in range(20):
        make_customer(engine)
    (data / 'documents' / 'bills').mkdir(parents=True)
    (data / 'documents' / 'bills' / 'RE1.pdf').write_bytes(b'%PDF-1.4 eins')
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', url)
    monkeypatch.setenv('KUNDENPORTAL_DATA_DIR', str(data))
    stop = threading.Event()

    def keep_writing() -> None:  # the portal goes on working during the backup
        while not stop.is_set():
            make_customer(engine)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert main(['backup', str(tmp_path / 'backup.tar.gz')]) == 0
    finally:
        stop.set()
        writer.join()
    assert 'database and 1 documents' in capsys.readouterr().out
    engine.dispose()

    restored = tmp_path / 'restored'
    restored_url = f'sqlite:///{restored / "kundenportal.db"}'
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', restored_url)
    monkeypatch.setenv('KUNDENPORTAL_DATA_DIR', str(restored))
    assert main(['restore', str(tmp_path / 'backup.tar.gz')]) == 0
    assert count(restored_url, 'customer') >= 20
    assert (restored / 'documents' / 'bills' / 'RE1.pdf').read_bytes() == b'%PDF-1.4 eins'
    assert main(['restore', str(tmp_path / 'backup.tar.gz')]) == 1  # never over existing data
    assert 'only into an empty data folder' in capsys.readouterr().err


@pytest.mark.parametrize('database_url', ['postgresql'], indirect=True)
def test_a_postgresql_dump_restores_as_docs_operations_says(engine, database_url, tmp_path):
    for _ in range(5):
        make_customer(engine)
    plain = database_url.replace('postgresql+psycopg://', 'postgresql://')
    dump = tmp_path / 'portal.dump'
    subprocess.run(['pg_dump', '-Fc', '-f', str(dump), plain], check=True)
    target = f'kp_restore_{uuid.uuid4().hex[:8]}'
    admin = plain.rsplit('/', 1)[0] + '/postgres'
    subprocess.run(['psql', '-q', admin, '-c', f'CREATE DATABASE {target}'], check=True)
    try:
        subprocess.run(
            ['pg_restore', '--no-owner', '-d', plain.rsplit('/', 1)[0] + f'/{target}', str(dump)], check=True
        )
        restored = database_url.rsplit('/', 1)[0] + f'/{target}'
        assert count(restored, 'customer') == 5
        restored_engine = make_engine(restored)
        migrate(restored_engine)  # upgrade by migration works on a restored database
        restored_engine.dispose()
    finally:
        subprocess.run(['psql', '-q', admin, '-c', f'DROP DATABASE IF EXISTS {target} WITH (FORCE)'], check=True)
