"""Verträge hier kündigen (§312k BGB) on SQLite and PostgreSQL: received from anyone, confirmed at once, no oracle,
settled by staff or the billing system."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from domain import contract_requests, staff
from domain.api_tokens import changes, create_token
from domain.cancellation import LATEST, CancellationForm, cancel, prefill
from domain.errors import (
    DateOutOfRange,
    DayFormat,
    EmailInvalid,
    FieldRequired,
    InvalidFormat,
    NotAllowed,
    NoticeTooShort,
    NoticeTooShortForAll,
    TooManyAttempts,
)
from domain.i18n import day, using
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


def test_logged_in_all_contracts_are_cancelled_no_earlier_than_each_one_s_notice_allows(uow, context, engine):
    """With two running contracts and "Alle Verträge" (no contract number), an ordinary cancellation to tomorrow was
    received and confirmed, and the tariff page took it as both contracts' end."""
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    with Session(engine) as session:
        session.add(
            Contract(
                contract_number='G1', customer_id=customer['id'], commodity='gas', tariff_code='GAS-KOMFORT',
                start_date=date(2020, 1, 1), notice_period_weeks=12,
            )
        )  # fmt: skip
        session.commit()
    latest = TODAY + timedelta(weeks=12)
    too_early = declaration(customer['customer_number'], next_possible=False, on_date=day(latest - timedelta(1)))
    with pytest.raises(NoticeTooShortForAll) as refused:
        run(uow, cancel, context(), too_early, login['id'])
    assert refused.value.field == 'on_date' and refused.value.params['earliest'] == day(latest)
    assert stored(engine) == []
    in_time = declaration(customer['customer_number'], next_possible=False, on_date=day(latest))
    assert dict(run(uow, cancel, context(), in_time, login['id']).rows)['Beendigung'] == day(latest)
    assert stored(engine)[0].contract_id is None and stored(engine)[0].effective == latest


@pytest.mark.parametrize('clerk_language', ['de', 'en'])
def test_the_answer_is_mailed_in_the_declaration_s_language_whatever_the_clerk_s(uow, context, engine, clerk_language):
    """A clerk on the English pages answered a German cancellation in English, with the German title and verdict in
    it ("Your Kündigung …: Wir haben sie bestätigt")."""
    run(uow, staff.create_staff, context(), 'cli', 'service@stadtwerke.example', 'Sven Service', 'service')
    with uow() as u:
        clerk = u.staff.by_email('service@stadtwerke.example').id
    customer = make_customer(engine)
    run(uow, cancel, context(), declaration(customer['customer_number']))
    with using('en'):
        run(uow, cancel, context(), declaration(customer['customer_number'], email='english@example.org'))
    german, english = stored(engine)
    with using(clerk_language):
        run(uow, contract_requests.staff_answer, context(), clerk, german.id, True, 'Ihr Vertrag endet zum 31.01.')
        run(uow, contract_requests.staff_answer, context(), clerk, english.id, False, 'Not declared by the customer.')
    [to_german] = [m for m in mails_to(engine, 'erika@example.org') if 'Wir haben' in m.text]
    assert f'Ihre Kündigung ({contract_requests.reference("cancellation", german.id)})' in to_german.subject
    assert 'zu Ihrer Kündigung vom' in to_german.text and ': Wir haben sie bestätigt.' in to_german.text
    [to_english] = [m for m in mails_to(engine, 'english@example.org') if 'could not' in m.text]
    assert 'Your cancellation (K-' in to_english.subject
    assert (
        'about your cancellation of' in to_english.text and 'Unfortunately we could not accept it.' in to_english.text
    )


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
        ({'next_possible': False, 'on_date': day(TODAY + LATEST + timedelta(days=1))}, DateOutOfRange, 'on_date'),
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
        assert [r.reference for r in contract_requests.listing(u)] == [f'K-{first.id:06d}', f'K-{second.id:06d}']
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


@pytest.mark.parametrize(
    'reason', ['"' * 2000, '\\' * 2000, 'Wasserschaden „Küche“ ' * 90], ids=['quotes', 'backslashes', 'words']
)
def test_a_long_reason_is_stored_whole_json_and_the_request_can_be_shown_and_settled(uow, context, engine, reason):
    """The reason may have 2,000 characters; as JSON, quotes and backslashes count twice: what is stored is still
    whole JSON within the column, so the queue, the customer's contract page and the answer keep working."""
    customer = make_customer(engine)
    run(uow, cancel, context(), declaration(customer['customer_number'], extraordinary=True, reason=reason[:2000]))
    [request] = stored(engine)
    kept = json.loads(request.content)['reason']
    assert len(request.content) <= contract_requests.CONTENT and reason[:2000].startswith(kept.removesuffix('…'))
    with uow() as u:
        assert [row.request_id for row in contract_requests.listing(u)] == [request.id]
        assert [row.request_id for row in contract_requests.pending(u, customer['id'])] == [request.id]
    settled = run(uow, lambda u, c: _answered(u, c, request.id), context())
    assert settled.status == 'accepted'


