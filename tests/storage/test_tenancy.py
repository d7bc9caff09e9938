"""A meter handed to the next tenant with its supply point (`meters.csv` moves it to the new contract): the new
customer sees none of the previous one's readings; a customer's own contract renewed under a new number keeps them."""

from datetime import date, datetime

from sqlmodel import Session, select

from domain.clock import BERLIN
from domain.contracts import consumption_history
from domain.data_export import export_data
from domain.model import Contract, Meter, id_of
from domain.readings import meter_forms
from tests.factories import add_readings, make_customer, make_login
from tests.storage.conftest import run

MARCH_2027 = datetime(2027, 3, 15, 10, 0, tzinfo=BERLIN)


def _handed_on(engine, to_same_customer: bool) -> tuple[dict, dict]:
    """The first customer's meter, read 2024–2025 (a reading of theirs in June), handed on on 01.01.2026 to a new
    contract of another customer (a move) or of the same one (a renewal); read by the new holder in 2026."""
    first = make_customer(engine, contract_start=date(2015, 1, 1))
    meter = first['meter_number']
    add_readings(engine, meter, (date(2024, 12, 31), 10000), (date(2025, 12, 31), 13200))
    add_readings(engine, meter, (date(2025, 6, 30), 11500), source='customer')
    holder = first if to_same_customer else make_customer(engine, contract_start=date(2026, 1, 1), meter_number='X1')
    with Session(engine) as session:
        old = session.exec(select(Meter).where(Meter.meter_number == meter)).one()
        ended = session.get_one(Contract, old.contract_id)
        ended.end_date = date(2025, 12, 31)
        new = Contract(
            contract_number='V-NEU',
            customer_id=holder['id'],
            commodity='electricity',
            tariff_code='STROM-BASIS',
            start_date=date(2026, 1, 1),
        )
        session.add_all([ended, new])
        session.flush()
        old.contract_id = id_of(new)
        session.add(old)
        session.commit()
    add_readings(engine, meter, (date(2026, 12, 31), 16400))
    return holder, make_login(engine, [holder['id']], email=f'{holder["customer_number"]}@example.org')


def test_the_next_tenant_sees_none_of_the_previous_tenant_s_readings(uow, context, engine):
    customer, login = _handed_on(engine, to_same_customer=False)
    ctx = context(now=MARCH_2027)
    forms = run(uow, meter_forms, ctx, login['id'], customer['id'])
    shown = [v.reading_date for f in forms for v in f.history]
    assert date(2025, 12, 31) in shown and min(shown) == date(2025, 12, 31)  # the move-in value, nothing before
    years = [
        (p.label, p.amount) for h in run(uow, consumption_history, ctx, login['id'], customer['id']) for p in h.years
    ]
    assert years == [('2026', 3200)]
    exported = run(uow, export_data, ctx, login['id'])
    dates = [r['reading_date'] for c in exported['customers'] for r in c['readings']]
    assert dates and min(dates) == date(2025, 12, 31)


def test_a_contract_renewed_under_a_new_number_keeps_the_customer_s_readings(uow, context, engine):
    customer, login = _handed_on(engine, to_same_customer=True)
    ctx = context(now=MARCH_2027)
    history = run(uow, consumption_history, ctx, login['id'], customer['id'])
    assert [(p.label, p.amount) for h in history for p in h.years] == [('2025', 3200), ('2026', 3200)]
