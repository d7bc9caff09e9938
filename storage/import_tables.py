"""What an import does in the database: the records to insert and to update, writing them (PostgreSQL's COPY, the
driver's executemany on SQLite), the parents' lookups by natural key, the keys a file has given so far, and the
audit entry. The importer (storage.importer) reads, checks and drives."""

import hashlib
import operator
from collections.abc import Iterator

from sqlalchemy import (
    BindParameter,
    Column,
    Connection,
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
from sqlalchemy.schema import ColumnDefault

from domain.clock import Clock
from domain.identifiers import normalise
from domain.model import AuditEntry, Contract, Customer, Meter
from storage.csv_kinds import Kind, Lookups, Row
from storage.feed_lock import hold_changes
from storage.import_problems import Problem, RowProblem
from storage.import_reading import FileResult


def split_records(
    connection: Connection, kind: Kind, records: list[dict], careful: bool
) -> tuple[list[dict], list[dict]]:
    """The records to insert and to update; into an empty table (not `careful`) every one is new."""
    if not careful:
        return records, []
    keys = [tuple(record[k] for k in kind.key) for record in records]
    return plan(kind, records, existing_keys(connection, kind, keys))


def plan(kind: Kind, records: list[dict], existing: dict[tuple, dict]) -> tuple[list[dict], list[dict]]:
    inserts, updates = [], []
    for record in records:
        old = existing.get(tuple(record[k] for k in kind.key))
        if old is None:
            inserts.append(record)
            continue
        if not any(old[c] != v for c, v in record.items() if c not in kind.kept or record.get(c)):
            continue  # the same row without its files: what was delivered stays (a changed row takes them as given)
        if any(old[c] != v for c, v in record.items()):
            updates.append({**record, 'row_id': old['id']})
    return inserts, updates


def write_records(connection, kind: Kind, inserts: list[dict], updates: list[dict]) -> None:
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
    mark = placeholder(dialect)
    statement = f'INSERT INTO {quote(table.name)} ({listed}) VALUES ({", ".join([mark] * len(names))})'
    connection.exec_driver_sql(statement, [tuple(values) for values in converted()])


def audit_import(
    connection, kind: Kind, clock: Clock, source: str, rows: int, created: int, updated: int, actor: str = 'import'
) -> None:
    hold_changes(connection)  # the feed reads ids once they are committed (storage/feed_lock.py)
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


def existing_keys(connection, kind: Kind, keys: list[tuple]) -> dict[tuple, dict]:
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


def lookups_for(connection: Connection, rows: list[Row]) -> Lookups:
    """The parents these rows name, by their natural keys (only for the columns the rows have)."""
    postgres = connection.dialect.name == 'postgresql'
    mark = placeholder(connection.dialect)
    quote = connection.dialect.identifier_preparer.quote

    def pairs(column: str, key_column, id_column, *more) -> dict:
        """Key → id; with `more` columns, key → (id, *more)."""
        given = {row.get(column) for row in rows}  # a chunk's rows name far fewer parents than they are
        values = sorted({normalise(str(value or '')) for value in given} - {''})
        found: dict = {}
        table, key = quote(key_column.table.name), quote(key_column.name)
        selected = ', '.join(quote(c.name) for c in (id_column, *more))
        columns = f'SELECT {key}, {selected} FROM {table}'
        for start in range(0, len(values), LOOKUP_BATCH):
            batch = values[start : start + LOOKUP_BATCH]
            # the driver's own SQL: SQLAlchemy would compile the IN of thousands of values per chunk; PostgreSQL
            # takes them as one array, written as one text (the driver's array of values costs more than the query)
            parameters: tuple
            if postgres:
                query, parameters = f'{columns} WHERE {key} = ANY({mark}::text[])', (_array(batch),)
            else:
                query, parameters = f'{columns} WHERE {key} IN ({", ".join([mark] * len(batch))})', tuple(batch)
            fetched = connection.exec_driver_sql(query, parameters).fetchall()
            found.update((row[0], tuple(row[1:])) if more else (row[0], row[1]) for row in fetched)
        return found

    meters = pairs('meter_number', Meter.meter_number, Meter.id, Meter.registers)
    return Lookups(
        pairs('customer_number', Customer.customer_number, Customer.id),
        pairs('contract_number', Contract.contract_number, Contract.id),
        {number: meter_id for number, (meter_id, _) in meters.items()},
        {meter_id: registers for meter_id, registers in meters.values()},
    )


def placeholder(dialect) -> str:
    """The driver's placeholder for a parameter in its own SQL (SQLite's `?`, psycopg's `%s`)."""
    return '?' if dialect.paramstyle == 'qmark' else '%s'


def _array(values: list[str]) -> str:
    """PostgreSQL's text of an array of texts: each value in double quotes, its quotes and backslashes escaped."""
    return '{' + ','.join('"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"' for v in values) + '}'


LOOKUP_BATCH = 5000  # values in one IN (…): far below SQLite's and PostgreSQL's limits on parameters


_SEEN = Table(
    'kp_import_seen',
    MetaData(),
    Column('digest', LargeBinary(16), primary_key=True),
    Column('line', Integer, nullable=False),
    prefixes=['TEMPORARY'],
)


class SeenKeys:
    """The keys of a file's rows so far, in a temporary table of the import's connection (a digest and the line
    each): a key that comes twice is an error, found without keeping the file's keys in memory."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.mark = placeholder(connection.dialect)
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
                result.errors.append(Problem(f'{kind.file}:{number}', RowProblem('same_key', line=first)))
                continue
            firsts[digest] = number
            kept.append((number, record))
        if firsts:
            statement = f'INSERT INTO {_SEEN.name} (digest, line) VALUES ({self.mark}, {self.mark})'
            self.connection.exec_driver_sql(statement, list(firsts.items()))
        return kept

    def drop(self) -> None:
        _SEEN.drop(self.connection, checkfirst=True)
