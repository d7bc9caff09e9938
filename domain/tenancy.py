"""Whose readings a meter's are: a meter stays at its supply point when the tenant moves out, and the billing system
hands it to the next customer's contract (`meters.csv`). The customer sees the meter's readings from the day before
the contract's start on (the move-in value is the previous holder's move-out value), none of the previous holder's.
Which contracts held the meter before is not known (the meter names its current contract only). A contract of the
same customer that ended the day before at the same supply address (the billing system's `supply_address`: a
renewal or a tariff change under a new contract number) was the same customer's supply there, so its days count
too; without a supply address it may have been at another address (a move), so its days are no reason to show
more. Plausibility still judges by the meter's whole history (the dial does not change hands)."""

from datetime import date, timedelta

from domain.model import Contract, MeterReading
from domain.ports import UnitOfWork


def held_since(contract: Contract, contracts: list[Contract]) -> date:
    """The first day of the customer's supply at the contract's supply point: its start, or the start of the
    customer's contracts before it there, each ending the day before (or on the day) the next began."""
    current = contract
    while current.supply_address:
        before = [
            c
            for c in contracts
            if c.commodity == current.commodity
            and c.supply_address == current.supply_address
            and c.start_date < current.start_date
            and c.end_date is not None
            and current.start_date - timedelta(days=1) <= c.end_date <= current.start_date
        ]
        if not before:
            break
        current = min(before, key=lambda c: c.start_date)
    return current.start_date


def held_readings(uow: UnitOfWork, contract: Contract, readings: list[MeterReading]) -> list[MeterReading]:
    since = held_since(contract, uow.customers.contracts(contract.customer_id)) - timedelta(days=1)
    return [r for r in readings if r.reading_date >= since]
