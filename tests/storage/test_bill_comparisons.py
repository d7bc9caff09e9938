"""What a bill compares and states about its contract. A bill for a part of the year (a final bill) compares with
the same share of last year's and of the average household's consumption (§40 EnWG: the comparable period), not
with a whole year ("−56,7 %" for half a year); a fixed-term contract is not offered a termination inside its term."""

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from domain.billing import from_json
from domain.model import Contract
from storage.bill_run import run
from tests.factories import add_readings
from tests.storage.test_billing_run import bills, config, electricity, pdf_text, pinned_clock  # noqa: F401


def ends(engine, customer: dict, day: date) -> None:
    """The customer's contract ends on `day` (an end agreed or a fixed term)."""
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.end_date = day
        session.add(contract)
        session.commit()


def test_a_final_bill_for_half_a_year_compares_with_half_of_last_year(engine, config):  # noqa: F811
    customer = electricity(engine, start=45210, end=46000)
    ends(engine, customer, date(2026, 6, 30))
    add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 46600))
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    document = from_json(bill.details)
    assert document.consumption == 1390 and document.compared_days == 181
    assert document.previous_consumption == Decimal(3210 * 181 / 365).quantize(Decimal(1))  # 1,592 of 3,210
    text = pdf_text(config.documents / bill.pdf_path)
    assert 'Vorjahreszeitraum (anteilig, 181 Tage)' in text and 'Durchschnitt (anteilig, 181 Tage)' in text
    assert '-56,7' not in text


def test_a_fixed_term_contract_is_not_told_it_can_end_before_its_term(engine, config):  # noqa: F811
    """A contract running to 31.12.2027 read "Nächstmöglicher Kündigungstermin 28.02.2027", inside its term."""
    customer = electricity(engine)
    ends(engine, customer, date(2027, 12, 31))
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    assert from_json(bill.details).next_termination == date(2027, 12, 31)
    assert 'bis 31.12.2027' in pdf_text(config.documents / bill.pdf_path)


def test_a_final_gas_bill_compares_with_last_year_s_share_by_degree_day_weights(engine, config):  # noqa: F811
    """January to June is 584 ‰ of a gas year (docs/domain.md §4), not 181/365: a household that used as much as
    last year read "Veränderung zum Vorjahr +17,8 %"."""
    document = final_gas_bill(engine, config, read_at_the_end=True)
    assert document.consumption == 5840
    assert document.previous_consumption == 5840  # 584 ‰ of 10,000 (by days: 4,959)


def test_a_final_gas_bill_estimates_a_missing_end_reading_by_degree_day_weights(engine, config):  # noqa: F811
    """Without a reading on 30.06., the end was estimated by days (10,000 + 181/365 of last year's 10,000 = 14,959 m³):
    the bill charged 4,959 for half a year whose share of a gas year is 584 ‰, as the billing information and the
    Abschlag page reckon it."""
    document = final_gas_bill(engine, config, read_at_the_end=False)
    [register] = document.registers
    assert (register.end_source, register.end_value, document.consumption) == ('estimated', 15840, 5840)


def test_an_annual_gas_bill_estimates_the_rest_of_the_year_by_degree_day_weights(engine, config):  # noqa: F811
    """Read on 30.06. (5,840 m³ since January, as last year's first half), not at the year's end: by days the second
    half added 5,937 m³ (11,777 in all) where a gas year's second half is 416 ‰ (10,000)."""
    from tests.factories import add_tariff, make_customer, set_meter

    customer = make_customer(engine, commodity='gas')
    set_meter(engine, customer['meter_number'], z_number=Decimal('1'), calorific_value=Decimal('1'))
    add_tariff(engine, customer['id'], working_net='0.0800', base_net='120.00')
    readings = ((date(2024, 12, 31), 0), (date(2025, 12, 31), 10000), (date(2026, 6, 30), 15840))
    add_readings(engine, customer['meter_number'], *readings)
    run(config, workers=1, progress=None)
    assert from_json(bills(engine)[0].details).consumption == 10000


