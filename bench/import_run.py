"""`kundenportal import` of a whole utility: the demo generator's data written out in the documented CSV format
(docs/import-format.md) and imported into an empty database, SQLite or PostgreSQL.

    python bench/import_run.py --customers 150000 [--data /tmp/kp-import] [--source DEMO.db] [--database-url URL]

The source is a demo database (built once into `--data` unless `--source` names one, e.g. bench/load.py's); its
customers, contracts, meters, readings (three years), prices, installment plans and bills are written as CSV
files (payments are left out: the demo has one per month and contract, 30 times the customers, which the billing
system sends as they come, not as a history). Then `kundenportal import` runs as its own process against an empty
database: SQLite in `--data`, or with `--database-url postgresql+psycopg://...` a new database created on that
server for the run and dropped after it. Prints per file and in all: rows, seconds, rows/s, and the importing
process's CPU time and its RSS sampled every 0.2 s (its peak, and at each quarter of the run: flat when the files
are streamed).
"""

import argparse
import contextlib
import csv
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measure import rss_mb  # noqa: E402  (bench/, the script's own folder)
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from domain.clock import SystemClock  # noqa: E402
from storage.database import make_engine, migrate  # noqa: E402
from storage.demo import build_demo  # noqa: E402
from storage.hashing import Argon2Hasher  # noqa: E402
from storage.settings import Settings  # noqa: E402

# file → (header, query on the demo database giving the columns in that order)
FILES = {
    'customers.csv': (
        'customer_number;salutation;first_name;last_name;company;street;house_number;postal_code;city;email;phone;'
        'paperless',
        'SELECT customer_number, salutation, first_name, last_name, company, street, house_number, postal_code, city,'
        " email, phone, CASE WHEN paperless THEN '1' ELSE '0' END FROM customer ORDER BY id",
    ),
    'contracts.csv': (
        'contract_number;customer_number;commodity;tariff_code;start_date;end_date;malo_id;notice_period_weeks;'
        'billing_month',
        'SELECT k.contract_number, c.customer_number, k.commodity, k.tariff_code, k.start_date, k.end_date, k.malo_id,'
        ' k.notice_period_weeks, k.billing_month FROM contract k JOIN customer c ON c.id = k.customer_id ORDER BY k.id',
    ),
    'meters.csv': (
        'meter_number;contract_number;kind;registers;pre_decimal_digits;installed_on;removed_on;z_number;'
        'calorific_value',
        'SELECT m.meter_number, k.contract_number, m.kind, m.registers, m.pre_decimal_digits, m.installed_on,'
        ' m.removed_on, m.z_number, m.calorific_value FROM meter m JOIN contract k ON k.id = m.contract_id'
        ' ORDER BY m.id',
    ),
    'readings.csv': (
        'meter_number;register;reading_date;value;source',
        'SELECT m.meter_number, r.obis, r.reading_date, r.value, r.source FROM meterreading r'
        ' JOIN meter m ON m.id = r.meter_id ORDER BY r.id',
    ),
    'prices.csv': (
        'tariff_code;valid_from;unit;working_price_net;base_price_net_per_year;vat_rate',
        'SELECT tariff_code, valid_from, unit, working_price_net, base_price_net_per_year, vat_rate FROM price',
    ),
    'installments.csv': (
        'contract_number;valid_from;amount;due_day;per_year',
        'SELECT k.contract_number, p.valid_from, p.amount, p.due_day, p.per_year FROM installmentplan p'
        ' JOIN contract k ON k.id = p.contract_id ORDER BY p.id',
    ),
    'bills.csv': (
        'bill_number;contract_number;bill_date;period_start;period_end;kind;amount_gross;pdf_file',
        "SELECT b.bill_number, k.contract_number, b.bill_date, b.period_start, b.period_end, b.kind, b.amount_gross, ''"
        ' FROM bill b JOIN contract k ON k.id = b.contract_id ORDER BY b.id',
    ),
}


