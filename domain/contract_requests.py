"""Contracts in the customer's hands (docs/domain.md §8): what a Kündigung (cancellation), an Umzug (move) and a
Tarifwechsel (tariff change) have in common once declared. Each is kept as received (`ContractRequest`), confirmed
at once by mail with its reference, listed for staff, carried by the change feed and `kundenportal export changes`
(its own kind, every field), and settled by staff or by the billing system through the API: the answer reaches the
customer's inbox and the address the confirmation went to.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.clock import BERLIN
from domain.errors import DateOutOfRange, DayFormat, FieldRequired, NotAllowed, TokenRevoked, TooLong
from domain.i18n import current, day, label_of, moment, t
from domain.mails import Typed, compose
from domain.model import AuditEntry, Contract, ContractRequest, Customer, InboxMessage
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.request_fields import FIELD_LABELS, declared_fields, shown
from domain.staff import LIST_LIMIT, active_staff

# kind → (the change feed's action, the reference's letter, the title in German: feminine all three, so that
# "Ihre …", "zu Ihrer …" and "sie" fit every one)
KINDS = {
    'cancellation': ('cancellation_received', 'K', 'Kündigung'),
    'move': ('move_reported', 'U', 'Umzugsmeldung'),
    'tariff_change': ('tariff_change_requested', 'T', 'Anfrage zum Tarifwechsel'),
}
ACTIONS = {action: kind for kind, (action, _, _) in KINDS.items()}


@dataclass(frozen=True)
class Receipt:
    """What the customer declared, as received: for the page, the PDF and the confirmation mail."""

    reference: str  # K-000017: for the phone, the PDF and the billing system
    title: str
    received_at: datetime
    rows: tuple[tuple[str, str], ...]  # label, value (German: the declaration's binding language)
    email: str
    mailed: bool = True  # False: the address's mail budget was spent (a cancellation is received all the same)


@dataclass(frozen=True)
class RequestRow:
    request_id: int
    reference: str
    kind: str
    title: str
    received_at: datetime
    customer_id: int | None
    customer_number: str
    contract_id: int | None
    rows: tuple[tuple[str, str], ...]
    status: str
    answer: str
    effective: str = ''  # when the change takes effect, as shown ('31.01.2027'); '' when the request names none

    @property
    def received_on(self) -> date:
        return self.received_at.astimezone(BERLIN).date()


def reference(kind: str, request_id: int) -> str:
    return f'{KINDS[kind][1]}-{request_id:06d}'


def earliest_end(contract: Contract, today: date) -> date:
    """ "Zum nächstmöglichen Zeitpunkt" as a date: the notice period from today, or the end of a fixed term that
    lies beyond it (a contract cannot be ended before its agreed term)."""
    notice = today + timedelta(weeks=contract.notice_period_weeks)
    if contract.end_date is not None and contract.end_date >= notice:
        return contract.end_date
    return notice


def possible_end(contract: Contract, today: date) -> date:
    """The earliest day a cancellation ends the contract: `earliest_end`, but never after an end already agreed (its
    end date within the notice: the contract ends then anyway, as the bill names it)."""
    return min(earliest_end(contract, today), contract.end_date or date.max)


def parse_day(text: str, field: str, label: str, earliest: date, latest: date) -> date:
    """A date typed as TT.MM.JJJJ (or ISO), within [earliest, latest]; else the field's German message."""
    text = text.strip()
    if not text:
        raise FieldRequired(field, label=label)
    try:
        if '.' in text:
            dd, mm, yyyy = text.split('.')
            value = date(int(yyyy), int(mm), int(dd))
        else:
            value = date.fromisoformat(text)
    except (ValueError, OverflowError):  # OverflowError: a year of twenty digits
        raise DayFormat(field, label=label) from None
    if not earliest <= value <= latest:
        raise DateOutOfRange(field, label=label, earliest=day(earliest), latest=day(latest))
    return value


def text_field(value: str, field: str, label: str, limit: int, required: bool = True) -> str:
    value = ' '.join(value.split())
    if required and not value:
        raise FieldRequired(field, label=label)
    if len(value) > limit:
        raise TooLong(field, max=limit)
    return value


def own_customer(uow: UnitOfWork, user_id: int | None, customer: Customer | None) -> Customer | None:
    """The customer if the login (if any) holds it: a foreign customer number is treated as an unknown one."""
    if customer is None or user_id is None:
        return customer
    return customer if customer.id in uow.users.customer_ids(user_id) else None


