"""Peak load at the reading deadline: N simulated customers log in, open the dashboard and submit a meter reading,
against the portal (app.py in its own process) on the 150,000-customer demo database.

    python bench/load.py --customers 150000 --clients 100 500 2000 [--data /tmp/kp-load] [--database-url URL]
                         [--instances K] [--rate 100] [--skip-page-costs]

Each simulated customer (bench/browser_tab.py) is a real client of the portal: HTTP with its own cookie jar, and a
socket.io websocket speaking NiceGUI's protocol (the events a browser sends when a field is typed into or a
button clicked; the updates and navigation the server sends back), with python-socketio's client and aiohttp from
the test requirements. Customers asked to come back in a minute (a login peak) wait 20-60 s and try again; a page
whose connection the server drops is loaded again, as a browser does. Prints, per N: logins/s against the raw
argon2 rate measured in the same run and the server's CPU per login; the server's RSS per connected client; the
submissions of all N at once (submissions/s, p50/p95 click → confirmation on screen, server CPU per submission);
the same customers correcting their reading at an arrival rate of `--rate` per second (p50/p95); and, unless
skipped, the build time of every main page and the dashboard's LCP in Chromium.
`--instances K` runs K portal processes on one database, the clients spread over them as by a sticky proxy
(one process uses one core for its pages: Python's GIL).
"""

import argparse
import asyncio
import collections
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from browser_tab import PASSWORD, Customer  # noqa: E402  (bench/, the script's own folder)
from measure import cpu_seconds, ms, rss_mb  # noqa: E402
from page_costs import dashboard_lcp, page_costs  # noqa: E402
from sqlalchemy import text  # noqa: E402

from domain.clock import BERLIN, SystemClock  # noqa: E402
from domain.reading_rules import judge  # noqa: E402
from storage.database import make_engine, migrate  # noqa: E402
from storage.demo import build_demo, has_customers  # noqa: E402
from storage.hashing import Argon2Hasher  # noqa: E402
from storage.settings import Settings  # noqa: E402

SECRET = 'bench-secret-0123456789abcdef0123'


# --- data ------------------------------------------------------------------------------------------------------


def prepare(url: str, customers: int, logins: int) -> list[tuple[str, str]]:
    """The demo database (built once) and `logins` portal logins, each with one manually read electricity meter
    and a plausible reading for today; returns (email, value)."""
    engine = make_engine(url)
    migrate(engine)
    settings = Settings(profile='stadtwerke-a', demo=True)
    if not has_customers(engine):
        started = time.perf_counter()
        build_demo(engine, settings.load_profile(), customers, Argon2Hasher(), SystemClock().now())
        print(f'demo database built: {customers:,} customers in {time.perf_counter() - started:.0f} s')
    password_hash = Argon2Hasher().hash(PASSWORD)
    today = datetime.now(BERLIN).date()  # the portal's day: after midnight in Germany, before it in UTC
    rule = settings.load_profile().readings
    with engine.begin() as db:
        linked: dict[int, str] = dict(
            db.execute(
                text(  # bench accounts of earlier runs, by their customer
                    'SELECT uc.customer_id, u.email FROM portaluser u JOIN usercustomer uc ON uc.user_id = u.id '
                    "WHERE u.email LIKE 'last%@bench.example'"
                )
            ).all()
        )
        fresh = len(linked)
        candidates = db.execute(
            text(
                'SELECT c.id, m.id, m.pre_decimal_digits, m.installed_on FROM customer c '
                'JOIN contract k ON k.customer_id = c.id JOIN meter m ON m.contract_id = k.id '
                "WHERE k.commodity = 'electricity' AND m.kind = 'manual' AND m.registers = '1.8.0' "
                'AND (SELECT count(*) FROM contract k2 WHERE k2.customer_id = c.id) = 1 '
                'AND c.id NOT IN (SELECT customer_id FROM usercustomer WHERE user_id NOT IN '
                "  (SELECT id FROM portaluser WHERE email LIKE 'last%@bench.example')) "
                'ORDER BY c.id LIMIT :n'
            ),
            {'n': logins * 2 + len(linked)},
        ).all()
        chosen: list[tuple[str, str]] = []
        now = datetime.now(UTC)
        for customer_id, meter_id, digits, installed in candidates:
            history = [
                (r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0])), Decimal(str(r[1])))
                for r in db.execute(
                    text(
                        'SELECT reading_date, value FROM meterreading WHERE meter_id = :m '
                        "AND obis = '1.8.0' AND reading_date < :today ORDER BY reading_date"
                    ),
                    {'m': meter_id, 'today': today},
                )
            ]  # as the portal judges: earlier runs too
            if len(history) < 2:
                continue
            (d0, v0), (d1, v1) = history[-2], history[-1]
            value = v1 + ((v1 - v0) / max((d1 - d0).days, 1) * (today - d1).days).quantize(Decimal(1))
            installed_on = (
                installed if installed is None or isinstance(installed, date) else date.fromisoformat(installed)
            )
            if judge(history, today, value, digits, rule, installed_on).status != 'ok':
                continue
            email = linked.get(customer_id)
            if email is None:
                email, fresh = f'last{fresh}@bench.example', fresh + 1
                user_id = db.execute(
                    text(
                        'INSERT INTO portaluser (email, password_hash, state, created_at, confirmed_at, session_epoch, '
                        'must_change_password, totp_enabled, totp_secret, totp_last_step) '
                        "VALUES (:e, :h, 'active', :t, :t, 0, false, false, '', 0) RETURNING id"
                    ),
                    {'e': email, 'h': password_hash, 't': now},
                ).scalar()
                db.execute(
                    text('INSERT INTO usercustomer (user_id, customer_id, linked_at) VALUES (:u, :c, :t)'),
                    {'u': user_id, 'c': customer_id, 't': now},
                )
            chosen.append((email, str(int(value))))
            if len(chosen) == logins:
                break
    engine.dispose()
    return chosen


