"""Billing information (§40b EnWG, docs/domain.md §9) on SQLite and PostgreSQL: made for online customers when due
(every 6 months, 3 on request, monthly for remote-read meters), never twice, with an estimated reading said so, a
PDF without a demand for payment, the inbox entry and a mail; nothing at the year's end (the annual bill)."""

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from domain.billing import PricePeriod, compute_bill
from domain.clock import BERLIN
from domain.information import due_through, from_json, interval
from domain.model import BillingInformation, Contract, Customer, InboxMessage, InstallmentPlan, Payment, Price
from storage.information import DONE, RUNNING, run_information
from storage.unit_of_work import SqlUnitOfWork
from tests.clock import travel
from tests.factories import add_readings, mails_to, make_customer, make_login, set_meter
from tests.storage.conftest import both_here

YEAR = (date(2026, 1, 1), date(2026, 12, 31))


YEAR_ENDS = ((date(2024, 12, 31), 42000), (date(2025, 12, 31), 45210))


def online_customer(engine, email='info@example.org', paperless=True, readings=YEAR_ENDS, **overrides):
    """An online customer on STROM-BASIS (0.2500 € net, 120 € a year) with 95 € a month, six months paid."""
    customer = make_customer(engine, paperless=paperless, with_bill=False, **overrides)
    make_login(engine, [customer['id']], email=email)
    add_readings(engine, customer['meter_number'], *readings)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        if session.exec(select(Price).where(Price.tariff_code == 'STROM-BASIS')).first() is None:
            session.add(
                Price(
                    tariff_code='STROM-BASIS',
                    valid_from=date(2025, 1, 1),
                    unit='kWh',
                    working_price_net=Decimal('0.2500'),
                    base_price_net_per_year=Decimal('120.00'),
                    vat_rate=Decimal('0.19'),
                )
            )
        session.add(InstallmentPlan(contract_id=contract.id, valid_from=date(2026, 1, 1), amount=Decimal(95)))
        for month in range(1, 7):
            session.add(Payment(contract_id=contract.id, paid_on=date(2026, month, 15), amount=Decimal(95)))
        session.commit()
    return customer


def made(engine):
    with Session(engine) as session:
        return list(session.exec(select(BillingInformation).order_by(BillingInformation.id)))


def pdf_text(path) -> str:
    return subprocess.run(['pdftotext', '-layout', str(path), '-'], capture_output=True, text=True, check=True).stdout


def test_an_online_customer_gets_the_half_year_with_the_pdf_the_inbox_entry_and_a_mail(engine, context, tmp_path):
    customer = online_customer(engine)
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    online_customer(engine, email='papier@example.org', paperless=False)  # paper bills: no information online
    with travel(datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN), tick=False):
        summary = run_information(engine, context(now=datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)), tmp_path)
        again = run_information(engine, context(now=datetime(2026, 7, 9, 6, 0, tzinfo=BERLIN)), tmp_path)
    assert (summary.made, summary.rendered, summary.skipped) == (1, 1, [])
    assert (again.made, again.rendered) == (0, 0)  # later in the month (the pass's mark; the key: unique per day)
    [entry] = made(engine)
    document = from_json(entry.details)
    assert (entry.through, document.consumption, document.estimated) == (date(2026, 6, 30), 1590, False)
    assert entry.details == json.dumps(asdict(document), default=str, ensure_ascii=False)  # as written before
    expected = compute_bill(
        Decimal(1590),
        'electricity',
        date(2026, 1, 1),
        date(2026, 6, 30),
        [PricePeriod(date(2025, 1, 1), Decimal('0.2500'), Decimal('120.00'))],
        Decimal('0.19'),
        Decimal(570),
    )
    assert document.so_far == expected and document.installments == 12 * 95
    assert document.projected_result == document.projected_gross - 1140
    text = pdf_text(tmp_path / entry.pdf_path)
    assert 'Abrechnungsinformation Strom' in text and 'keine Rechnung und keine Zahlungsaufforderung' in text
    for amount in (expected.net, expected.vat, expected.gross, Decimal(570), document.projected_gross):
        assert f'{amount:,.2f} €'.replace(',', '_').replace('.', ',').replace('_', '.') in text
    assert '45.210' in text and '46.800' in text and 'geschätzt' not in text
    with Session(engine) as session:
        [message] = session.exec(select(InboxMessage).where(InboxMessage.customer_id == customer['id']))
        assert message.document_path == entry.pdf_path and '30.06.2026' in message.subject
    [mail] = mails_to(engine, 'info@example.org')
    assert 'Abrechnungsinformation bis 30.06.2026' in mail.subject and '/abrechnungsinformation' in mail.text
    assert mails_to(engine, 'papier@example.org') == []


