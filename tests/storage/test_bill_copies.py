"""Every listed bill is reachable (docs/domain.md §9): a copy asked for reaches staff and the change feed, and the
PDF, once delivered, reaches the customer; bills older than eight years are not listed."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from domain import bills, requests
from domain.change_list import customer_changes
from domain.clock import SystemClock
from domain.errors import NotAllowed
from domain.i18n import using
from domain.model import AuditEntry, Bill, Contract, InboxMessage, OutboxMail, ReviewItem
from storage.importer import import_rows
from tests import clock
from tests.factories import last_mail, make_customer, make_login
from tests.storage.conftest import meeting_after, run

PDF = b'%PDF-1.4\n% Kopie\n%%EOF\n'


@pytest.fixture
def owner(engine):
    customer = make_customer(engine, last_name='Kopie')
    login = make_login(engine, [customer['id']], email='kopie@example.org')
    return customer, login


def test_a_copy_is_asked_for_once_and_reaches_staff_and_the_change_feed(uow, context, engine, owner, clerk):
    customer, login = owner
    [row] = run(uow, bills.bill_list, context(), login['id'], customer['id'])
    assert not row.has_pdf and row.copy_requested is None
    day = run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    again = run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    assert day == again == clock.today()
    with Session(engine) as session:
        [item] = session.exec(select(ReviewItem)).all()
    assert (item.kind, item.details) == ('bill_copy', f'bill={customer["bill_number"]}')
    assert 'angefordert' in last_mail(engine, 'kopie@example.org').subject
    with uow() as u:
        [change] = customer_changes(u, clerk, 'bill_copy_requested')
    assert customer['bill_number'] in change.details
    [row] = run(uow, bills.bill_list, context(), login['id'], customer['id'])
    assert row.copy_requested == clock.today()


def test_nobody_asks_for_a_copy_of_someone_elses_bill_or_of_one_with_a_pdf(uow, context, engine, owner):
    customer, login = owner
    other = make_customer(engine, last_name='Fremd')
    with pytest.raises(NotAllowed):
        run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], other['bill_number'])
    with Session(engine) as session:
        bill = session.exec(select(Bill).where(Bill.bill_number == customer['bill_number'])).one()
        bill.pdf_path = 'bills/x.pdf'
        session.add(bill)
        session.commit()
    with pytest.raises(NotAllowed):
        run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])


def test_an_imported_bill_whose_file_is_lost_is_asked_for_anew(uow, context, engine, owner, clerk):
    """A documents folder restored without an imported bill's PDF: the customer asks for a copy, the bill waits for
    it without a PDF, and staff and the billing system learn that the portal's file is gone."""
    customer, login = owner
    number = customer['bill_number']
    with Session(engine) as session:
        bill = session.exec(select(Bill).where(Bill.bill_number == number)).one()
        bill.pdf_path = 'bills/verloren.pdf'
        session.add(bill)
        session.commit()
    assert run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], number, True) == clock.today()
    with Session(engine) as session:
        assert session.exec(select(Bill.pdf_path).where(Bill.bill_number == number)).one() == ''
        [item] = session.exec(select(ReviewItem)).all()
    assert item.details == f'bill={number} pdf=lost'
    with uow() as u:
        [change] = customer_changes(u, clerk, 'bill_copy_requested')
    assert change.details.startswith(f'bill={number} ') and change.details.endswith(' pdf=lost')
    [row] = run(uow, bills.bill_list, context(), login['id'], customer['id'])
    assert not row.has_pdf and row.copy_requested == clock.today()


def test_a_computed_bill_is_rendered_again_not_asked_for(uow, context, engine, owner):
    customer, login = owner
    with Session(engine) as session:
        bill = session.exec(select(Bill).where(Bill.bill_number == customer['bill_number'])).one()
        bill.pdf_path, bill.details = 'bills/gerechnet.pdf', '{"computed": true}'
        session.add(bill)
        session.commit()
    with pytest.raises(NotAllowed):
        run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'], True)


