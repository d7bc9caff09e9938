"""The billing run (`kundenportal bill --period YEAR`): every contract's bill, computed and rendered in parallel.

Work is split into chunks of contracts handed to one process per core. A chunk's bills are computed from one
read (contract by contract when that read fails), get their numbers and are stored in one transaction
(`issue_bills`): listed for their customers from then on ("Das PDF wird gerade erstellt"); their PDFs are rendered
afterwards from the stored contents.
A crashed run is simply started again: contracts already billed are skipped (unique run key), and bills
whose PDF is missing are rendered first.
"""

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.bill_issue import correct_bill, issue_bill, issue_bills
from domain.bill_prepare import Skipped, billing_inputs, prepare_bill, run_key
from domain.billing import BillDocument, from_json
from domain.documents import warm_up
from domain.einvoice import bill_files
from domain.errors import ConcurrentChange
from domain.model import Bill, Contract
from domain.ports import Context
from domain.profile import UtilityProfile
from domain.repository_ports import BillingInputs
from storage.database import make_engine
from storage.documents import OutsideDocuments, folder, inside, store_in
from storage.hashing import Argon2Hasher
from storage.unit_of_work import SqlUnitOfWork

CHUNK = 250
SMALLEST = 25
log = logging.getLogger('kundenportal')


@dataclass
class RunSummary:
    contracts: int = 0
    bills: int = 0
    credits: int = 0
    back_payments: int = 0
    already_billed: int = 0
    rerendered: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: 'RunSummary') -> None:
        for name in ('bills', 'credits', 'back_payments', 'already_billed', 'rerendered'):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors

    def describe(self) -> str:
        rate = self.bills / self.seconds if self.seconds else 0.0
        lines = [
            f'Billing run: {self.contracts} contracts, {self.bills} bills in {self.seconds:.1f} s '
            f'({rate:.1f} bills/s): {self.credits} credits, {self.back_payments} back-payments, '
            f'{self.already_billed} already billed, {self.rerendered} PDFs rendered again, '
            f'{len(self.errors)} errors.'
        ]
        lines += [f'  {number}: {reason}' for number, reason in self.errors[:50]]
        if len(self.errors) > 50:
            lines.append(f'  … and {len(self.errors) - 50} more')
        return '\n'.join(lines)


@dataclass(frozen=True)
class RunConfig:
    url: str
    profile: UtilityProfile
    secret: str
    base_url: str
    documents: Path  # the data directory's documents/, where bills/ lives
    year: int
    bill_date: date
    now: datetime  # the run's start by the portal's clock: the instant its bills and audit entries carry


def write_pdf(profile: UtilityProfile, bill: BillDocument, checked: Path, name: str) -> None:
    """The PDF `name` in the folder `checked` (storage.documents.folder) and, for an e-invoice, its XML beside it
    (same name, .xml), the XML first; each atomically: a crash leaves either no file or the whole file, and a bill
    counts as rendered once its PDF exists."""
    pdf, xml = bill_files(profile, bill)
    if xml:
        store_in(checked, Path(name).with_suffix('.xml').name, xml)
    store_in(checked, name, pdf)


_engines: dict[str, Engine] = {}  # one pool per worker process and database


def _worker_engine(url: str) -> Engine:
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def _read_at_once(uow: SqlUnitOfWork, contract_ids: list[int], year: int) -> BillingInputs | None:
    """The contracts' data in one read (`billing_inputs`); None when that fails (a row the database cannot give,
    say a date an import with its checks off left broken): each contract then reads its own, and only the contracts
    the bad row belongs to are reported. The failure is logged, with the contracts' range."""
    if not contract_ids:
        return None
    try:
        return billing_inputs(uow, contract_ids, year)
    except Exception:
        uow.session.rollback()
        log.warning(
            'billing run: the data of contracts %d to %d could not be read at once; reading them one by one',
            contract_ids[0],
            contract_ids[-1],
            exc_info=True,
        )
        return None


