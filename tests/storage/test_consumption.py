"""The consumption history (/verbrauch, the Übersicht's chart), the tariff comparison's yearly consumption and the
plausibility of a new meter's readings, on SQLite and PostgreSQL: meter exchanges, a meter going round its dial, gas
with and without its conversion values."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from domain.clock import BERLIN
from domain.contracts import consumption_history
from domain.errors import ReadingImplausible
from domain.model import Meter
from domain.readings import submit_reading
from domain.tariffs import tariffs
from tests.factories import add_readings, add_tariff, make_customer, make_login, set_meter
from tests.storage.conftest import run

NEW_METER = '9EBZ0199999999'
MARCH_2027 = datetime(2027, 3, 15, 10, 0, tzinfo=BERLIN)


def _exchanged(engine, customer: dict, removed: date, installed: date) -> None:
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        old.removed_on = removed
        session.add(old)
        session.add(Meter(meter_number=NEW_METER, contract_id=old.contract_id, installed_on=installed))
        session.commit()


def _exchanged_in_february(engine) -> tuple[dict, dict]:
    """10 kWh a day on the old meter, removed 28.02.2027; the new one from 01.03. with its installation reading 12."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    old = customer['meter_number']
    add_readings(engine, old, (date(2025, 12, 31), 10000), (date(2026, 12, 31), 13650), (date(2027, 2, 28), 14240))
    _exchanged(engine, customer, date(2027, 2, 28), date(2027, 3, 1))
    add_readings(engine, NEW_METER, (date(2027, 3, 1), 12))
    return customer, login