def source_database(data: Path, customers: int, given: Path | None) -> Path:
    if given is not None:
        return given
    path = data / f'source-{customers}.db'
    if not path.exists():
        engine = make_engine(f'sqlite:///{path}')
        migrate(engine)
        profile = Settings(profile='stadtwerke-a', demo=True).load_profile()
        summary = build_demo(engine, profile, customers, Argon2Hasher(), SystemClock().now())
        print(f'demo database built: {customers:,} customers in {summary.seconds:.0f} s', flush=True)
    return path


def write_files(source: Path, folder: Path) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    with sqlite3.connect(source) as connection:
        for name, (header, query) in FILES.items():
            with (folder / name).open('w', encoding='utf-8', newline='') as handle:
                handle.write(header + '\n')
                writer = csv.writer(handle, delimiter=';', lineterminator='\n')
                count = 0
                for row in connection.execute(query):
                    writer.writerow('' if value is None else value for value in row)
                    count += 1
            rows[name] = count
    return rows


def run_import(folder: Path, url: str, data: Path) -> tuple[float, float, list[tuple[float, float]], list[str], int]:
    env = {
        **os.environ,
        'KUNDENPORTAL_DATABASE_URL': url,
        'KUNDENPORTAL_DATA_DIR': str(data / 'portal-data'),
        'KUNDENPORTAL_STORAGE_SECRET': 'bench-secret-0123456789abcdef0123',
    }
    migrate(make_engine(url))  # the schema first, as a running portal has it; the import's time is its own
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, '-c', 'import sys; from service.cli import main; sys.exit(main())', 'import', str(folder)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    samples: list[tuple[float, float]] = []
    while process.poll() is None:
        with contextlib.suppress(OSError):  # it may end between the poll and the read
            samples.append((time.perf_counter() - started, rss_mb(process.pid)))
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    if process.returncode != 0 and not samples[1:]:
        raise SystemExit(process.stdout.read() if process.stdout else 'the import did not start')
    output = (process.stdout.read() if process.stdout else '').replace('\r', '\n').splitlines()
    summaries = [line for line in output if ': ' in line and ('rows' in line or 'NOT' in line)]
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
    return seconds, cpu_seconds, samples, summaries, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--customers', type=int, default=150_000)
    parser.add_argument('--data', type=Path, default=Path(tempfile.gettempdir()) / 'kp-import')
    parser.add_argument('--source', type=Path, help='a demo database to export instead of building one')
    parser.add_argument('--database-url', default='', help='a PostgreSQL server: a database is made there for the run')
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    folder = args.data / 'csv'
    if not (folder / 'bills.csv').exists():
        started = time.perf_counter()
        rows = write_files(source_database(args.data, args.customers, args.source), folder)
        print(f'CSV files written in {time.perf_counter() - started:.0f} s', flush=True)
    else:
        rows = {name: sum(1 for _ in (folder / name).open(encoding='utf-8')) - 1 for name in FILES}
    total = sum(rows.values())
    print(', '.join(f'{name} {count:,}' for name, count in rows.items()) + f' = {total:,} rows', flush=True)

    server = None
    if args.database_url:
        name = f'kp_import_bench_{os.getpid()}'
        server = create_engine(args.database_url, isolation_level='AUTOCOMMIT')
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE {name}'))
        url = make_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    else:
        target = args.data / 'import.db'
        for suffix in ('', '-wal', '-shm'):
            Path(f'{target}{suffix}').unlink(missing_ok=True)
        url = f'sqlite:///{target}'
    try:
        seconds, cpu, samples, summaries, status = run_import(folder, url, args.data)
    finally:
        if server is not None:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'))
    for line in summaries:
        print(f'  {line}')
    quarters = [max((rss for at, rss in samples if at <= seconds * q / 4), default=0.0) for q in (1, 2, 3, 4)]
    peak = max((rss for _, rss in samples), default=0.0)
    print(
        f'import into {url.split(":", 1)[0]}: {total:,} rows in {seconds:.1f} s = {total / seconds:,.0f} rows/s, '
        f'exit status {status}; CPU of the import process {cpu:.1f} s; its RSS: peak {peak:.0f} MB, '
        f'highest by each quarter of the run '
        f'{" / ".join(f"{q:.0f}" for q in quarters)} MB',
        flush=True,
    )


if __name__ == '__main__':
    main()
