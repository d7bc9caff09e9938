"""What the billing run takes from the tariff and the meter: the VAT rate in force at the period's end, and gas only
with the factors that make its m³ kWh (docs/domain.md §3, §5)."""

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from domain.billing import from_json
from domain.clock import BERLIN
from domain.model import Contract, Meter, MeterReading, Price
from storage.bill_run import run
from tests.factories import add_readings
from tests.storage.test_billing_run import bills, config, electricity, pdf_text, pinned_clock  # noqa: F401 - fixtures


def test_the_vat_rate_is_the_one_in_force_at_the_period_s_end(engine, config):  # noqa: F811
    """Next year's prices, at another rate, imported before the January run: this year's bill keeps this year's."""
    electricity(engine)
    with Session(engine) as session:
        session.add(
            Price(
                tariff_code='STROM-BASIS',
                valid_from=date(config.year + 1, 1, 1),
                unit='kWh',
                working_price_net=Decimal('0.2700'),
                base_price_net_per_year=Decimal('120.00'),
                vat_rate=Decimal('0.07'),
            )
        )
        session.commit()
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    document = from_json(bill.details)
    assert document.vat_rate == Decimal('0.19') and document.result.vat == Decimal('179.40')  # §5's vector


def test_gas_without_its_factors_is_not_billed_as_if_m3_were_kwh(engine, config):  # noqa: F811
    customer = electricity(engine)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.commodity = 'gas'  # its meter has neither Zustandszahl nor Brennwert
        session.add(contract)
        session.commit()
    summary = run(config, workers=1, progress=None)
    assert summary.bills == 0 and 'ohne Zustandszahl oder Brennwert' in summary.errors[0][1]


def _exchange(engine, old_number: str, year: int, removal: int | None = 46800) -> None:
    """The meter exchanged on 30.06./01.07.: its removal reading that day (unless None), the new one from 0."""
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == old_number)).one()
        old.removed_on = date(year, 6, 30)
        session.add(old)
        session.add(Meter(meter_number='9EBZ0199999999', contract_id=old.contract_id, installed_on=date(year, 7, 1)))
        for reading in session.exec(select(MeterReading).where(MeterReading.meter_id == old.id)):
            if reading.reading_date > date(year, 6, 30):  # the old meter's year-end reading was never taken
                session.delete(reading)
        session.commit()
    if removal is not None:
        add_readings(engine, old_number, (date(year, 6, 30), removal))
    add_readings(engine, '9EBZ0199999999', (date(year, 7, 1), 0), (date(year, 12, 31), 1610))


def test_a_meter_exchanged_in_the_year_is_billed_over_both_meters(engine, config):  # noqa: F811
    """1,590 kWh on the old meter to its removal, 1,610 on the new one from its installation: §5's 3,200 kWh and its
    amounts, both meters' readings on the bill (it was left to the billing system); a meter only planned for next
    year does not count."""
    customer = electricity(engine)
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        session.add(Meter(meter_number='8EBZ0188888888', contract_id=old.contract_id, installed_on=date(2027, 3, 1)))
        session.commit()
    _exchange(engine, customer['meter_number'], config.year)
    summary = run(config, workers=1, progress=None)
    assert (summary.bills, summary.errors) == (1, [])
    [bill] = bills(engine)
    document = from_json(bill.details)
    assert document.consumption == Decimal(3200) and document.result.gross == Decimal('1123.60')
    assert document.meter_number == f'{customer["meter_number"]}, 9EBZ0199999999'
    assert [(r.meter_number, r.start_value, r.end_value) for r in document.registers] == [
        (customer['meter_number'], Decimal(45210), Decimal(46800)),
        ('9EBZ0199999999', Decimal(0), Decimal(1610)),
    ]
    assert document.previous_consumption == Decimal(3210)  # the year before, from the old meter's readings
    text = ' '.join(pdf_text(config.documents / bill.pdf_path).split())
    assert (
        f'Zählerwechsel im Abrechnungszeitraum: Zähler {customer["meter_number"]} bis 30.06.{config.year}, '
        f'Zähler 9EBZ0199999999 ab 01.07.{config.year}.'
    ) in text
    assert 'Zählernummern' in text and 'Eintarif (Zähler 9EBZ0199999999): Anfangsstand' in text