def test_the_tariffs_yearly_consumption_is_one_year_of_all_meters_not_each_meter_s_last(uow, context, engine):
    """Exchanged on 30.06./01.07.2025, 3,200 kWh a year throughout: the old meter's last whole year (2024) and the
    new one's (2026) were added up, and every offer's yearly cost about doubled."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    add_tariff(engine, customer['id'])
    old = customer['meter_number']
    add_readings(engine, old, (date(2023, 12, 31), 3600), (date(2024, 12, 31), 6800), (date(2025, 6, 30), 8400))
    _exchanged(engine, customer, date(2025, 6, 30), date(2025, 7, 1))
    add_readings(engine, NEW_METER, (date(2025, 7, 1), 0), (date(2025, 12, 31), 1600), (date(2026, 12, 31), 4800))
    [contract] = run(uow, tariffs, context(now=MARCH_2027), login['id'], customer['id'])
    assert contract.consumption == Decimal(3200)


def test_a_year_in_which_the_meter_went_round_its_dial_is_in_the_history(uow, context, engine):
    """A five-digit meter from 98,000 to 1,200 counted 3,200 kWh (§3's rollover, as the reading page takes it): the
    year was left out of /verbrauch and of the tariffs' yearly cost."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    add_tariff(engine, customer['id'])
    set_meter(engine, customer['meter_number'], pre_decimal_digits=5)
    meter = customer['meter_number']
    add_readings(engine, meter, (date(2024, 12, 31), 94800), (date(2025, 12, 31), 98000), (date(2026, 12, 31), 1200))
    [history] = run(uow, consumption_history, context(now=MARCH_2027), login['id'], customer['id'])
    assert [(p.label, p.amount) for p in history.years] == [('2025', 3200), ('2026', 3200)]
    [contract] = run(uow, tariffs, context(now=MARCH_2027), login['id'], customer['id'])
    assert contract.consumption == Decimal(3200)


def test_gas_without_its_conversion_values_is_shown_in_cubic_metres_and_not_priced_as_kwh(uow, context, engine):
    """Zustandszahl and Brennwert are optional in meters.csv: without them 1,500 m³ were shown as "1.500 kWh" (about
    a tenth of the energy) and priced at the kWh rate in the tariff comparison."""
    customer = make_customer(engine, commodity='gas', contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    add_readings(engine, customer['meter_number'], (date(2025, 12, 31), 1000), (date(2026, 12, 31), 2500))
    [history] = run(uow, consumption_history, context(now=MARCH_2027), login['id'], customer['id'])
    assert (history.unit, [p.amount for p in history.years]) == ('m³', [1500])
    set_meter(engine, customer['meter_number'], z_number=Decimal('0.95'), calorific_value=Decimal('11.2'))
    [history] = run(uow, consumption_history, context(now=MARCH_2027), login['id'], customer['id'])
    assert (history.unit, [p.amount for p in history.years]) == ('kWh', [15960])


def test_gas_of_a_line_joined_over_an_exchange_is_converted_with_each_meter_s_own_values(uow, context, engine):
    """The old meter's years (and its part of the year of the exchange) were converted with the new meter's
    Brennwert; a meter without its values takes the new meter's."""
    customer = make_customer(engine, commodity='gas', contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    old = customer['meter_number']
    add_readings(engine, old, (date(2024, 12, 31), 1000), (date(2025, 12, 31), 2500), (date(2026, 6, 30), 3250))
    _exchanged(engine, customer, date(2026, 6, 30), date(2026, 7, 1))
    add_readings(engine, NEW_METER, (date(2026, 7, 1), 0), (date(2026, 12, 31), 750))
    set_meter(engine, old, z_number=Decimal('0.95'), calorific_value=Decimal('11.2'))
    set_meter(engine, NEW_METER, z_number=Decimal('0.95'), calorific_value=Decimal('10.0'))
    [history] = run(uow, consumption_history, context(now=MARCH_2027), login['id'], customer['id'])
    # 2025: 1,500 m³ × 0.95 × 11.2; 2026: 750 m³ × 0.95 × 11.2 + 750 m³ × 0.95 × 10.0
    assert (history.unit, [(p.label, p.amount) for p in history.years]) == ('kWh', [('2025', 15960), ('2026', 15105)])
    set_meter(engine, old, z_number=None, calorific_value=None)
    [history] = run(uow, consumption_history, context(now=MARCH_2027), login['id'], customer['id'])
    assert [p.amount for p in history.years] == [14250, 14250]
    set_meter(engine, old, z_number=Decimal('0.95'), calorific_value=Decimal('11.2'))
    set_meter(engine, NEW_METER, z_number=None, calorific_value=None)  # the line in m³: no part of it in kWh
    [history] = run(uow, consumption_history, context(now=MARCH_2027), login['id'], customer['id'])
    assert (history.unit, [p.amount for p in history.years]) == ('m³', [1500, 1500])


def test_a_new_meter_s_reading_is_judged_by_the_use_of_the_meter_it_replaced(uow, context, engine):
    """10 kWh a day on the old meter, removed 28.02.2027; the new one from 01.03. with its installation reading 12.
    Twenty days later 50,000 (about 200 expected) was stored as plausible: the new meter's own one reading gave no
    expectation, and the old meter's use was never looked at."""
    customer, login = _exchanged_in_february(engine)
    sent = context(now=datetime(2027, 3, 21, 10, 0, tzinfo=BERLIN))
    with pytest.raises(ReadingImplausible):
        run(uow, submit_reading, sent, login['id'], customer['id'], NEW_METER, {'1.8.0': '50000'}, '21.03.2027')
    stored = run(uow, submit_reading, sent, login['id'], customer['id'], NEW_METER, {'1.8.0': '215'}, '21.03.2027')
    assert stored is not None


def test_the_year_of_a_meter_exchange_is_one_year_in_the_new_meter_s_history(uow, context, engine):
    """1,600 kWh on the old meter to 30.06.2025 and 1,600 on the new one from 01.07.: 2025 was a whole year of
    3,200 kWh on neither meter's chart (each had half of it)."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    old = customer['meter_number']
    add_readings(engine, old, (date(2023, 12, 31), 3600), (date(2024, 12, 31), 6800), (date(2025, 6, 30), 8400))
    _exchanged(engine, customer, date(2025, 6, 30), date(2025, 7, 1))
    add_readings(engine, NEW_METER, (date(2025, 7, 1), 0), (date(2025, 12, 31), 1600), (date(2026, 12, 31), 4800))
    [history] = run(uow, consumption_history, context(now=MARCH_2027), login['id'], customer['id'])
    assert history.meter_number == NEW_METER
    assert [(p.label, p.amount) for p in history.years] == [('2024', 3200), ('2025', 3200), ('2026', 3200)]


def test_a_move_out_reading_on_a_new_meter_is_judged_by_the_use_of_the_meter_it_replaced(uow, context, engine):
    """The reading page asks about 50,000 kWh twenty days after an exchange; "Umzug melden" took it unmarked."""
    import json

    from domain.model import ContractRequest
    from domain.moves import MoveForm, reading_field, report_move

    customer, login = _exchanged_in_february(engine)
    sent = context(now=datetime(2027, 3, 21, 10, 0, tzinfo=BERLIN))
    form = MoveForm(
        move_out='21.03.2027',
        readings={reading_field(NEW_METER, '1.8.0'): '50000'},
        street='Neue Straße',
        house_number='7',
        postal_code='10115',
        city='Berlin',
    )
    run(uow, report_move, sent, login['id'], customer['id'], form)
    with Session(engine) as session:
        [request] = session.exec(select(ContractRequest)).all()
    assert json.loads(request.content)['plausibility'] == f'implausible: {NEW_METER}'


def test_meters_side_by_side_each_add_their_last_whole_year(uow, context, engine):
    """A second meter in the same contract (a heat pump's, say), its last reading a year older: both count."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    add_tariff(engine, customer['id'])
    add_readings(engine, customer['meter_number'], (date(2024, 12, 31), 1000), (date(2025, 12, 31), 2000))
    add_readings(engine, customer['meter_number'], (date(2026, 12, 31), 3000))
    with Session(engine) as session:
        first = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        session.add(Meter(meter_number='1WP0000000001', contract_id=first.contract_id))
        session.commit()
    add_readings(engine, '1WP0000000001', (date(2024, 12, 31), 100), (date(2025, 12, 31), 600))
    [contract] = run(uow, tariffs, context(now=MARCH_2027), login['id'], customer['id'])
    assert contract.consumption == Decimal(1500)


def test_a_meter_removed_without_a_reading_at_its_removal_does_not_add_its_old_year(uow, context, engine):
    """Not read as one line with its successor (no removal reading), the removed meter's 2024 was added to the new
    one's 2026 again (about double)."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    add_tariff(engine, customer['id'])
    add_readings(engine, customer['meter_number'], (date(2023, 12, 31), 3600), (date(2024, 12, 31), 6800))
    _exchanged(engine, customer, date(2025, 6, 30), date(2025, 7, 1))
    add_readings(engine, NEW_METER, (date(2025, 7, 1), 0), (date(2025, 12, 31), 1600), (date(2026, 12, 31), 4800))
    [contract] = run(uow, tariffs, context(now=MARCH_2027), login['id'], customer['id'])
    assert contract.consumption == Decimal(3200)


def test_the_old_meter_s_rollover_counts_with_its_own_dial_in_the_joined_history(uow, context, engine):
    """A five-digit meter went round its dial (98,000 → 1,200) and was exchanged for a six-digit one: the joined
    history counted that year with the new meter's 10^6 (903,200 kWh)."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    old = customer['meter_number']
    set_meter(engine, old, pre_decimal_digits=5)
    add_readings(engine, old, (date(2023, 12, 31), 98000), (date(2024, 12, 31), 1200), (date(2025, 6, 30), 2800))
    _exchanged(engine, customer, date(2025, 6, 30), date(2025, 7, 1))
    add_readings(engine, NEW_METER, (date(2025, 7, 1), 0), (date(2025, 12, 31), 1600), (date(2026, 12, 31), 4800))
    [history] = run(uow, consumption_history, context(now=MARCH_2027), login['id'], customer['id'])
    assert [(p.label, p.amount) for p in history.years] == [('2024', 3200), ('2025', 3200), ('2026', 3200)]


def test_two_meters_exchanged_on_the_same_day_are_not_joined_to_the_other_s_history(uow, context, engine):
    """A household's and a heat pump's meter, both exchanged on 30.06./01.07.2025: which new meter replaced which
    cannot be told, and the new household meter continued the heat pump's 8,000 kWh a year. Neither is joined now,
    and a new meter's first reading is judged by neither."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    house, pump = customer['meter_number'], '1WP0000000001'
    with Session(engine) as session:
        first = session.exec(select(Meter).where(Meter.meter_number == house)).one()
        session.add(Meter(meter_number=pump, contract_id=first.contract_id, removed_on=date(2025, 6, 30)))
        first.removed_on = date(2025, 6, 30)
        session.add(first)
        for number in ('1WPNEU0000001', '1HHNEU0000001'):
            session.add(Meter(meter_number=number, contract_id=first.contract_id, installed_on=date(2025, 7, 1)))
        session.commit()
    add_readings(engine, house, (date(2023, 12, 31), 1000), (date(2024, 12, 31), 2000), (date(2025, 6, 30), 2500))
    add_readings(engine, pump, (date(2023, 12, 31), 10000), (date(2024, 12, 31), 18000), (date(2025, 6, 30), 22000))
    add_readings(
        engine, '1WPNEU0000001', (date(2025, 7, 1), 0), (date(2025, 12, 31), 4000), (date(2026, 12, 31), 12000)
    )
    add_readings(engine, '1HHNEU0000001', (date(2025, 7, 1), 0), (date(2025, 12, 31), 500), (date(2026, 12, 31), 1500))
    histories = run(uow, consumption_history, context(now=MARCH_2027), login['id'], customer['id'])
    years = {h.meter_number: [(p.label, int(p.amount)) for p in h.years] for h in histories}
    assert years['1HHNEU0000001'] == [('2026', 1000)] and years['1WPNEU0000001'] == [('2026', 8000)]
    assert years[house] == [('2024', 1000)] and years[pump] == [('2024', 8000)]


def test_a_new_meter_is_judged_by_no_old_one_when_two_were_exchanged_on_the_same_day(uow, context, engine):
    """Which one it replaced cannot be told: judged by the heat pump's use, the household's plausible value was
    asked about (and the other way round); the first reading of each has no expectation, as a first reading."""
    customer, login = _exchanged_in_february(engine)
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        session.add(Meter(meter_number='1WP0000000001', contract_id=old.contract_id, removed_on=date(2027, 2, 28)))
        session.add(Meter(meter_number='1WPNEU0000001', contract_id=old.contract_id, installed_on=date(2027, 3, 1)))
        session.commit()
    add_readings(engine, '1WP0000000001', (date(2026, 12, 31), 10000), (date(2027, 2, 28), 90000))
    sent = context(now=datetime(2027, 3, 21, 10, 0, tzinfo=BERLIN))
    # about 200 expected by the household meter's use, some 27,000 by the heat pump's: judged by neither
    stored = run(uow, submit_reading, sent, login['id'], customer['id'], NEW_METER, {'1.8.0': '27000'}, '21.03.2027')
    assert stored is not None


def _two_meters(engine):
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    add_tariff(engine, customer['id'])
    with Session(engine) as session:
        first = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        session.add(Meter(meter_number='1WP0000000001', contract_id=first.contract_id))
        session.commit()
    return customer, login


def test_two_meters_exchanged_on_the_same_day_both_count_until_the_new_ones_have_a_year(uow, context, engine):
    """Household 1,000 kWh and heat pump 8,000 kWh a year, both exchanged 30.06./01.07.2026 (not joined: which
    replaced which cannot be told), the new ones without a whole year yet: 9,000 (09ab9e2 counted one of them)."""
    customer, login = _two_meters(engine)
    house, pump = customer['meter_number'], '1WP0000000001'
    with Session(engine) as session:
        for meter in session.exec(select(Meter)).all():
            meter.removed_on = date(2026, 6, 30)
            session.add(meter)
            contract_id = meter.contract_id
        for number in ('1WPNEU0000001', '1HHNEU0000001'):
            session.add(Meter(meter_number=number, contract_id=contract_id, installed_on=date(2026, 7, 1)))
        session.commit()
    add_readings(engine, house, (date(2024, 12, 31), 1000), (date(2025, 12, 31), 2000), (date(2026, 6, 30), 2500))
    add_readings(engine, pump, (date(2024, 12, 31), 10000), (date(2025, 12, 31), 18000), (date(2026, 6, 30), 22000))
    add_readings(engine, '1WPNEU0000001', (date(2026, 7, 1), 0), (date(2026, 12, 31), 4000))
    add_readings(engine, '1HHNEU0000001', (date(2026, 7, 1), 0), (date(2026, 12, 31), 500))
    [contract] = run(uow, tariffs, context(now=MARCH_2027), login['id'], customer['id'])
    assert contract.consumption == Decimal(9000)


def test_a_removed_meter_not_joined_still_counts_beside_another_meter_with_a_whole_year(uow, context, engine):
    """Heat pump (8,000 kWh a year) in use throughout; the household meter (1,000 a year) exchanged 30.06./01.07.2026
    without a removal reading (not joined), the new one without a whole year yet: the household's use vanished
    (8,000), because some other meter in use had a whole year (09ab9e2)."""
    customer, login = _two_meters(engine)
    house, pump = customer['meter_number'], '1WP0000000001'
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == house)).one()
        old.removed_on = date(2026, 6, 30)
        session.add(old)
        session.add(Meter(meter_number='1HHNEU0000001', contract_id=old.contract_id, installed_on=date(2026, 7, 1)))
        session.commit()
    add_readings(engine, house, (date(2024, 12, 31), 1000), (date(2025, 12, 31), 2000))
    add_readings(engine, pump, (date(2024, 12, 31), 10000), (date(2025, 12, 31), 18000), (date(2026, 12, 31), 26000))
    add_readings(engine, '1HHNEU0000001', (date(2026, 7, 1), 0), (date(2026, 12, 31), 500))
    [contract] = run(uow, tariffs, context(now=MARCH_2027), login['id'], customer['id'])
    assert contract.consumption == Decimal(9000)


def test_a_meter_removed_years_ago_without_a_successor_no_longer_counts(uow, context, engine):
    """A second meter (night storage heating, 3,000 kWh a year) taken out in 2024 for good; the household meter in
    use has its whole years since: the tariff comparison's yearly consumption is 1,000, not 4,000 (89cc42c added
    the old meter's last year for ever)."""
    customer, login = _two_meters(engine)
    house, heating = customer['meter_number'], '1WP0000000001'
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == heating)).one()
        old.removed_on = date(2024, 3, 31)
        session.add(old)
        session.commit()
    add_readings(engine, heating, (date(2022, 12, 31), 10000), (date(2023, 12, 31), 13000), (date(2024, 3, 31), 14000))
    add_readings(engine, house, (date(2024, 12, 31), 1000), (date(2025, 12, 31), 2000), (date(2026, 12, 31), 3000))
    [contract] = run(uow, tariffs, context(now=MARCH_2027), login['id'], customer['id'])
    assert contract.consumption == Decimal(1000)


def test_an_exchanged_meter_whose_successor_has_no_installation_date_is_not_counted_twice(uow, context, engine):
    """meters.csv's installed_on is optional: the old meter (removed 30.06.2025) and the new one (no installation
    date, a whole year 2026 of 1,000 kWh) were both counted once the new one had its whole year."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))
    login = make_login(engine, [customer['id']])
    add_tariff(engine, customer['id'])
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == customer['meter_number'])).one()
        old.removed_on = date(2025, 6, 30)
        session.add(old)
        session.add(Meter(meter_number=NEW_METER, contract_id=old.contract_id))
        session.commit()
    add_readings(engine, customer['meter_number'], (date(2023, 12, 31), 1000), (date(2024, 12, 31), 2000))
    add_readings(engine, NEW_METER, (date(2025, 7, 1), 0), (date(2025, 12, 31), 500), (date(2026, 12, 31), 1500))
    [contract] = run(uow, tariffs, context(now=MARCH_2027), login['id'], customer['id'])
    assert contract.consumption == Decimal(1000)
