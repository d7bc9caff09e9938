"""CPU of one reading submission's use case (`submit_reading`: checks, storage, installment proposal, mail queued),
in-process on the demo database bench/load.py builds, without pages or websockets:

    python bench/submission.py [--data /tmp/kp-load] [--count 200] [--profile]

Uses the bench's logins (last*@bench.example); each submits its meter's last value again for today (a correction
once today's reading exists), as the paced round of load.py does.
"""

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from domain.clock import SystemClock
from domain.ports import Context
from domain.readings import submit_reading
from storage.database import make_engine
from storage.hashing import Argon2Hasher
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork

CLOCK = SystemClock()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', type=Path, default=Path(tempfile.gettempdir()) / 'kp-load')
    parser.add_argument('--count', type=int, default=200)
    parser.add_argument('--profile', action='store_true', help='print the 40 most expensive calls (cProfile)')
    args = parser.parse_args()
    engine = make_engine(f'sqlite:///{args.data / "portal.db"}')
    with engine.begin() as db:
        rows = db.execute(
            text(
                'SELECT u.id, uc.customer_id, m.meter_number, '
                '(SELECT r.value FROM meterreading r WHERE r.meter_id = m.id ORDER BY r.reading_date DESC LIMIT 1) '
                'FROM portaluser u JOIN usercustomer uc ON uc.user_id = u.id '
                'JOIN contract k ON k.customer_id = uc.customer_id JOIN meter m ON m.contract_id = k.id '
                "WHERE u.email LIKE 'last%@bench.example' LIMIT :n"
            ),
            {'n': args.count},
        ).all()
    if not rows:
        raise SystemExit('no bench logins: run bench/load.py once first')
    profile = Settings(profile='stadtwerke-a', demo=True).load_profile()

    def submit(user_id: int, customer_id: int, meter_number: str, value: object) -> None:
        context = Context(profile, 'bench-secret-0123456789abcdef0123', 'http://bench', Argon2Hasher(), CLOCK.now())
        with SqlUnitOfWork(engine) as uow:
            submit_reading(
                uow, context, user_id, customer_id, meter_number, {'1.8.0': str(int(float(str(value))))}, '', False, ''
            )

    for row in rows[:20]:  # warm caches
        submit(*row)
    started = time.process_time()
    for row in rows:
        submit(*row)
    print(
        f'submit_reading: {(time.process_time() - started) / len(rows) * 1000:.2f} ms CPU per submission '
        f'(n={len(rows)})'
    )
    if args.profile:
        profiler = cProfile.Profile()

        def submit_all() -> None:
            for row in rows:
                submit(*row)

        profiler.runcall(submit_all)
        pstats.Stats(profiler).sort_stats('cumulative').print_stats(40)


if __name__ == '__main__':
    main()
