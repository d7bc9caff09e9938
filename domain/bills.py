"""Rechnungen for the customer (docs/domain.md §9): the list from the utility's cut-off year on and no older than the
eight years bills are kept, who may fetch which PDF, and a copy asked for where a listed bill has no PDF yet: the
request reaches staff (review queue) and the billing system (change feed); the PDF, once delivered by the API, an
import or a staff upload, reaches the customer's Rechnungen and inbox with a mail (`deliver_bill_copies`)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.clock import local_day
from domain.errors import NotAllowed
from domain.i18n import current, t
from domain.mails import compose
from domain.model import AuditEntry, Bill, InboxMessage, ReviewItem, id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.staff import active_staff


@dataclass(frozen=True)
class BillRow:
    bill_number: str
    bill_date: date
    period_start: date
    period_end: date
    kind: str
    amount_gross: Decimal
    balance: Decimal | None
    due_date: date | None
    replaced_by: str
    has_pdf: bool
    copy_requested: date | None = None  # a copy asked for and not delivered yet
    has_xml: bool = False  # an e-invoice: its XML can be downloaded alone (docs/domain.md §9)
    pdf_path: str = ''  # the billing run lists a bill as soon as it is computed; its PDF follows
    computed: bool = False  # by the portal's billing run: a missing PDF is rendered again from its contents


RETENTION_YEARS = 8  # bills are kept eight years (§147 AO): older ones are not listed


def first_year(ctx: Context) -> int:
    """The first billing year listed: the utility's cut-off year, but no more than eight years back."""
    return max(ctx.profile.bills.online_from_year, ctx.today.year - RETENTION_YEARS)


def listed(bill: Bill, ctx: Context) -> bool:
    """Whether the customer's Rechnungen (and the Übersicht's latest bill) show the bill."""
    return bill.period_end.year >= first_year(ctx)


def customer_bills(uow: UnitOfWork, customer_id: int) -> list[Bill]:
    """The bills on the customer's contracts now (the billing system may move one to another customer's), newest
    first."""
    return uow.billing.bills([id_of(c) for c in uow.customers.contracts(customer_id)])


def listed_bills(uow: UnitOfWork, ctx: Context, customer_id: int) -> list[Bill]:
    """Those the Rechnungen and the Übersicht's latest bill show."""
    return [b for b in customer_bills(uow, customer_id) if listed(b, ctx)]


def holder_of(uow: UnitOfWork, bill: Bill) -> int:
    """The customer whose contract the bill is on now."""
    return uow.billing.contract(bill.contract_id).customer_id


def bill_list(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> list[BillRow]:
    ensure_owner(uow, user_id, customer_id)
    bills = listed_bills(uow, ctx, customer_id)
    replaced_by = {b.replaces_id: b.bill_number for b in bills if b.replaces_id is not None}
    requested = {
        _copy_of(item): local_day(item.created_at)
        for item in uow.billing.open_reviews(customer_id)
        if item.kind == COPY_KIND
    }
    return [
        BillRow(
            b.bill_number,
            b.bill_date,
            b.period_start,
            b.period_end,
            b.kind,
            b.amount_gross,
            b.balance,
            b.due_date,
            replaced_by.get(id_of(b), ''),
            bool(b.pdf_path),
            requested.get(b.bill_number) if not b.pdf_path else None,
            bool(b.xml_path),
            b.pdf_path,
            bool(b.details),
        )
        for b in bills
    ]


def bill_document(uow: UnitOfWork, ctx: Context, user_id: int, bill_number: str, xml: bool = False) -> str:
    """The stored PDF's path (relative to the documents folder), or with `xml` the e-invoice's XML — only for a
    bill of one of the login's customers, from the cut-off year on. Anything else answers alike, so bill numbers
    cannot be probed."""
    bill = uow.billing.bill_by_number(bill_number)
    path = (bill.xml_path if xml else bill.pdf_path) if bill is not None else ''
    if bill is None or not path or not listed(bill, ctx):
        raise NotAllowed()
    if holder_of(uow, bill) not in uow.users.customer_ids(user_id):
        raise NotAllowed()
    return path


COPY_KIND = 'bill_copy'


def _copy_of(item: ReviewItem) -> str:
    return dict(part.split('=', 1) for part in item.details.split() if '=' in part).get('bill', '')


def request_bill_copy(
    uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, bill_number: str, lost: bool = False
) -> date:
    """ "Kopie anfordern" for a listed bill of the customer's without a PDF: staff and the billing system are asked
    for it, the customer gets a mail. Returns the day of the request (an earlier open one, if there is one).
    `lost`: the caller found no file at the imported bill's stored path (a documents folder restored without it):
    the bill is without a PDF from now on, until the copy arrives; a computed bill's PDF is rendered again instead
    (`kundenportal bill`)."""
    ensure_owner(uow, user_id, customer_id)
    contract_ids = {id_of(c) for c in uow.customers.contracts(customer_id)}
    uow.billing.lock_bill(
        bill_number
    )  # a double click, two tabs: one request after the other, the second finds the first
    bill = uow.billing.bill_by_number(bill_number)
    if bill is None or bill.contract_id not in contract_ids or not listed(bill, ctx):
        raise NotAllowed()
    if bill.pdf_path and not (lost and not bill.details):
        raise NotAllowed()
    for item in uow.billing.open_reviews(customer_id):
        if item.kind == COPY_KIND and _copy_of(item) == bill_number:
            return local_day(item.created_at)
    lost_note = ' pdf=lost' if bill.pdf_path else ''  # staff and the billing system: the portal's file is gone
    bill.pdf_path = ''
    uow.billing.add_review(
        ReviewItem(
            customer_id=customer_id,
            contract_id=bill.contract_id,
            kind=COPY_KIND,
            created_at=ctx.now,
            language=current(),  # staff decide later, from pages in their own language
            details=f'bill={bill_number}{lost_note}',
        )
    )
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'user:{user_id}',
            action='bill_copy_requested',
            customer_id=customer_id,
            details=f'bill={bill_number} period={bill.period_start.isoformat()}..{bill.period_end.isoformat()}'
            + lost_note,
            address=ctx.address,
        )
    )
    recipient = uow.users.owner_email(customer_id)
    if recipient:
        uow.queue_mail(compose(ctx, recipient, 'bill_copy_requested', number=bill_number), ctx.now)
    uow.commit()
    return ctx.today


