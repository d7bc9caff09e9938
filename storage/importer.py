"""Idempotent import of the billing system's CSV files, one transaction per file, streamed.

Any error in a file (reported as `file:line: reason`, every wrong line of the file) rolls the file's transaction
back: it imports whole or not at all. Rows are matched on their natural key, so importing the same
files again changes nothing and a changed row updates the record instead of duplicating it.
"""

import sys
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import TextIO

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from domain.clock import Clock
from domain.einvoice import delivered_problem
from domain.errors import NotAllowed
from domain.model import ApiToken
from domain.stored import bill_file
from domain.types import Money
from storage.csv_kinds import KINDS, Kind, Lookups, Row
from storage.documents import store
from storage.import_problems import Problem, RowProblem
from storage.import_reading import FileResult, chunks
from storage.import_tables import SeenKeys, audit_import, existing_keys, lookups_for, plan, split_records, write_records


@dataclass
class ImportResult:
    files: list[FileResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.files) and not any(f.errors for f in self.files)


def import_folder(
    engine: Engine,
    folder: Path,
    documents: Path | None,
    clock: Clock,
    progress: TextIO | None = None,
    check_only: bool = False,
    actor: str = 'import',
) -> ImportResult:
    """Import every known file found in `folder`, in dependency order, each in one transaction. With `check_only`
    nothing is written: the result tells per file what would be created or updated, or which lines are wrong (a
    preview: all files in one transaction that is rolled back, so that later files see the records of earlier ones).

    A file is streamed in chunks of `import_reading.CHUNK` rows (memory stays flat whatever its size): each chunk's
    parents and existing records are looked up by their keys and its rows written at once; a key already seen in the
    file is found in a temporary table. The first wrong line stops the writing, the rest is still checked for the
    report, and the file's transaction is rolled back: a file imports whole or not at all."""
    result = ImportResult()
    kinds = [(kind, folder / kind.file) for kind in KINDS if (folder / kind.file).is_file()]
    with engine.connect() as connection:
        preview = connection.begin() if check_only else None
        kept = documents or folder / 'documents'
        for kind, path in kinds:
            outcome = _import_file(_FileJob(connection, kind, path, kept, clock, progress, check_only, actor))
            result.files.append(outcome)
            if progress is not None:
                print(outcome.describe(), file=progress, flush=True)
        if preview is not None:
            preview.rollback()
    if not result.files and progress is not None:
        print(f'no known CSV files in {folder} (expected: {", ".join(k.file for k in KINDS)})', file=progress)
    return result


@dataclass(frozen=True)
class _FileJob:
    """One file of an import: where it goes, and how (a preview with `check_only`)."""

    connection: Connection
    kind: Kind
    path: Path
    documents: Path
    clock: Clock
    progress: TextIO | None
    check_only: bool
    actor: str


def _import_file(job: _FileJob) -> FileResult:
    """One file in one transaction. Into an empty table (the first load of a utility's data) every row is new and
    the table's unique key finds a key given twice: the quick pass. Should it find one, the file's transaction is
    rolled back and the careful pass says on which lines (the careful pass also serves a table with records, where
    each chunk's existing records are looked up, and a preview)."""
    connection = job.connection
    table = job.kind.table.__table__  # type: ignore[attr-defined]  # SQLModel does not type __table__
    if job.check_only:
        # A preview: checked without writing first, so that a file with a wrong line leaves none of its rows for
        # later files to find; a right one is then written into the preview's transaction when later files may
        # name its records.
        result = _import_pass(job, careful=True, write=False)
        if not result.errors and job.kind.lookup:
            _import_pass(job, careful=True)
        return result
    empty = connection.execute(select(table.c.id).limit(1)).first() is None
    connection.rollback()  # the look ended; each pass has a transaction of its own
    if empty:
        try:
            quick = _import_pass(job, careful=False)
            if not quick.errors:
                return quick
            # it stopped writing at the first wrong line: a key given twice after it is found by the careful pass
        except (IntegrityError, connection.dialect.loaded_dbapi.IntegrityError):  # the latter from COPY
            pass
    return _import_pass(job, careful=True)


