"""Contact messages and the review queue on SQLite and PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from domain import change_list, contract_requests, requests
from domain.clock import BERLIN
from domain.errors import FieldRequired, NotAllowed
from domain.i18n import using
from domain.inbox import send_contact_message
from domain.installment import change_installment, installment_views
from domain.model import (
    AuditEntry,
    ContactMessage,
    Contract,
    ContractRequest,
    InboxMessage,
    InstallmentPlan,
    MeterReading,
    ReviewItem,
)
from domain.readings import submit_reading
from domain.staff import LIST_LIMIT
from tests import clock
from tests.factories import add_readings, add_tariff, mails_to, make_customer, make_login, year_end
from tests.storage.conftest import NOW, run


@pytest.fixture
def anna(engine):
    customer = make_customer(engine, last_name='Anfrage')
    add_readings(engine, customer['meter_number'], (year_end(2), 10000), (year_end(), 13650))
    add_tariff(engine, customer['id'], amount='92', paid_months=10)
    login = make_login(engine, [customer['id']], email='anfrage@example.org')
    return customer, login


def inbox(engine):
    with Session(engine) as session:
        return list(session.exec(select(InboxMessage).order_by(col(InboxMessage.id))))


def test_a_contact_message_is_taken_answered_and_closed(uow, context, clerk, anna, engine):
    customer, login = anna
    message_id = run(
        uow,
        send_contact_message,
        context(),
        login['id'],
        customer['id'],
        'Umzug',
        'Umzug zum 1.1.',
        'Ich ziehe um <script>alert(1)</script>',
    )
    with uow() as u:
        [row] = requests.contact_messages(u, clerk)
        assert (row.reference, row.topic, row.customer_number) == (
            f'N-{message_id:06d}',
            'Umzug',
            customer['customer_number'],
        )
        assert requests.contact_messages(u, clerk, mine=True) == []
        assert requests.contact_messages(u, clerk, topic='Abschlag') == []
    run(uow, requests.take_message, context(), clerk, message_id)
    run(uow, requests.take_message, context(), clerk, message_id)  # a double click is noted once
    with uow() as u:
        assert [r.message_id for r in requests.contact_messages(u, clerk, mine=True)] == [message_id]
    with pytest.raises(FieldRequired):
        run(uow, requests.answer_message, context(), clerk, message_id, '  ')
    run(uow, requests.answer_message, context(), clerk, message_id, 'Vielen Dank, wir melden den Umzug an.')
    [answer] = inbox(engine)
    assert answer.kind == 'answer' and answer.subject == 'Antwort: Umzug zum 1.1.'
    assert answer.body.startswith('Vielen Dank') and '> Ich ziehe um' in answer.body
    assert any(f'N-{message_id:06d}' in m.subject for m in mails_to(engine, 'anfrage@example.org'))
    with uow() as u:
        assert requests.contact_messages(u, clerk) == []
        [(at, text)] = requests.contact_messages(u, clerk, status='answered')[0].answers
        assert text.startswith('Vielen Dank') and at == NOW.astimezone(UTC)  # in the repeated hour too
    # a second answer (the customer wrote again, or something was missing) is listed beside the first, not over it
    run(uow, requests.answer_message, context(), clerk, message_id, 'Nachtrag: Ihr Zählerstand ist eingetragen.')
    with uow() as u:
        answers = requests.contact_messages(u, clerk, status='answered')[0].answers
    assert [text.split()[0] for _, text in answers] == ['Vielen', 'Nachtrag:']
    run(uow, requests.close_message, context(), clerk, message_id)
    run(uow, requests.close_message, context(), clerk, message_id)
    with pytest.raises(NotAllowed):
        run(uow, requests.answer_message, context(), clerk, message_id, 'Noch etwas')
    with Session(engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).where(col(AuditEntry.action).like('contact_%')))]
    assert sorted(actions) == [
        'contact_answered',
        'contact_answered',
        'contact_closed',
        'contact_message',
        'contact_taken',
    ]


def test_a_link_in_the_subject_the_customer_typed_is_no_link_in_the_mail_that_staff_answered(
    uow, context, clerk, anna, engine
):
    """The subject is quoted in the answer's mail as in the receipt's: an address typed into it was made a link there
    (the receipt shows it as text), in a mail that goes to whoever holds the customer number by then."""
    customer, login = anna
    subject = 'Konto gesperrt https://evil.example/login'
    message_id = run(
        uow, send_contact_message, context(), login['id'], customer['id'], 'Umzug', subject, 'Ich ziehe um.'
    )
    run(uow, requests.answer_message, context(), clerk, message_id, 'Vielen Dank.')
    mail = mails_to(engine, 'anfrage@example.org')[-1]
    assert 'beantwortet' in mail.text and 'https://evil.example/login' in mail.html  # shown, as written
    assert 'href="https://evil.example' not in mail.html
    assert 'href="http' in mail.html  # the link to the Posteingang stays one


@pytest.mark.parametrize(('written', 'answered', 'expected'), [('de', 'en', 'Guten Tag'), ('en', 'de', 'Hello')])
def test_the_mail_that_staff_answered_is_in_the_language_the_customer_wrote_in(
    uow, context, clerk, anna, engine, written, answered, expected
):
    """It was in the language the clerk's pages were shown in."""
    customer, login = anna
    with using(written):
        message_id = run(
            uow, send_contact_message, context(), login['id'], customer['id'], 'Umzug', 'Umzug', 'Ich ziehe um.'
        )
    with using(answered):
        run(uow, requests.answer_message, context(), clerk, message_id, 'Vielen Dank.')
    [mail] = [m for m in mails_to(engine, 'anfrage@example.org') if f'N-{message_id:06d}' in m.text][-1:]
    assert mail.text.startswith(expected), mail.text