def test_a_missing_reading_is_estimated_and_said_so(engine, context, tmp_path):
    online_customer(engine)  # readings only at the last two year ends
    now = datetime(2026, 7, 2, 6, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        run_information(engine, context(now=now), tmp_path)
    [entry] = made(engine)
    document = from_json(entry.details)
    assert document.estimated and document.registers[0].end_source == 'estimated'
    assert document.consumption == 1592  # 3,210 kWh in 365 days, 181 days of it: 1,591.8 (estimate_reading)
    assert 'geschätzt' in pdf_text(tmp_path / entry.pdf_path)


def test_annual_readings_taken_in_january_count_only_this_years_part(engine, context, tmp_path):
    """The readings of 20 January: the value at the year's start is interpolated between them (and marked), so the
    half year is not charged with the weeks of last January."""
    january = ((date(2025, 1, 20), 42000), (date(2026, 1, 20), 45210), (date(2026, 6, 30), 46800))
    online_customer(engine, readings=january)
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        run_information(engine, context(now=now), tmp_path)
    [entry] = made(engine)
    document = from_json(entry.details)
    [register] = document.registers
    at_start = 42000 + round(Decimal(3210) * 345 / 365)  # 20.01.2025 → 31.12.2025: 345 of the 365 days
    assert (register.start_date, register.start_value, register.start_source) == (
        date(2025, 12, 31),
        at_start,
        'estimated',
    )
    assert document.consumption == 46800 - at_start and document.estimated
    text = pdf_text(tmp_path / entry.pdf_path)
    assert f'{at_start:,} (geschätzt)'.replace(',', '.') in text and 'zum 31.12.2025 liegt zwischen' in text
    assert 'kein abgelesener Zählerstand' not in text  # the end reading of 30.06.2026 was taken


def test_a_rollover_in_january_is_never_charged_as_a_million_kwh(engine, context, tmp_path):
    rolled = (
        (date(2024, 12, 20), 996000),
        (date(2025, 12, 20), 999000),
        (date(2026, 2, 1), 200),
        (date(2026, 6, 30), 1500),
    )
    online_customer(engine, readings=rolled)
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        run_information(engine, context(now=now), tmp_path)
    [entry] = made(engine)
    assert from_json(entry.details).consumption < 10000


def test_every_three_months_on_request_and_monthly_for_a_remote_read_meter(engine, context, tmp_path):
    quarterly = online_customer(engine, email='quartal@example.org')
    remote = online_customer(engine, email='fern@example.org')
    set_meter(engine, remote['meter_number'], kind='smart')
    with Session(engine) as session:
        row = session.get(Customer, quarterly['id'])
        row.information_months = 3
        session.add(row)
        session.commit()
    for day in (date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)):
        now = datetime.combine(day, datetime.min.time(), BERLIN).replace(hour=6)
        with travel(now, tick=False):
            run_information(engine, context(now=now), tmp_path)
    throughs = {(e.customer_id, e.through) for e in made(engine)}
    assert throughs == {
        (remote['id'], date(2026, 1, 31)),
        (remote['id'], date(2026, 2, 28)),
        (remote['id'], date(2026, 3, 31)),
        (quarterly['id'], date(2026, 3, 31)),
    }


@pytest.mark.parametrize(
    ('today', 'months', 'through'),
    [
        (date(2026, 7, 1), 6, date(2026, 6, 30)),
        (date(2026, 7, 31), 6, date(2026, 6, 30)),  # the portal was down on the 1st: later that month
        (date(2026, 8, 1), 6, None),
        (date(2026, 12, 2), 6, None),  # December: nothing due (11 months)
        (date(2026, 12, 2), 1, date(2026, 11, 30)),  # but the monthly one
        (date(2027, 1, 2), 1, None),  # the year's end is the annual bill
        (date(2026, 1, 5), 1, None),  # before the year began
        (date(2026, 10, 1), 3, date(2026, 9, 30)),
    ],
)
def test_when_an_entry_is_due(today, months, through):
    assert due_through(YEAR, today, months) == through