def _answered(uow, ctx, request_id):
    row = contract_requests.answer(uow, ctx, 'staff:1', request_id, True, 'Bestätigt zum 31.01.2027.')
    uow.commit()
    return row


def test_a_long_reason_leaves_whose_and_when_whole_in_the_change_feed(uow, context, engine):
    customer = make_customer(engine)
    reason = ('Die Wohnung wurde wegen eines Wasserschadens unbewohnbar. ' * 40)[:1990]
    run(uow, cancel, context(), declaration(customer['customer_number'], extraordinary=True, reason=reason))
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == 'cancellation_received')).one()
    assert len(entry.details) <= contract_requests.DETAILS
    for whole in (f'customer_number="{customer["customer_number"]}"', 'effective="next_possible"', 'email="erika@'):
        assert whole in entry.details
    assert 'reason="Die Wohnung wurde' in entry.details and '…"' in entry.details


def test_a_request_stored_cut_off_by_an_earlier_version_is_shown_as_stored(uow, context, engine):
    customer = make_customer(engine)
    run(uow, cancel, context(), declaration(customer['customer_number']))
    with Session(engine) as session:
        request = session.exec(select(ContractRequest)).one()
        request.content = '{"notice": "ordinary", "reason": "\\"\\"\\'  # what `[:4000]` left of a long reason
        session.add(request)
        session.commit()
    with uow() as u:
        [row] = contract_requests.listing(u)
    assert ('Angaben (gekürzt gespeichert)', '{"notice": "ordinary", "reason": "\\"\\"\\') in row.rows


def test_a_year_of_twenty_digits_is_a_date_in_the_wrong_format(uow, context, engine):
    customer = make_customer(engine)
    form = declaration(customer['customer_number'], next_possible=False, on_date='01.01.99999999999999999999')
    with pytest.raises(DayFormat):
        run(uow, cancel, context(), form)


def test_a_logged_in_customer_cancels_four_contracts_one_by_one_and_gets_four_confirmations(uow, context, engine):
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    with Session(engine) as session:
        for n, commodity in enumerate(('gas', 'water', 'heat'), 1):
            session.add(
                Contract(
                    contract_number=f'X{n}',
                    customer_id=customer['id'],
                    commodity=commodity,
                    tariff_code='STROM-BASIS',
                    start_date=date(2020, 1, 1),
                    malo_id='',
                )
            )
        session.commit()
        numbers = [c.contract_number for c in session.exec(select(Contract))]
    assert len(numbers) == 4
    for number in numbers:
        form = declaration(customer['customer_number'], contract_number=number)
        assert run(uow, cancel, context(), form, login['id']).mailed
    assert len(stored(engine)) == 4 and len(mails_to(engine, 'erika@example.org')) == 4


def test_a_cancellation_is_received_when_its_address_has_had_its_mails_and_says_so(uow, context, engine):
    """The mail budget (three an hour to one address) keeps the address from being flooded; the declaration is
    received all the same (§312k BGB), its confirmation on the page and in its PDF."""
    customer = make_customer(engine)
    receipts = [
        run(uow, cancel, context(address=f'192.0.2.{n}'), declaration(customer['customer_number'])) for n in range(4)
    ]
    assert [r.mailed for r in receipts] == [True, True, True, False]
    assert len(stored(engine)) == 4 and len(mails_to(engine, 'erika@example.org')) == 3
    with uow() as u:  # staff and the billing system see which one was not confirmed by mail
        unmailed = [row for row in contract_requests.listing(u) if row.reference == receipts[-1].reference]
    assert (
        'Bestätigung per E-Mail',
        'nicht gesendet (die Adresse hatte ihre E-Mails dieser Stunde schon)',
    ) in unmailed[0].rows
    with Session(engine) as session:
        feed = session.exec(select(AuditEntry).where(AuditEntry.action == 'cancellation_received')).all()
    assert ['confirmation="not_mailed"' in entry.details for entry in feed] == [False, False, False, True]


