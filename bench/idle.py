"""What connected customers cost while they only sit on a page: N simulated customers (bench/browser_tab.py) log in
and stay on their dashboard; prints the portal's CPU (share of a core) and RSS over `--seconds`.

    python bench/idle.py --clients 300 [--seconds 30] [--data /tmp/kp-load]   (after bench/load.py built the data)
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_tab import Customer
from load import prepare, start_portal
from measure import cpu_seconds, rss_mb


async def sit(base: str, pid: int, accounts: list[tuple[str, str]], seconds: float) -> None:
    before = rss_mb(pid)
    customers = [Customer(base, email, value) for email, value in accounts]
    try:
        for start in range(0, len(customers), 20):  # logged in a few at a time: the login peak is load.py's job
            await asyncio.gather(*(c.log_in() for c in customers[start : start + 20]))
        print(f'{len(customers):,} logged in; measuring for {seconds:.0f} s', flush=True)
        await asyncio.sleep(2)
        started, used = time.perf_counter(), cpu_seconds([pid])
        await asyncio.sleep(seconds)
        share = (cpu_seconds([pid]) - used) / (time.perf_counter() - started)
        after = rss_mb(pid)
        print(
            f'{len(customers):,} customers on their dashboard for {seconds:.0f} s: server CPU {share * 100:.1f} % of '
            f'a core ({share * 1e6 / len(customers):.0f} µs per customer and second), RSS {after:.0f} MB '
            f'(+{(after - before) * 1024 / len(customers):.0f} KB per customer)',
            flush=True,
        )
    finally:
        await asyncio.gather(*(c.close() for c in customers), return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--clients', type=int, default=300)
    parser.add_argument('--seconds', type=float, default=30)
    parser.add_argument('--data', type=Path, default=Path(tempfile.gettempdir()) / 'kp-load')
    parser.add_argument('--port', type=int, default=8775)
    args = parser.parse_args()
    url = f'sqlite:///{args.data / "portal.db"}'
    accounts = prepare(url, 150_000, args.clients)
    portal = start_portal(url, args.data, args.port)
    try:
        asyncio.run(sit(f'http://127.0.0.1:{args.port}', portal.pid, accounts, args.seconds))
    finally:
        portal.terminate()
        portal.wait(30)


if __name__ == '__main__':
    main()
