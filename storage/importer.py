"""Idempotent import of the billing system's CSV files, one transaction per file, streamed.

Any error in a file (reported as `file:line: reason`, every wrong line of the file) rolls the file's transaction
back: it imports whole or not at all. Rows are matched on their natural key, so importing the same
files again changes nothing and a changed row updates the record instead of duplicating it.
"""

import csv
import hashlib
import operator
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import TextIO

from sqlalchemy import (
    BindParameter,
    Column,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    bindparam,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import ColumnDefault

from domain.clock import Clock
from domain.einvoice import delivered_problem
from domain.identifiers import normalise
from domain.model import AuditEntry, Contract, Customer, Meter
from domain.stored import bill_file
from domain.types import Money
from storage.csv_kinds import KINDS, Kind, Lookups, Row
from storage.documents import store


@dataclass
class FileResult:
    name: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.errors:
            return f'{self.name}: NOT imported, {len(self.errors)} error(s):\n  ' + '\n  '.join(self.errors[:50])
        return (
            f'{self.name}: {self.rows} rows, {self.created} created, {self.updated} updated, {self.unchanged} unchanged'
        )


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

    A file is streamed in chunks of `CHUNK` rows (memory stays flat whatever its size): each chunk's parents and
    existing records are looked up by their keys and its rows written at once; a key already seen in the file is
    found in a temporary table. The first wrong line stops the writing, the rest is still checked for the report,
    and the file's transaction is rolled back: a file imports whole or not at all."""
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


CHUNK = 5000


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
        seen = _SeenKeys(connection) if careful else None
        created = updated = 0
        with ThreadPoolExecutor(1, thread_name_prefix='kp-import') as writer:
            try:
                for chunk in _chunks(kind, path, result, job.progress):
                    known = len(result.errors)
                    parents = _lookups_for(lookups, [row for _, row in chunk])
                    records = _checked(kind, path, chunk, parents, result, pdfs, compared=careful)
                    if seen is not None:
                        records = seen.first_of(kind, records, result)
                    result.errors[known:] = sorted(result.errors[known:], key=lambda e: int(e.split(':')[1]))
                    if result.errors:
                        continue  # checked to the end for the report, nothing more written
                    inserts, updates = _split(connection, kind, [record for _, record in records], careful)
                    if writing is not None:
                        writing.result()
                    if apart:
                        writing = writer.submit(_apply, connection, kind, inserts, updates)
                    elif write:
                        _apply(connection, kind, inserts, updates)
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
                _audit_import(connection, kind, job.clock, *audit)
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
) -> RowsResult:
    """The same checked, all-or-nothing upsert as a file import, for rows that arrive by the HTTP API.
    `kind_name` is a file's stem (customers, contracts, …); `pdfs` maps bill numbers to PDF documents, `xmls` to
    e-invoices (CII XML, checked against the EN 16931 schema and kept beside the PDF)."""
    kind = next(k for k in KINDS if k.file == f'{kind_name}.csv')
    result = RowsResult()
    with engine.connect() as connection:
        lookups = _lookups_for(connection, rows)
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
        inserts, updates = _plan(kind, records, _existing_keys(connection, kind, list(seen)))
        _apply(connection, kind, inserts, updates)
        result.created, result.updated = len(inserts), len(updates)
        for content in (pdfs or {}).values():
            store(documents, bill_file(content), content)
        for content in (xmls or {}).values():
            store(documents, bill_file(content, 'xml'), content)
        counts = (len(records), result.created, result.updated)
        _audit_import(connection, kind, clock, f'source={source}', *counts, source)
    result.unchanged = len(records) - result.created - result.updated
    return result


OPTIONAL_IN_API = ('pdf_file',)


def _split(connection: Connection, kind: Kind, records: list[dict], careful: bool) -> tuple[list[dict], list[dict]]:
    """The records to insert and to update; into an empty table (not `careful`) every one is new."""
    if not careful:
        return records, []
    keys = [tuple(record[k] for k in kind.key) for record in records]
    return _plan(kind, records, _existing_keys(connection, kind, keys))