# --- the portal ------------------------------------------------------------------------------------------------


def start_portal(url: str, data: Path, port: int) -> subprocess.Popen:
    """One instance of the portal; several instances get a working folder each (NiceGUI keeps its session
    storage there) and the clients are pinned to one, as a proxy with sticky sessions does."""
    folder = data / f'instance-{port}'
    folder.mkdir(exist_ok=True)
    env = {
        **os.environ,
        'KUNDENPORTAL_DATABASE_URL': url,
        'KUNDENPORTAL_DATA_DIR': str(data),
        'KUNDENPORTAL_PORT': str(port),
        'KUNDENPORTAL_HOST': '127.0.0.1',
        'KUNDENPORTAL_DEMO': '0',
        'KUNDENPORTAL_BASE_URL': f'http://127.0.0.1:{port}',
        'KUNDENPORTAL_STORAGE_SECRET': SECRET,
    }
    log = (folder / 'portal.log').open('w')
    process = subprocess.Popen(
        [sys.executable, str(ROOT / 'app.py')], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder
    )
    for _ in range(300):
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f'the portal did not start; see {folder / "portal.log"}')


async def sample_cpu(pids: list[int], samples: list[tuple[float, float]]) -> None:
    while True:
        samples.append((time.perf_counter(), cpu_seconds(pids)))
        await asyncio.sleep(0.05)


def cpu_at(samples: list[tuple[float, float]], moment: float) -> float:
    """The CPU time used by `moment`, from the first sample at or after it."""
    return next((used for at, used in samples if at >= moment), samples[-1][1])


# --- the measurements ------------------------------------------------------------------------------------------


def argon2_rate(seconds: float = 3.0) -> tuple[float, float]:
    """Password checks per second: one thread, and one per core (argon2-cffi releases the GIL)."""
    hasher = Argon2Hasher()
    stored = hasher.hash(PASSWORD)

    def checks(_: int) -> int:
        n, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            hasher.verify(stored, PASSWORD)
            n += 1
        return n

    one = checks(0) / seconds
    cores = os.cpu_count() or 1
    with ThreadPoolExecutor(cores) as pool:
        parallel = sum(pool.map(checks, range(cores))) / seconds
    return one, parallel


async def loop_lag(base: str, stop: asyncio.Event, samples: list[float]) -> None:
    """How long a page of the portal takes to build while the burst runs: NiceGUI builds pages on the event loop,
    so a loop blocked by hashing would show here."""
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            started = time.perf_counter()
            async with http.get(base + '/barrierefreiheit') as answer:
                await answer.read()
            if answer.status == 200:  # not "Einen Moment bitte" (503)
                samples.append(time.perf_counter() - started)
            await asyncio.sleep(0.2)