def test_a_pdf_delivered_by_the_api_reaches_the_customer(uow, context, engine, owner, tmp_path):
    customer, login = owner
    run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    row = bill_row(engine, customer['bill_number'])
    result = import_rows(engine, tmp_path, SystemClock(), 'bills', [row], {row['bill_number']: PDF})
    assert not result.errors
    assert run(uow, bills.deliver_bill_copies, context()) == 1
    assert run(uow, bills.deliver_bill_copies, context()) == 0  # once
    [listed] = run(uow, bills.bill_list, context(), login['id'], customer['id'])
    assert listed.has_pdf and listed.copy_requested is None
    with Session(engine) as session:
        [message] = session.exec(select(InboxMessage)).all()
        assert session.exec(select(ReviewItem)).one().status == 'accepted'
        assert session.exec(select(AuditEntry).where(AuditEntry.action == 'bill_copy_delivered')).one()
    assert message.document_path == listed_path(engine, row['bill_number'])
    assert 'liegt bereit' in last_mail(engine, 'kopie@example.org').subject


def test_a_copy_asked_for_on_the_english_pages_arrives_in_english(uow, context, engine, owner, tmp_path):
    customer, login = owner
    with using('en'):
        run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    row = bill_row(engine, customer['bill_number'])
    assert not import_rows(engine, tmp_path, SystemClock(), 'bills', [row], {row['bill_number']: PDF}).errors
    with using('de'):  # the delivery runs in the background, in no visitor's language
        assert run(uow, bills.deliver_bill_copies, context()) == 1
    with Session(engine) as session:
        [message] = session.exec(select(InboxMessage)).all()
    assert message.subject == f'Bill copy {row["bill_number"]}' and 'is ready' in message.body
    assert 'liegt bereit' not in last_mail(engine, 'kopie@example.org').subject


def test_staff_upload_the_pdf_of_a_copy_asked_for(uow, context, engine, owner, clerk):
    customer, login = owner
    run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    with Session(engine) as session:
        item = session.exec(select(ReviewItem)).one()
    run(uow, bills.attach_bill_copy, context(), clerk, item.id, 'bills/kopie.pdf')
    assert listed_path(engine, customer['bill_number']) == 'bills/kopie.pdf'
    with Session(engine) as session:
        assert session.exec(select(InboxMessage)).one().document_path == 'bills/kopie.pdf'
    with pytest.raises(NotAllowed):  # done
        run(uow, bills.attach_bill_copy, context(), clerk, item.id, 'bills/kopie.pdf')


def test_a_delivered_copy_stays_when_the_billing_system_sends_the_same_bill_row_again(
    uow, context, engine, owner, clerk, tmp_path
):
    """The nightly file or the API sends the row again without a PDF: the copy staff uploaded stays the bill's."""
    customer, login = owner
    row = bill_row(engine, customer['bill_number'])
    run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    with Session(engine) as session:
        item = session.exec(select(ReviewItem)).one()
    run(uow, bills.attach_bill_copy, context(), clerk, item.id, 'bills/kopie.pdf')
    again = import_rows(engine, tmp_path, SystemClock(), 'bills', [row])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert listed_path(engine, customer['bill_number']) == 'bills/kopie.pdf'
    # a changed row without its PDF: the old PDF no longer shows that bill, a copy can be asked for again
    changed = import_rows(engine, tmp_path, SystemClock(), 'bills', [{**row, 'amount_gross': '1.00'}])
    assert changed.updated == 1 and listed_path(engine, customer['bill_number']) == ''


def test_bills_older_than_eight_years_are_not_listed(uow, context, engine, owner):
    customer, login = owner
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        year = clock.today().year - 9
        session.add(
            Bill(
                bill_number='RE-ALT',
                contract_id=contract.id,
                bill_date=date(year + 1, 1, 20),
                period_start=date(year, 1, 1),
                period_end=date(year, 12, 31),
                amount_gross=Decimal('10.00'),
            )
        )
        session.commit()
    listed = [r.bill_number for r in run(uow, bills.bill_list, context(), login['id'], customer['id'])]
    assert listed == [customer['bill_number']]
    assert bills.first_year(context()) == clock.today().year - 8


