"""A meter exchanged for another: which meter a new one replaced, and the history its readings are judged by."""

from datetime import date, timedelta
from decimal import Decimal

from domain.model import Contract, Meter, MeterReading, id_of
from domain.ports import UnitOfWork


def predecessor_readings(uow: UnitOfWork, contract: Contract, meter: Meter) -> list[MeterReading]:
    """The readings, before this meter's installation, of the meter of the contract it replaced (removed on that day
    or the day before), oldest first; none for a meter without an installation date, or where two were removed then
    (which one it replaced cannot be told: judged by the wrong one's use, a plausible value was asked about)."""
    installed = meter.installed_on
    if installed is None:
        return []
    meters = uow.customers.meters([id_of(contract)])
    removed = [m for m in meters if m.id != meter.id and _day_before(m.removed_on, installed)]
    if len(removed) != 1 or sum(_day_before(removed[0].removed_on, m.installed_on) for m in meters) != 1:
        return []
    [old] = removed
    readings = [r for r in uow.meters.readings(id_of(old)) if r.reading_date < installed]
    return sorted(readings, key=lambda r: r.reading_date)


def _day_before(removed: date | None, installed: date | None) -> bool:
    """An exchange: removed on the day of the installation or the day before."""
    return removed is not None and installed is not None and timedelta(0) <= installed - removed <= timedelta(days=1)


def with_replaced(
    before: list[MeterReading], obis: str, earlier: list[tuple[date, Decimal]]
) -> list[tuple[date, Decimal]]:
    """A register's history for `judge`: a new meter with its one (installation) reading so far is judged by the
    use of the meter it replaced (`predecessor_readings`), as one meter record over an exchange is."""
    if len(earlier) != 1:
        return earlier
    return [(r.reading_date, r.value) for r in before if r.obis == obis] + earlier