def deliver_bill_copies(uow: UnitOfWork, ctx: Context) -> int:
    """Copies asked for whose PDF has arrived (API, import, staff upload): into the customer's Rechnungen (the bill
    has its PDF now) and inbox, with a mail; the request is done. Returns how many were delivered."""
    delivered = 0
    # bills delivered in this run: a second request for one (made before requests were locked) is done with the first
    done: set[tuple[int, str]] = set()
    for item in uow.desk.open_reviews(COPY_KIND):  # all of them: behind 500 older open reviews one waited for good
        bill = uow.billing.bill_by_number(_copy_of(item))
        if bill is None or not bill.pdf_path:
            continue
        if holder_of(uow, bill) != item.customer_id:
            continue  # the billing system gave the bill to another customer since: not theirs, staff decide
        # claimed, not just set: another instance (hourly, after an API upload or an import) that read the request
        # as open at the same moment delivers it, and this one does not (one inbox entry, one mail)
        if not uow.desk.claim_review(id_of(item), 'accepted'):
            continue
        item.decided_at, item.decision_note = ctx.now, 'PDF geliefert'
        if (item.customer_id, bill.bill_number) in done:
            continue
        done.add((item.customer_id, bill.bill_number))
        uow.data.save(
            InboxMessage(
                customer_id=item.customer_id,
                created_at=ctx.now,
                kind='bill',
                bill_id=bill.id,
                subject=t('bill_copy.subject', item.language, number=bill.bill_number),
                body=t('bill_copy.body', item.language, number=bill.bill_number),
                document_path=bill.pdf_path,
            )
        )
        recipient = uow.users.owner_email(item.customer_id)
        if recipient:
            uow.queue_mail(compose(ctx, recipient, 'bill_copy_ready', item.language, number=bill.bill_number), ctx.now)
        uow.audit(
            AuditEntry(
                at=ctx.now,
                actor='system',
                action='bill_copy_delivered',
                customer_id=item.customer_id,
                details=f'bill={bill.bill_number}',
                address=ctx.address,  # the back office's import or upload, or the billing system's API call
            )
        )
        delivered += 1
    uow.commit()
    return delivered


def attach_bill_copy(uow: UnitOfWork, ctx: Context, staff_id: int, item_id: int, relative: str) -> None:
    """Staff upload the PDF of a bill a customer asked a copy of (stored by the caller at a name of the portal's):
    the bill has its PDF from now on, and the copy is delivered at once."""
    active_staff(uow, staff_id)
    item = uow.desk.review(item_id)
    bill = uow.billing.bill_by_number(_copy_of(item)) if item is not None and item.kind == COPY_KIND else None
    if item is None or item.status != 'open' or bill is None:
        raise NotAllowed()
    bill.pdf_path = relative
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'staff:{staff_id}',
            action='bill_pdf_uploaded',
            customer_id=item.customer_id,
            details=f'bill={bill.bill_number}',
            address=ctx.address,
        )
    )
    deliver_bill_copies(uow, ctx)
