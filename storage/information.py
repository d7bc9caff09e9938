"""Billing information (§40b EnWG, docs/domain.md §9): the entries' table, and the run that makes the entries due
today and renders their PDFs (`kundenportal bill --information`, and each portal's background once an hour)."""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from domain.billing import Skipped
from domain.documents import information_pdf
from domain.errors import ConcurrentChange
from domain.information import from_json, issue, month_end_before
from domain.model import BillingInformation
from domain.ports import Context
from domain.profile import UtilityProfile
from storage.unit_of_work import SqlUnitOfWork


@dataclass
class InformationSummary:
    made: int = 0
    rendered: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def describe(self) -> str:
        lines = [
            f'Billing information: {self.made} made, {self.rendered} PDFs rendered, {len(self.skipped)} skipped '
            f'in {self.seconds:.1f} s.'
        ]
        lines += [f'  {number}: {reason}' for number, reason in self.skipped[:50]]
        return '\n'.join(lines)


DONE = 'information:done_through'  # the month end whose pass has run to its end (settings table)


def run_information(engine: Engine, context: Context, documents: Path) -> InformationSummary:
    """Make every entry due today (each in its own transaction: one bad contract stops nothing, and another
    instance at the same time makes none twice) and render each PDF after its commit. One pass per month end: the
    hourly runs after it (of any instance) only look at the mark it left."""
    started = time.perf_counter()
    summary = InformationSummary()
    through = month_end_before(context.today)
    with SqlUnitOfWork(engine) as uow:
        if uow.settings.get(DONE) == through.isoformat():
            return summary
        contract_ids = uow.information.candidates()
    summary.rendered = render_missing(engine, context.profile, documents)  # of a pass that crashed
    for contract_id in contract_ids:
        try:
            with SqlUnitOfWork(engine) as uow:
                made = issue(uow, context, contract_id)
        except ConcurrentChange:  # another instance made it a moment earlier (unique key)
            continue
        if isinstance(made, Skipped):
            summary.skipped.append((made.contract_number, made.reason))
        elif made is not None:
            _write(documents / made.pdf_path, information_pdf(context.profile, made.document))
            summary.made += 1
            summary.rendered += 1
    with SqlUnitOfWork(engine) as uow:
        uow.settings.set(DONE, through.isoformat())
        uow.commit()
    summary.seconds = time.perf_counter() - started
    return summary


def render_missing(engine: Engine, profile: UtilityProfile, documents: Path) -> int:
    """Entries whose PDF was not written (the process stopped between the commit and the file)."""
    count = 0
    with Session(engine) as session:
        missing = [
            entry_id
            for entry_id, pdf_path in session.exec(select(BillingInformation.id, BillingInformation.pdf_path))
            if pdf_path and not (documents / pdf_path).exists()
        ]
        for entry_id in missing:
            entry = session.get(BillingInformation, entry_id)
            assert entry is not None
            _write(documents / entry.pdf_path, information_pdf(profile, from_json(entry.details)))
            count += 1
    return count


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix('.pdf.part')
    partial.write_bytes(content)
    os.replace(partial, path)
