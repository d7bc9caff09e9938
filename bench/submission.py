"""CPU of one reading submission's use case (`submit_reading`: checks, storage, installment proposal, mail queued),
in-process on the demo database bench/load.py builds, without pages or websockets:

    python bench/submission.py [--data /tmp/kp-load] [--count 200] [--profile]

Uses the bench's logins (last*@bench.example); each submits, for today, the middle of the range its meter's history
makes plausible (the domain's own `judge`), so that the figure holds on any day after the demo was built (the
meter's last value again was implausible once days had passed); once today's reading exists, a correction.
"""

import argparse
import cProfile
import math
import pstats
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from domain.clock import SystemClock
from domain.model import Meter
from domain.ports import Context
from domain.profile import UtilityProfile
from domain.reading_rules import judge
from domain.readings import submit_reading
from storage.database import make_engine, migrate
from storage.hashing import Argon2Hasher
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork

CLOCK = SystemClock()


def plausible(uow: SqlUnitOfWork, meter_id: int, today: date, profile: UtilityProfile) -> int | None:
    """The middle of the plausible range for a reading today (register 1.8.0), before today's own reading; None
    for a meter without an earlier reading (left out)."""
    meter = uow.session.get_one(Meter, meter_id)
    history = sorted((r.reading_date, r.value) for r in uow.meters.readings(meter_id) if r.obis == '1.8.0')
    history = [(day, value) for day, value in history if day < today]
    if not history:
        return None
    last = history[-1][1]
    verdict = judge(history, today, last, meter.pre_decimal_digits, profile.readings, meter.installed_on)
    if verdict.expected_low is None or verdict.expected_high is None:
        return int(last)
    return math.ceil((verdict.expected_low + verdict.expected_high) / 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', type=Path, default=Path(tempfile.gettempdir()) / 'kp-load')
    parser.add_argument('--count', type=int, default=200)
    parser.add_argument('--profile', action='store_true', help='print the 40 most expensive calls (cProfile)')
    args = parser.parse_args()
    engine = make_engine(f'sqlite:///{args.data / "portal.db"}')
    migrate(engine)  # a demo built by an older portal, as the portal itself does at its start
    with engine.begin() as db:
        rows = db.execute(
            text(
                'SELECT u.id, uc.customer_id, m.meter_number, m.id '
                'FROM portaluser u JOIN usercustomer uc ON uc.user_id = u.id '
                'JOIN contract k ON k.customer_id = uc.customer_id JOIN meter m ON m.contract_id = k.id '
                "WHERE u.email LIKE 'last%@bench.example' LIMIT :n"
            ),
            {'n': args.count},
        ).all()
    if not rows:
        raise SystemExit('no bench logins: run bench/load.py once first')
    profile = Settings(profile='stadtwerke-a', demo=True).load_profile()
    today = CLOCK.today()
    with SqlUnitOfWork(engine) as uow:
        values = [
            (user, customer, number, plausible(uow, meter, today, profile)) for user, customer, number, meter in rows
        ]
    targets = [(user, customer, number, value) for user, customer, number, value in values if value is not None]

    def submit(user_id: int, customer_id: int, meter_number: str, value: object) -> None:
        context = Context(profile, 'bench-secret-0123456789abcdef0123', 'http://bench', Argon2Hasher(), CLOCK.now())
        with SqlUnitOfWork(engine) as uow:
            submit_reading(uow, context, user_id, customer_id, meter_number, {'1.8.0': str(value)}, '', False, '')

    for row in targets[:20]:  # warm caches
        submit(*row)
    started = time.process_time()
    for row in targets:
        submit(*row)
    print(
        f'submit_reading: {(time.process_time() - started) / len(targets) * 1000:.2f} ms CPU per submission '
        f'(n={len(targets)})'
    )
    if args.profile:
        profiler = cProfile.Profile()

        def submit_all() -> None:
            for row in targets:
                submit(*row)

        profiler.runcall(submit_all)
        pstats.Stats(profiler).sort_stats('cumulative').print_stats(40)


if __name__ == '__main__':
    main()