def connections_ended(customers: list[Customer]) -> str:
    """Connections that ended while their page was open since the last call, by socket.io's reason, and the engine.io
    client's own words for them (whether the server closed them or the client gave up waiting)."""
    reasons: collections.Counter[str] = collections.Counter()
    words: collections.Counter[str] = collections.Counter()
    for customer in customers:
        reasons.update(customer.ended_by)
        words.update(customer.said)
        customer.ended_by.clear()
        customer.said.clear()
    said = ', '.join(f'{n} × "{message}"' for message, n in words.most_common())
    return f'{sum(reasons.values())} connections ended on an open page' + (
        f' ({", ".join(f"{n} {why}" for why, n in reasons.most_common())}; engine.io client: {said or "-"})'
        if reasons or said
        else ''
    )


def split(results: list) -> tuple[list[float], str]:
    """Times of the clients that got through, and a note on those that did not."""
    times = [r for r in results if isinstance(r, float)]
    failed = [r for r in results if not isinstance(r, float)]
    return times, (f' – {len(failed)} FAILED, e.g. {failed[0]!r}' if failed else '')


async def round_of(bases: list[str], pids: list[int], accounts: list[tuple[str, str]], rate: float) -> None:
    n = len(accounts)
    baseline = sum(rss_mb(pid) for pid in pids)
    customers = [Customer(bases[i % len(bases)], email, value) for i, (email, value) in enumerate(accounts)]
    base = bases[0]
    try:
        lag: list[float] = []
        stop = asyncio.Event()
        lagging = asyncio.create_task(loop_lag(base, stop, lag))
        started, cpu_start = time.perf_counter(), cpu_seconds(pids)
        results = await asyncio.gather(*(c.log_in() for c in customers), return_exceptions=True)
        login_seconds, login_cpu = time.perf_counter() - started, cpu_seconds(pids) - cpu_start
        stop.set()
        await lagging
        logins, failed = split(results)
        retries, reloads = sum(c.retries for c in customers), sum(c.reloads for c in customers)
        waited = sum(c.waited for c in customers)
        customers = [c for c, r in zip(customers, results, strict=True) if isinstance(r, float)]
        dropped = [c for c in customers if c.socket is None or not c.socket.connected]
        await asyncio.gather(*(c.reloading('/uebersicht') for c in dropped), return_exceptions=True)  # as a browser
        await asyncio.gather(*(c.ack() for c in customers), return_exceptions=True)
        await asyncio.sleep(2)
        connected = sum(rss_mb(pid) for pid in pids)
        idle_started, idle_cpu = time.perf_counter(), cpu_seconds(pids)
        await asyncio.sleep(5)
        idle = (cpu_seconds(pids) - idle_cpu) / (time.perf_counter() - idle_started)
        print(
            f'N={n:,} on {len(bases)} instance(s): {len(logins)} logins in {login_seconds:.1f} s = '
            f'{len(logins) / login_seconds:.1f} logins/s, server CPU {login_cpu / max(len(logins), 1) * 1000:.0f} ms '
            f'per login (click → dashboard: {ms(logins)}){failed}; turned away at first and came back: '
            f'{retries} times; pages asked to wait a moment (503): {waited}; pages reloaded after the server '
            f'dropped their connection: {reloads} while logging in, '
            f'{len(dropped)} on the dashboard; a page built meanwhile: {ms(lag)}; '
            f'{connections_ended(customers)}',
            flush=True,
        )
        print(
            f'  {len(customers):,} customers connected on their dashboard: server RSS {connected:.0f} MB '
            f'(+{connected - baseline:.0f} MB, {(connected - baseline) * 1024 / max(len(customers), 1):.0f} KB '
            f'per client); server CPU while they only stay connected: {idle * 100:.0f} % of a core',
            flush=True,
        )

        waited = sum(c.waited for c in customers)
        results = await asyncio.gather(*(c.reloading('/zaehlerstand') for c in customers), return_exceptions=True)
        builds, failed = split(results)
        waited = sum(c.waited for c in customers) - waited
        customers = [c for c, r in zip(customers, results, strict=True) if isinstance(r, float)]
        print(
            f'  /zaehlerstand opened by all at once: on screen after {ms(builds)}{failed}; asked to wait a moment '
            f'(503, the page reloads itself): {waited} times',
            flush=True,
        )
        entered = await asyncio.gather(*(c.enter_reading() for c in customers), return_exceptions=True)
        customers = [c for c, r in zip(customers, entered, strict=True) if r is None]
        await asyncio.sleep(max(1.0, len(customers) / 200))  # every field's value at the server

        cpu: list[tuple[float, float]] = []
        sampling = asyncio.create_task(sample_cpu(pids, cpu))
        await asyncio.sleep(0.2)
        started, own = time.perf_counter(), time.process_time()
        latencies, failed = split(
            await asyncio.gather(*(c.submit_reading() for c in customers), return_exceptions=True)
        )
        own = time.process_time() - own  # the simulated browsers share the machine's cores with the portal
        sampling.cancel()
        end = max((c.done_at for c in customers if c.done_at), default=started + 1)
        burst = end - started
        used = cpu_at(cpu, end) - cpu_at(cpu, started)
        print(
            f'  {len(latencies):,} readings submitted at once: {len(latencies) / burst:.0f} submissions/s over '
            f'{burst:.1f} s, click → confirmation {ms(latencies)}, server CPU '
            f'{used / max(len(latencies), 1) * 1000:.1f} ms per submission (the simulated browsers: '
            f'{own / max(len(latencies), 1) * 1000:.1f} ms){failed}; {connections_ended(customers)}',
            flush=True,
        )

        async def paced(customer: Customer, at: float) -> float:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            return await customer.submit_reading()

        start = time.perf_counter() + 0.5
        latencies, failed = split(
            await asyncio.gather(*(paced(c, start + i / rate) for i, c in enumerate(customers)), return_exceptions=True)
        )
        print(
            f'  the same customers correct their reading, arriving at {rate:.0f}/s: click → confirmation '
            f'{ms(latencies)}{failed}; {connections_ended(customers)}',
            flush=True,
        )
    finally:
        await asyncio.gather(*(c.close() for c in customers), return_exceptions=True)