def _import_pass(job: _FileJob, careful: bool, write: bool = True) -> FileResult:
    connection, kind, path, check_only = job.connection, job.kind, job.path, job.check_only
    result = FileResult(kind.file)
    pdfs: dict[str, Path] = {}
    # On PostgreSQL the quick pass writes a chunk on a thread of its own while the next is read and checked (the
    # server's work and the driver's waits overlap Python's, on the second core), looking up parents on a second
    # connection: they were committed with their files. SQLite does its work in this process, under the same lock
    # as Python: a writing thread made its import slower (69.6 s against 49.3 s, bench/import_run.py). The careful
    # pass and a preview use the import's one connection.
    apart = write and not careful and connection.dialect.name == 'postgresql'
    lookups = connection.engine.connect() if apart else connection
    writing: Future[None] | None = None
    transaction = None if check_only else connection.begin()
    try:
        seen = SeenKeys(connection) if careful else None
        created = updated = 0
        with ThreadPoolExecutor(1, thread_name_prefix='kp-import') as writer:
            try:
                known = 0  # the errors of the lines from here on (the reading adds those of a row's shape)
                for chunk in chunks(kind, path, result, job.progress):
                    parents = lookups_for(lookups, [row for _, row in chunk])
                    records = _checked(kind, path, chunk, parents, result, pdfs, compared=careful)
                    if seen is not None:
                        records = seen.first_of(kind, records, result)
                    result.errors[known:] = sorted(result.errors[known:], key=lambda e: int(e.split(':')[1]))
                    known = len(result.errors)
                    if result.errors:
                        continue  # checked to the end for the report, nothing more written
                    inserts, updates = split_records(connection, kind, [record for _, record in records], careful)
                    if writing is not None:
                        writing.result()
                    if apart:
                        writing = writer.submit(write_records, connection, kind, inserts, updates)
                    elif write:
                        write_records(connection, kind, inserts, updates)
                    created, updated = created + len(inserts), updated + len(updates)
            finally:
                if writing is not None:  # done before the transaction ends; its failure is raised here, unless
                    if sys.exc_info()[1] is None:  # another (an interrupt, a failure here) is on its way already
                        writing.result()
                    else:
                        wait([writing])
        if seen is not None:
            seen.drop()
        if not result.errors:
            result.created, result.updated = created, updated
            result.unchanged = result.rows - created - updated
            if not check_only and write:
                _copy_documents(pdfs, job.documents)
                audit = (f'file={path.name}', result.rows, created, updated, job.actor)
                audit_import(connection, kind, job.clock, *audit)
    except BaseException:
        if transaction is not None:
            transaction.rollback()
        raise
    finally:
        if lookups is not connection:
            lookups.close()
    if transaction is not None:
        (transaction.rollback if result.errors else transaction.commit)()
    return result


@dataclass
class RowsResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row index, column, reason)