def bill_chunk(config: RunConfig, contract_ids: list[int]) -> RunSummary:
    """Bill these contracts (runs in a worker process): all computed from one read (`_read_at_once`), numbered
    and stored in one transaction (visible to their customers at once), then rendered. A chunk that cannot be stored
    as a whole (a concurrent run billed one of its contracts a moment earlier, or one bill fails) is stored bill by
    bill."""
    engine = _worker_engine(config.url)
    context = Context(config.profile, config.secret, config.base_url, Argon2Hasher(), config.now)
    summary = RunSummary()
    keys = {contract_id: run_key(contract_id, config.year) for contract_id in contract_ids}
    prepared: list[tuple[int, BillDocument, str]] = []
    with SqlUnitOfWork(engine) as uow:  # a resumed run skips what it made before without computing it again
        billed = set(uow.session.exec(select(Bill.run_key).where(col(Bill.run_key).in_(list(keys.values())))))
        todo = [contract_id for contract_id in contract_ids if keys[contract_id] not in billed]
        summary.already_billed += len(contract_ids) - len(todo)
        inputs = _read_at_once(uow, todo, config.year)
        read_again = False
        for index, contract_id in enumerate(todo):
            try:
                bill = prepare_bill(uow, context, contract_id, config.year, config.bill_date, inputs)
            except Exception as error:  # one bad contract must not stop the run; it is reported
                summary.errors.append((f'Vertrag-ID {contract_id}', f'{type(error).__name__}: {error}'))
                uow.session.rollback()  # PostgreSQL refuses every later statement of a transaction that failed
                # The rollback let go of what was read: the rest is read at once again after the first failure,
                # contract by contract after a second (every contract failing must not read the chunk each time).
                inputs = None if read_again else _read_at_once(uow, todo[index + 1 :], config.year)
                read_again = True
                continue
            if isinstance(bill, Skipped):
                summary.errors.append((bill.contract_number, bill.reason))
            else:
                prepared.append((contract_id, bill, keys[contract_id]))
    whole = True
    try:
        with SqlUnitOfWork(engine) as uow:
            issued = issue_bills(uow, context, prepared)
    except Exception:  # each bill again on its own below, where its own error is reported
        issued, whole = _one_by_one(engine, context, prepared, summary), False
    try:
        bills = folder(config.documents, 'bills')
    except (OSError, OutsideDocuments) as error:  # stored and listed; their PDFs follow when the folder is right
        summary.errors += [(bill.contract_number, f'PDF: {type(error).__name__}: {error}') for bill in issued]
        issued = []
    for bill in issued:
        try:
            write_pdf(config.profile, bill, bills, f'{bill.bill_number}.pdf')
        except Exception as error:  # stored and listed; its PDF is made by the next run (rerender_missing)
            summary.errors.append((bill.contract_number, f'PDF: {type(error).__name__}: {error}'))
            continue
        summary.bills += 1
        if bill.result.balance < 0:
            summary.credits += 1
        elif bill.result.balance > 0:
            summary.back_payments += 1
    if not whole:  # its bills stored by another run, or by this one if the failure hid a COMMIT that went through
        summary.add(rerender_missing(engine, config.profile, config.documents, [k for _, _, k in prepared]))
    return summary


def _one_by_one(
    engine: Engine, context: Context, prepared: list[tuple[int, BillDocument, str]], summary: RunSummary
) -> list[BillDocument]:
    issued = []
    for contract_id, bill, key in prepared:
        try:
            with SqlUnitOfWork(engine) as uow:
                issued.append(issue_bill(uow, context, contract_id, bill, key))
        except ConcurrentChange:  # a concurrent run billed it a moment earlier (unique run key)
            summary.already_billed += 1
        except Exception as error:  # one bad contract must not stop the run; it is reported
            summary.errors.append((bill.contract_number, f'{type(error).__name__}: {error}'))
    return issued


