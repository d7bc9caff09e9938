"""Exports for the billing system: what customers did since a date, as `;`-separated UTF-8 CSV."""

from datetime import UTC, date, datetime
from typing import TextIO

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.model import AuditEntry, Contract, Customer, Meter, MeterReading
from domain.spreadsheet import write_csv

READINGS = (
    'meter_number',
    'malo_id',
    'register',
    'reading_date',
    'value',
    'unit',
    'source',
    'plausibility',
    'reason',
    'submitted_at',
)
CHANGES = ('at', 'actor', 'action', 'customer_number', 'details')


def export(engine: Engine, kind: str, since: date, out: TextIO) -> int:
    """Write the export of `kind` (readings, changes) to `out`; returns the number of rows."""
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    header: tuple[str, ...]
    with Session(engine) as session:
        if kind == 'readings':
            header, rows = (
                READINGS,
                [
                    _reading_row(*row)
                    for row in session.exec(
                        select(MeterReading, Meter, Contract)
                        .join(Meter, col(MeterReading.meter_id) == Meter.id)
                        .join(Contract, col(Meter.contract_id) == Contract.id)
                        .where(MeterReading.source == 'customer', col(MeterReading.submitted_at) >= start)
                        .order_by(col(MeterReading.submitted_at))
                    )
                ],
            )
        elif kind == 'changes':
            header, rows = (
                CHANGES,
                [
                    (entry.at.isoformat(), entry.actor, entry.action, number or '', entry.details)
                    for entry, number in session.exec(
                        select(AuditEntry, col(Customer.customer_number))
                        .outerjoin(Customer, col(AuditEntry.customer_id) == Customer.id)
                        .where(col(AuditEntry.at) >= start)
                        .order_by(col(AuditEntry.id))
                    )
                ],
            )
        else:
            raise ValueError(f'unknown export {kind!r}; known: readings, changes')
    return write_csv(out, header, rows)  # free text made safe for spreadsheets (domain.spreadsheet)


def _reading_row(reading: MeterReading, meter: Meter, contract: Contract) -> tuple:
    unit = 'm3' if contract.commodity in ('water', 'gas') else 'kWh'
    submitted = reading.submitted_at.isoformat() if reading.submitted_at else ''
    return (
        meter.meter_number,
        contract.malo_id,
        reading.obis,
        reading.reading_date.isoformat(),
        str(reading.value),
        unit,
        reading.source,
        reading.plausibility,
        reading.reason,
        submitted,
    )
