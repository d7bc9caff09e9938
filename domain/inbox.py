"""The inbox (messages and documents from the utility) and the contact form; the frame of every page behind the
login shows the unread count."""

from dataclasses import dataclass
from datetime import datetime

from domain import throttle
from domain.bills import customer_bills
from domain.clock import local_day, local_time
from domain.customer_access import audit_change, login_email, owned_customer, required_text
from domain.errors import ContactLimit, FieldRequired, NotAllowed
from domain.i18n import current, label_of, t
from domain.mails import Typed, compose
from domain.model import ContactMessage, id_of
from domain.overview import CustomerChoice, customer_choices
from domain.ports import Context, UnitOfWork

TOPICS = ('Zählerstand', 'Abschlag', 'Rechnung', 'Umzug', 'Bankverbindung', 'Löschung meines Zugangs', 'Sonstiges')


def message_reference(message_id: int) -> str:
    """A contact message's reference: N (Nachricht); K is a cancellation's (the first of each read K-000001)."""
    return f'N-{message_id:06d}'


def topic_names(language: str | None = None) -> dict[str, str]:
    """Each topic (kept German for the staff) by its name in `language` (by default the one of the current work)."""
    return dict(zip(TOPICS, t('contact.topic_names', language).split(';'), strict=True))


@dataclass(frozen=True)
class InboxEntry:
    id: int
    created_at: datetime
    kind: str
    subject: str
    body: str
    unread: bool
    has_document: bool = False


def inbox(uow: UnitOfWork, user_id: int, customer_id: int) -> list[InboxEntry]:
    owned_customer(uow, user_id, customer_id)
    return [
        InboxEntry(
            id_of(m),
            m.created_at,
            m.kind,
            m.subject,
            m.body,
            m.read_at is None,
            bool(m.document_path),
        )
        for m in uow.data.inbox(customer_id)
    ]


def inbox_document(uow: UnitOfWork, user_id: int, message_id: int) -> tuple[str, str]:
    """The stored document of an inbox message (its path, and the name to save it under), only for a login linked
    to its customer; a bill's only while the bill is still the customer's (the billing system may give it to another
    customer's contract, as it may before a copy is delivered). A bill is saved as from the Rechnungen (its stored
    name is its content's hash)."""
    message = next(
        (
            m
            for customer_id in uow.users.customer_ids(user_id)
            for m in uow.data.inbox(customer_id)
            if m.id == message_id
        ),
        None,
    )
    if message is None or not message.document_path:
        raise NotAllowed()
    if message.kind != 'bill':
        return message.document_path, f'Dokument-{local_day(message.created_at):%Y-%m-%d}-{message.id}.pdf'
    bill = next(  # by its id; a copy delivered before it was recorded, by its PDF
        (
            b
            for b in customer_bills(uow, message.customer_id)
            if message.bill_id == b.id or b.pdf_path == message.document_path
        ),
        None,
    )
    if bill is None:
        raise NotAllowed()
    return message.document_path, f'Rechnung-{bill.bill_number}.pdf'


def unread_count(uow: UnitOfWork, user_id: int) -> int:
    return uow.data.unread(uow.users.customer_ids(user_id))


def unread_elsewhere(uow: UnitOfWork, user_id: int, customer_id: int) -> list[tuple[str, int]]:
    """The login's other customer accounts with unread messages (customer number, how many): the frame counts them
    all, the inbox shows the selected account's."""
    owned_customer(uow, user_id, customer_id)
    return [
        (choice.customer_number, count)
        for choice in customer_choices(uow, user_id)
        if choice.customer_id != customer_id and (count := uow.data.unread([choice.customer_id]))
    ]


def page_frame(uow: UnitOfWork, user_id: int) -> tuple[list[CustomerChoice], int]:
    """What the frame of every page behind the login shows: the customer accounts to switch between, and the
    number of unread messages."""
    return customer_choices(uow, user_id), unread_count(uow, user_id)


def mark_read(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, message_id: int) -> None:
    owned_customer(uow, user_id, customer_id)
    message = next((m for m in uow.data.inbox(customer_id) if m.id == message_id), None)
    if message is None:
        raise NotAllowed()
    if message.read_at is None and uow.data.mark_read(message, ctx.now):  # opened in two tabs at once: noted once
        audit_change(uow, ctx, user_id, customer_id, 'inbox_read', f'message={message_id}')
        uow.commit()


def send_contact_message(
    uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, topic: str, subject: str, message: str
) -> int:
    customer = owned_customer(uow, user_id, customer_id)
    if topic not in TOPICS:
        raise FieldRequired('topic', label=label_of('topic'))
    subject = required_text(subject, 'subject', label_of('subject'), 200)
    message = required_text(message, 'message', label_of('message'), 5000)
    key = throttle.CONTACT_OF_LOGIN.format(user_id)
    sent = uow.throttles.state(key)
    if sent.is_locked(ctx.now) and sent.locked_until:
        raise ContactLimit(at=local_time(sent.locked_until))
    sent.record_failure(throttle.CONTACT_PER_LOGIN, ctx.now)
    uow.throttles.save(key, sent)
    row = ContactMessage(
        customer_id=customer_id,
        user_id=user_id,
        created_at=ctx.now,
        topic=topic,
        subject=subject,
        message=message,
        language=current(),  # for the mail that says staff answered
    )
    uow.data.save(row)
    audit_change(uow, ctx, user_id, customer_id, 'contact_message', f'id={row.id} topic={topic}')
    uow.queue_mail(
        compose(
            ctx,
            login_email(uow, user_id),
            'contact_received',
            subject=Typed(subject),
            topic=topic_names().get(topic, topic),  # in the customer's language
            customer_number=customer.customer_number,
            reference=message_reference(id_of(row)),
        ),
        ctx.now,
    )
    uow.commit()
    return id_of(row)
