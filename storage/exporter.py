"""`kundenportal export readings|changes`: what customers did since a date, as CSV for the billing system."""

from datetime import date
from typing import TextIO

from sqlalchemy import Engine

from domain.exports import export_csv
from storage.unit_of_work import SqlUnitOfWork


def export(engine: Engine, kind: str, since: date, out: TextIO) -> int:
    """Write the export of `kind` (readings, changes) to `out`; returns the number of rows."""
    with SqlUnitOfWork(engine) as uow:
        content, rows = export_csv(uow, kind, since)
    out.write(content)
    return rows