def test_bills_of_one_day_are_listed_the_later_first(uow, context, engine, owner):
    """A correction issued on the bill's own day: the list (and the Übersicht's latest bill, its first) showed the two
    in whatever order the database returned them."""
    customer, login = owner
    with Session(engine) as session:
        original = session.exec(select(Bill).where(Bill.bill_number == customer['bill_number'])).one()
        for number in ('RE-KORR-1', 'RE-KORR-2'):
            session.add(
                Bill(
                    bill_number=number,
                    contract_id=original.contract_id,
                    bill_date=original.bill_date,
                    period_start=original.period_start,
                    period_end=original.period_end,
                    kind='correction',
                    amount_gross=Decimal('10.00'),
                )
            )
        session.commit()
    listed = [r.bill_number for r in run(uow, bills.bill_list, context(), login['id'], customer['id'])]
    assert listed[:3] == ['RE-KORR-2', 'RE-KORR-1', customer['bill_number']]


def bill_row(engine, number: str) -> dict[str, str]:
    """The bill as the billing system's bills.csv row names it (without a PDF)."""
    with Session(engine) as session:
        bill = session.exec(select(Bill).where(Bill.bill_number == number)).one()
        contract = session.get(Contract, bill.contract_id)
    assert contract is not None
    return {
        'bill_number': bill.bill_number,
        'contract_number': contract.contract_number,
        'bill_date': bill.bill_date.isoformat(),
        'period_start': bill.period_start.isoformat(),
        'period_end': bill.period_end.isoformat(),
        'kind': 'annual',
        'amount_gross': str(bill.amount_gross),
    }


def listed_path(engine, number: str) -> str:
    with Session(engine) as session:
        return session.exec(select(Bill).where(Bill.bill_number == number)).one().pdf_path


def test_a_copy_asked_for_twice_at_the_same_moment_is_asked_for_once(context, engine, owner):
    """A double click, two tabs: both looked for an open request before either had saved one, and staff got two
    items, the customer two mails and, at delivery, the copy twice. Where both can meet after looking (no lock),
    they do; with the bill held, the second looks only after the first is saved (and the first waits 2 s)."""
    customer, login = owner
    looked: list[bool] = []

    Meeting = meeting_after('billing.open_reviews', looked)

    def ask():
        with Meeting(engine) as work:
            return bills.request_bill_copy(work, context(), login['id'], customer['id'], customer['bill_number'])

    with ThreadPoolExecutor(2) as pool:
        days = [done.result(timeout=60) for done in [pool.submit(ask) for _ in range(2)]]
    assert days == [clock.today()] * 2
    with Session(engine) as session:
        assert len(session.exec(select(ReviewItem)).all()) == 1
        assert len(session.exec(select(OutboxMail).where(OutboxMail.recipient == 'kopie@example.org')).all()) == 1


def test_two_requests_of_one_bill_left_from_before_deliver_it_once(uow, context, engine, owner, clerk):
    customer, _ = owner
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        for _ in range(2):
            session.add(
                ReviewItem(
                    customer_id=customer['id'],
                    contract_id=contract.id,
                    kind='bill_copy',
                    created_at=clock.now(),
                    details=f'bill={customer["bill_number"]}',
                )
            )
        session.commit()
        first = session.exec(select(ReviewItem)).first()
        assert first is not None
    run(uow, bills.attach_bill_copy, context(), clerk, first.id, 'bills/kopie.pdf')
    with Session(engine) as session:
        assert len(session.exec(select(InboxMessage).where(InboxMessage.customer_id == customer['id'])).all()) == 1
        assert {item.status for item in session.exec(select(ReviewItem)).all()} == {'accepted'}


def test_a_copy_request_is_not_accepted_without_its_pdf(uow, context, engine, owner, clerk):
    """ "Zustimmen" closed the request, so the PDF the billing system sent later never reached the customer (the
    delivery looks for open requests): a copy is accepted by its PDF only; "Ablehnen" stays possible."""
    customer, login = owner
    run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    with uow() as work:
        [item] = requests.reviews(work, clerk)
    with pytest.raises(NotAllowed):
        run(uow, requests.decide_review, context(), clerk, item.item_id, True, 'Wir kümmern uns.')
    with Session(engine) as session:
        assert session.exec(select(ReviewItem)).one().status == 'open'
    run(uow, requests.decide_review, context(), clerk, item.item_id, False, 'Die Rechnung ist älter als acht Jahre.')


