"""Backup and restore of the embedded default: the SQLite database (online backup, consistent while the portal
runs and writes) together with the documents folder (bill PDFs, inbox documents, logo), in one .tar.gz.

With PostgreSQL the database is backed up with its own tools (`pg_dump -Fc`, `pg_restore`; see
docs/operations.md); `backup` then saves the documents folder only.
"""

import contextlib
import sqlite3
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

DATABASE_NAME = 'kundenportal.db'


@dataclass(frozen=True)
class BackupSummary:
    archive: Path
    database: bool
    documents: int
    size: int
    restored_into: Path | None = None  # a restore's data folder (None: a backup)

    def describe(self) -> str:
        what = 'database and ' if self.database else ''
        if self.restored_into is not None:
            return f'Restored from {self.archive} into {self.restored_into}: {what}{self.documents} documents.' + (
                '' if self.database else ' The database is PostgreSQL: restore it with pg_restore.'
            )
        return f'Backup written to {self.archive} ({self.size / 2**20:.1f} MB): {what}{self.documents} documents.' + (
            '' if self.database else ' The database is PostgreSQL: back it up with pg_dump -Fc.'
        )


def backup(url: str, documents: Path, archive: Path) -> BackupSummary:
    """Write `archive` (.tar.gz); the SQLite copy is taken with SQLite's online backup API. A SQLite database that is
    not there is an error (a mistyped data folder made an empty database and reported it backed up); so is, with
    PostgreSQL, a documents folder that is not there (the archive held nothing and was reported written)."""
    sqlite_path = _sqlite_path(url)
    if sqlite_path is not None and not (sqlite_path.is_file() and sqlite_path.stat().st_size > 0):
        raise FileNotFoundError(f'no database at {sqlite_path}: is KUNDENPORTAL_DATA_DIR (or the database URL) right?')
    if sqlite_path is None and not documents.is_dir():
        raise FileNotFoundError(f'no documents folder at {documents}: is KUNDENPORTAL_DATA_DIR right?')
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + '.part')
    count = 0
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(partial, 'w:gz') as tar:
        if sqlite_path is not None:
            snapshot = Path(scratch) / DATABASE_NAME
            with sqlite3.connect(sqlite_path) as source, sqlite3.connect(snapshot) as target:
                source.backup(target)
            tar.add(snapshot, arcname=DATABASE_NAME)
        if documents.is_dir():
            for path in sorted(p for p in documents.rglob('*') if p.is_file() and not p.name.endswith('.part')):
                tar.add(path, arcname=f'documents/{path.relative_to(documents)}')
                count += 1
    partial.replace(archive)
    return BackupSummary(archive, sqlite_path is not None, count, archive.stat().st_size)


def restore(url: str, documents: Path, archive: Path) -> BackupSummary:
    """Unpack a backup into an empty data folder (refuses to overwrite a database or documents)."""
    sqlite_path = _sqlite_path(url)
    if sqlite_path is not None and sqlite_path.exists() and sqlite_path.stat().st_size > 0:
        raise FileExistsError(f'{sqlite_path} exists: restore only into an empty data folder')
    if documents.is_dir() and any(documents.rglob('*')):
        raise FileExistsError(f'{documents} is not empty: restore only into an empty data folder')
    count, database = 0, False
    with contextlib.ExitStack() as stack:
        try:
            tar = stack.enter_context(tarfile.open(archive, 'r:gz'))
            members = tar.getmembers()  # the whole archive read before anything is written: a cut-off one writes none
        except (tarfile.TarError, EOFError, zlib.error) as error:
            raise ValueError(f'{archive} is not a whole backup of the portal ({error})') from None
        for member in members:
            if not member.isfile():
                continue
            if member.name == DATABASE_NAME and sqlite_path is not None:
                sqlite_path.parent.mkdir(parents=True, exist_ok=True)
                _extract(tar, member, sqlite_path)
                database = True
            elif member.name.startswith('documents/'):
                target = (documents / member.name.removeprefix('documents/')).resolve()
                if documents.resolve() not in target.parents:
                    raise ValueError(f'{member.name}: outside the documents folder')
                target.parent.mkdir(parents=True, exist_ok=True)
                _extract(tar, member, target)
                count += 1
    folder = sqlite_path.parent if sqlite_path is not None else documents.parent
    return BackupSummary(archive, database, count, archive.stat().st_size, folder)


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = tar.extractfile(member)
    assert source is not None
    with source, target.open('wb') as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)


def _sqlite_path(url: str) -> Path | None:
    return Path(url.split(':///', 1)[1]) if url.startswith('sqlite:///') else None
