"""Time the billing run (`kundenportal bill --period YEAR`) on the demo database; prints figures.

    python bench/bill_run.py --customers 150000 [--database-url postgresql+psycopg://…/db] [--workers N]

Builds the demo (or reuses the database given with --database-url if it already holds customers), bills the
year, and prints the run's rate beside ReportLab's own rate for a one-page PDF with the same embedded font,
measured in the same run with the same number of processes (before and after the run, on a shared machine): the
gap is what computing, storing and the bill's layout cost on top of ReportLab itself. Two yardsticks: ReportLab with
the run's own tuning (the stricter: what the tuning saves ReportLab counts for both) and ReportLab as shipped.
Also the run's peak memory: the main process and its workers, sampled.
"""

import argparse
import io
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from domain.clock import SystemClock
from domain.pdf_fonts import fonts
from service import tuning
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


def reportlab_rate(workers: int, setup: Callable[[], object] | None, seconds: float = 6.0) -> float:
    """In processes set up as the run's workers (`setup`, the run's `worker_setup`); without it, ReportLab as
    shipped: new processes (spawned, so nothing of the portal's tuning is inherited) that install none."""
    if setup is None:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context('spawn'))
    else:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=setup)
    with pool:
        counts = list(pool.map(one_page_pdfs, [seconds] * workers))
    return sum(counts) / seconds


def yardsticks(workers: int, setup: Callable[[], object]) -> tuple[float, float]:
    """ReportLab alone: with the run's tuning, and as shipped."""
    return reportlab_rate(workers, setup), reportlab_rate(workers, None)


class PeakMemory:
    """Samples the resident memory of this process and its children (the run's workers) until stopped."""

    def __init__(self, every: float = 0.1) -> None:
        self.every, self.total, self.largest = every, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> 'PeakMemory':
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            sizes = [_rss(pid) for pid in [os.getpid(), *_children()]]
            self.total = max(self.total, sum(sizes))
            self.largest = max(self.largest, *sizes)

    def describe(self) -> str:
        total, largest = self.total / 2**20, self.largest / 2**20
        return f'peak RSS {total:,.0f} MB (main process and workers), largest process {largest:,.0f} MB'


def _children() -> list[int]:
    pids = []
    for task in Path(f'/proc/{os.getpid()}/task').iterdir():
        try:
            pids += [int(pid) for pid in (task / 'children').read_text().split()]
        except OSError:
            continue
    return pids


def _rss(pid: int) -> int:
    """Bytes resident, 0 for a process that has just ended."""
    try:
        fields = Path(f'/proc/{pid}/status').read_text().split('VmRSS:', 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[0]) * 1024


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
    settings = Settings(profile=args.profile, demo=True)
    on = tuning.install(settings.tuning, settings.tuning_skipped, tuning.DOCUMENTS)
    setup = partial(tuning.document_worker, settings.tuning, settings.tuning_skipped)
    aside = tuning.wanted(tuning.patches(('collector',))[0], settings.tuning, settings.tuning_skipped)
    print(
        f"tuning for PDFs: {', '.join(on) or 'off'}; in the workers and the yardstick's processes also "
        f'{"the libraries set aside from the collector" if aside else "no objects set aside"} '
        '(KUNDENPORTAL_TUNING, as `kundenportal bill`)',
        flush=True,
    )
    before = yardsticks(args.workers, setup)
    print(
        f"ReportLab alone, one-page PDF with the same font: {before[0]:,.0f} PDFs/s with the run's tuning, "
        f'{before[1]:,.0f} as shipped, on {args.workers} processes',
        flush=True,
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
    with PeakMemory() as memory:
        summary = run(config, args.workers, worker_setup=setup)
    print(summary.describe().splitlines()[0])
    after = yardsticks(args.workers, setup)
    raw, shipped = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    print(
        f"ReportLab alone after the run: {after[0]:,.0f} PDFs/s with the run's tuning, {after[1]:,.0f} as shipped; "
        f'the means, {raw:,.0f} and {shipped:,.0f} PDFs/s, are the yardsticks below'
    )
    rate = summary.bills / summary.seconds if summary.seconds else 0.0
    size = sum(p.stat().st_size for p in (folder / 'documents' / 'bills').glob('*.pdf'))
    print(
        f"billing run: {rate:,.1f} bills/s = {rate / raw:.0%} of ReportLab alone with the run's tuning "
        f'({rate / shipped:.0%} of ReportLab as shipped); '
        f'150,000 bills would take {150_000 / rate / 60:.1f} min'
        if rate
        else 'no bills made'
    )
    if summary.bills:
        print(f'PDFs: {size / 2**20:,.0f} MB, {size / summary.bills / 1024:.1f} KB per bill; files in {folder}')
    print(memory.describe())


if __name__ == '__main__':
    main()
