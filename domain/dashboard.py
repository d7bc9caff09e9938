"""What the Übersicht shows beyond name and contracts: open tasks, installment, latest bill, consumption."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.bills import listed_bills
from domain.contracts import MeterHistory, consumption_history
from domain.installment import installment_views
from domain.model import id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.reading_rules import REMOTE_KINDS, reading_window
from domain.readings import in_supply


@dataclass(frozen=True)
class Task:
    key: str  # catalogue key of the text
    target: str  # route
    params: dict


@dataclass(frozen=True)
class BillSummary:
    bill_number: str
    bill_date: date
    amount_gross: Decimal


@dataclass(frozen=True)
class Dashboard:
    tasks: tuple[Task, ...]
    installments: tuple[tuple[str, Decimal, date], ...]  # commodity, amount, the current plan's next due date
    latest_bill: BillSummary | None
    consumption: MeterHistory | None


def dashboard(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> Dashboard:
    ensure_owner(uow, user_id, customer_id)
    today = ctx.today
    tasks = []
    supplied = [m for c, m in uow.meters.of_customer(customer_id) if in_supply(c, m, today)]
    manual = [m for m in supplied if m.kind not in REMOTE_KINDS]
    window = reading_window(ctx.profile.readings, today)
    if manual and window.open and window.closes_on and window.opened_on:
        read = uow.reminders.read_since([id_of(m) for m in manual], window.opened_on)  # as the reminders ask
        if len(read) < len(manual):  # a meter not read in this period yet (it stayed after every reading)
            tasks.append(Task('dashboard.task_reading', '/zaehlerstand', {'date': window.closes_on}))
    unread = uow.data.unread([customer_id])
    if unread:
        tasks.append(Task('dashboard.task_inbox', '/posteingang', {'count': unread}))
    account = uow.data.bank_account(customer_id)
    if account is None or account.mandate_granted_at is None or account.mandate_revoked_at is not None:
        tasks.append(Task('dashboard.task_mandate', '/kundendaten', {}))
    installments = [
        (view.commodity, view.next_amount, view.next_due)
        for view in installment_views(uow, ctx, user_id, customer_id)
        if view.next_due is not None
    ]
    bills = listed_bills(uow, ctx, customer_id)  # as Rechnungen lists
    histories = [h for h in consumption_history(uow, ctx, user_id, customer_id) if h.years]
    # the chart: a meter supplied today (the first listed was that of a contract ended by a move); without whole
    # years of one yet (a new meter), the most recent history
    now = {m.meter_number for m in supplied}
    chart = next((h for h in histories if h.meter_number in now), None)
    chart = chart or max(histories, key=lambda h: h.years[-1].end, default=None)
    latest = BillSummary(bills[0].bill_number, bills[0].bill_date, bills[0].amount_gross) if bills else None
    return Dashboard(tuple(tasks), tuple(installments), latest, chart)
