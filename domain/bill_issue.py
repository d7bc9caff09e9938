"""The billing run's issuing (docs/domain.md §5): a bill computed by `domain.bill_prepare` numbered and stored with
the next installment plan, the paperless customer's inbox entry and mail and the audit entry (`issue_bill`, a chunk
at once: `issue_bills`), and replaced by a correction (`correct_bill`)."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from domain.bill_prepare import Skipped, prepare_bill
from domain.billing import (
    BillDocument,
    outcome_key,
)
from domain.errors import BillNotCorrectable
from domain.i18n import money, t
from domain.installment_rules import billing_year
from domain.mails import compose
from domain.model import (
    AuditEntry,
    Bill,
    InboxMessage,
    InstallmentPlan,
    id_of,
)
from domain.ports import Context, UnitOfWork
from domain.repository_ports import BillRecipient
from domain.stored_json import to_json


def correct_bill(uow: UnitOfWork, ctx: Context, bill_number: str, bill_date: date) -> BillDocument:
    """Replace a bill (e.g. after a corrected reading) by a new one with a new number; both are kept. The bill's row
    is held first: of two corrections of it at once, the second waits and then finds it replaced."""
    uow.billing.lock_bill(bill_number)
    old = uow.billing.bill_by_number(bill_number)
    if old is None or not old.details:  # imported bills are corrected by the billing system that made them
        raise BillNotCorrectable()
    if uow.billing.replacement_of(id_of(old)) is not None:
        raise BillNotCorrectable()
    billing_month = uow.billing.contract(old.contract_id).billing_month
    billed_year = billing_year(billing_month, old.period_end)  # a final bill may end after the billing month
    if billing_year(billing_month, old.period_start) != billed_year:  # the billing month has changed since
        raise BillNotCorrectable()
    prepared = prepare_bill(uow, ctx, old.contract_id, billed_year[1].year, bill_date)
    if isinstance(prepared, Skipped):
        raise BillNotCorrectable()
    return issue_bill(
        uow,
        ctx,
        old.contract_id,
        replace(prepared, kind='correction', replaces=old.bill_number),
        key=None,
        replaces_id=old.id,
    )


def issue_bill(
    uow: UnitOfWork, ctx: Context, contract_id: int, bill: BillDocument, key: str | None, replaces_id: int | None = None
) -> BillDocument:
    """Give the bill its number and store it with the next installment plan, in one transaction.

    `key` (see run_key) is unique: a concurrent run that billed the contract first makes the commit fail, and the
    rollback gives the number back."""
    series = _series(ctx, bill)
    numbered = _numbered(bill, series, uow.billing.next_number(series))
    _record(uow, ctx, uow.billing.recipients([contract_id]), [(contract_id, numbered, key)], replaces_id)
    uow.commit()
    return numbered


def issue_bills(uow: UnitOfWork, ctx: Context, bills: Sequence[tuple[int, BillDocument, str]]) -> list[BillDocument]:
    """The billing run's chunk (contract, computed bill, run key): numbered in one block per series, in the given
    order, and stored in one transaction, so its bills become visible together before their PDFs are rendered.
    A concurrent run that billed one of the contracts first fails the whole chunk (the caller then goes bill by
    bill with `issue_bill`); the rollback gives every number back."""
    if not bills:
        return []
    series = [_series(ctx, bill) for _, bill, _ in bills]
    following = {name: uow.billing.next_number(name, series.count(name)) for name in dict.fromkeys(series)}
    numbered = []
    for (contract_id, bill, key), name in zip(bills, series, strict=True):
        numbered.append((contract_id, _numbered(bill, name, following[name]), key))
        following[name] += 1
    _record(uow, ctx, uow.billing.recipients([contract_id for contract_id, _, _ in bills]), numbered)
    uow.commit()
    return [bill for _, bill, _ in numbered]


def _series(ctx: Context, bill: BillDocument) -> str:
    return f'{ctx.profile.bill.number_prefix}{bill.bill_date.year}'


def _numbered(bill: BillDocument, series: str, number: int) -> BillDocument:
    return replace(bill, bill_number=f'{series}{number:07d}')


def _record(
    uow: UnitOfWork,
    ctx: Context,
    parties: dict[int, BillRecipient],
    bills: Sequence[tuple[int, BillDocument, str | None]],
    replaces_id: int | None = None,
) -> None:
    """The numbered bills' rows (contract, bill, run key), their next installment plans, the paperless customers'
    inbox entries and mails, and the audit entries; not yet committed. `parties`: whom each contract's bill concerns,
    by contract id."""
    rows = [_row(contract_id, bill, key, replaces_id) for contract_id, bill, key in bills]
    uow.billing.add_bills(rows)  # one INSERT for them all
    uow.billing.set_plans(
        [
            InstallmentPlan(
                contract_id=contract_id,
                valid_from=bill.next_installment_first_due,
                amount=bill.next_installment,
                due_day=bill.next_installment_due_day,
                per_year=bill.next_installment_per_year,
            )
            for contract_id, bill, _ in bills
            if bill.next_installment is not None and bill.next_installment_first_due is not None
        ]
    )
    inbox = []
    for (contract_id, bill, _), row in zip(bills, rows, strict=True):
        party = parties[contract_id]
        if party.paperless:
            inbox.append(_notify_paperless(uow, ctx, party, row, bill))
        uow.audit(
            AuditEntry(
                at=ctx.now,
                actor='system',
                action='bill_issued',
                customer_id=party.customer_id,
                details=f'bill={bill.bill_number} contract={party.contract_number} gross={bill.result.gross} '
                f'balance={bill.result.balance}',
            )
        )
    uow.data.add(inbox)
    # an end estimated for want of a reading is the next period's start (it was billed again from the last real
    # reading): kept as the meter's estimated reading of that day, as the bill shows it
    uow.meters.add_estimates(
        [
            (r.meter_number, r.obis, r.end_date, r.end_value)
            for _, bill, _ in bills
            for r in bill.registers
            if r.end_source == 'estimated' and r.meter_number
        ]
    )


def _row(contract_id: int, bill: BillDocument, key: str | None, replaces_id: int | None) -> Bill:
    number = bill.bill_number
    return Bill(
        bill_number=number,
        contract_id=contract_id,
        bill_date=bill.bill_date,
        period_start=bill.period_start,
        period_end=bill.period_end,
        kind=bill.kind,
        amount_gross=bill.result.gross,
        pdf_path=f'bills/{number}.pdf',
        xml_path=f'bills/{number}.xml' if bill.einvoice else '',
        run_key=key,
        details=to_json(bill),
        balance=bill.result.balance,
        due_date=bill.due_date,
        replaces_id=replaces_id,
    )


def _notify_paperless(
    uow: UnitOfWork, ctx: Context, party: BillRecipient, row: Bill, bill: BillDocument
) -> InboxMessage:
    """Paperless customers find the bill in their inbox (the entry returned, for the caller to add); the mail says
    where, without the PDF attached."""
    language = party.language  # the run has nobody in front of it: the login's language
    what = t(f'written.{outcome_key(bill.result.balance)}', language)
    amount, start, end = money(abs(bill.result.balance)), f'{bill.period_start:%d.%m.%Y}', f'{bill.period_end:%d.%m.%Y}'
    entry = InboxMessage(
        customer_id=party.customer_id,
        created_at=ctx.now,
        kind='bill',
        bill_id=row.id,
        document_path=row.pdf_path,  # "liegt in Ihrem Posteingang": opened there too
        subject=t('written.bill_subject', language, number=bill.bill_number),
        body=t('written.bill_body', language, start=start, end=end, what=what, amount=amount),
    )
    if party.email is not None:
        uow.queue_mail(
            compose(
                ctx,
                party.email,
                'bill_ready',
                language,
                number=bill.bill_number,
                amount=money(abs(bill.result.balance)),
                what=what,
                link=f'{ctx.base_url}/rechnungen',
            ),
            ctx.now,
        )
    return entry
