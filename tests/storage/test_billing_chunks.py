"""The billing run's chunk of contracts read at once (`billing_inputs`) on SQLite and PostgreSQL: the same bills as
each contract read alone, and what a failing contract or a row the database cannot give does to the rest."""

import os
import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from domain.bill_prepare import Skipped, billing_inputs, prepare_bill
from domain.billing import BillDocument
from domain.model import AuditEntry, Bill, Contract, InboxMessage, InstallmentPlan, Meter, Payment, id_of
from domain.ports import Context
from storage import bill_run
from storage.bill_run import bill_chunk
from storage.documents import OutsideDocuments, folder, store_in
from storage.hashing import Argon2Hasher
from storage.unit_of_work import SqlUnitOfWork
from tests.clock import travel
from tests.factories import mails_to, make_login
from tests.storage.test_billing_run import BILL_DATE, RUN_AT, contract_of, electricity, new_contracts, run_config


@pytest.fixture(autouse=True)
def pinned_clock():
    with travel(RUN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def config(engine, database_url, tmp_path):
    return run_config(database_url, tmp_path)


@pytest.mark.parametrize('failing', [1, 3])
def test_a_contract_whose_computing_fails_in_the_database_leaves_the_chunk_s_others_billed(
    engine, config, monkeypatch, failing
):
    ids = new_contracts(engine, 3)
    computed, read = bill_run.prepare_bill, bill_run.billing_inputs
    reads = []

    def failing_for_the_first(uow, context, contract_id, *args):
        if contract_id in ids[:failing]:
            uow.session.execute(text('SELECT * FROM no_such_table'))  # PostgreSQL aborts the transaction
        return computed(uow, context, contract_id, *args)

    def counted(uow, contract_ids, year):
        reads.append(list(contract_ids))
        return read(uow, contract_ids, year)

    monkeypatch.setattr(bill_run, 'prepare_bill', failing_for_the_first)
    monkeypatch.setattr(bill_run, 'billing_inputs', counted)
    summary = bill_chunk(config, ids)
    assert summary.bills == 3 - failing
    assert [number for number, _ in summary.errors] == [f'Vertrag-ID {i}' for i in ids[:failing]]
    # what the rollback let go of is read again at once after the first failure, not after every one
    assert reads == [ids, ids[1:]]


def test_a_chunk_read_at_once_computes_each_contract_as_if_read_alone(engine, config):
    first = electricity(engine)
    with Session(engine) as session:
        contract_id = id_of(contract_of(session, first))
        # a meter taken out before the year (its id shifts the later meters' ids from their contracts'), and a
        # payment just before and just after the billing year
        session.add(Meter(meter_number='1EBZ0199999999', contract_id=contract_id, removed_on=date(2024, 6, 30)))
        session.add(Payment(contract_id=contract_id, paid_on=date(2025, 12, 31), amount=Decimal('500')))
        session.add(Payment(contract_id=contract_id, paid_on=date(2027, 1, 1), amount=Decimal('500')))
        session.commit()
    electricity(engine, end=47100)
    january = electricity(engine, end=46300)
    with Session(engine) as session:  # a billing year ending in January: 01.02.2025 to 31.01.2026
        contract = contract_of(session, january)
        contract.billing_month = 1
        session.add(contract)
        session.add(Payment(contract_id=id_of(contract), paid_on=date(2025, 3, 15), amount=Decimal('101')))
        session.commit()
    ids = new_contracts(engine, 0)
    context = Context(config.profile, config.secret, config.base_url, Argon2Hasher(), config.now)
    with SqlUnitOfWork(engine) as uow:
        chunk = billing_inputs(uow, ids, 2026)
        together = [prepare_bill(uow, context, i, 2026, BILL_DATE, chunk) for i in ids]
        alone = [prepare_bill(uow, context, i, 2026, BILL_DATE) for i in ids]
    assert together == alone
    bills = [bill for bill in together if isinstance(bill, BillDocument)]
    assert [(bill.period_start, bill.period_end) for bill in bills] == [
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2025, 2, 1), date(2026, 1, 31)),
    ]
    assert [bill.consumption for bill in bills[:2]] == [3200, 1890]  # each its own meter's readings
    assert [bill.result.paid for bill in bills] == [Decimal('1111'), Decimal('1111'), Decimal('202')]


@pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)  # PostgreSQL keeps no date that does not exist
def test_a_reading_the_database_cannot_give_fails_only_its_contract(engine, config, caplog):
    ids = new_contracts(engine, 3)
    with Session(engine) as session:
        meter = session.exec(select(Meter).where(Meter.contract_id == ids[1])).one()
        broken = (
            "UPDATE meterreading SET reading_date = '2026-13-45' WHERE meter_id = :m AND reading_date = '2024-12-31'"
        )
        assert session.execute(text(broken), {'m': meter.id}).rowcount == 1
        session.commit()
    summary = bill_chunk(config, ids)
    assert summary.bills == 2 and [number for number, _ in summary.errors] == [f'Vertrag-ID {ids[1]}']
    assert f'contracts {ids[0]} to {ids[2]} could not be read at once' in caplog.text


@pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)  # PostgreSQL keeps its foreign keys
def test_a_contract_without_its_customer_or_gone_is_skipped_with_a_reason(engine, config):
    [kept, orphan] = new_contracts(engine, 2)
    with Session(engine) as session:
        contract = session.get_one(Contract, orphan)
        number, customer_id = contract.contract_number, contract.customer_id
    with engine.connect() as connection:  # as an import with its checks off could leave it
        connection.exec_driver_sql('PRAGMA foreign_keys = OFF')
        connection.execute(text('DELETE FROM customer WHERE id = :id'), {'id': customer_id})
        connection.commit()
    context = Context(config.profile, config.secret, config.base_url, Argon2Hasher(), config.now)
    with SqlUnitOfWork(engine) as uow:
        results = [prepare_bill(uow, context, i, 2026, BILL_DATE) for i in (kept, orphan, orphan + 99)]
    assert isinstance(results[0], BillDocument)
    assert results[1:] == [
        Skipped(number, 'kein Kunde zum Vertrag'),
        Skipped(f'Vertrag-ID {orphan + 99}', 'Vertrag nicht gefunden'),
    ]


def test_a_stored_pdf_path_leading_outside_the_documents_is_never_written(engine, config):
    """The run renders a missing PDF at the path its bill row names; a row pointing outside (an edited database, an
    importer's defect) is refused and reported, where the parent folder used to be taken as it was."""
    [contract_id] = new_contracts(engine, 1)
    bill_chunk(config, [contract_id])
    with Session(engine) as session:
        bill = session.exec(select(Bill).where(Bill.details != '')).one()
        (config.documents / bill.pdf_path).unlink()
        bill.pdf_path = '../escaped/bill.pdf'
        session.add(bill)
        session.commit()
    again = bill_run.run(config, workers=1, progress=None)  # reported, and the run goes on
    assert again.rerendered == 0 and [reason for _, reason in again.errors] == [
        f"PDF: OutsideDocuments: '../escaped/bill.pdf' lies outside {config.documents.resolve()}"
    ]
    assert not (config.documents.parent / 'escaped').exists()


@pytest.mark.parametrize('name', ['../x.pdf', 'a/b.pdf', '.hidden', '', 'x.pdf\n', '/etc/x.pdf'])
def test_a_file_in_a_checked_folder_has_a_plain_name(tmp_path, name):
    checked = folder(tmp_path, 'bills')
    with pytest.raises(OutsideDocuments):
        store_in(checked, name, b'%PDF')
    assert list(tmp_path.rglob('*')) == [checked]


def test_a_symlink_in_a_checked_folder_is_replaced_not_written_through(tmp_path):
    outside = tmp_path / 'outside.pdf'
    outside.write_bytes(b'keep')
    checked = folder(tmp_path / 'documents', 'bills')
    (checked / 'RE1.pdf').symlink_to(outside)
    store_in(checked, 'RE1.pdf', b'%PDF')
    assert outside.read_bytes() == b'keep' and (checked / 'RE1.pdf').read_bytes() == b'%PDF'
    assert not (checked / 'RE1.pdf').is_symlink()


@pytest.mark.parametrize('link', ['symlink', 'hard link'])
def test_a_link_at_the_partial_file_s_name_is_not_written_through(tmp_path, link):
    """The partial file's name is foreseeable (process and thread): a symlink planted there was opened and written,
    a hard link (to a file of the portal's user) truncated and overwrote the file it shares."""
    outside = tmp_path / 'outside.pdf'
    outside.write_bytes(b'keep')
    checked = folder(tmp_path / 'documents', 'bills')
    partial = checked / f'RE1.pdf.{os.getpid()}-{threading.get_ident()}.part'
    if link == 'symlink':
        partial.symlink_to(outside)
    else:
        partial.hardlink_to(outside)
    store_in(checked, 'RE1.pdf', b'%PDF')
    assert outside.read_bytes() == b'keep' and (checked / 'RE1.pdf').read_bytes() == b'%PDF'
    assert not partial.exists() and not (checked / 'RE1.pdf').is_symlink()


@pytest.mark.parametrize(('count', 'workers'), [(3914, 2), (501, 2), (251, 1), (7, 3), (1, 4), (0, 2), (20_000, 4)])
def test_the_run_s_chunks_shrink_towards_the_end_so_that_the_workers_finish_together(count, workers):
    ids = list(range(1, count + 1))
    sizes = [len(chunk) for chunk in bill_run._chunks(ids, workers)]
    assert [i for chunk in bill_run._chunks(ids, workers) for i in chunk] == ids
    assert all(0 < size <= bill_run.CHUNK for size in sizes)
    assert sizes[:-1] == sorted(sizes[:-1], reverse=True)  # the last one is what is left
    if workers == 1:
        assert set(sizes[:-1]) <= {bill_run.CHUNK}
    elif count >= 2 * workers * bill_run.CHUNK:
        assert sizes[0] == bill_run.CHUNK and max(sizes[-2 * workers :]) <= bill_run.SMALLEST