def test_a_billing_year_ending_in_june_counts_its_months_from_july(engine, context, tmp_path):
    customer = online_customer(engine)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.billing_month = 6
        session.add(contract)
        session.commit()
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), (date(2026, 12, 31), 48400))
    now = datetime(2027, 1, 1, 6, 0, tzinfo=BERLIN)  # New Year: six months into the year July–June
    with travel(now, tick=False):
        run_information(engine, context(now=now), tmp_path)
    [entry] = made(engine)
    document = from_json(entry.details)
    assert (document.period_start, document.period_end, entry.through) == (
        date(2026, 7, 1),
        date(2027, 6, 30),
        date(2026, 12, 31),
    )
    assert document.consumption == 1600


def test_a_monthly_choice_ends_with_the_remote_meter():
    chosen = Customer(customer_number='1', information_months=1)
    assert (interval(chosen, remote=True), interval(chosen, remote=False)) == (1, 6)
    assert interval(Customer(customer_number='2', information_months=3), remote=False) == 3


def test_water_has_no_billing_information(engine, context, tmp_path):
    customer = online_customer(engine, commodity='water')
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        assert run_information(engine, context(now=now), tmp_path).made == 0


def test_one_instance_runs_the_pass_another_takes_over_only_after_two_hours(engine, context, tmp_path):
    customer = online_customer(engine)
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    with SqlUnitOfWork(engine) as uow:  # another instance's pass, begun a minute ago
        uow.settings.set(RUNNING, f'2026-06-30|{(now - timedelta(minutes=1)).isoformat()}')
        uow.commit()
    with travel(now, tick=False):
        assert run_information(engine, context(now=now), tmp_path).made == 0
    later = now + timedelta(hours=3)  # that instance died with its pass
    with travel(later, tick=False):
        assert run_information(engine, context(now=later), tmp_path).made == 1


def test_a_pdf_that_fails_is_rendered_by_the_next_hours_pass(engine, context, tmp_path, monkeypatch):
    customer = online_customer(engine)
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')

    def broken(*_):
        raise RuntimeError('disk full')

    monkeypatch.setattr('storage.information.information_pdf', broken)
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        first = run_information(engine, context(now=now), tmp_path)
    assert (first.made, first.rendered) == (1, 0)
    monkeypatch.undo()
    hour = now + timedelta(hours=1)
    with travel(hour, tick=False):
        second = run_information(engine, context(now=hour), tmp_path)
    [entry] = made(engine)
    assert (second.made, second.rendered) == (0, 1) and (tmp_path / entry.pdf_path).exists()


def test_an_entry_that_failed_in_the_pass_is_made_by_the_next_hours_run(engine, context, tmp_path, monkeypatch):
    """One contract's entry failed (a database away for a moment) and the pass marked the month done: due every six
    months, the customer got none for the half year (the log said "next month again", when it is not due)."""
    from storage import information

    failing = online_customer(engine)
    other = online_customer(engine, email='zweite@example.org')
    for customer in (failing, other):
        add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    with Session(engine) as session:
        failing_id = session.exec(select(Contract.id).where(Contract.customer_id == failing['id'])).one()
    issue = information.issue

    def away_for_one(uow, ctx, contract_id):
        if contract_id == failing_id:
            raise RuntimeError('server closed the connection unexpectedly')
        return issue(uow, ctx, contract_id)

    monkeypatch.setattr('storage.information.issue', away_for_one)
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        first = run_information(engine, context(now=now), tmp_path)
    assert first.made == 1 and [reason for _, reason in first.skipped] == [
        'RuntimeError: server closed the connection unexpectedly'
    ]
    monkeypatch.undo()
    hour = now + timedelta(hours=1)
    with travel(hour, tick=False):
        second = run_information(engine, context(now=hour), tmp_path)
    assert (second.made, second.rendered, second.skipped) == (1, 1, [])
    assert sorted(entry.customer_id for entry in made(engine)) == sorted([failing['id'], other['id']])
    with travel(hour + timedelta(hours=1), tick=False):  # nothing left to try again
        assert run_information(engine, context(now=hour + timedelta(hours=1)), tmp_path).made == 0


