"""Kundendaten: contact data, paperless billing, bank account and SEPA mandate (the inbox and contact form are in
domain/inbox.py, the data export in domain/data_export.py).

Every change is confirmed by mail to the login address, audited (the audit is what the billing system's
"changes" export reads), and saved whole or not at all.
"""

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from domain.accounts import check_current_password
from domain.customer_access import active_login, audit_change, login_email, owned_customer, required_text
from domain.errors import (
    EmailInvalid,
    FieldRequired,
    IbanInvalid,
    IbanOutsideSepa,
    NotAllowed,
    NothingChanged,
    PhoneInvalid,
    PostalCodeInvalid,
)
from domain.i18n import label_of, t
from domain.identifiers import is_email, is_iban, is_iban_outside_sepa, mask_iban, normalise, normalise_email
from domain.mails import compose
from domain.model import BankAccount
from domain.ports import Context, UnitOfWork
from domain.running import hashing

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
_POSTAL_CODE = re.compile(r'^\d{5}$', re.ASCII)  # ASCII: `\d` would also take '２７７５１'
_PHONE = re.compile(r'^\+?[\d\s/()\-]{6,30}$', re.ASCII)
_PHONE_DIGITS = 5  # at least: '((((((' is no number


def bank_name(iban: str) -> str:
    value = normalise(iban)
    return BANKS.get(value[4:12], '') if value.startswith('DE') and len(value) == 22 else ''


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
    c = owned_customer(uow, user_id, customer_id)
    return ContactData(c.street, c.house_number, c.postal_code, c.city, c.phone, c.email, c.paperless)


_ADDRESS = ('street', 'house_number', 'postal_code', 'city')  # one postal address: taken or kept as a whole


def _merged(stored: ContactData, seen: ContactData, new: ContactData) -> ContactData:
    """What to save from a form that showed `seen`: a field left as it was keeps what is `stored` now; the postal
    address as a whole, so that a street typed in the form never joins a postal code and city the import changed
    meanwhile (a move the billing system recorded)."""
    values = {key: getattr(stored, key) if value == getattr(seen, key) else value for key, value in asdict(new).items()}
    if any(getattr(new, key) != getattr(seen, key) for key in _ADDRESS):
        values.update({key: getattr(new, key) for key in _ADDRESS})
    return ContactData(**values)


def change_contact_data(
    uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, new: ContactData, seen: ContactData | None = None
) -> ContactData:
    """Validate everything first, then change the customer's contact data and paperless consent together. `seen`:
    what the form showed; a field left as it was there keeps what is stored now, so a form from a second tab (or
    one left open while the billing system's import changed the address) does not undo a change made meanwhile."""
    uow.users.hold(user_id)  # two tabs at once: the second reads the customer after the first's change is stored
    customer = owned_customer(uow, user_id, customer_id)
    old = contact_data(uow, user_id, customer_id)
    if seen is not None:
        new = _merged(old, seen, new)

    def typed(key: str) -> bool:  # a value left as stored (as the billing system holds it) is not checked again
        value = getattr(new, key)
        return (value.strip() if isinstance(value, str) else value) != getattr(old, key)

    checked = ContactData(
        street=required_text(new.street, 'street', label_of('street'), 200) if typed('street') else old.street,
        house_number=required_text(new.house_number, 'house_number', label_of('house_number'), 20)
        if typed('house_number')
        else old.house_number,
        postal_code=new.postal_code.strip() if typed('postal_code') else old.postal_code,
        city=required_text(new.city, 'city', label_of('city'), 100) if typed('city') else old.city,
        phone=new.phone.strip() if typed('phone') else old.phone,
        email=normalise_email(new.email) if typed('email') else old.email,
        paperless=bool(new.paperless),
    )
    if typed('postal_code') and not _POSTAL_CODE.match(checked.postal_code):
        raise PostalCodeInvalid()
    if (
        typed('phone')
        and checked.phone
        and (not _PHONE.match(checked.phone) or sum(ch.isdigit() for ch in checked.phone) < _PHONE_DIGITS)
    ):
        raise PhoneInvalid()
    if typed('email') and checked.email and not is_email(checked.email):
        raise EmailInvalid('contact_email')
    changes = {k: (getattr(old, k), v) for k, v in asdict(checked).items() if getattr(old, k) != v}
    if not changes:
        raise NothingChanged()
    for key, (_, value) in changes.items():
        setattr(customer, key, value)
    uow.data.save(customer)
    audit_change(
        uow,
        ctx,
        user_id,
        customer_id,
        'contact_data_changed',
        ' '.join(f'{k}={json.dumps(v, ensure_ascii=False)}' for k, (_, v) in changes.items()),
    )
    if 'paperless' in changes:
        audit_change(uow, ctx, user_id, customer_id, 'paperless_' + ('on' if checked.paperless else 'off'), '')
    lines = [_changed_line(k, v) for k, (_, v) in changes.items()]
    uow.queue_mail(
        compose(
            ctx,
            login_email(uow, user_id),
            'contact_data_changed',
            customer_number=customer.customer_number,
            changes='\n'.join(lines),
        ),
        ctx.now,
    )
    uow.commit()
    return checked


