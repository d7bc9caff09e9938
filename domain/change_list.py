"""The changes customers made that the billing system must take over (the change list on Verwaltung → Änderungen,
the change feed's kinds): listed for staff, named in words, and marked "Übernommen" once taken over."""

from dataclasses import dataclass
from datetime import datetime

from domain.i18n import catalogue, current, t
from domain.model import AuditEntry
from domain.ports import Context, UnitOfWork
from domain.staff import LIST_LIMIT, active_staff

# The audit actions the billing system must take over, in the order the staff's filter lists them; each named in
# words by the catalogues' `change_kind.<action>` (`change_kind`).
CHANGE_KINDS = (
    'reading_submitted',
    'reading_accepted',
    'reading_rejected',
    'installment_changed',
    'bank_account_changed',
    'mandate_revoked',
    'contact_data_changed',
    'paperless_on',
    'paperless_off',
    'bill_copy_requested',
    'cancellation_received',
    'move_reported',
    'tariff_change_requested',
    'contract_request_answered',
)


def change_kind(action: str, language: str | None = None) -> str:
    """A change's kind, or another audit entry's action, in words in `language` (default: the current one); an action
    the catalogue does not name as it is (the customer card showed 'contact_message' beside 'Umzug')."""
    if action in CHANGE_KINDS:
        return t(f'change_kind.{action}', language)
    return (
        t(f'audit_action.{action}', language)
        if f'audit_action.{action}' in catalogue(language or current())
        else action
    )


@dataclass(frozen=True)
class ChangeRow:
    audit_id: int
    at: datetime
    kind: str
    customer_id: int | None
    customer_number: str
    details: str
    taken_over: bool


def customer_changes(
    uow: UnitOfWork, staff_id: int, kind: str = '', since: datetime | None = None, open_only: bool = True
) -> list[ChangeRow]:
    """What customers changed that the billing system must take over, newest first (LIST_LIMIT and one more)."""
    active_staff(uow, staff_id)
    kinds = (kind,) if kind in CHANGE_KINDS else tuple(CHANGE_KINDS)
    rows = uow.desk.changes(kinds, since, open_only, LIST_LIMIT + 1)
    return [
        ChangeRow(entry.id or 0, entry.at, entry.action, entry.customer_id, number, entry.details, marked)
        for entry, number, marked in rows
    ]


def mark_taken_over(uow: UnitOfWork, ctx: Context, staff_id: int, audit_ids: list[int]) -> int:
    """ "Übernommen": these changes are in the billing system now; returns how many were newly marked."""
    active_staff(uow, staff_id)
    count = uow.desk.mark_changes(audit_ids, staff_id, ctx.now, tuple(CHANGE_KINDS))
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=f'staff:{staff_id}',
            action='changes_taken_over',
            details=f'count={count} ids={",".join(map(str, audit_ids[:200]))}',
            address=ctx.address,
        )
    )
    uow.commit()
    return count