def test_an_accepted_reduction_sets_the_installment_from_the_next_due_date(uow, context, clerk, anna, engine):
    customer, login = anna
    with uow() as u:
        [view] = installment_views(u, context(), login['id'], customer['id'])
    low = view.calculator.minimum
    run(
        uow,
        change_installment,
        context(),
        login['id'],
        customer['id'],
        view.contract_number,
        str(low),
        '15000',
        'Auszug eines Mitbewohners',
    )
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    assert item.kind == 'installment_reduction' and item.reason == 'Auszug eines Mitbewohners'
    with pytest.raises(FieldRequired):
        run(uow, requests.decide_review, context(), clerk, item.item_id, True, '')
    run(uow, requests.decide_review, context(), clerk, item.item_id, True, 'Einverstanden.')
    with Session(engine) as session:
        plans = session.exec(select(InstallmentPlan).order_by(col(InstallmentPlan.valid_from))).all()
    assert plans[-1].amount == Decimal(low) and plans[-1].valid_from > context().now.date()
    with Session(engine) as session:  # a change the billing system takes over, as a customer's own change is
        [change] = session.exec(select(AuditEntry).where(AuditEntry.action == 'installment_changed')).all()
    assert change.actor == f'staff:{clerk}' and f'to={low}' in change.details
    assert f'first_due={plans[-1].valid_from.isoformat()}' in change.details
    assert 'Wir haben zugestimmt.' in inbox(engine)[-1].body and 'Einverstanden.' in inbox(engine)[-1].body
    with pytest.raises(NotAllowed):  # decided once
        run(uow, requests.decide_review, context(), clerk, item.item_id, False, 'Doch nicht')


def test_staff_s_decision_is_written_in_the_language_the_customer_asked_in(uow, context, clerk, anna, engine):
    """A customer on the English pages asked for a lower installment: the decision, made on German pages, reached
    them as "Wir haben zugestimmt." with a German mail."""
    customer, login = anna
    with uow() as u:
        [view] = installment_views(u, context(), login['id'], customer['id'])
    low = str(view.calculator.minimum)
    with using('en'):
        args = (login['id'], customer['id'], view.contract_number, low, '15000', 'A flatmate moved out')
        run(uow, change_installment, context(), *args)
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    with using('de'):
        run(uow, requests.decide_review, context(), clerk, item.item_id, True, 'Agreed.')
    body = inbox(engine)[-1].body
    assert body.startswith('We have agreed. Your new installment of') and 'Wir' not in body
    assert inbox(engine)[-1].subject == 'Your request for a lower installment'
    mail = mails_to(engine, 'anfrage@example.org')[-1]
    assert 'Your request for a lower installment' in mail.subject and 'wir haben' not in mail.text