def receive(
    uow: UnitOfWork,
    ctx: Context,
    kind: str,
    actor: str,
    customer: Customer | None,
    contract: Contract | None,
    email: str,
    rows: list[tuple[str, str]],
    fields: dict[str, str],
    effective: date | None,
    mailed: bool = True,
) -> Receipt:
    """Store the declaration, put it in the change feed, confirm it by mail unless not `mailed` (and in the inbox of a
    known customer). No commit: the caller commits."""
    action, _, title = KINDS[kind]
    request = ContractRequest(
        kind=kind,
        received_at=ctx.now,
        customer_id=customer.id if customer is not None else None,
        contract_id=contract.id if contract is not None else None,
        email=email,
        content=json.dumps(
            fitted(fields, lambda f: len(json.dumps(f, ensure_ascii=False)), CONTENT), ensure_ascii=False
        ),
        effective=effective,
        language=current(),
    )
    uow.contract_requests.add(request)
    assert request.id is not None
    ref = reference(kind, request.id)
    rows = [*rows, ('Eingegangen am', moment(ctx.now)), ('Referenz', ref)]
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=actor,
            action=action,
            customer_id=request.customer_id,
            details=feed_details(request.id, fitted(fields, lambda f: len(feed_details(request.id or 0, f)), DETAILS)),
            address=ctx.address,
        )
    )
    content = '\n'.join(f'{label}: {value}' for label, value in rows)
    if mailed:
        uow.queue_mail(compose(ctx, email, f'{kind}_received', reference=ref, content=Typed(content)), ctx.now)
    if customer is not None and customer.id is not None and actor.startswith('user:'):
        uow.data.save(
            InboxMessage(
                customer_id=customer.id,
                created_at=ctx.now,
                kind='message',
                subject=t(f'mail.inbox_{kind}', reference=ref),  # in the language the customer wrote in
                body=content,
            )
        )
    return Receipt(ref, title, ctx.now, tuple(rows), email, mailed)


CONTENT, DETAILS = 4000, 2000  # the columns' lengths: the declaration's fields as JSON, the change feed's details


def fitted(fields: dict[str, str], size: Callable[[dict[str, str]], int], limit: int) -> dict[str, str]:
    """The fields with the longest shortened (marked with "…") until `size` of them is within `limit`: only free text
    (a reason, a comment) is that long, so the numbers, names and dates the billing system needs stay whole, and what
    is stored is whole JSON, not JSON cut off (escaped quotes and backslashes count twice)."""
    fitted = dict(fields)
    while (over := size(fitted) - limit) > 0:
        key = max(fitted, key=lambda k: len(fitted[k]))
        if len(fitted[key]) <= 1:
            break
        fitted[key] = fitted[key][: max(len(fitted[key]) - over - 1, 0)] + '…'
    return fitted


def _json(fields: dict[str, str]) -> str:
    return json.dumps(fields, ensure_ascii=False)


def feed_details(request_id: int, fields: dict[str, str]) -> str:
    """`request=17 name="Erika Muster" …`: the id to answer with, then every field (values as JSON strings)."""
    return ' '.join([f'request={request_id}', *(f'{k}={json.dumps(v, ensure_ascii=False)}' for k, v in fields.items())])


def pending(uow: UnitOfWork, customer_id: int) -> list[RequestRow]:
    """The customer's open requests, for the contract page ("Kündigung eingegangen am …")."""
    return [_row(uow, r) for r in uow.contract_requests.of_customer(customer_id) if r.status == 'open']


def known_end(uow: UnitOfWork, contract: Contract, *, accepted_only: bool = False) -> date | None:
    """When the contract ends, as far as the portal knows: its end date from the billing system, or the end of a
    cancellation or a move out (of it or of all the customer's contracts) that staff accepted, or that a login of the
    customer declared and staff have not rejected. A visitor's declaration (the cancellation page needs no login, only
    a customer number) counts once staff accept it: taken as the end before, it let anyone who knows the number take
    the customer's tariff change away. `accepted_only`: the end date or the declarations staff accepted (the contract
    page shows those as the term; the open ones as in progress)."""
    ends = [contract.end_date]
    for request in uow.contract_requests.of_customer(contract.customer_id):
        if request.status == 'rejected' or request.contract_id not in (None, contract.id):
            continue
        if accepted_only and request.status != 'accepted':
            continue
        fields = declared_fields(request.content)
        if request.status == 'open' and fields.get('declared_by') == 'visitor':
            continue
        if request.kind == 'cancellation':
            # "zum nächstmöglichen Zeitpunkt" without a date (extraordinary, or a visitor's): no later than the
            # ordinary notice from the day it came, which bounds a tariff change; the term shows a date declared, or
            # an ordinary one's accepted (that notice is its date; an extraordinary one's end staff name)
            received = request.received_at.astimezone(BERLIN).date()
            dated = not accepted_only or fields.get('notice') != 'extraordinary'
            ends.append(request.effective or (earliest_end(contract, received) if dated else None))
        elif request.kind == 'move' and fields.get('continue') == 'no':  # the supply ends (e.g. out of the area)
            ends.append(date.fromisoformat(fields['effective']) if fields.get('effective') else request.effective)
    return min((day for day in ends if day is not None), default=None)


