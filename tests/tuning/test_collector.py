"""service/tuning/collector.py: what survives a full collection is set aside until the thaw."""

import gc
import threading
import time
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
    gc.disable()  # no thread starts a collection of its own meanwhile, which would make the ones below return at once
    try:
        full_collection()  # one may have been under way when the collector was disabled
        assert gc.get_freeze_count() > 0 and not any(o is first for o in gc.get_objects(2))
        del first, second
        full_collection()
        assert cycle() is not None  # set aside: not walked by the collections until the thaw
        set_aside, freed, seconds = thaw_and_collect()
        assert set_aside > 0 and seconds >= 0  # its duration: timed in bench/, not here
        assert cycle() is None and freed >= 2
    finally:
        gc.enable()
    assert sum(1 for callback in gc.callbacks if getattr(callback, '__module__', '') == collector.__name__) == 1


def full_collection() -> int:
    """A full collection by this thread, after the patch's callback; what it freed. CPython's gc.collect() returns
    at once, collecting nothing, while another thread's collection is under way: the portal's threads (the outbox,
    the checkpoints) allocate, and a collection's callbacks run Python code, during which another thread may take
    the interpreter. Retrying at once found it still under way (five times in a row, in CI), so this one lets that
    thread run between tries, and knows that its own collection ran by its callback's word."""
    me, ran = threading.get_ident(), []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == 'stop' and info['generation'] == 2 and threading.get_ident() == me:
            ran.append(info)

    gc.callbacks.append(note)  # after the patch's: it has set the survivors aside when this one hears of it
    try:
        for _ in range(200):
            freed = gc.collect()
            if ran:
                return freed
            time.sleep(0.01)
    finally:
        gc.callbacks.remove(note)
    raise AssertionError('no full collection ran in 2 s: another thread collected all the time')


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