_LABELS = {
    'email': 'contact_email',
    'paperless': 'paperless_mail',
}  # the page's label for each field, where its name differs


def _changed_line(key: str, value: object) -> str:
    """One change, in the language of the mail: 'Telefon: 04221 12345', 'Onlinekunde: ja'."""
    if isinstance(value, bool):
        shown = t('customer_data.yes' if value else 'customer_data.no')
    else:
        shown = str(value) or t('customer_data.empty_value')
    return f'{t("customer_data." + _LABELS.get(key, key))}: {shown}'


@dataclass(frozen=True)
class BankView:
    holder: str
    masked_iban: str
    bank: str
    mandate_reference: str
    mandate_active: bool
    mandate_granted_at: datetime | None


def bank_view(uow: UnitOfWork, user_id: int, customer_id: int) -> BankView | None:
    owned_customer(uow, user_id, customer_id)
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


def mandate_reference(customer_number: str, at: datetime, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """Unique per customer and grant, ≤ 35 characters from the SEPA character set: the grant's second, or the next
    one not `taken` by an earlier mandate of the customer (two saved within the same second)."""
    while (reference := f'{normalise(customer_number)}-{at:%Y%m%d%H%M%S}'[:35]) in taken:
        at += timedelta(seconds=1)
    return reference


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
    customer = owned_customer(uow, user_id, customer_id)
    holder = required_text(holder, 'holder', label_of('holder'), 70)
    value = normalise(iban)
    if not value:
        raise FieldRequired('iban', label=label_of('iban'))
    if not is_iban(value):
        raise IbanOutsideSepa() if is_iban_outside_sepa(value) else IbanInvalid()
    check_current_password(uow, ctx, active_login(uow, user_id), current_password)
    old = uow.data.bank_account(customer_id)
    in_force = old is not None and old.mandate_granted_at is not None and old.mandate_revoked_at is None
    if old is not None and (old.holder, old.iban, in_force) == (holder, value, mandate):
        raise NothingChanged()  # a second click of "Speichern": the mandate stays, with its reference
    ended = ''  # the mandate in force that ends without a new one: the billing system must stop debiting
    if old is not None:
        old.superseded_at = ctx.now
        if old.mandate_granted_at and not old.mandate_revoked_at:
            old.mandate_revoked_at = ctx.now
            ended = '' if mandate else old.mandate_reference
        uow.data.save(old)
    taken = {a.mandate_reference for a in [*uow.data.earlier_bank_accounts(customer_id), *([old] if old else [])]}
    account = BankAccount(
        customer_id=customer_id,
        holder=holder,
        iban=value,
        created_at=ctx.now,
        mandate_reference=mandate_reference(customer.customer_number, ctx.now, taken) if mandate else '',
        mandate_granted_at=ctx.now if mandate else None,
    )
    uow.data.save(account)
    audit_change(
        uow,
        ctx,
        user_id,
        customer_id,
        'bank_account_changed',
        f'holder={json.dumps(holder, ensure_ascii=False)} iban={value} mandate={account.mandate_reference or "-"}',
    )
    if ended:  # as "Mandat widerrufen" does: its own change for the billing system
        audit_change(uow, ctx, user_id, customer_id, 'mandate_revoked', f'reference={ended}')
    uow.queue_mail(
        compose(
            ctx,
            login_email(uow, user_id),
            'bank_changed' if mandate else 'bank_changed_mandate_ended' if ended else 'bank_changed_no_mandate',
            customer_number=customer.customer_number,
            ended=ended,
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
    customer = owned_customer(uow, user_id, customer_id)
    check_current_password(uow, ctx, active_login(uow, user_id), current_password)
    account = uow.data.bank_account(customer_id)  # with the login held: a revocation at the same moment is seen
    if account is None or account.mandate_granted_at is None or account.mandate_revoked_at is not None:
        raise NotAllowed()
    account.mandate_revoked_at = ctx.now
    uow.data.save(account)
    audit_change(uow, ctx, user_id, customer_id, 'mandate_revoked', f'reference={account.mandate_reference}')
    uow.queue_mail(
        compose(
            ctx,
            login_email(uow, user_id),
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
    customer = owned_customer(uow, user_id, customer_id)
    account = uow.data.bank_account(customer_id)
    p = ctx.profile
    return MandateForm(
        p.name,
        f'{p.street}, {p.postal_code} {p.city}',
        p.creditor_id,
        account.mandate_reference
        if account and account.mandate_reference and account.mandate_revoked_at is None
        else mandate_reference(customer.customer_number, ctx.now),  # a revoked mandate's reference is not reused
        customer.display_name,
        customer.address,
        account.holder if account else customer.display_name,
        account.iban if account else '',
        bank_name(account.iban) if account else '',
        customer.customer_number,
    )