def _plan(kind: Kind, records: list[dict], existing: dict[tuple, dict]) -> tuple[list[dict], list[dict]]:
    inserts, updates = [], []
    for record in records:
        old = existing.get(tuple(record[k] for k in kind.key))
        if old is None:
            inserts.append(record)
        elif any(old[c] != v for c, v in record.items()):
            updates.append({**record, 'row_id': old['id']})
    return inserts, updates


def _apply(connection, kind: Kind, inserts: list[dict], updates: list[dict]) -> None:
    table = kind.table.__table__  # type: ignore[attr-defined]  # SQLModel does not type __table__
    if inserts:
        _insert(connection, table, inserts)
    if updates:
        values: dict[str, BindParameter] = {c: bindparam(c) for c in updates[0] if c != 'row_id'}
        connection.execute(update(table).where(table.c.id == bindparam('row_id')).values(values), updates)


def _insert(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert rows with the driver's executemany: each value through its column type's bind processor (as
    SQLAlchemy would), without SQLAlchemy's handling of each row as a dict of parameters (a third of the time of
    an import; bench/import_run.py)."""
    dialect = connection.dialect
    given = list(rows[0])
    absent = [(c, c.default) for c in table.columns if c.name not in given and c.default is not None]
    scalar = [default for _, default in absent if isinstance(default, ColumnDefault) and default.is_scalar]
    if len(scalar) < len(absent):  # a default made per row: SQLAlchemy's way
        connection.execute(insert(table), rows)
        return
    defaults = tuple(default.arg for default in scalar)
    names = given + [column.name for column, _ in absent]
    columns = [table.c[name] for name in names]
    processors = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    quote = dialect.identifier_preparer.quote
    listed = ', '.join(quote(name) for name in names)
    active = [(at, process) for at, process in enumerate(processors) if process is not None]
    pick = operator.itemgetter(*given)  # a tuple, also for one column (below)
    single = len(given) == 1

    def converted() -> Iterator[list]:
        for row in rows:
            values = [pick(row)] if single else list(pick(row))
            values += defaults
            for at, process in active:
                values[at] = process(values[at])
            yield values

    if dialect.driver == 'psycopg':  # PostgreSQL's COPY, in the transaction: 150,000 customers in 64 s, 100 s with
        # the driver's executemany (bench/import_run.py, docs/operations.md)
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f'COPY {quote(table.name)} ({listed}) FROM STDIN') as copy:  # type: ignore[union-attr]
            for values in converted():
                copy.write_row(values)
        return
    mark = _mark(dialect)
    statement = f'INSERT INTO {quote(table.name)} ({listed}) VALUES ({", ".join([mark] * len(names))})'
    connection.exec_driver_sql(statement, [tuple(values) for values in converted()])


def _audit_import(
    connection, kind: Kind, clock: Clock, source: str, rows: int, created: int, updated: int, actor: str = 'import'
) -> None:
    connection.execute(
        insert(AuditEntry.__table__),  # type: ignore[attr-defined]  # SQLModel does not type __table__
        [
            {
                'at': clock.now(),
                'actor': actor,
                'action': f'import_{kind.file.removesuffix(".csv")}',
                'customer_id': None,
                'details': f'{source} rows={rows} created={created} updated={updated}',
                'address': '',
            }
        ],
    )


def _existing_keys(connection, kind: Kind, keys: list[tuple]) -> dict[tuple, dict]:
    """Only the records these keys name (an API call carries a few rows, the tables hold many)."""
    table = kind.table.__table__  # type: ignore[attr-defined]  # SQLModel does not type __table__
    columns = [table.c[k] for k in kind.key]
    found: dict[tuple, dict] = {}
    step = LOOKUP_BATCH // len(columns)
    for start in range(0, len(keys), step):
        chunk = keys[start : start + step]
        condition = columns[0].in_([k[0] for k in chunk]) if len(columns) == 1 else tuple_(*columns).in_(chunk)
        for row in connection.execute(select(table).where(condition)).mappings():
            found[tuple(row[k] for k in kind.key)] = dict(row)
    return found


def _lookups_for(connection: Connection, rows: list[Row]) -> Lookups:
    """The parents these rows name, by their natural keys (only for the columns the rows have)."""
    postgres = connection.dialect.name == 'postgresql'
    mark = _mark(connection.dialect)
    quote = connection.dialect.identifier_preparer.quote

    def pairs(column: str, key_column, id_column) -> dict[str, int]:
        given = {row.get(column) for row in rows}  # a chunk's rows name far fewer parents than they are
        values = sorted({normalise(str(value or '')) for value in given} - {''})
        found: dict[str, int] = {}
        table, key = quote(key_column.table.name), quote(key_column.name)
        columns = f'SELECT {key}, {quote(id_column.name)} FROM {table}'
        for start in range(0, len(values), LOOKUP_BATCH):
            batch = values[start : start + LOOKUP_BATCH]
            # the driver's own SQL: SQLAlchemy would compile the IN of thousands of values per chunk; PostgreSQL
            # takes them as one array, written as one text (the driver's array of values costs more than the query)
            parameters: tuple
            if postgres:
                query, parameters = f'{columns} WHERE {key} = ANY({mark}::text[])', (_array(batch),)
            else:
                query, parameters = f'{columns} WHERE {key} IN ({", ".join([mark] * len(batch))})', tuple(batch)
            found.update(connection.exec_driver_sql(query, parameters).fetchall())
        return found

    return Lookups(
        pairs('customer_number', Customer.customer_number, Customer.id),
        pairs('contract_number', Contract.contract_number, Contract.id),
        pairs('meter_number', Meter.meter_number, Meter.id),
    )


def _mark(dialect) -> str:
    """The driver's placeholder for a parameter in its own SQL (SQLite's `?`, psycopg's `%s`)."""
    return '?' if dialect.paramstyle == 'qmark' else '%s'