def test_two_answers_at_the_same_moment_settle_a_request_once(uow, context, clerk, engine):
    """A clerk and the billing system answer at once, both having seen the request open: one answer counts, the
    other is refused, and the customer hears one."""
    customer = make_customer(engine)
    make_login(engine, [customer['id']], email='erika@example.org')
    run(uow, cancel, context(), declaration(customer['customer_number']))
    [request] = stored(engine)
    both_looked = threading.Barrier(2)

    def answer(accepted: bool, actor: str):
        try:
            with uow() as u:
                look = u.contract_requests.get
                u.contract_requests.get = lambda request_id: (look(request_id), both_looked.wait(timeout=20))[0]
                row = contract_requests.answer(u, context(), actor, request.id, accepted, 'Unsere Antwort.')
                u.commit()
                return row.status
        except NotAllowed as refused:
            return refused

    with ThreadPoolExecutor(2) as pool:
        results = [
            f.result(timeout=40)
            for f in [pool.submit(answer, True, f'staff:{clerk}'), pool.submit(answer, False, 'api:Abrechnung')]
        ]
    assert sorted(type(r).__name__ for r in results) == ['NotAllowed', 'str']
    [settled] = stored(engine)
    assert settled.status == next(r for r in results if isinstance(r, str))
    answers = [m for m in mails_to(engine, 'erika@example.org') if 'Unsere Antwort.' in m.text]
    assert len(answers) == 1


def test_staff_on_english_pages_see_a_declaration_in_english(uow, context, engine, clerk):
    """The back office can be shown in English: a declaration's kind, its fields and its choices were German."""
    from domain.i18n import using

    customer = make_customer(engine)
    run(uow, cancel, context(), declaration(customer['customer_number']))
    with using('en'), uow() as work:
        [row] = contract_requests.for_staff(work, clerk)
    shown = dict(row.rows)
    assert row.title == 'Cancellation' and shown['Customer number'] == customer['customer_number']
    assert 'Kundennummer' not in shown and 'at the next possible date' in shown.values()
    with uow() as work:
        [german] = contract_requests.for_staff(work, clerk)
    assert german.title == 'Kündigung' and dict(german.rows)['Kundennummer'] == customer['customer_number']


def test_the_answer_to_a_cancellation_made_on_the_english_pages_is_english_in_the_inbox_too(
    uow, context, clerk, engine
):
    """The mail was English, the inbox message German ("Ihre Kündigung …: Wir konnten sie leider nicht annehmen")."""
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    with using('en'):
        run(uow, cancel, context(), declaration(customer['customer_number']), login['id'])
    [request] = stored(engine)
    with using('de'):  # the clerk's pages
        run(uow, contract_requests.staff_answer, context(), clerk, request.id, False, 'Not possible.')
    with Session(engine) as session:
        answer = session.exec(select(InboxMessage).where(InboxMessage.kind == 'answer')).one()
    assert answer.subject == f'Your cancellation (K-{request.id:06d})'
    assert 'Unfortunately we could not accept it.' in answer.body and 'Ihre' not in answer.body


def test_a_contract_ending_within_its_notice_is_cancelled_to_its_end_not_to_a_day_after_it(uow, context, engine):
    """A contract whose end date (already agreed) lies within the notice period: the page named the notice's end,
    weeks after the contract's own end, as "frühestens zum …", confirmed "zum nächstmöglichen Zeitpunkt" as that later
    day, and refused a cancellation to the contract's end date as too short; the bill names the end date."""
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    ends = TODAY + timedelta(days=10)  # the notice (4 weeks) would end 18 days later
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.end_date = ends
        session.add(contract)
        session.commit()
    filled = run(uow, prefill, context(), login['id'], customer['id'])
    assert [c.earliest_end for c in filled.contracts] == [ends]
    receipt = run(uow, cancel, context(), declaration(customer['customer_number']), login['id'])
    assert dict(receipt.rows)['Beendigung'] == f'zum nächstmöglichen Zeitpunkt, das ist der {day(ends)}'
    to_the_end = declaration(customer['customer_number'], next_possible=False, on_date=day(ends))
    assert dict(run(uow, cancel, context(), to_the_end, login['id']).rows)['Beendigung'] == day(ends)


def test_a_contract_that_has_ended_is_not_confirmed_as_ending_on_a_past_day(uow, context, engine):
    """A logged-in customer whose only contract ended on 26.11. cancels it "zum nächstmöglichen Zeitpunkt" (the form
    then asks for the number): the receipt said "das ist der 26.11.2026", a cancellation taking effect in the past."""
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    ended = TODAY - timedelta(days=10)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.end_date = ended
        session.add(contract)
        session.commit()
        number = contract.contract_number
    assert run(uow, prefill, context(), login['id'], customer['id']).contracts == ()
    receipt = run(uow, cancel, context(), declaration(customer['customer_number'], contract_number=number), login['id'])
    expected = f'zum nächstmöglichen Zeitpunkt (der Vertrag endete bereits am {day(ended)})'
    assert dict(receipt.rows)['Beendigung'] == expected
