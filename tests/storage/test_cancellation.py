"""Verträge hier kündigen (§312k BGB) on SQLite and PostgreSQL: received from anyone, confirmed at once, no oracle,
settled by staff or the billing system."""

import json
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from domain import contract_requests, staff
from domain.api_tokens import changes, create_token
from domain.cancellation import CancellationForm, cancel, prefill
from domain.errors import (
    DateOutOfRange,
    DayFormat,
    EmailInvalid,
    FieldRequired,
    InvalidFormat,
    NotAllowed,
    NoticeTooShort,
    TooManyAttempts,
)
from domain.i18n import day
from domain.model import AuditEntry, Contract, ContractRequest, InboxMessage
from tests.factories import mails_to, make_customer, make_login
from tests.storage.conftest import NOW, run

TODAY = NOW.date()


def declaration(customer_number: str = '', **changes) -> CancellationForm:
    fields = {
        'extraordinary': False,
        'reason': '',
        'name': 'Erika Muster',
        'customer_number': customer_number,
        'contract_number': '',
        'next_possible': True,
        'on_date': '',
        'email': 'erika@example.org',
        **changes,
    }
    return CancellationForm(**fields)


def contract_of(engine, customer_id: int) -> Contract:
    with Session(engine) as session:
        return session.exec(select(Contract).where(Contract.customer_id == customer_id)).one()


def stored(engine) -> list[ContractRequest]:
    with Session(engine) as session:
        return list(session.exec(select(ContractRequest)))


def test_a_visitor_cancels_and_gets_the_content_and_the_time_of_receipt_at_once(uow, context, engine):
    customer = make_customer(engine)
    receipt = run(uow, cancel, context(), declaration(customer['customer_number']))
    [request] = stored(engine)
    assert request.kind == 'cancellation' and request.customer_id == customer['id'] and request.status == 'open'
    assert receipt.reference == f'K-{request.id:06d}' and receipt.received_at == NOW
    rows = dict(receipt.rows)
    assert rows['Art der Kündigung'] == 'Ordentliche Kündigung'
    assert rows['Beendigung'] == 'zum nächstmöglichen Zeitpunkt'  # no date computed for a visitor
    assert rows['Eingegangen am'] == f'{NOW:%d.%m.%Y}, {NOW:%H:%M} Uhr'
    [mail] = mails_to(engine, 'erika@example.org')
    assert receipt.reference in mail.subject and 'Eingangsbestätigung' in mail.subject
    for label, value in receipt.rows:
        assert f'{label}: {value}' in mail.text
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == 'cancellation_received')).one()
    assert entry.actor == 'visitor' and entry.customer_id == customer['id']
    assert entry.details.startswith(f'request={request.id} notice="ordinary"')


def test_unknown_and_foreign_numbers_get_the_same_answer_and_still_reach_staff(uow, context, engine):
    stranger = make_customer(engine)
    mine = make_customer(engine)
    login = make_login(engine, [mine['id']])
    unknown = run(uow, cancel, context(address='192.0.2.3'), declaration('49999999'))
    foreign = run(uow, cancel, context(), declaration(stranger['customer_number']), login['id'])
    assert [r[0] for r in unknown.rows] == [r[0] for r in foreign.rows]
    assert dict(foreign.rows)['Beendigung'] == 'zum nächstmöglichen Zeitpunkt'  # nothing about the stranger
    requests = stored(engine)
    assert [r.customer_id for r in requests] == [None, None]  # staff find them by the number written
    assert json.loads(requests[1].content)['customer_number'] == stranger['customer_number']
    with Session(engine) as session:
        assert session.exec(select(InboxMessage)).all() == []


def test_logged_in_the_next_possible_date_is_named_and_an_earlier_one_refused(uow, context, engine):
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    contract = contract_of(engine, customer['id'])
    earliest = TODAY + timedelta(weeks=contract.notice_period_weeks)
    filled = run(uow, prefill, context(), login['id'], customer['id'])
    assert filled.customer_number == customer['customer_number'] and filled.email == 'erika@example.org'
    assert [(c.contract_number, c.earliest_end) for c in filled.contracts] == [(contract.contract_number, earliest)]
    receipt = run(uow, cancel, context(), declaration(customer['customer_number']), login['id'])
    assert dict(receipt.rows)['Beendigung'] == f'zum nächstmöglichen Zeitpunkt, das ist der {day(earliest)}'
    assert stored(engine)[0].effective == earliest and stored(engine)[0].contract_id == contract.id
    with Session(engine) as session:  # the confirmation is in the inbox too
        assert 'ist eingegangen' in session.exec(select(InboxMessage)).one().subject
    too_early = declaration(customer['customer_number'], next_possible=False, on_date=day(earliest - timedelta(1)))
    with pytest.raises(NoticeTooShort) as refused:
        run(uow, cancel, context(), too_early, login['id'])
    assert refused.value.field == 'on_date' and refused.value.params['earliest'] == day(earliest)
    sudden = declaration(
        customer['customer_number'], extraordinary=True, reason='Umzug ins Pflegeheim', next_possible=False,
        on_date=day(TODAY + timedelta(days=3)),
    )  # fmt: skip
    assert dict(run(uow, cancel, context(), sudden, login['id']).rows)['Grund'] == 'Umzug ins Pflegeheim'


