"""Whose readings a meter's are: a meter stays at its supply point when the tenant moves out, and the billing system
hands it to the next customer's contract (`meters.csv`). The customer sees the meter's readings from the day before
the contract's start on (the move-in value is the previous holder's move-out value), none of the previous holder's.
Which contracts held the meter before is not known (the meter names its current contract only): a contract of the
same customer that ended the day before may have been at another address, so its days are no reason to show more.
Plausibility still judges by the meter's whole history (the dial does not change hands)."""

from datetime import timedelta

from domain.model import Contract, MeterReading


def held_readings(contract: Contract, readings: list[MeterReading]) -> list[MeterReading]:
    since = contract.start_date - timedelta(days=1)
    return [r for r in readings if r.reading_date >= since]
