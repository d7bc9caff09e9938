"""Idempotent import of the billing system's CSV files, one transaction per file.

A file is read and checked completely before anything is written; any error (reported as `file:line:
reason`) leaves that file out entirely. Rows are matched on their natural key, so importing the same
files again changes nothing and a changed row updates the record instead of duplicating it.
"""

import csv
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TextIO

from sqlalchemy import BindParameter, Engine, bindparam, insert, select, tuple_, update

from domain.clock import Clock
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
    """Import every known file found in `folder`, in dependency order. With `check_only` nothing is written:
    the result tells per file what would be created or updated, or which lines are wrong (a preview)."""
    result = ImportResult()
    lookups = _lookups(engine)
    for kind in KINDS:
        path = folder / kind.file
        if path.is_file():
            outcome = _import_file(
                engine, kind, path, lookups, documents or folder / 'documents', clock, progress, check_only, actor
            )
            result.files.append(outcome)
            if progress is not None:
                print(outcome.describe(), file=progress, flush=True)
    if not result.files and progress is not None:
        print(f'no known CSV files in {folder} (expected: {", ".join(k.file for k in KINDS)})', file=progress)
    return result


def _import_file(
    engine: Engine,
    kind: Kind,
    path: Path,
    lookups: Lookups,
    documents: Path,
    clock: Clock,
    progress: TextIO | None,
    check_only: bool = False,
    actor: str = 'import',
) -> FileResult:
    result = FileResult(kind.file)
    pdfs: dict[str, Path] = {}
    records = _read(kind, path, lookups, result, progress, pdfs)
    if result.errors:
        return result
    with engine.begin() as connection:
        inserts, updates = _plan(kind, records, _existing(connection, kind))
        if not check_only:
            _apply(connection, kind, inserts, updates)
            _copy_documents(pdfs, documents)
            audit = (f'file={path.name}', len(records), len(inserts), len(updates), actor)
            _audit_import(connection, kind, clock, *audit)
    result.created, result.updated = len(inserts), len(updates)
    result.unchanged = len(records) - len(inserts) - len(updates)
    if kind.lookup and check_only:  # later files of the preview may name the new records
        known = getattr(lookups, kind.lookup)
        known.update({record[kind.key[0]]: -1 for record in inserts})
    elif kind.lookup:
        setattr(lookups, kind.lookup, _lookups(engine).__dict__[kind.lookup])
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
) -> RowsResult:
    """The same checked, all-or-nothing upsert as a file import, for rows that arrive by the HTTP API.
    `kind_name` is a file's stem (customers, contracts, …); `pdfs` maps bill numbers to PDF documents."""
    kind = next(k for k in KINDS if k.file == f'{kind_name}.csv')
    result = RowsResult()
    lookups = _lookups_for(engine, rows)
    records: list[dict] = []
    seen: dict[tuple, int] = {}  # key: row index
    for index, row in enumerate(rows):
        missing = [c for c in kind.columns if c not in row and c not in OPTIONAL_IN_API]
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
        records.append(record)
    if result.errors:
        return result
    with engine.begin() as connection:
        inserts, updates = _plan(kind, records, _existing_keys(connection, kind, list(seen)))
        _apply(connection, kind, inserts, updates)
        result.created, result.updated = len(inserts), len(updates)
        for content in (pdfs or {}).values():
            store(documents, bill_file(content), content)
        counts = (len(records), result.created, result.updated)
        _audit_import(connection, kind, clock, f'source={source}', *counts, source)
    result.unchanged = len(records) - result.created - result.updated
    return result


OPTIONAL_IN_API = ('pdf_file',)


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
    for start in range(0, len(inserts), 20000):
        connection.execute(insert(table), inserts[start : start + 20000])
    if updates:
        values: dict[str, BindParameter] = {c: bindparam(c) for c in updates[0] if c != 'row_id'}
        connection.execute(update(table).where(table.c.id == bindparam('row_id')).values(values), updates)


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
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        condition = columns[0].in_([k[0] for k in chunk]) if len(columns) == 1 else tuple_(*columns).in_(chunk)
        for row in connection.execute(select(table).where(condition)).mappings():
            found[tuple(row[k] for k in kind.key)] = dict(row)
    return found