def test_a_change_made_since_a_reduction_was_asked_for_withdraws_the_request(uow, context, clerk, anna, engine):
    """The customer asked staff for a low installment, then chose another one online: accepting the old request
    set the amount asked for then over the one chosen since."""
    customer, login = anna
    with uow() as u:
        [view] = installment_views(u, context(), login['id'], customer['id'])
    low, chosen = view.calculator.minimum, view.calculator.maximum
    number = view.contract_number
    run(uow, change_installment, context(), login['id'], customer['id'], number, str(low), '15000', 'Auszug')
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    run(uow, change_installment, context(), login['id'], customer['id'], number, str(chosen))
    with uow() as u:
        assert requests.reviews(u, clerk) == []  # nothing left to decide
    with pytest.raises(NotAllowed):
        run(uow, requests.decide_review, context(), clerk, item.item_id, True, 'Einverstanden.')
    with Session(engine) as session:
        plans = session.exec(select(InstallmentPlan).order_by(col(InstallmentPlan.valid_from))).all()
        [changed] = session.exec(select(AuditEntry).where(AuditEntry.action == 'installment_changed')).all()
    assert plans[-1].amount == chosen and f'withdrawn_review={item.item_id}' in changed.details


def test_a_rejected_implausible_reading_is_removed_and_the_customer_told(uow, context, clerk, anna, engine):
    customer, login = anna
    ctx = context()  # stadtwerke-a takes readings on every day
    run(
        uow,
        submit_reading,
        ctx,
        login['id'],
        customer['id'],
        customer['meter_number'],
        {'1.8.0': '99999'},
        '',  # today
        True,
        'Neuer Durchlauferhitzer',
    )
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    assert item.kind == 'implausible_reading' and 'readings=' in item.details
    run(uow, requests.decide_review, ctx, clerk, item.item_id, False, 'Bitte lesen Sie erneut ab.')
    with Session(engine) as session:
        assert session.exec(select(MeterReading).where(MeterReading.source == 'customer')).all() == []
        assert session.exec(select(ReviewItem)).one().status == 'rejected'
    assert 'Bitte lesen Sie erneut ab.' in inbox(engine)[-1].body
    # the billing system took the reading over (flagged) and learns from the same feed not to bill it
    from domain.exports import export_csv

    with uow() as u:
        text, _ = export_csv(u, 'changes', ctx.today)
    feed = [line.split(';')[2:] for line in text.splitlines()[1:]]
    assert [action for action, *_ in feed] == ['reading_submitted', 'reading_rejected']
    assert 'flag=implausible' in feed[0][-1]
    assert feed[1][-1] == f'meter={customer["meter_number"]} date={ctx.today.isoformat()} 1.8.0=99999'


def test_an_accepted_implausible_reading_is_to_be_billed_and_the_feed_says_so(uow, context, clerk, anna, engine):
    """The billing system took the reading over flagged `implausible`; staff's confirmation reaches it on the same
    feed (it heard of a rejection only, and kept a confirmed reading as undecided)."""
    from domain.exports import export_csv

    customer, login = anna
    ctx = context()
    values = {'1.8.0': '99999'}
    run(uow, submit_reading, ctx, login['id'], customer['id'], customer['meter_number'], values, '', True, 'Sauna')
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    run(uow, requests.decide_review, ctx, clerk, item.item_id, True, 'Danke, der Stand stimmt.')
    with Session(engine) as session:
        [reading] = session.exec(select(MeterReading).where(MeterReading.source == 'customer')).all()
    assert reading.plausibility == 'accepted'
    with uow() as u:
        text, _ = export_csv(u, 'changes', ctx.today)
        kinds = [row.kind for row in change_list.customer_changes(u, clerk)]
    feed = [line.split(';')[2:] for line in text.splitlines()[1:]]
    assert [action for action, *_ in feed] == ['reading_submitted', 'reading_accepted']
    assert feed[1][-1] == f'meter={customer["meter_number"]} date={ctx.today.isoformat()} 1.8.0=99999'
    assert 'reading_accepted' in kinds and change_list.change_kind('reading_accepted', 'de').startswith('Zählerstand')


def test_a_reading_taken_as_the_dial_s_rollover_says_so_in_the_change_feed(uow, context, clerk, engine):
    """A lower value the portal took as the dial going round (§3) reached the billing system on the feed as a plain
    value below the last: only the readings export said `rollover`."""
    from domain.exports import export_csv
    from tests.factories import set_meter

    customer = make_customer(engine, last_name='Rund')
    set_meter(engine, customer['meter_number'], pre_decimal_digits=5)
    ctx = context()
    # a year's 3,200 kWh up to a year ago: 2,900 round the dial since is plausible on any day (from 31.12. it was not
    # until mid-June, a day's use in January)
    year_ago = ctx.today - timedelta(days=365)
    add_readings(engine, customer['meter_number'], (year_ago - timedelta(days=365), 95400), (year_ago, 98600))
    login = make_login(engine, [customer['id']], email='rund@example.org')
    number = customer['meter_number']
    run(uow, submit_reading, ctx, login['id'], customer['id'], number, {'1.8.0': '1500'}, '', False, '')
    with uow() as u:
        text, _ = export_csv(u, 'changes', ctx.today)
    [submitted] = [line.split(';')[-1] for line in text.splitlines()[1:] if ';reading_submitted;' in line]
    assert submitted.endswith('1.8.0=1500 flag=rollover') and 'reason=' not in submitted