def final_gas_bill(engine, config, read_at_the_end: bool):  # noqa: F811
    """A gas contract (m³ × 1 × 1) ending 30.06.2026 after a year of 10,000; read at its end (15,840) or not."""
    from tests.factories import add_tariff, make_customer, set_meter

    customer = make_customer(engine, commodity='gas')
    set_meter(engine, customer['meter_number'], z_number=Decimal('1'), calorific_value=Decimal('1'))
    add_tariff(engine, customer['id'], working_net='0.0800', base_net='120.00')
    add_readings(engine, customer['meter_number'], (date(2024, 12, 31), 0), (date(2025, 12, 31), 10000))
    if read_at_the_end:
        add_readings(engine, customer['meter_number'], (date(2026, 6, 30), 15840))
    ends(engine, customer, date(2026, 6, 30))
    run(config, workers=1, progress=None)
    return from_json(bills(engine)[0].details)


def test_a_bill_names_the_earliest_end_the_cancellation_page_names(engine, config):  # noqa: F811
    """The bill moved the notice to a month's end (28.02.2027 for a bill of 20.01.2027 with four weeks' notice),
    while the cancellation page and its confirmation named 17.02.2027 for the same contract."""
    from domain.contract_requests import earliest_end

    customer = electricity(engine)
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
    document = from_json(bill.details)
    assert document.next_termination == earliest_end(contract, document.bill_date)
    assert document.next_termination == document.bill_date + timedelta(weeks=contract.notice_period_weeks)


def test_a_contract_ending_before_the_notice_runs_out_is_not_offered_a_later_termination(engine, config):  # noqa: F811
    """An end agreed for 05.02.2027 on a bill of 20.01.2027: the bill read "bis 05.02.2027" and "Nächstmöglicher
    Kündigungstermin 17.02.2027"."""
    customer = electricity(engine)
    ends(engine, customer, date(2027, 2, 5))
    run(config, workers=1, progress=None)
    [bill] = bills(engine)
    assert from_json(bill.details).next_termination == date(2027, 2, 5)
    assert '17.02.2027' not in pdf_text(config.documents / bill.pdf_path)


def test_an_annual_bill_made_after_the_agreed_end_names_no_termination_in_the_past(engine, config):  # noqa: F811
    """The contract ended on 10.01.2027, the bill for 2026 is dated 20.01.2027: it read "Nächstmöglicher
    Kündigungstermin 10.01.2027"."""
    customer = electricity(engine)
    ends(engine, customer, date(2027, 1, 10))
    run(config, workers=1, progress=None)
    document = from_json(bills(engine)[0].details)
    assert (document.kind, document.bill_date, document.next_termination) == ('annual', date(2027, 1, 20), None)
    assert 'Vertrag beendet' in pdf_text(config.documents / bills(engine)[0].pdf_path)


def test_an_unused_meter_s_estimated_end_is_not_below_its_last_reading(engine, config):  # noqa: F811
    """A vacant flat, 10,000.4 m³ at both year ends: the estimate, in whole units, was 10,000, and the run refused
    the bill with "Endstand kleiner als Anfangsstand"."""
    from tests.factories import add_tariff, make_customer, set_meter

    customer = make_customer(engine, commodity='gas')
    set_meter(engine, customer['meter_number'], z_number=Decimal('1'), calorific_value=Decimal('1'))
    add_tariff(engine, customer['id'], working_net='0.0800', base_net='120.00')
    add_readings(engine, customer['meter_number'], (date(2024, 12, 31), '10000.4'), (date(2025, 12, 31), '10000.4'))
    ends(engine, customer, date(2026, 6, 30))
    assert run(config, workers=1, progress=None).errors == []
    assert from_json(bills(engine)[0].details).consumption == 0
