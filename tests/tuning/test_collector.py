"""service/tuning/collector.py: what survives a full collection is set aside until the thaw."""

import gc
import weakref

from service import tuning
from service.tuning import collector
from service.tuning.collector import thaw_and_collect, thaw_due


async def test_survivors_of_a_full_collection_are_set_aside_until_the_thaw(user):
    await user.open('/')  # the portal has started: survivors are set aside from now on
    await user.should_see('Passwort vergessen?')

    class Node:
        other: object = None

    first, second = Node(), Node()
    first.other, second.other = second, first  # a reference cycle: only the collector can free it
    cycle = weakref.ref(first)
    for _ in range(5):  # Python's own collection calls the patch's callback when it is done; none ran where another
        gc.collect()  # thread's collection was under way (CPython then returns at once), as for the freeing below
        if gc.get_freeze_count() > 0:
            break
    assert gc.get_freeze_count() > 0 and not any(o is first for o in gc.get_objects(2))
    del first, second
    gc.collect()
    assert cycle() is not None  # set aside: not walked by the collections until the thaw
    set_aside, freed, seconds = thaw_and_collect()
    assert set_aside > 0 and seconds >= 0  # its duration: timed in bench/, not here
    for _ in range(5):  # freed nothing: CPython skipped it, another thread's collection was under way (the portal's
        if freed:  # background work runs on threads, and the patch's callback lets them run meanwhile)
            break
        freed = gc.collect()
    assert cycle() is None and freed >= 2
    assert sum(1 for callback in gc.callbacks if getattr(callback, '__module__', '') == collector.__name__) == 1


def test_what_was_set_aside_is_walked_at_a_quiet_moment_after_the_interval_and_after_the_latest_in_any_case():
    every, latest, quiet = 600.0, 3600.0, 0.3
    assert not thaw_due(599.0, 0.0, every, latest, quiet)  # not yet
    assert thaw_due(600.0, 0.05, every, latest, quiet)  # due, and the process is nearly idle
    assert not thaw_due(1800.0, 0.9, every, latest, quiet)  # due, but busy: the walk would pause a peak
    assert not thaw_due(3599.0, 0.3, every, latest, quiet)
    assert thaw_due(3600.0, 1.5, every, latest, quiet)  # however busy: cycles are not kept longer than this


def test_a_batch_process_sets_aside_what_it_has_loaded_unless_the_collectors_tuning_is_off():
    """`kundenportal import` calls this before its files: CPython's collections then walk only what the import
    makes, not the libraries loaded before it (docs/operations.md)."""
    loaded = [[index] for index in range(1000)]  # containers the collector tracks, alive before the batch
    try:
        gc.unfreeze()
        assert not tuning.set_aside_before_a_batch(enabled=False)
        assert not tuning.set_aside_before_a_batch(skip=('collector',))
        assert gc.get_freeze_count() == 0
        assert tuning.set_aside_before_a_batch()
        assert gc.get_freeze_count() >= len(loaded)
        gc.collect()  # a full collection no longer walks them
        assert not any(o is loaded[0] for o in gc.get_objects())
    finally:
        gc.unfreeze()
