"""Another customer's data through every use case a page or handler calls (IDOR): always NotAllowed, nothing
changed. Pages pass the customer chosen in the session; these tests pass a foreign one directly."""

import pytest
from sqlmodel import Session, select

from domain import bills, contracts, customer_data, dashboard, inbox, installment, overview, readings
from domain.errors import NotAllowed
from domain.model import AuditEntry, InboxMessage
from tests import clock
from tests.factories import PASSWORD, add_readings, add_tariff, make_customer, make_login, year_end

CONTACT = customer_data.ContactData('Hauptstraße', '1', '27749', 'Aue', '', 'x@example.org', False)

USE_CASES = [
    ('customer_overview', lambda u, c, me, foreign: overview.customer_overview(u, me, foreign)),
    ('dashboard', lambda u, c, me, foreign: dashboard.dashboard(u, c, me, foreign)),
    ('contract_details', lambda u, c, me, foreign: contracts.contract_details(u, c, me, foreign)),
    ('consumption_history', lambda u, c, me, foreign: contracts.consumption_history(u, c, me, foreign)),
    ('meter_forms', lambda u, c, me, foreign: readings.meter_forms(u, c, me, foreign)),
    ('submit_reading', lambda u, c, me, foreign: readings.submit_reading(u, c, me, foreign, 'X', {}, '')),
    ('installment_views', lambda u, c, me, foreign: installment.installment_views(u, c, me, foreign)),
    ('change_installment', lambda u, c, me, foreign: installment.change_installment(u, c, me, foreign, 'V', '50')),
    ('contact_data', lambda u, c, me, foreign: customer_data.contact_data(u, me, foreign)),
    ('change_contact_data', lambda u, c, me, foreign: customer_data.change_contact_data(u, c, me, foreign, CONTACT)),
    ('bank_view', lambda u, c, me, foreign: customer_data.bank_view(u, me, foreign)),
    (
        'change_bank_account',
        lambda u, c, me, foreign: customer_data.change_bank_account(
            u, c, me, foreign, 'Erika Muster', 'DE89370400440532013000', True, PASSWORD
        ),
    ),
    ('revoke_mandate', lambda u, c, me, foreign: customer_data.revoke_mandate(u, c, me, foreign, PASSWORD)),
    ('mandate_form', lambda u, c, me, foreign: customer_data.mandate_form(u, c, me, foreign)),
    ('inbox', lambda u, c, me, foreign: inbox.inbox(u, me, foreign)),
    ('mark_read', lambda u, c, me, foreign: inbox.mark_read(u, c, me, foreign, 1)),
    (
        'send_contact_message',
        lambda u, c, me, foreign: inbox.send_contact_message(u, c, me, foreign, 'Sonstiges', 'Betreff', 'Text'),
    ),
    ('bill_list', lambda u, c, me, foreign: bills.bill_list(u, c, me, foreign)),
]


@pytest.fixture
def two(engine):
    mine = make_customer(engine, last_name='Eigen')
    foreign = make_customer(engine, last_name='Fremd')
    for customer in (mine, foreign):
        add_readings(engine, customer['meter_number'], (year_end(2), 1000), (year_end(), 4000))
        add_tariff(engine, customer['id'])
    me = make_login(engine, [mine['id']], email='eigen@example.org')
    make_login(engine, [foreign['id']], email='fremd@example.org')
    with Session(engine) as session:
        session.add(
            InboxMessage(
                customer_id=foreign['id'],
                created_at=clock.now(),
                subject='Privat',
                body='Geheim',
                document_path='inbox/fremd.pdf',
            )
        )
        session.commit()
    return me['id'], foreign


@pytest.mark.parametrize('name, use_case', USE_CASES, ids=[n for n, _ in USE_CASES])
def test_a_foreign_customer_is_never_reached(uow, context, engine, two, name, use_case):
    me, foreign = two
    with Session(engine) as session:
        before = len(session.exec(select(AuditEntry)).all())
    with uow() as u, pytest.raises(NotAllowed):
        use_case(u, context(), me, foreign['id'])
    with Session(engine) as session:
        assert len(session.exec(select(AuditEntry)).all()) == before  # nothing happened


def test_foreign_bills_and_inbox_documents_are_never_reached(uow, context, engine, two):
    me, foreign = two
    with Session(engine) as session:
        message_id = session.exec(select(InboxMessage.id)).one()
    with uow() as u, pytest.raises(NotAllowed):
        bills.bill_document(u, context(), me, foreign['bill_number'])
    with uow() as u, pytest.raises(NotAllowed):
        inbox.inbox_document(u, me, message_id)
