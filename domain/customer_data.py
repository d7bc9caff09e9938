"""Kundendaten: contact data, paperless billing, bank account and SEPA mandate; inbox and contact form;
the customer's data export (GDPR Art. 15/20).

Every change is confirmed by mail to the login address, audited (the audit is what the billing system's
"changes" export reads), and saved whole or not at all.
"""

import io
import json
import re
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime

from domain.accounts import check_current_password
from domain.errors import (
    EmailInvalid,
    FieldRequired,
    IbanInvalid,
    NotAllowed,
    NothingChanged,
    PhoneInvalid,
    PostalCodeInvalid,
    TooLong,
)
from domain.identifiers import is_email, is_iban, mask_iban, normalise, normalise_email
from domain.mails import compose
from domain.model import AuditEntry, BankAccount, ContactMessage, Customer, PortalUser, id_of
from domain.overview import CustomerChoice, customer_choices, ensure_owner
from domain.ports import Context, UnitOfWork
from domain.running import hashing
from domain.spreadsheet import csv_text

# German bank codes (BLZ, IBAN positions 5–12) of banks we can name; others are shown without a name.
BANKS = {
    '10010010': 'Postbank',
    '10020890': 'UniCredit Bank – HypoVereinsbank',
    '10070000': 'Deutsche Bank',
    '12030000': 'Deutsche Kreditbank (DKB)',
    '20041111': 'Commerzbank',
    '37040044': 'Commerzbank',
    '50010517': 'ING',
    '43060967': 'GLS Gemeinschaftsbank',
    '70020270': 'UniCredit Bank – HypoVereinsbank',
    '10011001': 'N26 Bank',
    '50050201': 'Frankfurter Sparkasse',
    '25050180': 'Sparkasse Hannover',
    '28050100': 'Landessparkasse zu Oldenburg',
    '29050101': 'Sparkasse Bremen',
    '37050198': 'Sparkasse KölnBonn',
    '10050000': 'Berliner Sparkasse',
    '20050550': 'Hamburger Sparkasse',
    '60050101': 'BW-Bank',
    '70150000': 'Stadtsparkasse München',
    '41050095': 'Sparkasse Hamm',
    '12345678': 'Musterbank',
}
TOPICS = ('Zählerstand', 'Abschlag', 'Rechnung', 'Umzug', 'Bankverbindung', 'Löschung meines Zugangs', 'Sonstiges')
_POSTAL_CODE = re.compile(r'^\d{5}$')
_PHONE = re.compile(r'^\+?[\d\s/()\-]{6,30}$')


def bank_name(iban: str) -> str:
    value = normalise(iban)
    return BANKS.get(value[4:12], '') if value.startswith('DE') and len(value) == 22 else ''


def _require(value: str, field: str, label: str, limit: int) -> str:
    value = (value or '').strip()
    if not value:
        raise FieldRequired(field, label=label)
    if len(value) > limit:
        raise TooLong(field, max=limit)
    return value


def _customer(uow: UnitOfWork, user_id: int, customer_id: int) -> Customer:
    ensure_owner(uow, user_id, customer_id)
    customer = uow.customers.get(customer_id)
    if customer is None:
        raise NotAllowed()
    return customer


def _login(uow: UnitOfWork, user_id: int) -> PortalUser:
    user = uow.users.get(user_id)
    if user is None or user.state != 'active':
        raise NotAllowed()
    return user


def _login_email(uow: UnitOfWork, user_id: int) -> str:
    user = uow.users.get(user_id)
    if user is None:
        raise NotAllowed()
    return user.email


def _audit(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, action: str, details: str) -> None:
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'user:{user_id}',
            action=action,
            customer_id=customer_id,
            details=details[:2000],
            address=ctx.address,
        )
    )


@dataclass(frozen=True)
class ContactData:
    street: str
    house_number: str
    postal_code: str
    city: str
    phone: str
    email: str  # the contact address for letters about the contract, not the login
    paperless: bool


def contact_data(uow: UnitOfWork, user_id: int, customer_id: int) -> ContactData:
    c = _customer(uow, user_id, customer_id)
    return ContactData(c.street, c.house_number, c.postal_code, c.city, c.phone, c.email, c.paperless)


