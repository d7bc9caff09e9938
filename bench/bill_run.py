"""Time the billing run (`kundenportal bill --period YEAR`) on the demo database; prints figures.

    python bench/bill_run.py --customers 150000 [--database-url postgresql+psycopg://…/db] [--workers N]

Builds the demo (or reuses the database given with --database-url if it already holds customers), bills the
year, and prints the run's rate beside ReportLab's own rate for a one-page PDF with the same embedded font,
measured in the same run with the same number of processes: the gap is what computing, storing and the
bill's layout cost on top of ReportLab itself.
"""

import argparse
import io
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from domain.clock import SystemClock
from domain.documents import fonts
from storage.bill_run import RunConfig, run
from storage.database import make_engine, migrate
from storage.demo import build_demo, has_customers
from storage.hashing import Argon2Hasher
from storage.settings import Settings

CLOCK = SystemClock()

SAMPLE = (
    'Jahresverbrauchsabrechnung Strom 01.01.2026 bis 31.12.2026 · Nachzahlung 1.234,56 € · '
    'Zählerstand 48.410 kWh, Grundpreis 120,00 €/Jahr, Arbeitspreis 31,54 ct/kWh, Umsatzsteuer 19 %'
)


def one_page_pdfs(seconds: float) -> int:
    """ReportLab alone: one A4 page, the bills' embedded font, 60 lines of text, compressed like a bill."""
    regular, bold = fonts()
    count, stop = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        pdf = Canvas(io.BytesIO(), pagesize=A4, pageCompression=1, initialFontName=regular, lang='de-DE')
        for line in range(60):
            pdf.setFont(bold if line % 10 == 0 else regular, 9)
            pdf.drawString(50, 800 - line * 12, SAMPLE)
        pdf.showPage()
        pdf.save()
        count += 1
    return count


def reportlab_rate(workers: int, seconds: float = 8.0) -> float:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        counts = list(pool.map(one_page_pdfs, [seconds] * workers))
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--customers', type=int, default=150_000)
    parser.add_argument('--database-url', default='')
    parser.add_argument('--profile', default='stadtwerke-a')
    parser.add_argument('--period', type=int, default=CLOCK.today().year, help='billing year (default: this year)')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix='kp-bill-bench-'))
    url = args.database_url or f'sqlite:///{folder}/bench.db'
    engine = make_engine(url)
    migrate(engine)
    profile = Settings(profile=args.profile, demo=True).load_profile()
    if not has_customers(engine):
        started = time.perf_counter()
        demo = build_demo(engine, profile, args.customers, Argon2Hasher(), CLOCK.now())
        print(
            f'demo: {demo.customers:,} customers, {demo.contracts:,} contracts ({time.perf_counter() - started:.0f} s)',
            flush=True,
        )
    engine.dispose()
    raw = reportlab_rate(args.workers)
    print(
        f'ReportLab alone, one-page PDF with the same font: {raw:,.0f} PDFs/s on {args.workers} processes', flush=True
    )
    config = RunConfig(
        url,
        profile,
        'bench-secret',
        'http://portal.test',
        folder / 'documents',
        args.period,
        date(args.period + 1, 1, 20),
        CLOCK.now(),
    )
    summary = run(config, args.workers)
    print(summary.describe().splitlines()[0])
    rate = summary.bills / summary.seconds if summary.seconds else 0.0
    size = sum(p.stat().st_size for p in (folder / 'documents' / 'bills').glob('*.pdf'))
    print(
        f'billing run: {rate:,.1f} bills/s = {rate / raw:.0%} of ReportLab alone; '
        f'150,000 bills would take {150_000 / rate / 60:.1f} min'
        if rate
        else 'no bills made'
    )
    if summary.bills:
        print(f'PDFs: {size / 2**20:,.0f} MB, {size / summary.bills / 1024:.0f} KB per bill; files in {folder}')


if __name__ == '__main__':
    main()