def test_customer_changes_are_listed_and_marked_as_taken_over_once(uow, context, clerk, anna, engine):
    from domain.customer_data import ContactData, change_contact_data, contact_data

    customer, login = anna
    with uow() as u:
        data = contact_data(u, login['id'], customer['id'])
    run(
        uow,
        change_contact_data,
        context(),
        login['id'],
        customer['id'],
        ContactData(**{**data.__dict__, 'phone': '04221 12345'}),
    )
    run(uow, send_contact_message, context(), login['id'], customer['id'], 'Sonstiges', 'Hallo', 'Text')
    with uow() as u:
        rows = change_list.customer_changes(u, clerk)
        assert [r.kind for r in rows] == ['contact_data_changed']  # messages are no master-data change
        assert change_list.customer_changes(u, clerk, kind='installment_changed') == []
    ids = [rows[0].audit_id]
    assert run(uow, change_list.mark_taken_over, context(), clerk, ids) == 1
    assert run(uow, change_list.mark_taken_over, context(), clerk, ids) == 0  # once
    with uow() as u:
        assert change_list.customer_changes(u, clerk) == []
        [marked] = change_list.customer_changes(u, clerk, open_only=False)
    assert marked.taken_over and marked.customer_number == customer['customer_number']


def test_two_clerks_deciding_a_review_at_the_same_moment_decide_it_once(uow, context, clerk, anna, engine):
    """Both saw it open: one decision counts (the reduction applied or not, one answer in the inbox), the other
    is refused."""
    customer, login = anna
    with uow() as u:
        [view] = installment_views(u, context(), login['id'], customer['id'])
    form = (view.contract_number, str(view.calculator.minimum), '15000', 'Auszug eines Mitbewohners')
    run(uow, change_installment, context(), login['id'], customer['id'], *form)
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    both_looked = threading.Barrier(2)

    def decide(accept: bool):
        try:
            with uow() as u:
                look = u.desk.review
                u.desk.review = lambda item_id: (look(item_id), both_looked.wait(timeout=20))[0]
                requests.decide_review(u, context(), clerk, item.item_id, accept, 'Unsere Entscheidung.')
                return accept
        except NotAllowed as refused:
            return refused

    with ThreadPoolExecutor(2) as pool:
        results = [done.result(timeout=40) for done in [pool.submit(decide, True), pool.submit(decide, False)]]
    assert sorted(type(r).__name__ for r in results) == ['NotAllowed', 'bool']
    answers = [m for m in inbox(engine) if 'Unsere Entscheidung.' in m.body]
    assert len(answers) == 1
    with Session(engine) as session:
        plans = session.exec(select(InstallmentPlan).where(InstallmentPlan.amount == view.calculator.minimum)).all()
    assert len(plans) == (1 if next(r for r in results if isinstance(r, bool)) else 0)


@pytest.mark.parametrize('month_day', [(11, 20), (12, 4)])
def test_an_accepted_reduction_with_eleven_installments_starts_on_a_real_due_date(
    uow, context, clerk, engine, month_day
):
    """11 installments, the billing year the calendar's: December has none. Accepted on 20.11. the new amount started
    on 15.12. (no installment is due then), accepted on 04.12. on 15.02. (January's was skipped)."""
    customer = make_customer(engine, last_name='Senkung')
    add_tariff(engine, customer['id'], amount='92', per_year=11)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        item = ReviewItem(
            customer_id=customer['id'],
            contract_id=contract.id,
            kind='installment_reduction',
            created_at=clock.now(),
            details='from=92 to=70',
            reason='Auszug',
        )
        session.add(item)
        session.commit()
        item_id = item.id
    year = clock.today().year
    accepted = context(now=datetime(year, *month_day, 10, 0, tzinfo=BERLIN))
    run(uow, requests.decide_review, accepted, clerk, item_id, True, 'Einverstanden.')
    with Session(engine) as session:
        plans = session.exec(select(InstallmentPlan).order_by(col(InstallmentPlan.valid_from))).all()
    assert (plans[-1].valid_from, plans[-1].amount) == (date(year + 1, 1, 15), Decimal('70'))
    assert 'gilt ab 15.01.' in inbox(engine)[-1].body