def change_contact_data(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, new: ContactData) -> ContactData:
    """Validate everything first, then change the customer's contact data and paperless consent together."""
    customer = _customer(uow, user_id, customer_id)
    checked = ContactData(
        street=_require(new.street, 'street', 'Straße', 200),
        house_number=_require(new.house_number, 'house_number', 'Hausnummer', 20),
        postal_code=new.postal_code.strip(),
        city=_require(new.city, 'city', 'Ort', 100),
        phone=new.phone.strip(),
        email=normalise_email(new.email),
        paperless=bool(new.paperless),
    )
    if not _POSTAL_CODE.match(checked.postal_code):
        raise PostalCodeInvalid()
    if checked.phone and not _PHONE.match(checked.phone):
        raise PhoneInvalid()
    if checked.email and not is_email(checked.email):
        raise EmailInvalid('contact_email')
    old = contact_data(uow, user_id, customer_id)
    changes = {k: (getattr(old, k), v) for k, v in asdict(checked).items() if getattr(old, k) != v}
    if not changes:
        raise NothingChanged()
    for key, (_, value) in changes.items():
        setattr(customer, key, value)
    uow.data.save(customer)
    _audit(
        uow,
        ctx,
        user_id,
        customer_id,
        'contact_data_changed',
        ' '.join(f'{k}={json.dumps(v, ensure_ascii=False)}' for k, (_, v) in changes.items()),
    )
    if 'paperless' in changes:
        _audit(uow, ctx, user_id, customer_id, 'paperless_' + ('on' if checked.paperless else 'off'), '')
    lines = [f'{_LABELS[k]}: {_shown(v)}' for k, (_, v) in changes.items()]
    uow.queue_mail(
        compose(
            ctx,
            _login_email(uow, user_id),
            'contact_data_changed',
            customer_number=customer.customer_number,
            changes='\n'.join(lines),
        ),
        ctx.now,
    )
    uow.commit()
    return checked


_LABELS = {
    'street': 'Straße',
    'house_number': 'Hausnummer',
    'postal_code': 'Postleitzahl',
    'city': 'Ort',
    'phone': 'Telefon',
    'email': 'E-Mail-Adresse für Schriftverkehr',
    'paperless': 'Onlinekunde (Rechnung nur online)',
}


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return 'ja' if value else 'nein'
    return str(value) or '(leer)'


@dataclass(frozen=True)
class BankView:
    holder: str
    masked_iban: str
    bank: str
    mandate_reference: str
    mandate_active: bool
    mandate_granted_at: datetime | None


def bank_view(uow: UnitOfWork, user_id: int, customer_id: int) -> BankView | None:
    _customer(uow, user_id, customer_id)
    account = uow.data.bank_account(customer_id)
    if account is None:
        return None
    active = account.mandate_granted_at is not None and account.mandate_revoked_at is None
    return BankView(
        account.holder,
        mask_iban(account.iban),
        bank_name(account.iban),
        account.mandate_reference,
        active,
        account.mandate_granted_at,
    )


def mandate_reference(customer_number: str, at: datetime) -> str:
    """Unique per customer and grant, ≤ 35 characters from the SEPA character set."""
    return f'{normalise(customer_number)}-{at:%Y%m%d%H%M%S}'[:35]