def test_a_fixed_term_is_respected(uow, context, engine):
    customer = make_customer(engine)
    term_end = TODAY + timedelta(days=200)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.end_date = term_end
        session.add(contract)
        session.commit()
        assert contract_requests.earliest_end(contract, TODAY) == term_end
        assert contract_requests.earliest_end(contract, term_end) == term_end + timedelta(weeks=4)


@pytest.mark.parametrize(
    ('changes', 'error', 'field'),
    [
        ({'name': ' '}, FieldRequired, 'name'),
        ({'customer_number': '12'}, InvalidFormat, 'customer_number'),
        ({'extraordinary': True}, FieldRequired, 'reason'),
        ({'next_possible': False, 'on_date': '31.02.2027'}, DayFormat, 'on_date'),
        ({'next_possible': False, 'on_date': day(TODAY - timedelta(days=1))}, DateOutOfRange, 'on_date'),
        ({'next_possible': False, 'on_date': day(date(TODAY.year + 4, 1, 1))}, DateOutOfRange, 'on_date'),
        ({'email': 'erika'}, EmailInvalid, 'email'),
        ({'contract_number': 'X' * 21}, InvalidFormat, 'contract_number'),
    ],
)
def test_bad_input_is_named_at_its_field_and_nothing_is_stored(uow, context, engine, changes, error, field):
    customer = make_customer(engine)
    with pytest.raises(error) as raised:
        run(uow, cancel, context(), declaration(**{'customer_number': customer['customer_number'], **changes}))
    assert raised.value.field == field
    assert stored(engine) == [] and mails_to(engine, 'erika@example.org') == []


def test_visitors_are_throttled_per_address(uow, context, engine):
    customer = make_customer(engine)
    with pytest.raises(TooManyAttempts):
        for n in range(30):
            run(uow, cancel, context(), declaration(customer['customer_number'], email=f'e{n}@example.org'))


def test_staff_and_the_billing_system_answer_and_the_customer_hears_it(uow, context, clerk, engine):
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    run(uow, cancel, context(), declaration(customer['customer_number']), login['id'])
    run(uow, cancel, context(), declaration(customer['customer_number'], email='zweite@example.org'), login['id'])
    first, second = stored(engine)
    with uow() as u:
        assert [r.reference for r in contract_requests.listing(u)] == [f'K-{second.id:06d}', f'K-{first.id:06d}']
        contract_requests.answer(u, context(), f'staff:{clerk}', first.id, True, 'Ihr Vertrag endet wie gewünscht.')
        u.commit()
    with pytest.raises(NotAllowed), uow() as u:  # settled once
        contract_requests.answer(u, context(), f'staff:{clerk}', first.id, False, 'Doch nicht')
    run(uow, staff.create_staff, context(), 'cli', 'admin@stadtwerke.example', 'Ada', 'admin')
    with uow() as u:
        admin = u.staff.by_email('admin@stadtwerke.example').id
    run(uow, create_token, context(), admin, 'Abrechnung', 'read')
    with uow() as u:
        [token] = u.api.all()
        page = changes(u, token.id, None, 10)
    feed = [c for c in page.items if c.kind == 'cancellation_received']
    assert [c.details.split()[0] for c in feed] == [f'request={first.id}', f'request={second.id}']
    assert feed[0].customer_number == customer['customer_number']
    with uow() as u:
        contract_requests.answer(u, context(), 'api:Abrechnung', second.id, False, 'Bitte rufen Sie uns an.')
        u.commit()
    assert [r.status for r in stored(engine)] == ['accepted', 'rejected']
    answered = mails_to(engine, 'zweite@example.org')[-1]
    assert 'Wir konnten sie leider nicht annehmen' in answered.text and 'Bitte rufen Sie uns an.' in answered.text
    with Session(engine) as session:
        inbox = [m.subject for m in session.exec(select(InboxMessage).where(InboxMessage.kind == 'answer'))]
    assert inbox == [f'Ihre Kündigung (K-{first.id:06d})', f'Ihre Kündigung (K-{second.id:06d})']
