"""Time the demo data build (`kundenportal demo --customers N`) on SQLite or PostgreSQL; prints figures.

    python bench/demo_build.py --customers 150000 [--database-url postgresql+psycopg://…/db]

Without --database-url a fresh SQLite file in a temporary folder is used. Peak RSS is that of this process.
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.clock import SystemClock
from storage.database import make_engine, migrate
from storage.demo import build_demo
from storage.hashing import Argon2Hasher
from storage.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--customers', type=int, default=150_000)
    parser.add_argument('--database-url', default='')
    parser.add_argument('--profile', default='stadtwerke-a')
    args = parser.parse_args()
    url = args.database_url or f'sqlite:///{tempfile.mkdtemp()}/bench.db'
    engine = make_engine(url)
    migrate(engine)
    started = time.perf_counter()
    summary = build_demo(
        engine,
        Settings(profile=args.profile, demo=True).load_profile(),
        args.customers,
        Argon2Hasher(),
        SystemClock().now(),
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend = url.split(':', 1)[0]
    print(
        f'demo build on {backend}: {summary.customers:,} customers, {summary.contracts:,} contracts, '
        f'{summary.rows:,} rows in {seconds:.1f} s ({summary.rows / seconds:,.0f} rows/s), peak RSS {peak_mb:.0f} MB'
    )
    if backend == 'sqlite':
        path = Path(url.split('///', 1)[1])
        print(f'SQLite file: {path.stat().st_size / 2**20:.0f} MB')


if __name__ == '__main__':
    main()