def test_a_chunk_tells_each_customer_of_their_own_bill(engine, config):
    """A chunk's customers read together (`recipients`): the paperless one with a login gets the inbox entry and the
    mail at their login, the paperless one without a login the entry only, the one on paper neither; each audit
    entry names its own contract and customer."""
    online = electricity(engine, paperless=True)
    make_login(engine, [online['id']], email='online@example.org')
    offline = electricity(engine, paperless=True)
    paper = electricity(engine)
    make_login(engine, [paper['id']], email='paper@example.org')
    with Session(engine) as session:
        contracts = {c['id']: contract_of(session, c) for c in (online, offline, paper)}
    assert bill_chunk(config, sorted(id_of(c) for c in contracts.values())).bills == 3
    with Session(engine) as session:
        inbox = {m.customer_id: m for m in session.exec(select(InboxMessage))}
        issued = {b.contract_id: b.bill_number for b in session.exec(select(Bill).where(Bill.details != ''))}
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == 'bill_issued')).all()
    assert set(inbox) == {online['id'], offline['id']}
    for customer in (online, offline):
        assert issued[id_of(contracts[customer['id']])] in inbox[customer['id']].subject
    [mail] = [m for m in mails_to(engine, 'online@example.org') if 'Rechnung' in m.subject]
    assert '/rechnungen' in mail.text
    assert not [m for m in mails_to(engine, 'paper@example.org') if 'Rechnung' in m.subject]
    assert sorted((a.customer_id, a.details.split()[1]) for a in audit) == sorted(
        (c.customer_id, f'contract={c.contract_number}') for c in contracts.values()
    )


def test_a_plan_starting_on_the_day_of_one_stored_replaces_its_amount_and_only_that(engine):
    """`set_plans` reads only the stored plans starting on the new plans' days; one of the same contract and day is
    updated (a correction's plan), every other plan stays, another day's plan is added."""
    first, second = new_contracts(engine, 2)
    day, later = date(2027, 2, 15), date(2027, 3, 15)

    def plan(contract_id, valid_from, amount):
        return InstallmentPlan(contract_id=contract_id, valid_from=valid_from, amount=amount, due_day=15, per_year=12)

    with SqlUnitOfWork(engine) as uow:
        uow.billing.set_plans([plan(first, day, Decimal(94)), plan(second, day, Decimal(50))])
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        uow.billing.set_plans([plan(first, day, Decimal(97)), plan(second, later, Decimal(55))])
        uow.commit()
    with Session(engine) as session:
        stored = session.exec(select(InstallmentPlan).where(col(InstallmentPlan.valid_from) >= day)).all()
    assert sorted((p.contract_id, p.valid_from, p.amount) for p in stored) == [
        (first, day, 97),
        (second, day, 50),
        (second, later, 55),
    ]


def test_a_file_that_cannot_be_written_leaves_no_partial_file(tmp_path, monkeypatch):
    checked = folder(tmp_path, 'bills')

    def full(descriptor, data):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'write', full)
    with pytest.raises(OSError):
        store_in(checked, 'RE1.pdf', b'%PDF')
    assert list(checked.iterdir()) == []


def test_a_bills_folder_leading_outside_the_documents_is_reported_not_fatal(engine, config, tmp_path):
    """documents/bills as a link to another volume: the chunk's bills are stored and listed, their PDFs reported as
    not written (the portal would not serve them from there either); the chunk used to end in an exception."""
    (tmp_path / 'elsewhere').mkdir()
    config.documents.mkdir(parents=True, exist_ok=True)
    (config.documents / 'bills').symlink_to(tmp_path / 'elsewhere')
    ids = new_contracts(engine, 2)
    summary = bill_chunk(config, ids)
    assert summary.bills == 0 and len(summary.errors) == 2
    assert all('OutsideDocuments' in reason for _, reason in summary.errors)
    assert list((tmp_path / 'elsewhere').iterdir()) == []
    with Session(engine) as session:
        assert len(session.exec(select(Bill).where(Bill.details != '')).all()) == 2  # stored and listed


@pytest.mark.parametrize('prefix', ['RE ', 'RÄ', 'R/E', 'RE\\n', 'ABCDEFGHIJK'])
def test_a_bill_number_prefix_that_cannot_name_a_file_is_refused_with_the_profile(prefix):
    """The bill number names the bill's PDF; a prefix with a space, an umlaut or a slash made every PDF fail."""
    from pydantic import ValidationError

    from domain.profile import BillRule

    with pytest.raises(ValidationError):
        BillRule(number_prefix=prefix)
    assert BillRule(number_prefix='SW-A_1').number_prefix == 'SW-A_1'
