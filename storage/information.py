"""Billing information (§40b EnWG, docs/domain.md §9): the entries' table, and the run that makes the entries due
today and renders their PDFs (`kundenportal bill --information`, and each portal's background once an hour)."""

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from domain.bill_prepare import Skipped
from domain.errors import ConcurrentChange
from domain.information import from_json, issue, month_end_before
from domain.information_layout import information_pdf
from domain.model import BillingInformation
from domain.ports import Context
from domain.profile import UtilityProfile
from storage.documents import store
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
RUNNING = 'information:running'  # "<month end>|<started>": an instance's pass under way; "|<ended>" after it
RETRY = 'information:retry'  # "<month end>|<contract id>,…": entries the pass failed to make, tried again hourly
TAKE_OVER = timedelta(hours=2)  # a pass that has not finished by then has died with its instance

log = logging.getLogger('kundenportal')


def run_information(engine: Engine, context: Context, documents: Path) -> InformationSummary:
    """Make every entry due today (each in its own transaction: one bad contract stops nothing, and another
    instance at the same time makes none twice) and render each PDF after its commit. One pass per month end, by
    one instance: the hourly runs after it (of any instance) only look at the marks it leaves, and try again the
    contracts whose entry failed (a database that was away a moment): next month is too late for an entry that is
    due every three or six months."""
    started = time.perf_counter()
    summary = InformationSummary()
    through = month_end_before(context.today)
    claimed = _claim(engine, context, through)
    if claimed == 'busy':
        return summary
    if claimed == 'done':
        contract_ids = _retries(engine, through)
        if not contract_ids:
            return summary
    else:
        with SqlUnitOfWork(engine) as uow:
            contract_ids = uow.information.candidates(context.today)
        summary.rendered = render_missing(engine, context.profile, documents, through)  # of a pass that died
    failed, unrendered = _make(engine, context, documents, contract_ids, summary)
    with SqlUnitOfWork(engine) as uow:
        if claimed == 'run':
            if not unrendered:  # else the next hour's run renders what is missing (the entries made stay made)
                uow.settings.set(DONE, through.isoformat())
            uow.settings.set(RUNNING, f'|{context.now.isoformat()}')  # ended, at its own time: a claim that read
            # the mark before this write fails (it would find '' again after a pass had run, and run it again)
        elif unrendered:  # a retried entry's PDF: the next hour's run is a pass again, which renders what is missing
            uow.settings.set(DONE, '')
        uow.settings.set(RETRY, f'{through.isoformat()}|{",".join(map(str, failed))}' if failed else '')
        uow.commit()
    summary.seconds = time.perf_counter() - started
    return summary


def _make(
    engine: Engine, context: Context, documents: Path, contract_ids: list[int], summary: InformationSummary
) -> tuple[list[int], bool]:
    """Each contract's entry in a transaction of its own, its PDF after the commit: the contracts that failed, and
    whether a PDF could not be rendered."""
    failed: list[int] = []
    unrendered = False
    for contract_id in contract_ids:
        try:
            with SqlUnitOfWork(engine) as uow:
                made = issue(uow, context, contract_id)
        except ConcurrentChange:  # another instance made it a moment earlier (unique key)
            continue
        except Exception as error:  # one bad contract must not stop the others: reported, logged, tried again
            log.exception('billing information for contract %s failed', contract_id)
            summary.skipped.append((f'Vertrag-ID {contract_id}', f'{type(error).__name__}: {error}'))
            failed.append(contract_id)
            continue
        if isinstance(made, Skipped):
            summary.skipped.append((made.contract_number, made.reason))
        elif made is not None:
            summary.made += 1
            try:
                store(documents, made.pdf_path, information_pdf(context.profile, made.document))
                summary.rendered += 1
            except Exception:  # stored and announced: its PDF is rendered by the next hour's pass
                log.exception('billing information for contract %s: the PDF could not be rendered', contract_id)
                unrendered = True
    return failed, unrendered


def _claim(engine: Engine, context: Context, through: date) -> str:
    """'run' when this instance runs the pass for `through`; 'done' when it has run; 'busy' while another
    instance's is under way. Two instances claiming at once: the second finds the mark made (the first pass ever)
    or changed since it read it (each pass after)."""
    try:  # a write the database refuses all the same (a conflict at the commit): the unit of work's ConcurrentChange
        with SqlUnitOfWork(engine) as uow:
            seen = uow.settings.get(RUNNING)  # first: a pass that ends after this read has changed it for good
            if uow.settings.get(DONE) == through.isoformat():
                return 'done'
            running = (seen or '|').split('|', 1)
            if running[0] == through.isoformat() and context.now - datetime.fromisoformat(running[1]) < TAKE_OVER:
                return 'busy'
            claim = f'{through.isoformat()}|{context.now.isoformat()}'
            # another instance claimed since this one read the mark: it made the first pass's, or changed it
            taken = uow.settings.create(RUNNING, claim) if seen is None else uow.settings.replace(RUNNING, seen, claim)
            if not taken:
                return 'busy'
            uow.commit()
    except ConcurrentChange:
        return 'busy'
    return 'run'


def _retries(engine: Engine, through: date) -> list[int]:
    """The contracts whose entry for `through` failed in its pass (none from an earlier month end)."""
    with SqlUnitOfWork(engine) as uow:
        month, _, ids = (uow.settings.get(RETRY) or '|').partition('|')
    return [int(i) for i in ids.split(',') if i.isdigit()] if month == through.isoformat() else []


def render_missing(engine: Engine, profile: UtilityProfile, documents: Path, through: date) -> int:
    """This month end's entries whose PDF was not written (the process stopped between the commit and the file)."""
    count = 0
    with Session(engine) as session:
        query = select(BillingInformation.id, BillingInformation.pdf_path).where(BillingInformation.through == through)
        missing = [entry_id for entry_id, pdf_path in session.exec(query) if not (documents / pdf_path).exists()]
        for entry_id in missing:
            entry = session.get(BillingInformation, entry_id)
            assert entry is not None
            try:
                store(documents, entry.pdf_path, information_pdf(profile, from_json(entry.details)))
            except Exception:
                log.exception('billing information %s: the PDF could not be rendered', entry_id)
                continue
            count += 1
    return count