def test_the_copies_an_import_delivers_are_audited_with_the_client_s_address(uow, context, engine, owner, tmp_path):
    """The back office passes its client's address to `deliver_bill_copies`; the delivery's entry dropped it."""
    customer, login = owner
    run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    row = bill_row(engine, customer['bill_number'])
    assert not import_rows(engine, tmp_path, SystemClock(), 'bills', [row], {row['bill_number']: PDF}).errors
    assert run(uow, bills.deliver_bill_copies, context(address='198.51.100.7')) == 1
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == 'bill_copy_delivered')).one()
    assert entry.address == '198.51.100.7'


def test_a_copy_delivered_by_two_instances_at_the_same_moment_reaches_the_customer_once(
    uow, context, engine, owner, tmp_path
):
    """Every instance delivers the copies hourly, and after each API `POST /bills` and staff import: two that looked
    for open requests at the same moment both delivered the copy (two inbox entries, two mails)."""
    customer, login = owner
    run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    row = bill_row(engine, customer['bill_number'])
    assert not import_rows(engine, tmp_path, SystemClock(), 'bills', [row], {row['bill_number']: PDF}).errors
    looked: list[bool] = []

    Meeting = meeting_after('desk.open_reviews', looked)

    def deliver():
        with Meeting(engine) as work:
            return bills.deliver_bill_copies(work, context())

    with ThreadPoolExecutor(2) as pool:
        delivered = [done.result(timeout=60) for done in [pool.submit(deliver) for _ in range(2)]]
    assert sorted(delivered) == [0, 1]
    with Session(engine) as session:
        assert len(session.exec(select(InboxMessage).where(InboxMessage.customer_id == customer['id'])).all()) == 1
        mails = session.exec(select(OutboxMail).where(OutboxMail.recipient == 'kopie@example.org')).all()
    assert [mail.subject for mail in mails].count(last_mail(engine, 'kopie@example.org').subject) == 1


def test_a_copy_asked_for_behind_500_older_open_reviews_is_delivered(uow, context, engine, owner, tmp_path):
    """The delivery looked at the oldest 500 open review items only: after a reading mailing's flagged readings a
    copy asked for later never reached the customer, its PDF there."""
    customer, login = owner
    with Session(engine) as session:
        for minute in range(501):  # older and still open
            created = clock.now().replace(hour=0) + timedelta(minutes=minute) - timedelta(days=1)
            session.add(ReviewItem(customer_id=customer['id'], kind='implausible_reading', created_at=created))
        session.commit()
    run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    row = bill_row(engine, customer['bill_number'])
    assert not import_rows(engine, tmp_path, SystemClock(), 'bills', [row], {row['bill_number']: PDF}).errors
    assert run(uow, bills.deliver_bill_copies, context()) == 1


def test_a_copy_of_a_bill_the_billing_system_gave_to_another_customer_is_not_delivered_to_the_asker(
    uow, context, engine, owner, tmp_path
):
    """The billing system corrected a wrongly assigned bill (another contract, another customer) and sent its PDF:
    the customer who asked for the copy before got the other customer's bill in the inbox, and could open it there."""
    customer, login = owner
    run(uow, bills.request_bill_copy, context(), login['id'], customer['id'], customer['bill_number'])
    other = make_customer(engine, last_name='Nachmieter')
    row = bill_row(engine, customer['bill_number'])
    row['contract_number'] = bill_row(engine, other['bill_number'])['contract_number']
    assert not import_rows(engine, tmp_path, SystemClock(), 'bills', [row], {row['bill_number']: PDF}).errors
    run(uow, bills.deliver_bill_copies, context())
    with Session(engine) as session:
        assert not session.exec(select(InboxMessage).where(InboxMessage.customer_id == customer['id'])).all()
        assert session.exec(select(ReviewItem)).one().status == 'open'  # for staff to decide
    assert 'liegt bereit' not in last_mail(engine, 'kopie@example.org').subject
