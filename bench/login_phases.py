"""Where a login's CPU goes, phase by phase: the portal's and the simulated browsers' own.

    python bench/login_phases.py [--customers 150000] [--data /tmp/kp-load] [--logins 200] [--concurrency 4]

One portal process (app.py) on the demo database bench/load.py builds; `--logins` of its bench customers
(bench/browser_tab.py, real HTTP and NiceGUI's websocket protocol) go through a login's three phases, all customers
one phase after the other, `--concurrency` at a time (no burst: what each phase costs, not how it queues):

- the login page: the page's HTTP request and its websocket;
- the login: the email and password typed, "Anmelden" clicked, until the portal sends the browser on (the password
  check, the throttle, the session's storage, the handover ticket);
- the dashboard: the two steps that give a new session id (plain routes) and /uebersicht with its websocket.

Prints, per phase, the portal's CPU and the bench's own per login, beside one argon2 check on one thread: issue 25's
"a login costs at most 1.2 × the hash's CPU", and how much of the machine the simulated browsers take in
bench/load.py's burst (they run on the same cores).
"""

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from browser_tab import PASSWORD, Customer  # (bench/, the script's own folder)
from load import argon2_rate, prepare, start_portal
from measure import cpu_seconds


async def phases(base: str, pid: int, accounts: list[tuple[str, str]], concurrency: int) -> dict[str, tuple]:
    customers = [Customer(base, email, value) for email, value in accounts]
    gate = asyncio.Semaphore(concurrency)
    spent: dict[str, tuple[float, float]] = {}

    async def each(name: str, step: Callable[[Customer], Awaitable[None]]) -> None:
        async def one(customer: Customer) -> None:
            async with gate:
                await step(customer)

        portal, own = cpu_seconds([pid]), time.process_time()
        await asyncio.gather(*(one(c) for c in customers))
        spent[name] = (cpu_seconds([pid]) - portal, time.process_time() - own)

    async def login_page(customer: Customer) -> None:
        await customer.reloading('/')

    async def login(customer: Customer) -> None:
        await customer.type('E-Mail-Adresse', customer.email)
        await customer.type('Passwort', PASSWORD)
        customer.opened = asyncio.get_running_loop().create_future()
        await customer.click('Anmelden')
        await asyncio.wait_for(customer.opened, 120)

    async def dashboard(customer: Customer) -> None:
        assert customer.opened is not None
        await customer.reloading(customer.opened.result())
        if customer.path != '/uebersicht':
            raise RuntimeError(f'{customer.email} ended on {customer.path}')

    try:
        await each('the login page', login_page)
        await each('the login (argon2 included)', login)
        await each('the dashboard (new session id included)', dashboard)
    finally:
        await asyncio.gather(*(c.close() for c in customers), return_exceptions=True)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--customers', type=int, default=150_000)
    parser.add_argument('--data', type=Path, default=Path(tempfile.gettempdir()) / 'kp-load')
    parser.add_argument('--logins', type=int, default=200)
    parser.add_argument('--concurrency', type=int, default=4)
    parser.add_argument('--port', type=int, default=8790)
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    url = f'sqlite:///{args.data / "portal.db"}'
    accounts = prepare(url, args.customers, args.logins)[: args.logins]
    one, _ = argon2_rate()
    hash_ms = 1000 / one
    process = start_portal(url, args.data, args.port)
    try:
        spent = asyncio.run(phases(f'http://127.0.0.1:{args.port}', process.pid, accounts, args.concurrency))
    finally:
        process.terminate()
        process.wait(30)
    n = len(accounts)
    print(f'{n} logins, {args.concurrency} at a time; one argon2 check on one thread: {hash_ms:.1f} ms')
    portal_total = own_total = 0.0
    for name, (portal, own) in spent.items():
        portal_total, own_total = portal_total + portal, own_total + own
        print(f'  {name}: portal {portal / n * 1000:.1f} ms, simulated browser {own / n * 1000:.1f} ms per login')
    print(
        f'  in all: portal {portal_total / n * 1000:.1f} ms per login = {portal_total / n * 1000 / hash_ms:.2f} × '
        f'the hash; with the simulated browser {(portal_total + own_total) / n * 1000:.1f} ms'
    )


if __name__ == '__main__':
    main()
