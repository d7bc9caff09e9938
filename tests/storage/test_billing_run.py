"""The billing run on SQLite and PostgreSQL: bills, numbers, PDFs, resuming, never twice, paperless, corrections."""

import gc
import json
import os
import subprocess
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from domain.bill_issue import issue_bill
from domain.billing import from_json
from domain.clock import BERLIN
from domain.errors import BillNotCorrectable, StorageUnavailable
from domain.i18n import money
from domain.model import Bill, Contract, InboxMessage, InstallmentPlan, Payment, Price
from domain.stored_json import to_json
from service import tuning
from service.cli import main
from storage import bill_run
from storage.bill_run import RunConfig, bill_chunk, correct, run
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork
from tests.clock import travel
from tests.factories import add_readings, add_tariff, mails_to, make_customer, make_login

BILL_DATE = date(2027, 1, 20)
RUN_AT = datetime(2026, 12, 28, 10, 0, tzinfo=BERLIN)  # docs/domain.md §5's vector is the year 2026: billed at its end


@pytest.fixture(autouse=True)
def pinned_clock():
    with travel(RUN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def config(engine, database_url, tmp_path):
    return run_config(database_url, tmp_path)


def run_config(database_url: str, folder: Path) -> RunConfig:
    """The run of the billing year 2026 at RUN_AT, its documents in `folder`."""
    settings = Settings(profile='stadtwerke-a')
    return RunConfig(
        database_url,
        settings.load_profile(),
        'test-secret',
        'http://portal.test',
        folder / 'documents',
        2026,
        BILL_DATE,
        RUN_AT,
    )


def electricity(engine, start=45210, end=48410, **overrides):
    """The docs/domain.md §5 vector: 3,200 kWh in 2026, price change on 1 July, 11 × 101 € paid."""
    customer = make_customer(engine, **overrides)
    add_readings(
        engine,
        customer['meter_number'],
        (date(2024, 12, 31), 42000),
        (date(2025, 12, 31), start),
        (date(2026, 12, 31), end),
    )
    add_tariff(engine, customer['id'], amount='101', working_net='0.2500', base_net='120.00', paid_months=11)
    with Session(engine) as session:
        for valid_from, working_net in ((date(2026, 1, 1), '0.2500'), (date(2026, 7, 1), '0.2650')):
            known = select(Price).where(Price.tariff_code == 'STROM-BASIS', Price.valid_from == valid_from)
            if session.exec(known).first() is None:  # prices are shared by all customers on the tariff
                session.add(
                    Price(
                        tariff_code='STROM-BASIS',
                        valid_from=valid_from,
                        unit='kWh',
                        working_price_net=Decimal(working_net),
                        base_price_net_per_year=Decimal('120.00'),
                        vat_rate=Decimal('0.19'),
                    )
                )
        session.commit()
    return customer


def new_contracts(engine, count: int) -> list[int]:
    """`count` contracts of the vector (each its own customer), their ids in order."""
    for _ in range(count):
        electricity(engine)
    with Session(engine) as session:
        return sorted(i for i in session.exec(select(Contract.id)) if i is not None)


def bills(engine):
    with Session(engine) as session:
        return list(session.exec(select(Bill).where(col(Bill.details) != '').order_by(col(Bill.id))))


def pdf_text(path) -> str:
    return subprocess.run(['pdftotext', '-layout', str(path), '-'], capture_output=True, text=True, check=True).stdout


def test_the_vector_bill_is_issued_numbered_and_rendered(engine, config):
    electricity(engine)
    summary = run(config, workers=1, progress=None)
    assert (summary.bills, summary.back_payments, summary.errors) == (1, 1, [])
    [bill] = bills(engine)
    assert (bill.bill_number, bill.amount_gross, bill.balance) == (
        'RE20270000001',
        Decimal('1123.60'),
        Decimal('12.60'),
    )
    text = pdf_text(config.documents / bill.pdf_path)
    for amount in ('396,75 €', '427,45 €', '59,51 €', '60,49 €', '944,20 €', '179,40 €', '1.123,60 €', '12,60 €'):
        assert amount in text  # the PDF shows exactly what the engine computed
    assert 'Nachzahlung: 12,60 €' in text and '41373559241' in text and 'Schlichtungsstelle Energie' in text
    assert 'Energieträgermix' in text and 'Endstand von uns abgelesen' in text
    assert 'Vorjahreszeitraum' in text and '3.210 kWh' in text  # 42,000 → 45,210 the year before
    fonts = subprocess.run(['pdffonts', str(config.documents / bill.pdf_path)], capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert len(rows) == 2 and all(row[-5:-2] == ['yes', 'yes', 'yes'] for row in rows)  # embedded subsets, Unicode
    assert (config.documents / bill.pdf_path).stat().st_size < 25 * 1024  # lean fonts, the logo once (was 63 KB)
    document = from_json(bill.details)
    assert document.result.gross == Decimal('1123.60')
    # stored as asdict would write it (bills stored before 03.12.2026 were), and read back to the same document
    assert bill.details == json.dumps(asdict(document), default=str, ensure_ascii=False) == to_json(document)
    with Session(engine) as session:  # the next period's installment: 1,123.60 / 12 → 94 €
        plan = session.exec(select(InstallmentPlan).order_by(col(InstallmentPlan.valid_from).desc())).first()
        assert (plan.amount, plan.valid_from) == (94, date(2027, 2, 15))


def test_a_resumed_run_bills_nobody_twice_and_renders_missing_pdfs(engine, config):
    for _ in range(3):
        electricity(engine)
    run(config, workers=1, progress=None)
    first = bills(engine)
    (config.documents / first[0].pdf_path).unlink()  # as if the run had crashed before writing it
    again = run(config, workers=1, progress=None)
    assert (again.bills, again.already_billed, again.rerendered) == (0, 3, 1)
    assert (config.documents / first[0].pdf_path).exists()
    assert [b.bill_number for b in bills(engine)] == ['RE20270000001', 'RE20270000002', 'RE20270000003']


def test_two_runs_at_once_never_bill_a_contract_twice(engine, config):
    for _ in range(6):
        electricity(engine)
    with Session(engine) as session:
        ids = list(session.exec(select(Contract.id)))
    results = []
    threads = [threading.Thread(target=lambda: results.append(bill_chunk(config, ids))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.bills for r in results) == 6 and sum(r.already_billed for r in results) == 6
    numbers = sorted(b.bill_number for b in bills(engine))
    assert numbers == [f'RE2027{n:07d}' for n in range(1, 7)]  # unique and without gaps


def test_a_chunk_billed_in_part_by_another_run_meanwhile_is_stored_bill_by_bill(engine, config, monkeypatch):
    ids = new_contracts(engine, 4)
    whole = bill_run.issue_bills

    def the_other_run_first(uow, context, prepared):
        """Between this chunk's computing and its storing, another run bills its third contract."""
        contract_id, bill, key = prepared[2]
        with SqlUnitOfWork(engine) as other:
            issue_bill(other, context, contract_id, bill, key)
        return whole(uow, context, prepared)

    monkeypatch.setattr(bill_run, 'issue_bills', the_other_run_first)
    summary = bill_chunk(config, ids)
    assert (summary.bills, summary.already_billed, summary.errors) == (3, 1, [])
    stored = {b.contract_id: b.bill_number for b in bills(engine)}
    assert sorted(stored.values()) == [f'RE2027{n:07d}' for n in range(1, 5)]  # the chunk's block was given back
    assert stored[ids[2]] == 'RE20270000001'
    assert summary.rerendered == 1  # the other run's bill had no PDF yet (here it never renders)
    assert {p.stem for p in (config.documents / 'bills').glob('*.pdf')} == set(stored.values())


def test_a_chunk_whose_commit_went_through_unseen_is_rendered_all_the_same(engine, config, monkeypatch):
    ids = new_contracts(engine, 3)
    whole = bill_run.issue_bills

    def lost_after_commit(uow, context, prepared):
        whole(uow, context, prepared)
        raise StorageUnavailable()  # the connection went during COMMIT: the server has the bills all the same

    monkeypatch.setattr(bill_run, 'issue_bills', lost_after_commit)
    summary = bill_chunk(config, ids)
    assert (summary.bills, summary.already_billed, summary.rerendered, summary.errors) == (0, 3, 3, [])
    assert {p.stem for p in (config.documents / 'bills').glob('*.pdf')} == {b.bill_number for b in bills(engine)}


def test_a_chunk_is_stored_at_once_before_its_pdfs_are_made(engine, config, monkeypatch):
    ids = new_contracts(engine, 3)
    listed = []

    def render(profile, bill, checked, name):
        listed.append(len(bills(engine)))  # what the customers' bills pages list while PDFs are being made
        (checked / name).write_bytes(b'%PDF')

    monkeypatch.setattr(bill_run, 'write_pdf', render)
    assert bill_chunk(config, ids).bills == 3
    assert listed == [3, 3, 3]


def contract_of(session: Session, customer: dict) -> Contract:
    return session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()


def test_a_final_bill_after_the_billing_month_is_corrected_for_its_own_billing_year(engine, config):
    customer = electricity(engine)
    with Session(engine) as session:  # billing years end in June; the contract ended in September
        contract = contract_of(session, customer)
        contract.billing_month, contract.end_date = 6, date(2026, 9, 30)
        session.add(contract)
        session.commit()
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 47000), (date(2026, 9, 30), 47500))
    following = replace(config, year=2027)  # the billing year 01.07.2026 to 30.06.2027
    assert run(following, workers=1, progress=None).bills == 1
    [bill] = bills(engine)
    assert (bill.kind, bill.period_start, bill.period_end) == ('final', date(2026, 7, 1), date(2026, 9, 30))
    corrected = correct(engine, following, bill.bill_number)
    assert (corrected.period_start, corrected.period_end, corrected.consumption) == (
        date(2026, 7, 1),
        date(2026, 9, 30),
        500,
    )
    with Session(engine) as session:  # billing years ending in August now: the period would span two
        contract = contract_of(session, customer)
        contract.billing_month = 8
        session.add(contract)
        session.commit()
    with pytest.raises(BillNotCorrectable):
        correct(engine, following, corrected.bill_number)


def test_a_missing_end_reading_is_estimated_and_said_so(engine, config):
    customer = make_customer(engine)
    add_readings(engine, customer['meter_number'], (date(2024, 12, 31), 10000), (date(2025, 12, 31), 13650))
    add_tariff(engine, customer['id'], working_net='0.2500', base_net='120.00')
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    document = from_json(bill.details)
    assert (document.registers[0].end_value, document.registers[0].end_source) == (17300, 'estimated')
    assert 'Endstand geschätzt' in pdf_text(config.documents / bill.pdf_path)


def test_contracts_without_readings_are_reported_not_billed(engine, config):
    make_customer(engine)
    summary = run(config, workers=1, progress=None)
    assert summary.bills == 0 and 'kein Anfangsstand' in summary.errors[0][1]


def test_paperless_customers_get_the_bill_in_the_inbox_and_a_mail_without_attachment(engine, config):
    customer = electricity(engine, paperless=True)
    make_login(engine, [customer['id']], email='online@example.org')
    run(config, workers=1, progress=None)
    with Session(engine) as session:
        [message] = session.exec(select(InboxMessage)).all()
    assert message.kind == 'bill' and 'RE20270000001' in message.subject
    [mail] = [m for m in mails_to(engine, 'online@example.org') if 'Rechnung' in m.subject]
    assert '/rechnungen' in mail.text and money(Decimal('12.60')) in mail.text


def test_the_paperless_customer_opens_the_bill_from_the_inbox_entry(engine, config):
    """The mail says the bill "liegt in Ihrem Posteingang", but its inbox entry had no PDF to open there (a copy
    asked for has one): the entry carries the bill's PDF, saved under the bill's name."""
    from domain import inbox

    customer = electricity(engine, paperless=True)
    login = make_login(engine, [customer['id']], email='online@example.org')
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    with SqlUnitOfWork(engine) as uow:
        [entry] = inbox.inbox(uow, login['id'], customer['id'])
        assert entry.has_document
        assert inbox.inbox_document(uow, login['id'], entry.id) == (bill.pdf_path, f'Rechnung-{bill.bill_number}.pdf')


def test_a_bill_that_comes_out_even_says_so_and_asks_for_nothing(engine, config):
    """docs/domain.md §5's vector (1.123,60 €) with 12,60 € more paid: the amount box said "Ausgeglichen", while the
    table, the inbox entry and the mail said "Nachzahlung … 0,00 €"."""
    customer = electricity(engine, paperless=True)
    make_login(engine, [customer['id']], email='eben@example.org')
    with Session(engine) as session:
        session.add(
            Payment(contract_id=contract_of(session, customer).id, paid_on=date(2026, 12, 1), amount=Decimal('12.60'))
        )
        session.commit()
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    text = pdf_text(config.documents / bill.pdf_path)
    with Session(engine) as session:
        [message] = session.exec(select(InboxMessage)).all()
    [mail] = [m for m in mails_to(engine, 'eben@example.org') if 'Rechnung' in m.subject]
    assert bill.balance == 0 and 'Ausgeglichen: 0,00' in text
    for said in (text, message.body, mail.text):
        assert 'Nachzahlung' not in said and 'Ausgeglichen' in said


def test_a_correction_gets_a_new_number_keeps_the_old_bill_and_is_rendered(engine, config):
    electricity(engine)
    run(config, workers=1, progress=None)
    corrected = correct(engine, config, 'RE20270000001')
    assert (corrected.bill_number, corrected.kind, corrected.replaces) == (
        'RE20270000002',
        'correction',
        'RE20270000001',
    )
    rows = bills(engine)
    assert [r.bill_number for r in rows] == ['RE20270000001', 'RE20270000002']
    assert rows[1].replaces_id == rows[0].id and rows[1].kind == 'correction'
    text = pdf_text(config.documents / rows[1].pdf_path)
    assert 'Rechnungskorrektur' in text and 'ersetzt die Rechnung Nr. RE20270000001' in text
    with pytest.raises(BillNotCorrectable):  # a replaced bill is not corrected twice; its correction is
        correct(engine, config, 'RE20270000001')
    assert correct(engine, config, 'RE20270000002').bill_number == 'RE20270000003'
    with pytest.raises(BillNotCorrectable):
        correct(engine, config, 'RE20279999999')


def test_the_cli_bills_in_parallel_and_a_second_run_bills_nobody(engine, database_url, tmp_path, monkeypatch, capsys):
    for _ in range(5):
        electricity(engine)
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    monkeypatch.setenv('KUNDENPORTAL_DATA_DIR', str(tmp_path / 'data'))
    command = ['bill', '--period', '2026', '--workers', '2', '--bill-date', '2027-01-20']
    assert main(command) == 0
    assert '5 bills' in capsys.readouterr().out
    assert len(list((tmp_path / 'data' / 'documents' / 'bills').glob('RE2027*.pdf'))) == 5
    assert main(command) == 0
    assert '0 bills' in capsys.readouterr().out and len(bills(engine)) == 5


def _note_worker(folder: Path) -> None:
    """A billing run's worker setup (module level: the pool pickles it): says which process ran it."""
    (folder / str(os.getpid())).touch()


def test_every_worker_of_the_run_is_set_up_first(engine, config, tmp_path):
    for _ in range(3):
        electricity(engine)
    (tmp_path / 'workers').mkdir()
    summary = run(config, workers=2, progress=None, worker_setup=partial(_note_worker, tmp_path / 'workers'))
    assert summary.bills == 3
    assert {int(p.name) for p in (tmp_path / 'workers').iterdir()} - {os.getpid()}


@pytest.mark.parametrize('switch', ['on', 'off'])
def test_the_cli_sets_up_the_pdf_tuning_for_the_run_and_takes_it_out_after(database_url, tmp_path, monkeypatch, switch):
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    monkeypatch.setenv('KUNDENPORTAL_DATA_DIR', str(tmp_path / 'data'))
    monkeypatch.setenv('KUNDENPORTAL_TUNING', switch)
    monkeypatch.setenv('KUNDENPORTAL_TUNING_SKIP', '')  # the suite's default skips the collector (tests/conftest.py)
    seen = {}

    def the_run(config, workers, worker_setup):
        seen['active'], seen['setup'] = tuning.active(), worker_setup
        return bill_run.RunSummary()

    monkeypatch.setattr(bill_run, 'run', the_run)
    assert main(['bill', '--period', '2026', '--workers', '2']) == 0
    wanted = set(tuning.DOCUMENTS) if switch == 'on' else set()
    assert seen['active'] == wanted
    assert tuning.active() == frozenset()
    with ProcessPoolExecutor(max_workers=1, initializer=partial(_set_up, seen['setup'])) as pool:
        active, set_aside = pool.submit(_worker_state).result()  # as each worker process starts
    assert active == wanted
    assert set_aside == (switch == 'on')  # what it inherited is not walked by each full collection


_inherited: list[list[int]] = []  # a container the worker had before its setup


def _set_up(setup) -> None:
    _inherited.append([1])
    setup()


def _worker_state() -> tuple[set[str], bool]:
    return set(tuning.active()), not any(o is _inherited[0] for o in gc.get_objects())


def test_a_contract_ended_in_the_year_gets_a_final_bill_and_a_credit(engine, config):
    customer = electricity(engine, start=45210, end=46000)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.end_date = date(2026, 6, 30)
        contract.supply_address = 'Alte Gasse 5, 27749 Aue'  # moved out: the postal address is the new flat's
        session.add(contract)
        session.commit()
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46600))
    summary = run(config, workers=1, progress=None)
    assert (summary.bills, summary.credits) == (1, 1)
    [bill] = bills(engine)
    document = from_json(bill.details)
    assert (bill.kind, bill.period_end, document.registers[0].end_value) == ('final', date(2026, 6, 30), 46600)
    assert document.next_installment is None and bill.balance < 0  # 11 × 101 € paid for half a year
    text = pdf_text(config.documents / bill.pdf_path)
    assert 'Schlussrechnung Strom' in text and f'Guthaben: {_plain(-bill.balance)}' in text
    assert 'Vertrag beendet' in text and 'Ihr Abschlag ab dem nächsten' not in text
    assert document.supply_address == 'Alte Gasse 5, 27749 Aue' and 'Alte Gasse 5, 27749 Aue' in text