@hashing
def change_bank_account(
    uow: UnitOfWork,
    ctx: Context,
    user_id: int,
    customer_id: int,
    holder: str,
    iban: str,
    mandate: bool,
    current_password: str,
) -> BankView:
    """A new account (and mandate) only with the current password: money must not be redirected by whoever finds
    a session open."""
    customer = _customer(uow, user_id, customer_id)
    holder = _require(holder, 'holder', 'Kontoinhaber', 70)
    value = normalise(iban)
    if not value:
        raise FieldRequired('iban', label='IBAN')
    if not is_iban(value):
        raise IbanInvalid()
    check_current_password(uow, ctx, _login(uow, user_id), current_password)
    old = uow.data.bank_account(customer_id)
    if old is not None:
        old.superseded_at = ctx.now
        if old.mandate_granted_at and not old.mandate_revoked_at:
            old.mandate_revoked_at = ctx.now
        uow.data.save(old)
    account = BankAccount(
        customer_id=customer_id,
        holder=holder,
        iban=value,
        created_at=ctx.now,
        mandate_reference=mandate_reference(customer.customer_number, ctx.now) if mandate else '',
        mandate_granted_at=ctx.now if mandate else None,
    )
    uow.data.save(account)
    _audit(
        uow,
        ctx,
        user_id,
        customer_id,
        'bank_account_changed',
        f'holder={json.dumps(holder, ensure_ascii=False)} iban={value} mandate={account.mandate_reference or "-"}',
    )
    uow.queue_mail(
        compose(
            ctx,
            _login_email(uow, user_id),
            'bank_changed' if mandate else 'bank_changed_no_mandate',
            customer_number=customer.customer_number,
            holder=holder,
            iban=mask_iban(value),
            reference=account.mandate_reference,
            creditor_id=ctx.profile.creditor_id,
        ),
        ctx.now,
    )
    uow.commit()
    view = bank_view(uow, user_id, customer_id)
    assert view is not None  # the account saved above
    return view


@hashing
def revoke_mandate(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, current_password: str) -> None:
    customer = _customer(uow, user_id, customer_id)
    account = uow.data.bank_account(customer_id)
    if account is None or account.mandate_granted_at is None or account.mandate_revoked_at is not None:
        raise NotAllowed()
    check_current_password(uow, ctx, _login(uow, user_id), current_password)
    account.mandate_revoked_at = ctx.now
    uow.data.save(account)
    _audit(uow, ctx, user_id, customer_id, 'mandate_revoked', f'reference={account.mandate_reference}')
    uow.queue_mail(
        compose(
            ctx,
            _login_email(uow, user_id),
            'mandate_revoked',
            customer_number=customer.customer_number,
            reference=account.mandate_reference,
        ),
        ctx.now,
    )
    uow.commit()


@dataclass(frozen=True)
class MandateForm:
    """What the SEPA mandate (on screen and as PDF) shows."""

    creditor_name: str
    creditor_address: str
    creditor_id: str
    reference: str
    debtor_name: str
    debtor_address: str
    holder: str
    iban: str
    bank: str
    customer_number: str


