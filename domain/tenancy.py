"""Whose readings a meter's are: a meter stays at its supply point when the tenant moves out, and the billing system
hands it to the next customer's contract (`meters.csv`). The new customer sees the meter's readings from the day
before the contract's start on (the move-in value is the previous holder's move-out value) and those within an
earlier contract of their own for the commodity (a contract renewed under a new number), none of the previous
customer's."""

from datetime import date, timedelta

from domain.model import Contract, MeterReading
from domain.ports import UnitOfWork


def held_readings(uow: UnitOfWork, contract: Contract, readings: list[MeterReading]) -> list[MeterReading]:
    since = contract.start_date - timedelta(days=1)
    if all(r.reading_date >= since for r in readings):
        return readings  # the meter's whole history lies within the contract (no second query)
    spans = [
        (c.start_date - timedelta(days=1), c.end_date or date.max)
        for c in uow.customers.contracts(contract.customer_id)
        if c.commodity == contract.commodity and c.id != contract.id
    ]
    return [r for r in readings if r.reading_date >= since or any(a <= r.reading_date <= b for a, b in spans)]
