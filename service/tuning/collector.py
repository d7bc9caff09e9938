"""Python's cyclic garbage collector walks, at each of its full collections, every object that has survived a
while: with every connected customer's page in memory, a pause of a large fraction of a second or more, every few
seconds at a peak, in which nothing else runs (docs/operations.md). So what survives a full collection is set
aside (`gc.freeze`) and not walked again; a page a customer leaves is still freed at once by reference counting
(the `element_cycles` patch, which this one needs: without it every departed page would wait for the thaw). What
only the collector can free (reference cycles, mostly of connections that were open at a full collection) is
freed by an occasional walk over everything (`thaw_and_collect`, run by service.background at a quiet moment,
`thaw_due`). Written for CPython 3.11's generational collector (3.14's is incremental)."""

import gc
import time

from service.tuning.guard import Patch, Undo


def apply() -> Undo:
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)
    return _stop_setting_aside


def _stop_setting_aside() -> None:
    """At shutdown (and between the tests, which start the portal again and again): nothing set aside any more."""
    if _freeze_after_full_collection in gc.callbacks:
        gc.callbacks.remove(_freeze_after_full_collection)
    gc.unfreeze()


def _freeze_after_full_collection(phase: str, info: dict[str, int]) -> None:
    if phase == 'stop' and info['generation'] == 2:
        gc.freeze()  # the young generations are empty now: exactly the survivors


def set_aside_what_is_loaded() -> None:
    """For a process of its own that runs one long batch (`kundenportal import`): what it has loaded so far (the
    libraries, the tables' metadata: ~117,000 objects) stays to its end, so it is set aside once instead of being
    walked again at each of an import's ~100 full collections (docs/operations.md, "Login bursts and the import")."""
    gc.collect()
    gc.freeze()


def thaw_due(seconds_since_last: float, cpu_share: float, every: float, latest: float, quiet: float) -> bool:
    """Whether to walk what was set aside now: `every` seconds after the last time, at a moment the process used
    less than the `quiet` share of a core over the last few seconds (the walk pauses everything: not in the middle
    of a peak), and after `latest` seconds in any case."""
    return seconds_since_last >= latest or (seconds_since_last >= every and cpu_share < quiet)


def thaw_and_collect() -> tuple[int, int, float]:
    """One full collection over everything set aside, which sets the survivors aside again: how many objects had
    been set aside, how many were freed, and the seconds it took."""
    set_aside = gc.get_freeze_count()
    gc.unfreeze()
    started = time.perf_counter()
    freed = gc.collect()
    return set_aside, freed, time.perf_counter() - started


PATCH = Patch('collector', 'python', '3.11.*', apply, needs=('element_cycles',))
