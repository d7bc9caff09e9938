"""`python tests/pinned_app.py ISO-INSTANT [WALL-SECONDS]`: app.py with the machine's clock moved to ISO-INSTANT
(time-machine, ticking on), as the browser tests start the portal, so that it runs on the suite's pinned day.

WALL-SECONDS is the real time (epoch seconds) at which the test stood at ISO-INSTANT: the seconds this interpreter
took to start are added, so that the portal's clock and the test's agree to the millisecond (the staff's one-time
codes are checked against the portal's 30-second step)."""

import runpy
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import time_machine

ROOT = Path(__file__).resolve().parents[1]

if __name__ == '__main__':
    instant = datetime.fromisoformat(sys.argv.pop(1))
    if len(sys.argv) > 1:
        instant += timedelta(seconds=time.time() - float(sys.argv.pop(1)))
    sys.path.insert(0, str(ROOT))
    time_machine.travel(instant, tick=True).start()
    runpy.run_path(str(ROOT / 'app.py'), run_name='__main__')