def import_rows(
    engine: Engine,
    documents: Path,
    clock: Clock,
    kind_name: str,
    rows: list[Row],
    pdfs: dict[str, bytes] | None = None,
    source: str = 'api',
    xmls: dict[str, bytes] | None = None,
    token_id: int | None = None,
) -> RowsResult:
    """The same checked, all-or-nothing upsert as a file import, for rows that arrive by the HTTP API.
    `kind_name` is a file's stem (customers, contracts, …); `pdfs` maps bill numbers to PDF documents, `xmls` to
    e-invoices (CII XML, checked against the EN 16931 schema and kept beside the PDF)."""
    kind = next(k for k in KINDS if k.file == f'{kind_name}.csv')
    result = RowsResult()
    with engine.connect() as connection:
        lookups = lookups_for(connection, rows)
    records: list[dict] = []
    seen: dict[tuple, int] = {}  # key: row index
    for index, row in enumerate(rows):
        missing = [c for c in kind.columns if c not in row and c not in OPTIONAL_IN_API and c not in kind.optional]
        if missing:
            result.errors.append((index, missing[0], 'missing'))
            continue
        try:
            record = _quantised(kind, kind.convert(row, lookups))
        except ValueError as error:
            column = str(error).split(' ', 1)[0]
            result.errors.append((index, column if column in kind.columns else '', str(error)))
            continue
        key = tuple(record[k] for k in kind.key)
        if key in seen:
            result.errors.append((index, kind.columns[0], f'same key as row {seen[key]}'))
            continue
        seen[key] = index
        if kind.file == 'bills.csv':
            content = (pdfs or {}).get(record['bill_number'])
            record['pdf_path'] = bill_file(content) if content else ''
            xml = (xmls or {}).get(record['bill_number'])
            problem = delivered_problem(xml, record['bill_number']) if xml is not None else ''
            if problem:
                result.errors.append((index, 'xml', problem))
                continue
            record['xml_path'] = bill_file(xml, 'xml') if xml is not None else ''  # as pdf_path: what this post says
        records.append(record)
    if result.errors:
        return result
    with engine.begin() as connection:
        if token_id is not None and not _in_force(connection, token_id):
            raise NotAllowed()  # the API token was revoked after the request's check: nothing is written
        inserts, updates = plan(kind, records, existing_keys(connection, kind, list(seen)))
        write_records(connection, kind, inserts, updates)
        result.created, result.updated = len(inserts), len(updates)
        for content in (pdfs or {}).values():
            store(documents, bill_file(content), content)
        for content in (xmls or {}).values():
            store(documents, bill_file(content, 'xml'), content)
        counts = (len(records), result.created, result.updated)
        audit_import(connection, kind, clock, f'source={source}', *counts, source)
    result.unchanged = len(records) - result.created - result.updated
    return result


OPTIONAL_IN_API = ('pdf_file',)


def _in_force(connection: Connection, token_id: int) -> bool:
    """Whether the API token still may write, checked in the import's own transaction (its row held against a
    revocation until the import commits, on PostgreSQL; SQLite writes one transaction at a time)."""
    query = select(col(ApiToken.revoked_at), col(ApiToken.scope)).where(col(ApiToken.id) == token_id)
    query = query.with_for_update(read=True)
    row = connection.execute(query).first()
    return row is not None and row.revoked_at is None and row.scope == 'write'


def _checked(
    kind: Kind,
    path: Path,
    chunk: list[tuple[int, Row]],
    lookups: Lookups,
    result: FileResult,
    pdfs: dict[str, Path],
    compared: bool = True,
) -> list[tuple[int, dict]]:
    """The chunk's rows as records (line number, values); each wrong row adds `file:line: reason` to the result.
    Records `compared` with stored ones are rounded as stored first; new ones are rounded by their column type as
    they are written."""
    records: list[tuple[int, dict]] = []
    for number, row in chunk:
        try:
            record = kind.convert(row, lookups)
            if compared:
                record = _quantised(kind, record)
        except ValueError as error:
            result.errors.append(Problem(f'{kind.file}:{number}', error))
            continue
        document = record.get('pdf_path')
        beside = path.parent / document if document else None
        if beside is not None and (not beside.is_file() or beside.resolve().parent != path.parent.resolve()):
            result.errors.append(Problem(f'{kind.file}:{number}', RowProblem('not_beside', value=repr(document))))
            continue
        if beside is not None:  # kept under the data folder at a name of the portal's
            record['pdf_path'] = bill_file(beside.read_bytes())
            pdfs[record['pdf_path']] = beside
        records.append((number, record))
    return records


def _quantised(kind: Kind, record: dict) -> dict:
    """Round money and quantities as the column stores them, so a re-import compares equal."""
    for name, places in _money_columns(kind):
        value = record.get(name)
        if isinstance(value, Decimal):
            record[name] = value.quantize(places, ROUND_HALF_UP)
    return record


@cache
def _money_columns(kind: Kind) -> tuple[tuple[str, Decimal], ...]:
    columns = kind.table.__table__.columns  # type: ignore[attr-defined]  # SQLModel does not type __table__
    return tuple((column.name, column.type.places) for column in columns if isinstance(column.type, Money))


def _copy_documents(pdfs: dict[str, Path], documents: Path) -> None:
    """Bills may name a PDF beside the CSV; it is kept under the data folder as the bill's document."""
    for relative, source in pdfs.items():
        store(documents, relative, source.read_bytes())