def _under_review(uow, context, engine):
    """A customer who confirmed 30,000 kWh on 10.04.2027 (about 14,650 expected): staff review it."""
    customer = make_customer(engine, contract_start=date(2015, 1, 1))  # the days below are pinned
    login = make_login(engine, [customer['id']])
    add_readings(engine, customer['meter_number'], (date(2025, 12, 31), 10000), (date(2026, 12, 31), 13650))
    meter = customer['meter_number']
    sent = context(now=datetime(2027, 4, 10, 10, 0, tzinfo=BERLIN))
    run(uow, submit_reading, sent, login['id'], customer['id'], meter, {'1.8.0': '30000'}, '', True, 'Leck')
    return customer, login, meter, sent


def test_a_reading_under_review_replaced_the_same_day_withdraws_the_review(uow, context, clerk, engine):
    """The customer confirmed 30,000 (implausible: staff review it), saw the typo and sent 14,650 the same day, which
    replaced it. The review stayed open, and rejecting it deleted the reading with the id it named: on SQLite the
    corrected one, which had been given that id again."""
    customer, login, meter, _ = _under_review(uow, context, engine)
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    corrected = context(now=datetime(2027, 4, 10, 10, 5, tzinfo=BERLIN))
    run(uow, submit_reading, corrected, login['id'], customer['id'], meter, {'1.8.0': '14650'}, '')
    with uow() as u:
        assert requests.reviews(u, clerk) == []  # withdrawn: nothing left for staff to decide
    with pytest.raises(NotAllowed):
        run(uow, requests.decide_review, corrected, clerk, item.item_id, False, 'Bitte erneut ablesen.')
    with Session(engine) as session:
        kept = session.exec(select(MeterReading).where(MeterReading.source == 'customer')).all()
        assert session.get(ReviewItem, item.item_id).status == 'withdrawn'
    assert [(r.reading_date, r.value) for r in kept] == [(date(2027, 4, 10), Decimal(14650))]


def test_an_accepted_implausible_reading_no_longer_reads_as_being_checked(uow, context, clerk, engine):
    """Staff accepted the confirmed 30,000: the customer's history (and the customer card) said "mit Begründung, wird
    geprüft" for ever after, as if nobody had decided."""
    from domain.i18n import t
    from domain.readings import meter_forms

    customer, login, _, sent = _under_review(uow, context, engine)
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    run(uow, requests.decide_review, sent, clerk, item.item_id, True, 'Einverstanden.')
    with uow() as u:
        [form] = meter_forms(u, sent, login['id'], customer['id'])
    [mine] = [v for v in form.history if v.source == 'customer']
    assert mine.value == 30000 and mine.plausibility  # still marked as sent with a reason
    assert t(f'reading.flag.{mine.plausibility}', 'de') != 'mit Begründung, wird geprüft'


def test_a_readings_reason_cannot_add_values_to_what_the_billing_system_takes_over(uow, context, anna, engine):
    """The change feed's details are `key=value` pairs, free text quoted as JSON (as a cancellation's reason is); a
    reading's Begründung went in as typed, so "Zählerwechsel 1.8.0=1" read as a second value of register 1.8.0."""
    import csv
    import io
    import shlex

    from domain.exports import export_csv

    customer, login = anna
    ctx = context()
    reason = 'Zählerwechsel 1.8.0=1 flag='
    args = (login['id'], customer['id'], customer['meter_number'], {'1.8.0': '99999'}, '', True, reason)
    run(uow, submit_reading, ctx, *args)
    with uow() as u:
        text, _ = export_csv(u, 'changes', ctx.today)
    [details] = [row['details'] for row in csv.DictReader(io.StringIO(text), delimiter=';')]
    facts = dict(part.split('=', 1) for part in shlex.split(details))
    assert (facts['1.8.0'], facts['flag'], facts['reason']) == ('99999', 'implausible', reason)


def test_rejecting_a_reading_deletes_only_the_reading_it_names(uow, context, clerk, engine):
    """An item naming a reading id that now belongs to another reading (SQLite gives ids again) leaves that one."""
    *_, sent = _under_review(uow, context, engine)
    with Session(engine) as session:
        [reading] = session.exec(select(MeterReading).where(MeterReading.source == 'customer')).all()
        reading.value, reading.submitted_at = Decimal(14650), reading.submitted_at + timedelta(minutes=5)
        session.add(reading)  # as if the first were deleted and another stored under its id
        session.commit()
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    run(uow, requests.decide_review, sent, clerk, item.item_id, False, 'Bitte erneut ablesen.')
    with Session(engine) as session:
        assert session.exec(select(MeterReading).where(MeterReading.source == 'customer')).one().value == 14650