def _lookups_for(engine: Engine, rows: list[Row]) -> Lookups:
    """The parents these rows name, by their natural keys."""

    def wanted(column: str) -> list[str]:
        return sorted({normalise(str(row.get(column) or '')) for row in rows} - {''})

    with engine.connect() as connection:

        def pairs(key_column, id_column, values: list[str]) -> dict[str, int]:
            found: dict[str, int] = {}
            for start in range(0, len(values), 500):
                query = select(key_column, id_column).where(key_column.in_(values[start : start + 500]))
                found.update({key: value for key, value in connection.execute(query)})
            return found

        return Lookups(
            pairs(Customer.customer_number, Customer.id, wanted('customer_number')),
            pairs(Contract.contract_number, Contract.id, wanted('contract_number')),
            pairs(Meter.meter_number, Meter.id, wanted('meter_number')),
        )


def _read(
    kind: Kind, path: Path, lookups: Lookups, result: FileResult, progress: TextIO | None, documents: dict[str, Path]
) -> list[dict]:
    with path.open(encoding='utf-8-sig', newline='') as handle:
        total = max(sum(1 for _ in handle) - 1, 0)
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=';')
        missing = [c for c in kind.columns if c not in (reader.fieldnames or [])]
        if missing:
            result.errors.append(f'{kind.file}:1: missing column(s) {", ".join(missing)}')
            return []
        bar = _ProgressBar(progress, kind.file, total)
        records: list[dict] = []
        seen: dict[tuple, int] = {}  # key: line number
        for number, row in enumerate(reader, start=2):
            result.rows += 1
            bar.step()
            try:
                record = _quantised(kind, kind.convert(row, lookups))
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
                documents[record['pdf_path']] = beside
            key = tuple(record[k] for k in kind.key)
            if key in seen:
                result.errors.append(f'{kind.file}:{number}: same key as line {seen[key]}')
                continue
            seen[key] = number
            records.append(record)
        bar.done()
    return records


def _quantised(kind: Kind, record: dict) -> dict:
    """Round money and quantities as the column stores them, so a re-import compares equal."""
    for column in kind.table.__table__.columns:  # type: ignore[attr-defined]  # SQLModel does not type __table__
        value = record.get(column.name)
        if isinstance(column.type, Money) and isinstance(value, Decimal):
            record[column.name] = value.quantize(column.type.places, ROUND_HALF_UP)
    return record


def _existing(connection, kind: Kind) -> dict[tuple, dict]:
    table = kind.table.__table__  # type: ignore[attr-defined]  # SQLModel does not type __table__
    return {tuple(row[k] for k in kind.key): dict(row) for row in connection.execute(select(table)).mappings()}


def _copy_documents(pdfs: dict[str, Path], documents: Path) -> None:
    """Bills may name a PDF beside the CSV; it is kept under the data folder as the bill's document."""
    for relative, source in pdfs.items():
        store(documents, relative, source.read_bytes())


def _lookups(engine: Engine) -> Lookups:
    with engine.connect() as connection:

        def pairs(column, id_column) -> dict[str, int]:
            return {key: value for key, value in connection.execute(select(column, id_column))}

        return Lookups(
            pairs(Customer.customer_number, Customer.id),
            pairs(Contract.contract_number, Contract.id),
            pairs(Meter.meter_number, Meter.id),
        )


class _ProgressBar:
    """A text progress bar on the operator's terminal for files of a thousand rows or more."""

    def __init__(self, stream: TextIO | None, label: str, total: int) -> None:
        self.stream = stream if total >= 1000 else None
        self.label, self.total, self.count, self.shown = label, total, 0, -1

    def step(self) -> None:
        self.count += 1
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
