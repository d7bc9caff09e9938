"""What customers ask of the staff: contact messages to answer, and decisions to take (review queue).

An answer lands in the customer's Posteingang and a mail says so (the mail carries no content beyond the
subject). Review items are installment reductions beyond the online limit and implausible readings that
the customer confirmed with a reason; each is accepted or rejected with a message to the customer.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from domain import lost_access
from domain.bills import COPY_KIND
from domain.clock import later
from domain.errors import FieldRequired, NotAllowed, TooLong
from domain.i18n import day, label_of, money, number, t
from domain.identifiers import is_digits
from domain.inbox import message_reference
from domain.installment import first_due_on
from domain.mails import Typed, compose
from domain.model import (
    AuditEntry,
    ContactAnswer,
    ContactMessage,
    Customer,
    InboxMessage,
    InstallmentPlan,
    ReviewItem,
    id_of,
)
from domain.ports import Context, UnitOfWork
from domain.reading_rules import REGISTERS, register_field
from domain.readings import recipient_for
from domain.staff import LIST_LIMIT, active_staff

STATUSES = ('open', 'answered', 'closed')


@dataclass(frozen=True)
class ContactRow:
    message_id: int
    reference: str
    created_at: datetime
    customer_id: int
    customer_number: str
    customer_name: str
    topic: str
    subject: str
    message: str
    status: str
    staff_id: int | None
    answers: tuple[tuple[datetime, str], ...]  # every answer staff gave, oldest first


@dataclass(frozen=True)
class ReviewRow:
    item_id: int
    kind: str
    created_at: datetime
    customer_id: int
    customer_number: str
    customer_name: str
    details: str
    reason: str
    status: str
    decision_note: str
    summary: str = ''  # the details as staff read them: amounts and days in German, registers named


def review_summary(kind: str, details: str) -> str:
    """What a review item is about, from its stored `key=value` details (the reading's ids and the photo's file
    name are the page's, not words for staff)."""
    facts = dict(part.split('=', 1) for part in details.split() if '=' in part)
    try:
        if kind == 'installment_reduction':
            text = t('staff.review_facts.reduction', old=money(Decimal(facts['from'])), new=money(Decimal(facts['to'])))
            reading = facts.get('reading', '')
            return text + (f' · {t("staff.review_facts.reading", value=reading)}' if reading else '')
        if kind == 'implausible_reading':
            values = [f'{register_field(k)}: {number(Decimal(v))}' for k, v in facts.items() if k in REGISTERS]
            taken = day(date.fromisoformat(facts['date']))
            return ' · '.join([t('staff.review_facts.meter', meter=facts['meter'], date=taken), *values])
        if kind == COPY_KIND:
            text = t('staff.review_facts.bill', number=facts['bill'])
            return text + (f' · {t("staff.review_facts.pdf_lost")}' if facts.get('pdf') == 'lost' else '')
    except (KeyError, ValueError, ArithmeticError):  # an item stored before its details had this shape
        pass
    return details


def contact_messages(
    uow: UnitOfWork, staff_id: int, status: str = 'open', topic: str = '', mine: bool = False
) -> list[ContactRow]:
    active_staff(uow, staff_id)
    if status not in (*STATUSES, 'all'):
        raise NotAllowed()
    # the open ones are work to do, oldest first; the closed ones and all of them newest first (LIST_LIMIT + 1)
    open_only = status == 'open'
    rows = uow.desk.contact_messages(
        None if status == 'all' else status, topic or None, staff_id if mine else None, LIST_LIMIT + 1, open_only
    )
    answers = uow.desk.contact_answers([id_of(m) for m in rows])
    return [_contact_row(uow, m, answers.get(id_of(m), [])) for m in rows]


def take_message(uow: UnitOfWork, ctx: Context, staff_id: int, message_id: int) -> None:
    """ "Übernehmen": the message is mine (the filter "mine" shows it)."""
    active_staff(uow, staff_id)
    message = _message(uow, message_id)
    if message.staff_id == staff_id:  # a double click: taken already, nothing more to note
        return
    message.staff_id = staff_id
    _audit(uow, ctx, staff_id, message.customer_id, 'contact_taken', message_reference(message_id))
    uow.commit()


def answer_message(uow: UnitOfWork, ctx: Context, staff_id: int, message_id: int, text: str) -> None:
    active_staff(uow, staff_id)
    message = _message(uow, message_id)
    text = text.strip()
    if not text:
        raise FieldRequired('answer', label=label_of('answer'))
    if len(text) > 5000:
        raise TooLong('answer', max=5000)
    if message.status == 'closed':
        raise NotAllowed()
    message.answer, message.answered_at, message.status = text, ctx.now, 'answered'
    uow.data.save(ContactAnswer(message_id=message_id, staff_id=staff_id, created_at=ctx.now, text=text))
    message.staff_id = message.staff_id or staff_id
    quoted = '\n'.join(f'> {line}' for line in message.message.splitlines())
    yours = t(
        'mail.inbox_answer_quote', message.language, reference=message_reference(message_id)
    )  # the customer's language
    uow.data.save(
        InboxMessage(
            customer_id=message.customer_id,
            created_at=ctx.now,
            kind='answer',
            subject=t('mail.inbox_answer', message.language, subject=message.subject)[:200],
            body=f'{text}\n\n{yours}\n{quoted}'[:10000],
        )
    )
    _notify(
        uow,
        ctx,
        message.customer_id,
        'contact_answered',
        message.language,
        subject=Typed(message.subject),  # the customer's words, as in the receipt (`send_contact_message`)
        reference=message_reference(message_id),
    )
    _audit(uow, ctx, staff_id, message.customer_id, 'contact_answered', message_reference(message_id))
    uow.commit()


def close_message(uow: UnitOfWork, ctx: Context, staff_id: int, message_id: int) -> None:
    active_staff(uow, staff_id)
    message = _message(uow, message_id)
    if message.status == 'closed':  # a double click, or a colleague closed it: noted once
        return
    message.status = 'closed'
    _audit(uow, ctx, staff_id, message.customer_id, 'contact_closed', message_reference(message_id))
    uow.commit()


def reviews(uow: UnitOfWork, staff_id: int, status: str = 'open') -> list[ReviewRow]:
    active_staff(uow, staff_id)
    return [
        ReviewRow(
            i.id or 0,
            i.kind,
            i.created_at,
            i.customer_id,
            *_customer_label(uow, i.customer_id),
            i.details,
            i.reason,
            i.status,
            i.decision_note,
            review_summary(i.kind, i.details),
        )
        for i in uow.desk.reviews(None if status == 'all' else status, LIST_LIMIT + 1)  # the oldest first
    ]


def decide_review(uow: UnitOfWork, ctx: Context, staff_id: int, item_id: int, accept: bool, note: str) -> None:
    """Accept or reject; the customer gets the note in the Posteingang and a mail. Accepting a reduction sets
    the new installment from the next due date; rejecting a reading removes it (the customer reads again)."""
    active_staff(uow, staff_id)
    item = uow.desk.review(item_id)
    if item is None or item.status != 'open' or (accept and item.kind == COPY_KIND):
        raise NotAllowed()  # a copy is accepted by its PDF (`bills.attach_bill_copy`, or the billing system's)
    note = note.strip()
    if not note:
        raise FieldRequired('note', label=label_of('note_to_customer'))
    if len(note) > 2000:
        raise TooLong('note', max=2000)
    if not uow.desk.claim_review(item_id, 'accepted' if accept else 'rejected'):
        raise NotAllowed()  # decided meanwhile by another clerk: nothing is done twice
    facts = dict(part.split('=', 1) for part in item.details.split() if '=' in part)
    outcome, reduced = '', None
    if item.kind == 'installment_reduction' and accept:
        reduced = _apply_reduction(uow, ctx, staff_id, item, facts)
        outcome = t('review_answer.reduction', item.language, amount=reduced['amount'], date=reduced['first_due'])
    if item.kind == lost_access.KIND:
        if accept:
            lost_access.move_login(uow, ctx, staff_id, item.customer_id, facts.get('new_email', ''), item.language)
        else:
            lost_access.decline(uow, ctx, item, note)
    if item.kind == 'implausible_reading':
        decided = []
        for reading_id in facts.get('readings', '').split(','):
            reading = uow.meters.reading_by_id(int(reading_id)) if is_digits(reading_id) else None
            # the reading this item is about, not one that took its id (SQLite gives a deleted row's id again: a
            # value the customer sent the same day to correct it replaced it, and rejecting deleted the correction)
            if reading is None or reading.submitted_at != item.created_at:
                continue
            named = facts.get(reading.obis, '')  # its value as the item names it (whole numbers: §3)
            if not (is_digits(named) and Decimal(named) == reading.value):
                continue
            if accept:  # decided: the customer's history no longer says it is being checked
                reading.plausibility = 'accepted'
                uow.data.save(reading)
            else:
                uow.meters.delete_reading(reading)
            decided.append(f'{reading.obis}={named}')
        if decided:  # the billing system took it over as `reading_submitted` (flagged): now to be billed, or not
            details = f'meter={facts.get("meter", "")} date={facts.get("date", "")} ' + ' '.join(decided)
            action = 'reading_accepted' if accept else 'reading_rejected'
            _audit(uow, ctx, staff_id, item.customer_id, action, details)
    item.status, item.decided_by, item.decided_at, item.decision_note = (
        'accepted' if accept else 'rejected',
        staff_id,
        ctx.now,
        note,
    )
    language = item.language  # the customer's when they asked, not the clerk's
    titled = item.kind in ('installment_reduction', 'implausible_reading', lost_access.KIND)
    title = t(f'review_answer.title.{item.kind if titled else "other"}', language)
    verdict = t('review_answer.accepted' if accept else 'review_answer.rejected', language)
    uow.data.save(
        InboxMessage(
            customer_id=item.customer_id,
            created_at=ctx.now,
            kind='answer',
            subject=title,
            body=f'{verdict} {outcome}\n\n{note}'.strip()[:10000],
        )
    )
    if reduced is not None:  # a changed installment: its mail states the amount and the first due date (§4)
        _notify(uow, ctx, item.customer_id, 'reduction_accepted', language, subject=title, **reduced)
    elif item.kind != lost_access.KIND:  # that one has mailed both addresses already
        _notify(uow, ctx, item.customer_id, 'review_decided', language, subject=title)
    _audit(
        uow,
        ctx,
        staff_id,
        item.customer_id,
        'review_accepted' if accept else 'review_rejected',
        f'item={item_id} kind={item.kind} {item.details}',
    )
    uow.commit()


def _apply_reduction(
    uow: UnitOfWork, ctx: Context, staff_id: int, item: ReviewItem, facts: dict[str, str]
) -> dict[str, str]:
    """The new installment from the first due date it can reach, and the change for the billing system (as a
    customer's own change is: an accepted reduction never reached the billing system's changes); returns the
    contract, the amount and the first due date as the customer reads them."""
    amount = Decimal(facts['to'])
    plans = uow.billing.plans(item.contract_id or 0)
    if not plans:
        raise NotAllowed()
    contract = uow.billing.contract(plans[0].contract_id)
    earliest = ctx.today + timedelta(days=ctx.profile.installment.notice_days)
    # the first due date it can reach and the calendar in force then, as the page and the customer's own change take
    # them (each due date on its plan's calendar: one the billing system announced may begin before it)
    first_due = first_due_on(plans, earliest, contract.billing_month)
    if first_due is None:
        raise NotAllowed()
    plan = ([p for p in plans if p.valid_from <= first_due] or plans[:1])[-1]
    uow.billing.set_plans(
        [
            InstallmentPlan(
                contract_id=plan.contract_id,
                valid_from=first_due,
                amount=amount,
                due_day=plan.due_day,
                per_year=plan.per_year,
            )
        ]
    )
    _audit(
        uow,
        ctx,
        staff_id,
        item.customer_id,
        'installment_changed',
        f'contract={contract.contract_number} from={facts.get("from", "")} to={amount} '
        f'first_due={first_due.isoformat()} review={item.id}',
    )
    return {'contract': contract.contract_number, 'amount': money(amount), 'first_due': day(first_due)}


def _notify(uow: UnitOfWork, ctx: Context, customer_id: int, mail: str, language: str = 'de', **params: object) -> None:
    """Mail the customer that staff answered (in `language`, the customer's as far as known, not the clerk's)."""
    customer = uow.customers.get(customer_id)
    recipient = recipient_for(uow, customer_id, customer.email if customer else '')
    if recipient:
        link = f'{ctx.base_url}/posteingang'
        uow.queue_mail(compose(ctx, recipient, mail, language, link=link, **params), ctx.now)


def _message(uow: UnitOfWork, message_id: int) -> ContactMessage:
    message = uow.desk.contact_message(message_id)
    if message is None:
        raise NotAllowed()
    return message


def _customer_label(uow: UnitOfWork, customer_id: int) -> tuple[str, str]:
    customer: Customer | None = uow.customers.get(customer_id)
    return (customer.customer_number, customer.display_name) if customer else ('', '')


def _contact_row(uow: UnitOfWork, m: ContactMessage, answers: list[ContactAnswer]) -> ContactRow:
    return ContactRow(
        m.id or 0,
        message_reference(m.id or 0),
        m.created_at,
        m.customer_id,
        *_customer_label(uow, m.customer_id),
        m.topic,
        m.subject,
        m.message,
        m.status,
        m.staff_id,
        tuple((a.created_at, a.text) for a in answers),
    )


def _audit(uow: UnitOfWork, ctx: Context, staff_id: int, customer_id: int, action: str, details: str) -> None:
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'staff:{staff_id}',
            action=action,
            customer_id=customer_id,
            details=details[:2000],
            address=ctx.address,
        )
    )


PHOTOS_KEPT = timedelta(days=90)  # after the decision: for a question about it; then the photo has served its purpose


def forget_old_photos(uow: UnitOfWork, ctx: Context) -> list[str]:
    """Hourly: a meter photo (a customer's home, GDPR Art. 5(1)(e)) is kept while staff decide on its reading and
    90 days after; then its review says `photo=removed`, and the files no review needs any more are returned for
    removal (after the commit: a file that could not be removed is no review's any more)."""
    old = {id_of(item): item for item in uow.desk.decided_with_photo(later(ctx.now, -PHOTOS_KEPT))}
    photos = {item_id: photo_of(item.details) for item_id, item in old.items()}
    # the same photo sent with two readings: its file goes when neither review needs it
    gone = sorted({p for p in photos.values() if all(id_of(i) in old for i in uow.desk.reviews_with(p))})
    for item_id, item in old.items():
        item.details = item.details.replace(f'photo={photos[item_id]}', 'photo=removed')
    uow.commit()
    return gone


def photo_of(details: str) -> str:
    """The meter photo a review's details name (`photo=…`), or ''."""
    return next((part.split('=', 1)[1] for part in details.split() if part.startswith('photo=')), '')
