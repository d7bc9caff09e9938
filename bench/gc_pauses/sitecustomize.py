"""Times the portal's garbage collections during a bench run (docs/operations.md, "Tuning on and off"):

    PYTHONPATH=bench/gc_pauses BENCH_GC_LOG=/tmp/gc python bench/load.py --clients 300 --skip-page-costs

Python imports `sitecustomize` from PYTHONPATH in every process it starts, and bench/load.py hands its environment
to the portal: the process running app.py then writes, after each full collection, one line of JSON to
`$BENCH_GC_LOG.<pid>`: full collections, their total and longest pause in seconds, all collections and their total.
"""

import gc
import json
import os
import time

_target = os.environ.get('BENCH_GC_LOG')
with open('/proc/self/cmdline', 'rb') as _command:
    _portal = _command.read().endswith(b'app.py\0')

if _target and _portal:
    _stats = {'full': 0, 'full_s': 0.0, 'longest_s': 0.0, 'all': 0, 'all_s': 0.0}
    _started = [0.0]

    def _timed(phase: str, info: dict) -> None:
        if phase == 'start':
            _started[0] = time.perf_counter()
            return
        pause = time.perf_counter() - _started[0]
        _stats['all'] += 1
        _stats['all_s'] += pause
        if info['generation'] == 2:
            _stats['full'] += 1
            _stats['full_s'] += pause
            _stats['longest_s'] = max(_stats['longest_s'], pause)
            with open(f'{_target}.{os.getpid()}', 'w') as out:
                json.dump(_stats, out)

    gc.callbacks.insert(0, _timed)  # first: the pause is timed before the collector patch sets survivors aside