def _array(values: list[str]) -> str:
    """PostgreSQL's text of an array of texts: each value in double quotes, its quotes and backslashes escaped."""
    return '{' + ','.join('"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"' for v in values) + '}'


LOOKUP_BATCH = 5000  # values in one IN (…): far below SQLite's and PostgreSQL's limits on parameters


def _lines(path: Path) -> int:
    """For the progress bar: the file's lines, counted as bytes rather than decoded (a twentieth of an import)."""
    newlines, returns, last = 0, 0, b'\n'
    with path.open('rb') as raw:
        for block in iter(lambda: raw.read(1 << 20), b''):
            newlines, returns, last = newlines + block.count(b'\n'), returns + block.count(b'\r'), block[-1:]
    if not newlines:  # lines ended by a carriage return alone (old Mac files), as the CSV reader takes them
        return returns + (last not in b'\r\n')
    return newlines + (last != b'\n')


def _chunks(kind: Kind, path: Path, result: FileResult, progress: TextIO | None) -> Iterator[list[tuple[int, Row]]]:
    """The file's rows with their line numbers, `CHUNK` at a time (a wrong header is the file's only error)."""
    total = max(_lines(path) - 1, 0)
    with path.open(encoding='utf-8-sig', newline='') as handle:
        reader = csv.reader(handle, delimiter=';')  # rows made into dicts below: csv.DictReader's, without its
        header = next(reader, [])  # per-row method (a twentieth of an import)
        missing = [c for c in kind.columns if c not in header and c not in kind.optional]
        if missing:
            result.errors.append(f'{kind.file}:1: missing column(s) {", ".join(missing)}')
            return
        bar = _ProgressBar(progress, kind.file, total)
        chunk: list[tuple[int, Row]] = []
        width = len(header)
        for number, fields in enumerate(filter(None, reader), start=2):  # blank lines skipped, as DictReader does
            result.rows += 1
            if len(fields) < width:  # a short row's last columns are empty, as with DictReader
                fields += [''] * (width - len(fields))
            chunk.append((number, dict(zip(header, fields, strict=False))))
            if len(chunk) == CHUNK:
                bar.step(len(chunk))
                yield chunk
                chunk = []
        if chunk:
            bar.step(len(chunk))
            yield chunk
        bar.done()


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
            result.errors.append(f'{kind.file}:{number}: {error}')
            continue
        document = record.get('pdf_path')
        beside = path.parent / document if document else None
        if beside is not None and (not beside.is_file() or beside.resolve().parent != path.parent.resolve()):
            result.errors.append(f'{kind.file}:{number}: pdf_file {document!r} is not a file beside the CSV')
            continue
        if beside is not None:  # kept under the data folder at a name of the portal's
            record['pdf_path'] = bill_file(beside.read_bytes())
            pdfs[record['pdf_path']] = beside
        records.append((number, record))
    return records


