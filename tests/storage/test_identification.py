"""Which numbers identify a customer at registration (docs/domain.md §1): a meter removed long ago no longer does."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from domain import registration
from domain.errors import IdentifiersDoNotMatch
from domain.identification import Identifiers
from domain.model import Bill, Contract
from tests.factories import PASSWORD, make_customer, set_meter


@pytest.mark.parametrize(('removed_days_ago', 'identifies'), [(90, True), (399, True), (400, False), (800, False)])
def test_a_removed_meter_s_number_identifies_only_for_a_year_after(engine, uow, context, removed_days_ago, identifies):
    """Exchanged since the last annual bill, the old number on that bill still works; removed two years ago, it is on
    papers that may have passed to others (as only the last bill's number identifies)."""
    customer = make_customer(engine)
    set_meter(engine, customer['meter_number'], removed_on=context().today - timedelta(days=removed_days_ago))
    ids = Identifiers(customer['customer_number'], customer['meter_number'])
    with uow() as work:
        if identifies:
            registration.register(work, context(), ids, 'neu@example.org', PASSWORD, PASSWORD)
        else:
            with pytest.raises(IdentifiersDoNotMatch):
                registration.register(work, context(), ids, 'neu@example.org', PASSWORD, PASSWORD)


def test_after_a_correction_the_last_annual_bill_s_number_still_identifies(engine, uow, context):
    """The form says where the bill number is: "oben auf Ihrer letzten Jahresrechnung". When a correction bill (its
    own number) came after it, only the correction's number was taken: the customer who did as the form says was
    told the numbers do not match."""
    customer = make_customer(engine, 'wasserverband-c', commodity='water')
    with Session(engine) as session:
        annual = session.exec(select(Bill).where(Bill.bill_number == customer['bill_number'])).one()
        session.add(
            Bill(
                bill_number=f'KR{customer["bill_number"][2:]}',
                contract_id=annual.contract_id,
                bill_date=annual.bill_date + timedelta(days=1),
                period_start=annual.period_start,
                period_end=annual.period_end,
                kind='correction',
                amount_gross=Decimal('1100.00'),
                replaces_id=annual.id,
            )
        )
        session.commit()
    ids = Identifiers(customer['customer_number'], '', customer['bill_number'])
    with uow() as work:
        pending = registration.register(work, context('wasserverband-c'), ids, 'neu@example.org', PASSWORD, PASSWORD)
    assert pending.method == 'pin'


def test_the_meter_of_a_contract_ended_long_ago_no_longer_identifies(engine, uow, context):
    """A meter is not removed when its customer moves out: it stays in the flat (the next tenant reads its number
    every day, and may be supplied by another utility, so the meter never moves to a new contract here). Its number
    identified the former tenant for ever; like a meter removed 400 days ago, it is on papers others may have."""
    customer = make_customer(engine)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.end_date = context().today - timedelta(days=800)
        session.add(contract)
        session.commit()
    ids = Identifiers(customer['customer_number'], customer['meter_number'])
    with uow() as work, pytest.raises(IdentifiersDoNotMatch):
        registration.register(work, context(), ids, 'neu@example.org', PASSWORD, PASSWORD)
