"""The suite's pinned time: every test starts at the same instant (`SUITE_NOW`), by time-machine, which moves the
machine's clock for this process (and for the portal processes the browser tests start, `tests/pinned_app.py`).

`SUITE_NOW` is `KUNDENPORTAL_TEST_NOW` (ISO 8601 with offset) if set, else the machine's time when the run started:
the suite runs on whatever day it is run (under `faketime` too), and the factories build from that day. Tests of a
particular calendar day move there with `travel`."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import time_machine

from domain.clock import BERLIN


def _suite_now() -> datetime:
    given = os.environ.get('KUNDENPORTAL_TEST_NOW')
    if given:
        instant = datetime.fromisoformat(given)
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=BERLIN)
        return instant.astimezone(BERLIN)
    return datetime.now(BERLIN)


SUITE_NOW = _suite_now()


def faketime_misuse(environ: Mapping[str, str]) -> str | None:
    """Why a run under Debian's `faketime` would go wrong, or None. Two ways of calling it do:
    - the absolute form (`faketime '2026-12-31 23:50:00'`) starts each process's clock anew at its own start, in
      its own time zone, so a portal started a minute into the run lives a minute (or an hour) behind the test;
    - `FAKETIME_DONT_FAKE_MONOTONIC=1`: libfaketime then turns `time.sleep`'s deadline into an invalid argument.
    With an offset and the monotonic clock moved too, the suite runs; only a thread's wait with a timeout (a
    lock's, an event's) is timed by the kernel on the real monotonic clock and would not end if nothing comes:
    the browser tests wait for mail by polling with `time.sleep` (the other waits with a timeout are only a
    failing test's safety net)."""
    if 'faketime' not in environ.get('LD_PRELOAD', ''):
        return None
    howto = 'see README.md, "The suite holds on every calendar day"'
    if environ.get('FAKETIME_DONT_FAKE_MONOTONIC', '0') != '0':
        return f'faketime with FAKETIME_DONT_FAKE_MONOTONIC: every time.sleep would fail ({howto})'
    if not environ.get('FAKETIME', '').lstrip().startswith(('+', '-')):
        return f'faketime with an absolute time: each process would start its own clock; give an offset ({howto})'
    return None


def after(instant: datetime, delta: timedelta) -> datetime:
    """`delta` of real time after `instant` (`instant + delta` adds to the wall clock: an hour after 01:59 in the
    night the clocks go forward is 03:59, not 02:59)."""
    return (instant.astimezone(UTC) + delta).astimezone(BERLIN)


def now() -> datetime:
    """The current instant of the (pinned) clock, in Europe/Berlin."""
    return datetime.now(BERLIN)


def today() -> date:
    """The portal's day at the pinned clock."""
    return now().date()


@contextmanager
def travel(instant: datetime | str, tick: bool = True) -> Iterator[time_machine.Traveller]:
    """Move this process's clock to `instant` (naive: Europe/Berlin) for the block."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=BERLIN)
    with time_machine.travel(instant, tick=tick) as traveller:
        yield traveller
