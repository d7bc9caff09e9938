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
from domain.information import from_json, issue
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


def run_information(engine: Engine, context: Context, documents: Path) -> InformationSummary:
    """Make every entry due today (each in its own transaction: one bad contract stops nothing, and a second run,
    or another instance at the same time, makes none twice), then render the PDFs not yet written."""
    started = time.perf_counter()
    summary = InformationSummary()
    with SqlUnitOfWork(engine) as uow:
        contract_ids = uow.information.candidates()
    for contract_id in contract_ids:
        try:
            with SqlUnitOfWork(engine) as uow:
                made = issue(uow, context, contract_id)
        except ConcurrentChange:  # another instance made it a moment earlier (unique key)
            continue
        if isinstance(made, Skipped):
            summary.skipped.append((made.contract_number, made.reason))
        elif made is not None:
            summary.made += 1
    summary.rendered = render_missing(engine, context.profile, documents)
    summary.seconds = time.perf_counter() - started
    return summary


def render_missing(engine: Engine, profile: UtilityProfile, documents: Path) -> int:
    count = 0
    with Session(engine) as session:
        for pdf_path, details in session.exec(select(BillingInformation.pdf_path, BillingInformation.details)):
            path = documents / pdf_path
            if pdf_path and not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix('.pdf.part')
                partial.write_bytes(information_pdf(profile, from_json(details)))
                os.replace(partial, path)
                count += 1
    return count
