"""What the billing run takes from the tariff and the meter: the VAT rate in force at the period's end, and gas only
with the factors that make its m³ kWh (docs/domain.md §3, §5)."""

from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from domain.billing import from_json
from domain.model import Contract, Price
from storage.bill_run import run
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