_SEEN = Table(
    'kp_import_seen',
    MetaData(),
    Column('digest', LargeBinary(16), primary_key=True),
    Column('line', Integer, nullable=False),
    prefixes=['TEMPORARY'],
)


class _SeenKeys:
    """The keys of a file's rows so far, in a temporary table of the import's connection (a digest and the line
    each): a key that comes twice is an error, found without keeping the file's keys in memory."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.mark = _mark(connection.dialect)
        _SEEN.drop(connection, checkfirst=True)  # left by an import that failed on this pooled connection
        _SEEN.create(connection)

    def first_of(self, kind: Kind, records: list[tuple[int, dict]], result: FileResult) -> list[tuple[int, dict]]:
        """The records whose key comes for the first time; the others are reported with the line that had it."""
        firsts: dict[bytes, int] = {}  # digest → line, in this chunk
        keyed: list[tuple[int, dict, bytes]] = []
        for number, record in records:
            key = '\x1f'.join(str(record[k]) for k in kind.key).encode()
            keyed.append((number, record, hashlib.blake2b(key, digest_size=16).digest()))
        # the driver's own SQL: a chunk's thousands of parameters without SQLAlchemy's processing of each
        earlier: dict[bytes, int] = {}  # digest → line, in an earlier chunk
        if keyed:
            marks = ', '.join([self.mark] * len(keyed))
            query = f'SELECT digest, line FROM {_SEEN.name} WHERE digest IN ({marks})'
            found = self.connection.exec_driver_sql(query, tuple(d for _, _, d in keyed))
            earlier.update((bytes(digest), line) for digest, line in found)
        kept: list[tuple[int, dict]] = []
        for number, record, digest in keyed:
            first = earlier.get(digest) or firsts.get(digest)
            if first is not None:
                result.errors.append(f'{kind.file}:{number}: same key as line {first}')
                continue
            firsts[digest] = number
            kept.append((number, record))
        if firsts:
            statement = f'INSERT INTO {_SEEN.name} (digest, line) VALUES ({self.mark}, {self.mark})'
            self.connection.exec_driver_sql(statement, list(firsts.items()))
        return kept

    def drop(self) -> None:
        _SEEN.drop(self.connection, checkfirst=True)


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


class _ProgressBar:
    """A text progress bar on the operator's terminal for files of a thousand rows or more."""

    def __init__(self, stream: TextIO | None, label: str, total: int) -> None:
        self.stream = stream if total >= 1000 else None
        self.label, self.total, self.count, self.shown = label, total, 0, -1

    def step(self, rows: int = 1) -> None:
        self.count += rows
        percent = self.count * 100 // max(self.total, 1)
        if self.stream is not None and percent != self.shown:
            self.shown = percent
            filled = percent // 5
            print(
                f'\r{self.label:<18} [{"#" * filled}{"." * (20 - filled)}] {percent:3d}% {self.count:,}/{self.total:,}',
                end='',
                file=self.stream,
                flush=True,
            )

    def done(self) -> None:
        if self.stream is not None:
            print(file=self.stream, flush=True)