def mandate_form(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> MandateForm:
    """Prefilled for paper: the current account if there is one (IBAN in full, it is the customer's own)."""
    customer = _customer(uow, user_id, customer_id)
    account = uow.data.bank_account(customer_id)
    p = ctx.profile
    return MandateForm(
        p.name,
        f'{p.street}, {p.postal_code} {p.city}',
        p.creditor_id,
        account.mandate_reference
        if account and account.mandate_reference
        else mandate_reference(customer.customer_number, ctx.now),
        customer.display_name,
        customer.address,
        account.holder if account else customer.display_name,
        account.iban if account else '',
        bank_name(account.iban) if account else '',
        customer.customer_number,
    )


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
    _customer(uow, user_id, customer_id)
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


def inbox_document(uow: UnitOfWork, user_id: int, message_id: int) -> str:
    """The stored document of an inbox message, only for a login linked to its customer."""
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
    return message.document_path


def unread_count(uow: UnitOfWork, user_id: int) -> int:
    return uow.data.unread(uow.users.customer_ids(user_id))


def page_frame(uow: UnitOfWork, user_id: int) -> tuple[list[CustomerChoice], int]:
    """What the frame of every page behind the login shows: the customer accounts to switch between, and the
    number of unread messages."""
    return customer_choices(uow, user_id), unread_count(uow, user_id)


def mark_read(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, message_id: int) -> None:
    _customer(uow, user_id, customer_id)
    message = next((m for m in uow.data.inbox(customer_id) if m.id == message_id), None)
    if message is None:
        raise NotAllowed()
    if message.read_at is None:
        message.read_at = ctx.now
        uow.data.save(message)
        _audit(uow, ctx, user_id, customer_id, 'inbox_read', f'message={message_id}')
        uow.commit()


def send_contact_message(
    uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, topic: str, subject: str, message: str
) -> int:
    customer = _customer(uow, user_id, customer_id)
    if topic not in TOPICS:
        raise FieldRequired('topic', label='Thema')
    subject = _require(subject, 'subject', 'Betreff', 200)
    message = _require(message, 'message', 'Nachricht', 5000)
    row = ContactMessage(
        customer_id=customer_id, user_id=user_id, created_at=ctx.now, topic=topic, subject=subject, message=message
    )
    uow.data.save(row)
    _audit(uow, ctx, user_id, customer_id, 'contact_message', f'id={row.id} topic={topic}')
    uow.queue_mail(
        compose(
            ctx,
            _login_email(uow, user_id),
            'contact_received',
            subject=subject,
            topic=topic,
            customer_number=customer.customer_number,
            reference=f'K-{row.id:06d}',
        ),
        ctx.now,
    )
    uow.commit()
    return id_of(row)


def export_data(uow: UnitOfWork, ctx: Context, user_id: int) -> dict:
    """Everything the portal holds about this login and its customers (GDPR Art. 15/20), as plain JSON data."""
    user = uow.users.get(user_id)
    if user is None:
        raise NotAllowed()
    customers = []
    for customer_id in uow.users.customer_ids(user_id):
        customer = uow.customers.get(customer_id)
        if customer is None:
            continue
        contracts = uow.customers.contracts(customer_id)
        meters = uow.customers.meters([id_of(c) for c in contracts])
        account = uow.data.bank_account(customer_id)
        customers.append(
            {
                'customer': customer.model_dump(exclude={'id'}),
                'contracts': [c.model_dump(exclude={'id', 'customer_id'}) for c in contracts],
                'meters': [m.model_dump(exclude={'id', 'contract_id'}) for m in meters],
                'readings': [
                    dict(r.model_dump(exclude={'id', 'meter_id'}), meter_number=m.meter_number)
                    for m in meters
                    for r in uow.meters.readings(id_of(m))
                ],
                'installment_plans': [
                    dict(p.model_dump(exclude={'id', 'contract_id'}), contract_number=c.contract_number)
                    for c in contracts
                    for p in uow.billing.plans(id_of(c))
                ],
                'bills': [
                    b.model_dump(exclude={'id', 'contract_id', 'pdf_path'})
                    for b in uow.billing.bills([id_of(c) for c in contracts])
                ],
                'bank_account': account.model_dump(exclude={'id', 'customer_id'}) if account else None,
                'inbox': [m.model_dump(exclude={'id', 'customer_id'}) for m in uow.data.inbox(customer_id)],
                'contact_messages': [
                    m.model_dump(exclude={'id', 'customer_id', 'user_id'})
                    for m in uow.data.contact_messages(customer_id)
                ],
                'activity': [e.model_dump(exclude={'id', 'customer_id'}) for e in uow.data.audit_entries(customer_id)],
            }
        )
    uow.audit(AuditEntry(at=ctx.now, actor=f'user:{user_id}', action='data_exported', address=ctx.address))
    uow.commit()
    return {
        'exported_at': ctx.now,
        'utility': ctx.profile.name,
        'login': {
            'email': user.email,
            'created_at': user.created_at,
            'confirmed_at': user.confirmed_at,
            'last_login_at': user.last_login_at,
        },
        'customers': customers,
    }


def export_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


def export_zip(data: dict) -> bytes:
    """The same data as one `;`-separated CSV file per kind, in a zip."""
    tables: dict[str, list[dict]] = {'login': [data['login']]}
    for entry in data['customers']:
        number = entry['customer']['customer_number']
        for kind, rows in entry.items():
            rows = [rows] if isinstance(rows, dict) else rows or []
            tables.setdefault(kind, []).extend({'customer_number': number, **row} for row in rows)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        for kind, rows in tables.items():
            columns = list(dict.fromkeys(key for row in rows for key in row))
            cells = ([_csv_value(row.get(column, '')) for column in columns] for row in rows)
            archive.writestr(f'{kind}.csv', csv_text(columns, cells))
    return buffer.getvalue()


def _csv_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return '' if value is None else str(value)