def test_an_answer_to_an_english_message_is_kept_in_the_inbox_in_english(uow, context, clerk, anna, engine):
    """The inbox entry said "Antwort: …" and "Ihre Nachricht (…)" whatever language the customer wrote in."""
    customer, login = anna
    with using('en'):
        message_id = run(
            uow, send_contact_message, context(), login['id'], customer['id'], 'Umzug', 'Moving', 'I am moving.'
        )
    run(uow, requests.answer_message, context(), clerk, message_id, 'Thank you, we will register your move.')
    [answer] = inbox(engine)
    assert answer.subject == 'Reply: Moving'
    assert f'Your message (N-{message_id:06d}):\n> I am moving.' in answer.body


def test_the_reading_given_with_a_large_reduction_has_a_length(uow, context, engine):
    """Digits only, but any number of them: 3,000 went into the review item's and the audit's details (PostgreSQL
    refused the write: a database error instead of a German message at the field)."""
    from domain.errors import DomainError

    customer = make_customer(engine)
    add_readings(engine, customer['meter_number'], (year_end(2), 10000), (year_end(), 13650))
    add_tariff(engine, customer['id'], amount='92', paid_months=10)
    login = make_login(engine, [customer['id']], email='reduktion@example.org')
    with uow() as u:
        [view] = installment_views(u, context(), login['id'], customer['id'])
    amount = str(view.calculator.minimum)
    with pytest.raises(DomainError) as refused:
        run(
            uow,
            change_installment,
            context(),
            login['id'],
            customer['id'],
            view.contract_number,
            amount,
            '1' * 3000,
            'Auszug',
        )
    assert refused.value.field == 'reading'
    with Session(engine) as session:
        assert session.exec(select(ReviewItem)).all() == []


def test_an_english_message_is_confirmed_with_its_topic_in_english(uow, context, anna, engine):
    """The English page offers "Move" and keeps "Umzug" for the staff: the English confirmation said "Topic: Umzug"."""
    customer, login = anna
    with using('en'):
        run(uow, send_contact_message, context(), login['id'], customer['id'], 'Umzug', 'Moving', 'I am moving.')
    [mail] = mails_to(engine, 'anfrage@example.org')
    assert 'Topic: Move' in mail.text


def _announced(engine, uow, context, now, **later):
    """A customer paying 92 € a month (one paid), and a plan the billing system stored for later (`later`); with the
    clock at `now` (the caller travels to it)."""
    customer = make_customer(engine, with_bill=False, contract_start=date(2020, 1, 1))
    add_readings(engine, customer['meter_number'], (date(2024, 12, 31), 10000), (date(2025, 12, 31), 13650))
    add_tariff(engine, customer['id'], amount='92', paid_months=1)
    with Session(engine) as session:
        contract_id = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one().id
        session.add(InstallmentPlan(contract_id=contract_id, **later))
        session.commit()
    login = make_login(engine, [customer['id']])
    with uow() as u:
        [view] = installment_views(u, context(now=now), login['id'], customer['id'])
    return customer, login, view


def _reduction_accepted(uow, context, clerk, now, customer, login, view) -> Decimal:
    """The lowest amount asked for (a reduction beyond the limit) and accepted by staff; returns it."""
    low = view.calculator.minimum
    ctx = context(now=now)
    run(uow, change_installment, ctx, login['id'], customer['id'], view.contract_number, str(low), '15000', 'x')
    with uow() as u:
        [item] = requests.reviews(u, clerk)
    run(uow, requests.decide_review, ctx, clerk, item.item_id, True, 'Einverstanden.')
    return low


