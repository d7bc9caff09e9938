"""A meter handed to the next tenant with its supply point (`meters.csv` moves it to the new contract): the new
customer sees none of the previous one's readings, also when a contract of their own elsewhere ended the day before;
plausibility still judges by the meter's whole history. A renewal at the same supply address keeps the history."""

from datetime import date, datetime

import pytest
from sqlmodel import Session, select

from domain.clock import BERLIN
from domain.contracts import consumption_history
from domain.data_export import export_data
from domain.model import Contract, Meter, id_of
from domain.moves import _readings_out, reading_field
from domain.readings import meter_forms
from tests.factories import add_readings, make_customer, make_login
from tests.storage.conftest import run

MARCH_2027 = datetime(2027, 3, 15, 10, 0, tzinfo=BERLIN)
JULY_2026 = datetime(2026, 7, 15, 10, 0, tzinfo=BERLIN)
METER = '1EBZ0177777777'


def _handed_on(engine, own_contract_elsewhere: bool = False) -> tuple[dict, dict]:
    """The first customer's meter, read 2024–2025 (a reading of theirs in June), handed on on 01.01.2026 to the next
    tenant's new contract; the next tenant's own contract elsewhere (if any) ended the day before."""
    first = make_customer(engine, contract_start=date(2015, 1, 1), meter_number=METER)
    add_readings(engine, METER, (date(2024, 12, 31), 10000), (date(2025, 12, 31), 13200))
    add_readings(engine, METER, (date(2025, 6, 30), 11500), source='customer')
    start = date(2015, 1, 1) if own_contract_elsewhere else date(2026, 1, 1)
    tenant = make_customer(engine, contract_start=start, meter_number='1EBZ0188888888')
    with Session(engine) as session:
        ended = [session.exec(select(Contract).where(Contract.customer_id == first['id'])).one()]
        if own_contract_elsewhere:
            ended.append(session.exec(select(Contract).where(Contract.customer_id == tenant['id'])).one())
        for contract in ended:
            contract.end_date = date(2025, 12, 31)
        new = Contract(
            contract_number='V-NEU',
            customer_id=tenant['id'],
            commodity='electricity',
            tariff_code='STROM-BASIS',
            start_date=date(2026, 1, 1),
        )
        session.add_all([*ended, new])
        session.flush()
        meter = session.exec(select(Meter).where(Meter.meter_number == METER)).one()
        meter.contract_id = id_of(new)
        session.add(meter)
        session.commit()
    add_readings(engine, METER, (date(2026, 12, 31), 16400))
    return tenant, make_login(engine, [tenant['id']], email='neu@example.org')


@pytest.mark.parametrize('own_contract_elsewhere', [False, True])
def test_the_next_tenant_sees_none_of_the_previous_tenant_s_readings(uow, context, engine, own_contract_elsewhere):
    customer, login = _handed_on(engine, own_contract_elsewhere)
    ctx = context(now=MARCH_2027)
    forms = run(uow, meter_forms, ctx, login['id'], customer['id'])
    shown = [v.reading_date for f in forms if f.meter_number == METER for v in f.history]
    assert min(shown) == date(2025, 12, 31)  # the move-in value, nothing before
    history = run(uow, consumption_history, ctx, login['id'], customer['id'])
    assert [(p.label, p.amount) for h in history if h.meter_number == METER for p in h.years] == [('2026', 3200)]
    exported = run(uow, export_data, ctx, login['id'])
    dates = [r['reading_date'] for c in exported['customers'] for r in c['readings'] if r['meter_number'] == METER]
    assert min(dates) == date(2025, 12, 31)


def test_a_new_tenant_s_absurd_move_out_reading_is_still_flagged(uow, context, engine):
    """With only the holder's readings to judge by (the move-in value), any value passed unmarked."""
    tenant, _ = _handed_on(engine)
    typed = {reading_field(METER, '1.8.0'): '63200'}  # 50,000 kWh in half a year; it used 3,200 a year
    typed[reading_field('1EBZ0188888888', '1.8.0')] = '100'  # the tenant's other meter
    with uow() as u:
        _, flagged = _readings_out(u, context(now=JULY_2026), tenant['id'], date(2026, 7, 1), typed)
    assert flagged == [METER]


