"""Reading reminders at scale (docs/domain.md §10): N customers' reminders queued by the portal and sent to a local
SMTP server (aiosmtpd) at the configured rate, while the portal's pages are timed; prints figures.

    python bench/reminders.py --customers 150000 [--rate 6000] [--send-seconds 60] [--data /tmp/kp-remind]

Builds the water association's demo (its reading period made to begin today, at `--rate` mails a minute) unless
the data folder holds it already, and runs this month's billing-information pass (once a month in the portal); starts
the portal (app.py, its own process) with its SMTP relay pointed at an aiosmtpd on loopback: its hourly background
queues the reminders at once, while the login page (GET /, a NiceGUI page build) is timed and the portal's RSS
sampled; then for `--send-seconds` counts the mails the relay receives per minute and times the page again.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from load import start_portal  # noqa: E402  (bench/, the script's own folder)
from measure import cpu_seconds, rss_mb  # noqa: E402

from domain.clock import SystemClock  # noqa: E402
from domain.ports import Context  # noqa: E402
from storage.database import make_engine, migrate  # noqa: E402
from storage.demo import build_demo, has_customers  # noqa: E402
from storage.hashing import Argon2Hasher  # noqa: E402
from storage.information import run_information  # noqa: E402
from storage.settings import Settings  # noqa: E402

CLOCK = SystemClock()
SECRET = 'bench-secret-0123456789abcdef0123456789'


class Counter:
    """The relay: counts what arrives (and when), keeps nothing."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it by this name
        with self.lock:
            self.times.append(time.perf_counter())
        return '250 OK'


def profile_file(folder: Path, rate: int) -> Path:
    """The water association's profile, its reading period beginning today (so the start reminder is due)."""
    today = CLOCK.today()
    end = today + timedelta(days=55)
    text = (ROOT / 'profiles' / 'wasserverband-c.toml').read_text(encoding='utf-8')
    text = text.replace('period_start = "12-02"', f'period_start = "{today:%m-%d}"')
    text = text.replace('period_end = "01-26"', f'period_end = "{end:%m-%d}"')
    text = text.replace('[readings]\n', f'[readings]\nreminder_mails_per_minute = {rate}\n', 1)
    target = folder / 'wasserverband-bench.toml'
    target.write_text(text, encoding='utf-8')
    return target


def page_times(port: int, seconds: float) -> list[float]:
    """GET / (the login page) back to back for `seconds`, one client: milliseconds each."""
    times, stop = [], time.perf_counter() + seconds
    while time.perf_counter() < stop:
        started = time.perf_counter()
        with urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=30) as answer:
            answer.read()
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.1)
    return times


def describe(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) >= 20 else ordered[-1]
    return f'p50 {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms ({len(ordered)} requests)'


def count(engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(f'SELECT count(*) FROM {table}').scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--customers', type=int, default=150_000)
    parser.add_argument('--rate', type=int, default=6000, help='reminder mails a minute (the relay allows)')
    parser.add_argument('--send-seconds', type=float, default=60.0)
    parser.add_argument('--data', type=Path, default=None)
    parser.add_argument('--port', type=int, default=8931)
    parser.add_argument('--smtp-port', type=int, default=8932)
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix='kp-remind-'))
    data.mkdir(parents=True, exist_ok=True)
    url = f'sqlite:///{data}/portal.db'
    profile_path = profile_file(data, args.rate)
    profile = Settings(profile=str(profile_path), demo=True, storage_secret=SECRET).load_profile()
    engine = make_engine(url)
    migrate(engine)
    if not has_customers(engine):
        started = time.perf_counter()
        demo = build_demo(engine, profile, args.customers, Argon2Hasher(), CLOCK.now())
        print(f'demo: {demo.customers:,} customers ({time.perf_counter() - started:.0f} s)')
    context = Context(profile, SECRET, f'http://127.0.0.1:{args.port}', Argon2Hasher(), CLOCK.now())
    started = time.perf_counter()
    information = run_information(engine, context, data / 'documents')  # this month's pass, before the timing
    print(f'billing information pass first: {information.made:,} made ({time.perf_counter() - started:.0f} s)')
    already = count(engine, 'readingreminder')
    counter = Counter()
    relay = Controller(counter, hostname='127.0.0.1', port=args.smtp_port)
    relay.start()
    os.environ.update(
        {
            'KUNDENPORTAL_PROFILE': str(profile_path),
            'KUNDENPORTAL_SMTP_HOST': '127.0.0.1',
            'KUNDENPORTAL_SMTP_PORT': str(args.smtp_port),
            'KUNDENPORTAL_MAIL_POLL_SECONDS': '1',
        }
    )
    portal = start_portal(url, data, args.port)  # its hourly background queues the reminders at once
    try:
        started = time.perf_counter()
        queuing, rss, last, steady = [], [], -1, 0
        while steady < 6:  # until the number queued stands still for 3 s
            queuing += page_times(args.port, 0.5)
            rss.append(rss_mb(portal.pid))
            now = count(engine, 'readingreminder')
            steady, last = (steady + 1, now) if now == last else (0, now)
        seconds = time.perf_counter() - started - 3
        queued = last - already
        print(
            f'queued by the portal: {queued:,} reminders in {seconds:.0f} s ({queued / max(seconds, 0.1):,.0f}/s); '
            f'portal RSS peak {max(rss):.0f} MB, at the end {rss[-1]:.0f} MB'
        )
        print(f'page while queuing: {describe(queuing)}')
        cpu_before, received_before = cpu_seconds([portal.pid]), len(counter.times)
        window_start = time.perf_counter()
        sending = page_times(args.port, args.send_seconds)
        window = time.perf_counter() - window_start
        received = len(counter.times) - received_before
        cpu = cpu_seconds([portal.pid]) - cpu_before
        print(
            f'sending: {received:,} mails in {window:.0f} s = {received / window * 60:,.0f}/min '
            f'(configured {args.rate:,}/min); portal CPU {cpu / window * 100:.0f} % of a core, '
            f'RSS {rss_mb(portal.pid):.0f} MB'
        )
        print(f'page while sending: {describe(sending)}')
        print(f'all {queued:,} at {args.rate:,}/min: {queued / args.rate / 60:.1f} h')
    finally:
        portal.terminate()
        portal.wait(timeout=30)
        relay.stop()


if __name__ == '__main__':
    main()