def test_a_retried_entry_whose_pdf_fails_gets_it_the_hour_after(engine, context, tmp_path, monkeypatch):
    """The retry runs after the month's pass is marked done: a PDF it could not write was never rendered."""
    from storage import information

    customer = online_customer(engine)
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    issue = information.issue
    calls: list[int] = []

    def away_once(uow, ctx, contract_id):
        calls.append(contract_id)
        if len(calls) == 1:
            raise RuntimeError('server closed the connection unexpectedly')
        return issue(uow, ctx, contract_id)

    def broken(*_):
        raise RuntimeError('disk full')

    monkeypatch.setattr('storage.information.issue', away_once)
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    hours = [now + timedelta(hours=n) for n in range(3)]
    with travel(hours[0], tick=False):
        assert run_information(engine, context(now=hours[0]), tmp_path).made == 0
    monkeypatch.setattr('storage.information.information_pdf', broken)
    with travel(hours[1], tick=False):
        assert (run_information(engine, context(now=hours[1]), tmp_path).made, len(made(engine))) == (1, 1)
    monkeypatch.undo()
    with travel(hours[2], tick=False):
        run_information(engine, context(now=hours[2]), tmp_path)
    [entry] = made(engine)
    assert (tmp_path / entry.pdf_path).exists()


def test_the_projection_counts_an_installment_change_the_customer_already_made(engine, context, tmp_path):
    """95 € a month; on 20.06. the customer raised it to 150 € from 15.07. (Abschlag ändern). The information as of
    30.06. must count July to December at 150 €: 6 × 95 + 6 × 150 = 1,470 €, not 12 × 95 = 1,140 €."""
    customer = online_customer(engine)
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        session.add(InstallmentPlan(contract_id=contract.id, valid_from=date(2026, 7, 15), amount=Decimal(150)))
        session.commit()
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        run_information(engine, context(now=now), tmp_path)
    [entry] = made(engine)
    document = from_json(entry.details)
    assert document.installments == 6 * 95 + 6 * 150


@pytest.mark.parametrize('removal', [46000, None])
def test_a_meter_exchanged_in_the_year_is_informed_over_both_meters(engine, context, tmp_path, removal):
    """Removed 31.03. at 46,000 (790 kWh), its successor from 0 on 01.04. to 800 on 30.06.: the half year's 1,590 kWh
    as with one meter (the information was skipped for any exchange); without the removal reading staff are told."""
    from domain.model import Meter

    customer = online_customer(engine)
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        old.removed_on = date(2026, 3, 31)
        session.add(old)
        session.add(Meter(meter_number='9EBZ0199999999', contract_id=old.contract_id, installed_on=date(2026, 4, 1)))
        session.commit()
    if removal is not None:
        add_readings(engine, customer['meter_number'], (date(2026, 3, 31), removal))
    add_readings(engine, '9EBZ0199999999', (date(2026, 4, 1), 0), (date(2026, 6, 30), 800), source='customer')
    with travel(datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN), tick=False):
        summary = run_information(engine, context(now=datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)), tmp_path)
    if removal is None:
        assert summary.made == 0
        assert summary.skipped[0][1] == f'kein Ausbaustand für Zählwerk 1.8.0 (Zähler {customer["meter_number"]})'
        return
    assert (summary.made, summary.skipped) == (1, [])
    [entry] = made(engine)
    document = from_json(entry.details)
    assert (document.consumption, document.meter_number) == (1590, f'{customer["meter_number"]}, 9EBZ0199999999')
    text = ' '.join(pdf_text(tmp_path / entry.pdf_path).split())
    assert f'Zählerwechsel im Abrechnungszeitraum: Zähler {customer["meter_number"]} bis 31.03.2026' in text
    assert 'Zähler 9EBZ0199999999 ab 01.04.2026.' in text and 'Zählernummern' in text


