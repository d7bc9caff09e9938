"""`python tests/pinned_app.py ISO-INSTANT`: app.py with the machine's clock moved to ISO-INSTANT (time-machine,
ticking on), as the browser tests start the portal, so that it runs on the suite's pinned day."""

import runpy
import sys
from pathlib import Path

import time_machine

ROOT = Path(__file__).resolve().parents[1]

if __name__ == '__main__':
    instant = sys.argv.pop(1)
    sys.path.insert(0, str(ROOT))
    time_machine.travel(instant, tick=True).start()
    runpy.run_path(str(ROOT / 'app.py'), run_name='__main__')