def customer_pending(uow: UnitOfWork, user_id: int, customer_id: int) -> list[RequestRow]:
    """The logged-in customer's open requests (the contract page shows them until they are settled)."""
    ensure_owner(uow, user_id, customer_id)
    return pending(uow, customer_id)


def listing(uow: UnitOfWork, status: str = 'open', limit: int = LIST_LIMIT + 1) -> list[RequestRow]:
    """The open requests oldest first (a cancellation's notice runs: the first received are settled first), the
    others newest first."""
    rows = uow.contract_requests.listing(None if status == 'all' else status, limit, oldest_first=status == 'open')
    return [_row(uow, r) for r in rows]


def answer(uow: UnitOfWork, ctx: Context, actor: str, request_id: int, accepted: bool, message: str) -> RequestRow:
    """Staff or the billing system settle a request: the customer hears the answer (inbox and mail). No commit."""
    request = uow.contract_requests.get(request_id)
    if request is None or request.status != 'open':
        raise NotAllowed()
    message = message.strip()
    if not message:
        raise FieldRequired('note', label=label_of('note_to_customer'))
    if len(message) > 2000:
        raise TooLong('note', max=2000)
    if not uow.contract_requests.claim(request_id, 'accepted' if accepted else 'rejected'):
        raise NotAllowed()  # answered meanwhile (another clerk, the billing system)
    request.status = 'accepted' if accepted else 'rejected'
    request.decided_at, request.decided_by, request.answer = ctx.now, actor[:80], message
    language = request.language  # the declaration's, whatever the clerk's pages are shown in
    title = t(f'contract_request.{request.kind}', language)
    ref = reference(request.kind, request.id or 0)
    received = day(request.received_at.astimezone(BERLIN).date())
    verdict = t(f'contract_request.{request.status}', language)
    if request.customer_id is not None:
        said = {'title': title, 'reference': ref, 'received': received, 'verdict': verdict, 'message': message}
        uow.data.save(
            InboxMessage(
                customer_id=request.customer_id,
                created_at=ctx.now,
                kind='answer',
                subject=t('contract_request.inbox_subject', language, **said),
                body=t('contract_request.inbox_body', language, **said),
            )
        )
    if request.email:
        uow.queue_mail(
            compose(
                ctx,
                request.email,
                'contract_request_answered',
                language,
                title=title,
                reference=ref,
                verdict=verdict,
                received=received,
                message=message,
            ),
            ctx.now,
        )
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=actor[:80],
            action='contract_request_answered',
            customer_id=request.customer_id,
            details=feed_details(request.id or 0, {'kind': request.kind, 'status': request.status}),
            address=ctx.address,
        )
    )
    return _row(uow, request)


def _row(uow: UnitOfWork, request: ContractRequest) -> RequestRow:
    customer = uow.customers.get(request.customer_id) if request.customer_id is not None else None
    fields = declared_fields(request.content)
    return RequestRow(
        request.id or 0,
        reference(request.kind, request.id or 0),
        request.kind,
        t(f'contracts.kinds.{request.kind}'),
        request.received_at,
        request.customer_id,
        customer.customer_number if customer is not None else '',
        request.contract_id,
        tuple(
            (t(f'request_field.{key}') if key in FIELD_LABELS else key, shown(str(value), translated=True))
            for key, value in fields.items()
        ),
        request.status,
        request.answer,
        shown(str(fields.get('effective') or fields.get('start') or '')).strip('–'),
    )


def for_staff(uow: UnitOfWork, staff_id: int, status: str = 'open') -> list[RequestRow]:
    active_staff(uow, staff_id)
    return listing(uow, status)


def staff_answer(uow: UnitOfWork, ctx: Context, staff_id: int, request_id: int, accepted: bool, note: str) -> None:
    active_staff(uow, staff_id)
    answer(uow, ctx, f'staff:{staff_id}', request_id, accepted, note)
    uow.commit()


def api_answer(uow: UnitOfWork, ctx: Context, token_id: int, request_id: int, accepted: bool, message: str) -> None:
    """The billing system settles a request (`POST /api/v1/requests/{id}/answer`); its token is checked again here,
    in the answer's transaction (TokenRevoked: revoked since the API checked it)."""
    token = uow.api.held(token_id)  # held: a revocation committed meanwhile waits for this answer, or stops it
    if token is None or token.revoked_at is not None or token.scope != 'write':
        raise TokenRevoked()
    answer(uow, ctx, f'api:{token.name}'[:60], request_id, accepted, message)  # the audit's actor holds 60
    uow.commit()