def test_the_projected_result_is_costed_as_the_abschlag_page_and_the_bill_cost_it(engine, context):
    """docs/domain.md §4's vector (1,400 kWh after 151 days, 0.30 € and 144 € a year gross): the projection was
    costed in whole kWh (1,159.20 €, the page says 1,159.23 €); and a VAT cut on 1 October was not taken for the
    year, which the bill takes at its end (the projected result about 110 € off)."""
    from domain.information import prepare

    with Session(engine) as session:
        session.add(
            Price(
                tariff_code='STROM-BASIS',
                valid_from=date(2025, 1, 1),
                unit='kWh',
                working_price_net=Decimal('0.30'),
                base_price_net_per_year=Decimal('144.00'),
                vat_rate=Decimal(0),
            )
        )
        session.commit()
    customer = online_customer(engine, readings=((date(2024, 12, 31), 42000), (date(2025, 12, 31), 45210)))
    add_readings(engine, customer['meter_number'], (date(2026, 5, 31), 46610), source='customer')
    now = datetime(2026, 6, 1, 6, 0, tzinfo=BERLIN)
    with SqlUnitOfWork(engine) as uow:
        contract = uow.customers.contracts(customer['id'])[0]
        document = prepare(uow, context(now=now), contract, uow.customers.get(customer['id']), date(2026, 5, 31), 1)
    assert document.consumption == 1400 and document.projected_gross == Decimal('1159.23')
    with Session(engine) as session:  # the VAT rate goes up on 1 October: the year's end takes it
        session.add(
            Price(
                tariff_code='STROM-BASIS',
                valid_from=date(2026, 10, 1),
                unit='kWh',
                working_price_net=Decimal('0.30'),
                base_price_net_per_year=Decimal('144.00'),
                vat_rate=Decimal('0.10'),
            )
        )
        session.commit()
    with SqlUnitOfWork(engine) as uow:
        contract = uow.customers.contracts(customer['id'])[0]
        document = prepare(uow, context(now=now), contract, uow.customers.get(customer['id']), date(2026, 5, 31), 1)
    assert document.projected_gross == Decimal('1275.15')  # 1,159.23 € net + 10 %


def test_gas_information_without_a_reading_projects_the_year_as_the_abschlag_page_does(engine, context):
    """The missing reading at the cut-off was estimated by days (181/365 of last year) and then projected to the
    year by degree-day weights (584 ‰): 13,817 kWh where the Abschlag page projects last year's 16,268."""
    from domain.information import prepare
    from domain.installment import calculate, installment_basis
    from storage.unit_of_work import SqlUnitOfWork
    from tests.factories import set_meter

    customer = online_customer(
        engine, commodity='gas', readings=((date(2024, 12, 31), 10000), (date(2025, 12, 31), 11500))
    )
    set_meter(engine, customer['meter_number'], z_number=Decimal('0.9640'), calorific_value=Decimal('11.250'))
    ctx = context(now=datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN))
    with SqlUnitOfWork(engine) as uow:
        contract = uow.customers.contracts(customer['id'])[0]
        document = prepare(uow, ctx, contract, uow.customers.get(customer['id']), date(2026, 6, 30), 6)
        view = calculate(ctx, contract, date(2026, 7, 1), installment_basis(uow, contract, date(2026, 7, 1)))
    assert view is not None and abs(view.projected_consumption - Decimal('16267.5')) < 1
    assert abs(document.projected_consumption - view.projected_consumption) <= 2


def test_a_contract_begun_in_march_gets_its_half_year_information_as_of_30_june(engine, context, tmp_path):
    """docs/domain.md §9: the entries close whole intervals since the billing year began; a contract begun on
    15.03. counted from March and got its half year's as of 31.08."""
    customer = online_customer(engine, readings=((date(2026, 3, 15), 45210),), contract_start=date(2026, 3, 15))
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46000), (date(2026, 8, 31), 46500))
    for day in (date(2026, 7, 1), date(2026, 9, 1)):
        now = datetime.combine(day, datetime.min.time(), BERLIN).replace(hour=6)
        with travel(now, tick=False):
            run_information(engine, context(now=now), tmp_path)
    assert [entry.through for entry in made(engine)] == [date(2026, 6, 30)]