def _renewed(engine, customer: dict) -> None:
    """The customer's contract ends on 31.12.2025 and a new one (V-TARIF) begins the next day at the same supply
    address, the meter moved to it: a tariff change the billing system makes as a new contract number."""
    with Session(engine) as session:
        old = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        old.end_date, old.supply_address = date(2025, 12, 31), 'Hauptstraße 1, 27749 Aue-Süd'
        new = Contract(
            contract_number='V-TARIF',
            customer_id=customer['id'],
            commodity='electricity',
            tariff_code='STROM-OEKO',
            start_date=date(2026, 1, 1),
            supply_address='Hauptstraße 1, 27749 Aue-Süd',
        )
        session.add_all([old, new])
        session.flush()
        meter = session.exec(select(Meter).where(Meter.meter_number == METER)).one()
        meter.contract_id = id_of(new)
        session.add(meter)
        session.commit()


def test_a_renewal_at_the_same_supply_address_keeps_the_customer_s_own_history(uow, context, engine):
    """A tariff change the billing system makes as a new contract number: the meter moves to the new contract, which
    starts the day after the old one ended at the same supply address. The customer's consumption history, the
    reading page and the Abschlag's last year began at the new start (2026: one year instead of three)."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1), meter_number=METER)
    add_readings(engine, METER, (date(2023, 12, 31), 7000), (date(2024, 12, 31), 10000), (date(2025, 12, 31), 13200))
    _renewed(engine, customer)
    add_readings(engine, METER, (date(2026, 12, 31), 16400))
    login = make_login(engine, [customer['id']], email='treu@example.org')
    ctx = context(now=MARCH_2027)
    history = run(uow, consumption_history, ctx, login['id'], customer['id'])
    years = [(p.label, p.amount) for h in history if h.meter_number == METER for p in h.years]
    assert years == [('2024', 3000), ('2025', 3200), ('2026', 3200)]
    forms = run(uow, meter_forms, ctx, login['id'], customer['id'])
    assert min(v.reading_date for f in forms if f.meter_number == METER for v in f.history) == date(2023, 12, 31)
    with Session(engine) as session:  # at another supply address (a move): nothing before the new start
        new = session.exec(select(Contract).where(Contract.contract_number == 'V-TARIF')).one()
        new.supply_address = 'Neue Straße 7, 27751 Aue-Nord'
        session.add(new)
        session.commit()
    history = run(uow, consumption_history, ctx, login['id'], customer['id'])
    assert [(p.label, p.amount) for h in history if h.meter_number == METER for p in h.years] == [('2026', 3200)]


def test_a_renewed_customer_may_send_the_reading_of_the_old_contract_s_last_day(uow, context, engine):
    """The page showed the earlier contract's days as the customer's own, but the reading of 31.12.2025 sent on
    05.01.2026 was refused as another holder's (DateBeforeSupply)."""
    from domain.readings import submit_reading

    customer = make_customer(engine, contract_start=date(2015, 1, 1), meter_number=METER)
    add_readings(engine, METER, (date(2023, 12, 31), 7000), (date(2024, 12, 31), 10000))
    _renewed(engine, customer)
    login = make_login(engine, [customer['id']], email='treu@example.org')
    ctx = context(now=datetime(2026, 1, 5, 10, 0, tzinfo=BERLIN))
    run(uow, submit_reading, ctx, login['id'], customer['id'], METER, {'1.8.0': '13200'}, '31.12.2025')


def test_a_renewed_customer_may_report_a_move_out_before_the_new_contract_began(uow, context, engine):
    """A move-out before the supply began is refused (a mistyped month); a renewal at the same supply address is no
    new supply: its customer, renewed on 01.01.2026, may report a move-out of 28.12.2025 on 05.01.2026."""
    from domain.moves import start

    customer = make_customer(engine, contract_start=date(2015, 1, 1), meter_number=METER)
    _renewed(engine, customer)
    login = make_login(engine, [customer['id']], email='treu@example.org')
    ctx = context(now=datetime(2026, 1, 5, 10, 0, tzinfo=BERLIN))
    assert run(uow, start, ctx, login['id'], customer['id']).earliest == date(2025, 11, 24)  # six weeks back
