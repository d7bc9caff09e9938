"""Rechnungen for the customer: the list from the utility's cut-off year on, and who may fetch which PDF."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.errors import NotAllowed
from domain.model import id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork


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


def bill_list(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> list[BillRow]:
    ensure_owner(uow, user_id, customer_id)
    contracts = uow.customers.contracts(customer_id)
    bills = [
        b
        for b in uow.billing.bills([id_of(c) for c in contracts])
        if b.period_end.year >= ctx.profile.bills.online_from_year
    ]
    replaced_by = {b.replaces_id: b.bill_number for b in bills if b.replaces_id is not None}
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
        )
        for b in bills
    ]


def bill_document(uow: UnitOfWork, ctx: Context, user_id: int, bill_number: str) -> str:
    """The stored PDF's path (relative to the documents folder) — only for a bill of one of the login's customers,
    from the cut-off year on. Anything else answers alike, so bill numbers cannot be probed."""
    bill = uow.billing.bill_by_number(bill_number)
    if bill is None or not bill.pdf_path or bill.period_end.year < ctx.profile.bills.online_from_year:
        raise NotAllowed()
    contract = uow.billing.contract(bill.contract_id)
    if contract.customer_id not in uow.users.customer_ids(user_id):
        raise NotAllowed()
    return bill.pdf_path