def test_installments_still_due_follow_the_calendar_of_the_plan_in_force_on_each_date(engine, context):
    """A plan of 11 installments from August: its year has no December date, but today's plan's calendar counted
    one (1,165 € where the Abschlag page reckons 1,065 €)."""
    from domain.information import prepare
    from domain.installment import calculate, installment_basis
    from storage.unit_of_work import SqlUnitOfWork

    customer = online_customer(engine)
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        session.add(
            InstallmentPlan(contract_id=contract.id, valid_from=date(2026, 8, 1), amount=Decimal(100), per_year=11)
        )
        session.commit()
    ctx = context(now=datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN))
    with SqlUnitOfWork(engine) as uow:
        contract = uow.customers.contracts(customer['id'])[0]
        document = prepare(uow, ctx, contract, uow.customers.get(customer['id']), date(2026, 6, 30), 6)
        view = calculate(ctx, contract, date(2026, 7, 1), installment_basis(uow, contract, date(2026, 7, 1)))
    assert view is not None
    page_total = view.calculator.paid + view.calculator.remaining * view.calculator.current
    assert page_total == 6 * 95 + 95 + 4 * 100
    assert document.installments == page_total


def _earlier_pass_marks(engine) -> None:
    """The settings' marks as an earlier month's pass left them."""
    with SqlUnitOfWork(engine) as uow:
        uow.settings.set(RUNNING, '')
        uow.settings.set(DONE, '2026-05-31')
        uow.commit()


def _watched(monkeypatch, after_running_read) -> list[bool]:
    """The runs' units of work call `after_running_read()` right after each read of the running mark; returned: one
    entry for each pass run (its read of the candidates)."""
    passes: list[bool] = []

    class Watched(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            plain, candidates = self.settings.get, self.information.candidates

            def get(key):
                found = plain(key)
                if key == RUNNING:
                    after_running_read()
                return found

            def counted(today):
                passes.append(True)
                return candidates(today)

            self.settings.get, self.information.candidates = get, counted
            return self

    monkeypatch.setattr('storage.information.SqlUnitOfWork', Watched)
    return passes


@pytest.mark.parametrize('earlier', [False, True])
def test_two_instances_claiming_a_pass_at_the_same_moment_run_it_once_without_an_error(
    engine, context, tmp_path, monkeypatch, earlier
):
    """The first pass (no mark in the settings yet): two instances' hourly runs claimed it at once; the second's
    insert failed on the key, as meant, but the failure escaped `_claim` (it came from the flush, outside the `try`)
    and the run ended in an error (logged as 'making the billing information failed', a traceback for the CLI).
    After an earlier pass (`earlier`: its marks are there) both updated the mark and both ran the pass."""
    customer = online_customer(engine)
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    if earlier:
        _earlier_pass_marks(engine)
    looked: list[bool] = []
    passes = _watched(monkeypatch, lambda: both_here(looked))  # both have found the pass neither done nor running

    def one():
        try:
            return run_information(engine, context(now=now), tmp_path).made
        except Exception as error:
            return error

    with travel(now, tick=False), ThreadPoolExecutor(2) as pool:
        outcomes = [future.result(timeout=90) for future in [pool.submit(one) for _ in range(2)]]
    assert sorted(outcomes) == [0, 1], outcomes
    assert len(made(engine)) == 1
    assert len(passes) == 1  # one instance ran the pass


def test_a_pass_that_ends_between_the_two_marks_read_is_not_run_again(engine, context, tmp_path, monkeypatch):
    """A whole pass of another instance between this one's reads of the two marks: it ran the pass again."""
    customer = online_customer(engine)
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46800), source='customer')
    now = datetime(2026, 7, 1, 6, 0, tzinfo=BERLIN)
    _earlier_pass_marks(engine)
    state = {'inside': False}

    def other_instance_s_whole_pass() -> None:
        if not state['inside'] and not passes:
            state['inside'] = True
            run_information(engine, context(now=now), tmp_path)
            state['inside'] = False

    passes = _watched(monkeypatch, other_instance_s_whole_pass)
    with travel(now, tick=False):
        run_information(engine, context(now=now), tmp_path)
    assert len(made(engine)) == 1
    assert len(passes) == 1, 'the pass ran twice'