def main() -> None:
    logging.getLogger('asyncio').setLevel(logging.CRITICAL)  # aiohttp's notes on sessions of failed clients
    parser = argparse.ArgumentParser()
    parser.add_argument('--customers', type=int, default=150_000)
    parser.add_argument('--clients', type=int, nargs='+', default=[100, 500, 2000])
    parser.add_argument('--data', type=Path, default=Path(tempfile.gettempdir()) / 'kp-load')
    parser.add_argument('--database-url', default='')
    parser.add_argument('--port', type=int, default=8765)
    parser.add_argument('--instances', type=int, default=1, help='portal processes on one database')
    parser.add_argument('--rate', type=float, default=100, help='arrival rate of the paced submissions, per second')
    parser.add_argument('--skip-page-costs', action='store_true')
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # two sockets per client, here and in the portal
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    url = args.database_url or f'sqlite:///{args.data / "portal.db"}'
    accounts = prepare(url, args.customers, max(args.clients) + 1)
    print(f'{len(accounts):,} bench logins ready on {url.split(":", 1)[0]} ({os.cpu_count()} cores)')
    one, parallel = argon2_rate()
    print(f"raw argon2 (the portal's parameters): {one:.1f} checks/s on one thread, {parallel:.1f}/s on all cores")
    portals = [start_portal(url, args.data, args.port + i) for i in range(args.instances)]
    bases = [f'http://127.0.0.1:{args.port + i}' for i in range(args.instances)]
    base, portal = bases[0], portals[0]
    try:
        print(f'{args.instances} portal instance(s) started, RSS {rss_mb(portal.pid):.0f} MB each')
        if not args.skip_page_costs:
            asyncio.run(page_costs(base, accounts[-1]))
            dashboard_lcp(base, accounts[-1][0])
        for n in args.clients:
            asyncio.run(round_of(bases, [p.pid for p in portals], accounts[:n], args.rate))
    finally:
        for process in portals:
            process.terminate()
            process.wait(30)


if __name__ == '__main__':
    main()
