"""What customers did, for the billing system (docs/domain.md §7): the readings they submitted and every change,
since a date, as `;`-separated CSV with cells a spreadsheet cannot run (domain.spreadsheet). The command line
exports them (`kundenportal export`), and staff download them in the back office, each download checked against
the staff member's session in the export's own transaction and audited."""

from datetime import date, datetime

from domain.change_list import CHANGE_KINDS
from domain.clock import BERLIN
from domain.errors import NotAllowed
from domain.model import AuditEntry, Contract, Meter, MeterReading
from domain.ports import Context, UnitOfWork
from domain.spreadsheet import csv_text
from domain.staff import active_staff

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
KINDS = ('readings', 'changes')


def export_csv(uow: UnitOfWork, kind: str, since: date) -> tuple[str, int]:
    """The CSV of `kind` since the start of `since` in Germany (as the back office's lists count it), and its
    number of rows."""
    start = datetime(since.year, since.month, since.day, tzinfo=BERLIN)
    if kind == 'readings':
        rows = [_reading_row(*row) for row in uow.exports.submitted_readings(start)]
        return csv_text(READINGS, rows), len(rows)
    if kind == 'changes':
        changes = [
            (entry.at.isoformat(), entry.actor, entry.action, number or '', entry.details)
            for entry, number in uow.exports.changes(start, tuple(CHANGE_KINDS))  # what customers did, no staff's
        ]
        return csv_text(CHANGES, changes), len(changes)
    raise ValueError(f'unknown export {kind!r}; known: {", ".join(KINDS)}')


def staff_export(uow: UnitOfWork, ctx: Context, staff_id: int, kind: str, since: date) -> str:
    """A staff member's download of an export (it holds bank accounts): audited like a change."""
    active_staff(uow, staff_id)
    if kind not in KINDS:
        raise NotAllowed()
    content, rows = export_csv(uow, kind, since)
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'staff:{staff_id}',
            action='export_downloaded',
            details=f'kind={kind} since={since.isoformat()} rows={rows}',
            address=ctx.address,
        )
    )
    uow.commit()
    return content


def _reading_row(reading: MeterReading, meter: Meter, contract: Contract) -> tuple[str, ...]:
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
