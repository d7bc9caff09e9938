"""The portal's one clock: every "now" and "today" of the rules comes from a `Clock` handed in at the composition
root (app.py), in Europe/Berlin, the utility's time zone. Nothing else reads the machine's time; tests pin it."""

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo('Europe/Berlin')
# The days the portal takes from outside (the billing system's files and API): a day outside is a typing error, and a
# reading dated 9999-12-31 broke every page of its customer that looks a year ahead (year 10000).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in Europe/Berlin."""
        ...

    def today(self) -> date:
        """The utility's day: from midnight in Germany, not in UTC."""
        ...


class SystemClock:
    """The machine's clock (the only place that reads it)."""

    def now(self) -> datetime:
        return datetime.now(BERLIN)

    def today(self) -> date:
        return self.now().date()


def local_time(instant: datetime) -> str:
    """The time of day an instant shows in Germany, as a message names it ('14:05')."""
    return instant.astimezone(BERLIN).strftime('%H:%M')


def local_day(instant: datetime) -> date:
    """The day an instant falls on in Germany."""
    return instant.astimezone(BERLIN).date()


def later(instant: datetime, delta: timedelta) -> datetime:
    """`delta` of real time after `instant`, in UTC. An aware time in Europe/Berlin plus a timedelta adds to the wall
    clock, which is an hour off in the nights the clocks change: fifteen minutes after 02:55 CEST on the last Sunday
    of October would be 75 (03:10 CET), an hour after 01:30 CET on the last Sunday of March none."""
    return instant.astimezone(UTC) + delta