def _plain(amount: Decimal) -> str:
    return f'{amount:,.2f} €'.replace(',', '_').replace('.', ',').replace('_', '.')


def test_a_first_bill_for_half_a_year_proposes_the_installment_of_a_whole_year(engine, config):
    """Supply from 01.07.2026, 1,600 kWh to the year's end at 0.2650 € net, 120 € base a year, 19 % VAT: the half
    year costs 576.54 €, a whole year 1,143.70 € (1,600 × 365/184 kWh × 0.2650 € + 120 €, with VAT), so 12 × 96 €
    (docs/domain.md §4: the year's cost over N installments). The half year's cost over 12 gave 49 €, and the
    customer a back payment of about 560 € at the next bill."""
    customer = make_customer(engine, contract_start=date(2026, 7, 1))
    add_readings(engine, customer['meter_number'], (date(2026, 7, 1), 45210), (date(2026, 12, 31), 46810))
    add_tariff(engine, customer['id'], amount='50', working_net='0.2650', base_net='120.00')
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    document = from_json(bill.details)
    assert (document.period_start, document.result.gross) == (date(2026, 7, 1), Decimal('576.54'))
    assert document.next_installment == 96


def test_a_first_bill_counts_from_the_move_in_reading_not_from_the_previous_occupant_s(engine, config):
    """The meter keeps its readings when the flat's next tenant takes it over: 40,000 kWh read on 31.12.2025, the
    move-in reading 45,210 kWh on 01.07.2026, the day the supply began, 46,810 kWh on 31.12.2026. The bill for
    01.07.–31.12. counts the 1,600 kWh from the move-in reading; it counted 6,810 kWh from 31.12.2025, half a year
    of the previous occupant's use."""
    customer = make_customer(engine, contract_start=date(2026, 7, 1))
    add_readings(
        engine,
        customer['meter_number'],
        (date(2025, 12, 31), 40000),
        (date(2026, 7, 1), 45210),
        (date(2026, 12, 31), 46810),
    )
    add_tariff(engine, customer['id'], amount='50', working_net='0.2650', base_net='120.00')
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    document = from_json(bill.details)
    [register] = document.registers
    assert (register.start_date, register.start_value, document.consumption) == (date(2026, 7, 1), 45210, 1600)
    assert document.result.gross == Decimal('576.54')


def test_one_bill_corrected_twice_at_once_gets_one_correction(engine, config):
    """Two operators (or a cron job and an operator) run `kundenportal bill --correct` for the same bill at once: both
    found it not yet replaced before either had stored its correction, and both issued one: two corrections with two
    numbers replacing the same bill, both listed for the customer. With the bill's row held before it is looked at,
    the second finds the first's correction and refuses (the first waits 2 s for it in vain)."""
    from domain.bill_issue import correct_bill
    from domain.ports import Context
    from tests.factories import CHEAP_HASHER
    from tests.storage.conftest import meeting_after

    electricity(engine)
    run(config, workers=1, progress=None)
    looked: list[bool] = []

    Meeting = meeting_after('billing.replacement_of', looked)

    def correct_once(_):
        context = Context(config.profile, config.secret, config.base_url, CHEAP_HASHER, config.now)
        try:
            with Meeting(engine) as work:
                return correct_bill(work, context, 'RE20270000001', config.bill_date).bill_number
        except BillNotCorrectable as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(correct_once, range(2)))
    assert sorted(type(answer).__name__ for answer in answers) == ['BillNotCorrectable', 'str']
    assert [r.kind for r in bills(engine)] == ['annual', 'correction']