def test_a_plan_announced_for_later_counts_at_its_amount_and_a_change_moves_the_due_dates_before_it(
    engine, uow, context
):
    """The billing system announced 80 € from 15 June; the page reckoned the year's result with the chosen amount for
    every due date to December, though from 15 June the announced 80 € are due (it stays: the billing system's)."""
    from tests.clock import travel

    now = datetime(2026, 2, 1, 10, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        _, _, view = _announced(engine, uow, context, now, valid_from=date(2026, 6, 15), amount=Decimal(80))
    calc = view.calculator
    assert view.first_due == date(2026, 2, 15) and calc.remaining == 4  # 15.02. to 15.05.; from 15.06. 80 € each
    assert calc.paid == 92 + 7 * 80


def test_a_change_keeps_the_calendar_it_was_reckoned_with_not_that_of_a_plan_announced_for_later(engine, uow, context):
    """The new plan took the due day and number of installments of the last plan stored, one announced for June with
    due day 1 and 11 a year: 9 due dates in the year instead of the 11 the page had reckoned with."""
    from tests.clock import travel

    now = datetime(2026, 2, 1, 10, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        later = {'valid_from': date(2026, 6, 1), 'amount': 80, 'due_day': 1, 'per_year': 11}
        customer, login, view = _announced(engine, uow, context, now, **later)
        run(uow, change_installment, context(now=now), login['id'], customer['id'], view.contract_number, '120')
    with Session(engine) as session:
        [new] = session.exec(select(InstallmentPlan).where(InstallmentPlan.valid_from == date(2026, 2, 15))).all()
    assert (new.amount, new.due_day, new.per_year) == (120, 15, 12)


def test_keeping_the_amount_with_only_a_plan_announced_for_later_is_no_change(engine, uow, context):
    """The announced plan counted as a change already made: keeping 92 € was stored, mailed and fed as a change."""
    from domain.errors import InstallmentUnchanged
    from tests.clock import travel

    now = datetime(2026, 2, 1, 10, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        customer, login, view = _announced(engine, uow, context, now, valid_from=date(2026, 6, 15), amount=80)
        with pytest.raises(InstallmentUnchanged):
            run(uow, change_installment, context(now=now), login['id'], customer['id'], view.contract_number, '92')


def test_a_change_and_an_accepted_reduction_take_the_calendar_in_force_on_their_first_due_date(
    engine, uow, context, clerk
):
    """A plan from 10.02. with due day 1 and 11 a year: the page reckoned 11 due dates at the new amount on today's
    calendar (15.02.–15.12.) and the change stored 9 (01.03.–01.11.); a reduction staff accept took today's calendar
    instead. Both now take the calendar in force when the change starts, the one the page reckons with."""
    from domain.installment_rules import due_dates
    from tests.clock import travel

    now = datetime(2026, 2, 1, 10, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        later = {'valid_from': date(2026, 2, 10), 'amount': 92, 'due_day': 1, 'per_year': 11}
        customer, login, view = _announced(engine, uow, context, now, **later)
        assert view.first_due == date(2026, 3, 1)
        run(uow, change_installment, context(now=now), login['id'], customer['id'], view.contract_number, '120')
        with Session(engine) as session:
            [new] = session.exec(select(InstallmentPlan).where(InstallmentPlan.valid_from == view.first_due)).all()
        assert (new.due_day, new.per_year) == (1, 11)
        assert len(due_dates(view.first_due, date(2026, 12, 31), 1, 11, 12)) == view.calculator.remaining == 9
        low = _reduction_accepted(uow, context, clerk, now, customer, login, view)
    with Session(engine) as session:
        plans = session.exec(select(InstallmentPlan).order_by(col(InstallmentPlan.valid_from))).all()
    assert (plans[-1].amount, plans[-1].due_day, plans[-1].per_year) == (low, 1, 11)


def test_an_accepted_reduction_starts_where_the_page_reckoned_when_a_plan_is_announced_before_it(
    engine, uow, context, clerk
):
    """Today 03.02. (earliest 17.02.), 92 € due on the 15th; the billing system announced 92 € from 01.03. with due
    day 1. The page reckons a change from 01.03.; a reduction staff accept took the calendar in force on 17.02.
    (due day 15) and was stored from 15.03.: 01.03. stayed due at 92 € besides, 13 due dates in the year."""
    from domain.installment import plan_dues
    from tests.clock import travel

    now = datetime(2026, 2, 3, 10, 0, tzinfo=BERLIN)
    with travel(now, tick=False):
        later = {'valid_from': date(2026, 3, 1), 'amount': 92, 'due_day': 1, 'per_year': 12}
        customer, login, view = _announced(engine, uow, context, now, **later)
        assert view.first_due == date(2026, 3, 1) and view.calculator.remaining == 10
        low = _reduction_accepted(uow, context, clerk, now, customer, login, view)
    with Session(engine) as session:
        plans = list(session.exec(select(InstallmentPlan).order_by(col(InstallmentPlan.valid_from))).all())
    assert len(plan_dues(plans, date(2026, 1, 1), date(2026, 12, 31), 12)) == 12
    assert plans[-1].valid_from == view.first_due and plans[-1].amount == low


def test_the_newest_closed_messages_are_listed_when_there_are_many(uow, clerk, engine):
    """The lists show 500: under "Erledigt" and "Alle" the message closed this morning was cut off (oldest first),
    while the open ones stay oldest first, as work to do."""
    customer = make_customer(engine)
    start = clock.now() - timedelta(days=400)
    with Session(engine) as session:
        for n in range(503):
            status = 'open' if n in (0, 501) else 'closed'
            message = ContactMessage(
                customer_id=customer['id'],
                created_at=start + timedelta(hours=n),
                topic='Rechnung',
                subject=f'Frage {n}',
                message='…',
                status=status,
            )
            if n == 502:  # asked long ago, answered and closed this morning
                message.created_at, message.answered_at = start - timedelta(days=30), clock.now()
            session.add(message)
        session.commit()
    with uow() as u:
        closed = [r.subject for r in requests.contact_messages(u, clerk, 'closed')]
        everything = [r.subject for r in requests.contact_messages(u, clerk, 'all')]
        still_open = [r.subject for r in requests.contact_messages(u, clerk, 'open')]
    assert closed[:2] == ['Frage 502', 'Frage 500'] and len(closed) == LIST_LIMIT + 1  # one more: 'there are more'
    assert everything[:2] == ['Frage 502', 'Frage 501']
    assert still_open == ['Frage 0', 'Frage 501']


def test_the_first_open_cancellation_stays_on_the_staff_list(uow, clerk, engine):
    """After a price letter, many cancellations at once: the list shows LIST_LIMIT, and the first received (whose
    notice runs) dropped off it while newer ones waited."""
    start = clock.now() - timedelta(days=3)
    with Session(engine) as session:
        for n in range(LIST_LIMIT + 2):
            received = start + timedelta(minutes=n)
            session.add(ContractRequest(kind='cancellation', received_at=received, email=f'k{n}@example.org'))
        session.commit()
        first = min(session.exec(select(ContractRequest.id)).all())
    with uow() as u:
        rows = contract_requests.for_staff(u, clerk)
    assert rows[0].request_id == first and len(rows) == LIST_LIMIT + 1  # and one more: the page says 'more'


def test_two_clerks_marking_the_same_change_at_once_both_get_an_answer(clerk, engine, context):
    """Both had read the change as not marked; the second one's insert failed on the key (an error in the log, no
    word on the page). Now one marks it and the other finds it marked."""
    from domain.model import AuditEntry as Entry
    from storage.unit_of_work import SqlUnitOfWork

    customer = make_customer(engine)
    with Session(engine) as session:
        entry = Entry(at=clock.now(), actor='user:1', action='bank_account_changed', customer_id=customer['id'])
        session.add(entry)
        session.commit()
        audit_id = entry.id
    meeting = threading.Barrier(2)

    class Meeting(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            exec_ = self.session.exec

            def met(statement, *args, **kwargs):
                result = exec_(statement, *args, **kwargs)
                if str(statement).startswith('SELECT auditentry.id'):
                    meeting.wait(timeout=20)  # both have read which changes there are, neither has marked one
                return result

            self.session.exec = met
            return self

    def one():
        with Meeting(engine) as work:
            return change_list.mark_taken_over(work, context(), clerk, [audit_id])

    with ThreadPoolExecutor(2) as pool:
        answers = [f.result(timeout=40) for f in [pool.submit(one) for _ in range(2)]]
    assert sorted(answers) == [0, 1]


def test_two_reductions_asked_for_at_the_same_moment_leave_one_request_open(context, clerk, anna, engine):
    """Two tabs: both looked for an open request before either had stored one, and both were stored, each with its
    mail; staff could accept the one the customer gave up. With the contract held, the second looks only after the
    first is stored and withdraws it, as one asked after the other does (the first waits 2 s for it in vain)."""
    from storage.unit_of_work import SqlUnitOfWork
    from tests.storage.conftest import meeting_after

    customer, login = anna
    looked: list[bool] = []

    Meeting = meeting_after('desk.reviews_of', looked)

    with SqlUnitOfWork(engine) as u:
        [view] = installment_views(u, context(), login['id'], customer['id'])
    low = view.calculator.minimum

    def ask(amount: Decimal):
        with Meeting(engine) as u:
            form = (view.contract_number, str(amount), '15000', 'Auszug')
            return change_installment(u, context(), login['id'], customer['id'], *form)

    with ThreadPoolExecutor(2) as pool:
        [done.result(timeout=40) for done in [pool.submit(ask, amount) for amount in (low, low + 1)]]
    with Session(engine) as session:
        items = session.exec(select(ReviewItem).where(ReviewItem.kind == 'installment_reduction')).all()
    assert sorted(item.status for item in items) == ['open', 'withdrawn']
