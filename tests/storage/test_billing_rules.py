"""What the billing run takes from the tariff and the meter: the VAT rate in force at the period's end, and gas only
with the factors that make its m³ kWh (docs/domain.md §3, §5)."""

from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from domain.billing import from_json
from domain.model import Bill, Contract, Meter, MeterReading, Price
from storage.bill_run import run
from tests.factories import add_readings
from tests.storage.test_billing_run import bills, config, electricity, pinned_clock  # noqa: F401 - fixtures


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


def test_a_meter_exchanged_in_the_year_is_not_billed_as_if_the_other_had_not_been(engine, config):  # noqa: F811
    """Until a bill can add both meters up, the run leaves such a contract to the billing system and says why; a
    meter only planned for next year does not count."""
    customer = electricity(engine)
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        session.add(
            Meter(meter_number='9EBZ0199999999', contract_id=old.contract_id, installed_on=date(config.year + 1, 3, 1))
        )
        session.commit()
    assert run(config, workers=1, progress=None).bills == 1  # the planned meter: the bill as before
    with Session(engine) as session:
        [made] = bills(engine)
        session.delete(session.get(Bill, made.id))
        planned = session.exec(select(Meter).where(Meter.meter_number == '9EBZ0199999999')).one()
        planned.installed_on = date(config.year, 7, 1)
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        old.removed_on = date(config.year, 6, 30)
        session.add_all([planned, old])
        session.commit()
    summary = run(config, workers=1, progress=None)
    assert summary.bills == 0 and 'Zählerwechsel im Abrechnungsjahr (1EBZ' in summary.errors[0][1]


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