@pytest.mark.parametrize(('removed', 'installed'), [((1, 1), (1, 1)), ((12, 31), (12, 31))])
def test_a_meter_exchanged_on_the_period_s_first_or_last_day(engine, config, removed, installed):  # noqa: F811
    """On the last day the new meter's installation reading is also the period's end: the contract was skipped for
    want of an end reading ("keine Schätzgrundlage")."""
    customer = electricity(engine)
    year = config.year
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        old.removed_on = date(year, *removed)
        session.add(old)
        session.add(
            Meter(meter_number='9EBZ0199999999', contract_id=old.contract_id, installed_on=date(year, *installed))
        )
        for reading in session.exec(select(MeterReading).where(MeterReading.meter_id == old.id)):
            if reading.reading_date > date(year, *removed):
                session.delete(reading)
        session.commit()
    if removed == (1, 1):
        add_readings(engine, customer['meter_number'], (date(year, 1, 1), 45220))
        add_readings(engine, '9EBZ0199999999', (date(year, 1, 1), 0), (date(year, 12, 31), 3190))
    else:
        add_readings(engine, '9EBZ0199999999', (date(year, 12, 31), 0))
    summary = run(config, workers=1, progress=None)
    assert (summary.bills, summary.errors) == (1, [])
    assert from_json(bills(engine)[0].details).consumption == Decimal(3200)


def test_a_meter_exchanged_without_its_removal_reading_is_left_to_staff(engine, config):  # noqa: F811
    customer = electricity(engine)
    _exchange(engine, customer['meter_number'], config.year, removal=None)
    summary = run(config, workers=1, progress=None)
    assert summary.bills == 0
    assert summary.errors[0][1] == f'kein Ausbaustand für Zählwerk 1.8.0 (Zähler {customer["meter_number"]})'


def test_a_contract_s_first_period_starts_from_its_move_in_reading_taken_on_its_first_day(engine, config):  # noqa: F811
    """Supply from 1 March, the move-in reading taken that day: the bill starts from it (it was skipped: 'kein
    Anfangsstand', for want of a reading before the first day)."""
    customer = electricity(engine)  # 48,410 on 31.12.
    first_day = date(config.year, 3, 1)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.start_date = first_day
        session.add(contract)
        for earlier in session.exec(select(MeterReading).where(col(MeterReading.reading_date) < first_day)):
            session.delete(earlier)
        session.commit()
    add_readings(engine, customer['meter_number'], (first_day, 46000))
    summary = run(config, workers=1, progress=None)
    assert summary.bills == 1, summary.errors
    [bill] = bills(engine)
    [register] = from_json(bill.details).registers
    assert (register.start_date, register.start_value, register.consumption) == (first_day, 46000, 2410)


def test_a_contract_s_first_part_year_pays_the_base_price_by_its_billing_year_s_days(engine, config):  # noqa: F811
    """Supply from 01.07.2027, billed with the calendar year 2027: 184 of 2027's 365 days (60.49 € of 120 €), not of
    the twelve months from its start, which hold 29.02.2028 (60.33 €); the e-invoice's base quantity says 365."""
    customer = electricity(engine)
    first_day = date(2027, 7, 1)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.start_date = first_day
        session.add(contract)
        session.commit()
    add_readings(engine, customer['meter_number'], (first_day, 48500), (date(2027, 12, 31), 50100))
    next_year = replace(
        config, year=2027, bill_date=date(2028, 1, 20), now=datetime(2027, 12, 28, 10, 0, tzinfo=BERLIN)
    )
    summary = run(next_year, workers=1, progress=None)
    assert summary.bills == 1, summary.errors
    [bill] = bills(engine)
    result = from_json(bill.details).result
    assert [line.amount for line in result.lines if line.kind == 'base'] == [Decimal('60.49')]
    assert result.year_days == 365
