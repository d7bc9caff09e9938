"""The customer's side of the billing information (Abrechnungsinformation, `domain.information`): the list of
entries on /abrechnungsinformation, an entry's PDF, and the interval chosen in the settings."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.errors import NotAllowed
from domain.i18n import t
from domain.information import ENERGY, choices, from_json, interval, remote_meter
from domain.mails import compose
from domain.model import AuditEntry, id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork


@dataclass(frozen=True)
class InformationRow:
    id: int
    contract_number: str
    through: date
    period_start: date
    consumption: Decimal
    unit: str
    estimated: bool
    cost_so_far: Decimal  # gross
    paid: Decimal
    projected_result: Decimal
    has_pdf: bool


@dataclass(frozen=True)
class InformationPage:
    rows: list[InformationRow]
    months: int  # the interval in effect
    choices: tuple[int, ...]
    paperless: bool  # billing information goes to online customers
    energy: bool  # electricity or gas: water has none (§40b EnWG)


def information_page(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> InformationPage:
    ensure_owner(uow, user_id, customer_id)
    customer = uow.customers.get(customer_id)
    assert customer is not None  # ensure_owner found it
    remote = remote_meter(uow, customer_id)
    energy = any(c.commodity in ENERGY for c in uow.customers.contracts(customer_id))
    rows = []
    for entry in uow.information.of_customer(customer_id):
        document = from_json(entry.details)
        rows.append(
            InformationRow(
                id_of(entry),
                document.contract_number,
                entry.through,
                document.period_start,
                document.consumption,
                document.unit,
                document.estimated,
                document.so_far.gross,
                document.so_far.paid,
                entry.projected_result,
                bool(entry.pdf_path),
            )
        )
    return InformationPage(rows, interval(customer, remote), choices(remote), customer.paperless, energy)


def information_document(uow: UnitOfWork, ctx: Context, user_id: int, entry_id: int) -> str:
    """The entry's PDF (relative path), only for one of the login's customers; anything else answers alike."""
    entry = uow.information.get(entry_id)
    if entry is None or not entry.pdf_path or entry.customer_id not in uow.users.customer_ids(user_id):
        raise NotAllowed()
    return entry.pdf_path


def choose_interval(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, months: int) -> None:
    """The customer's interval (settings), confirmed by mail as every change is."""
    ensure_owner(uow, user_id, customer_id)
    customer = uow.customers.get(customer_id)
    assert customer is not None
    remote = remote_meter(uow, customer_id)
    if months not in choices(remote):
        raise NotAllowed()
    before = interval(customer, remote)
    customer.information_months = months
    uow.data.save(customer)
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'user:{user_id}',
            action='information_interval_changed',
            customer_id=customer_id,
            details=f'months={before}->{months}',
            address=ctx.address,
        )
    )
    email = uow.users.owner_email(customer_id)
    if email:
        uow.queue_mail(compose(ctx, email, 'information_interval', interval=t(f'information.every_{months}')), ctx.now)
    uow.commit()