def _chunks(ids: list[int], workers: int) -> Iterator[list[int]]:
    """CHUNK contracts each; with several workers the chunks shrink towards the end (to half the rest shared by the
    workers, SMALLEST at least), so that the workers finish together: with full chunks to the end one worker sat idle
    while another billed the last chunk alone, and a worker that started late (its first transaction waiting for
    another's) stayed late."""
    start = 0
    while start < len(ids):
        rest = len(ids) - start
        size = CHUNK if workers == 1 else min(CHUNK, max(SMALLEST, -(-rest // (2 * workers))))
        yield ids[start : start + size]
        start += size


def _progress(out: TextIO | None, done: int, total: int, started: float, step: int) -> None:
    """A bar redrawn in place on a terminal; in a log (cron, systemd) one line per tenth of the way."""
    if out is None:
        return
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / (time.perf_counter() - started or 1)
    line = f'[{"#" * filled}{"." * (width - filled)}] {done}/{total} contracts, {rate:.0f}/s'
    if out.isatty():
        out.write(f'\r{line}')
    elif done == total or done * 10 // total != (done - step) * 10 // total:
        out.write(f'{line}\n')
    out.flush()


def rerender_missing(
    engine: Engine, profile: UtilityProfile, documents: Path, keys: list[str] | None = None
) -> RunSummary:
    """Computed bills (of an interrupted run, or corrections; or only those of these run keys) whose PDF was not
    yet written: how many were rendered, and the bills whose PDF cannot be written (reported, not fatal: a bill row
    whose stored path leads outside the documents, a full disk). A run starts with this, over every bill computed
    before: a bill's stored contents are read, and its path checked to lie inside the documents, only when its PDF
    is missing."""
    summary = RunSummary()
    query = select(Bill.id, Bill.bill_number, Bill.pdf_path).where(col(Bill.details) != '')
    if keys is not None:
        query = query.where(col(Bill.run_key).in_(keys))
    with Session(engine) as session:
        missing = [
            (bill_id, number, pdf_path)
            for bill_id, number, pdf_path in session.exec(query)
            if not (documents / pdf_path).exists()
        ]
        for bill_id, number, pdf_path in missing:
            try:
                path = inside(documents, pdf_path)
                path.parent.mkdir(parents=True, exist_ok=True)
                details = session.exec(select(Bill.details).where(Bill.id == bill_id)).one()
                write_pdf(profile, from_json(details), path.parent, path.name)
            except Exception as error:  # one bill's PDF must not stop the run: reported
                summary.errors.append((number, f'PDF: {type(error).__name__}: {error}'))
                continue
            summary.rerendered += 1
    return summary


def correct(engine: Engine, config: RunConfig, bill_number: str) -> BillDocument:
    """Replace one computed bill by a correction (new number, both kept) and render it."""
    context = Context(config.profile, config.secret, config.base_url, Argon2Hasher(), config.now)
    with SqlUnitOfWork(engine) as uow:
        bill = correct_bill(uow, context, bill_number, config.bill_date)
    write_pdf(config.profile, bill, folder(config.documents, 'bills'), f'{bill.bill_number}.pdf')
    return bill


def run(
    config: RunConfig,
    workers: int | None = None,
    progress: TextIO | None = sys.stderr,
    worker_setup: Callable[[], object] | None = None,
) -> RunSummary:
    """Bill the year; `worker_setup` runs first in each worker process (the composition root's tuning for PDFs: a
    worker started by fork inherits it, one started by spawn or forkserver would not)."""
    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    with ExitStack() as stack:
        pool = None
        if workers > 1:  # started first: the workers set themselves up and load what every bill uses meanwhile
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers, initializer=worker_setup))
            for _ in range(workers):
                pool.submit(warm_up, config.profile)
        engine = make_engine(config.url)
        summary = RunSummary()
        summary.add(rerender_missing(engine, config.profile, config.documents))
        with Session(engine) as session:
            query = (
                select(Contract.id)
                .where(col(Contract.start_date) <= date(config.year, 12, 31))
                .order_by(col(Contract.id))
            )
            ids = [i for i in session.exec(query) if i is not None]  # primary keys: None only to the type checker
        engine.dispose()
        summary.contracts = len(ids)
        done = 0
        if pool is None:
            for chunk in _chunks(ids, workers):
                summary.add(bill_chunk(config, chunk))
                done += len(chunk)
                _progress(progress, done, len(ids), started, len(chunk))
            if config.url in _engines:
                _engines.pop(config.url).dispose()
        else:
            futures = {pool.submit(bill_chunk, config, chunk): len(chunk) for chunk in _chunks(ids, workers)}
            for future in as_completed(futures):
                summary.add(future.result())
                done += futures[future]
                _progress(progress, done, len(ids), started, futures[future])
    if progress is not None and progress.isatty():
        progress.write('\n')
    summary.seconds = time.perf_counter() - started
    return summary
