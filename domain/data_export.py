"""The customer's data export (GDPR Art. 15/20): everything the portal holds about a login and its customers, as
JSON or as one CSV file per kind in a zip."""

import io
import json
import zipfile
from datetime import datetime

from domain.clock import FIRST_DAY, LAST_DAY
from domain.contract_requests import reference
from domain.errors import NotAllowed
from domain.lost_access import KIND as LOST_ACCESS
from domain.model import AuditEntry, ContractRequest, id_of
from domain.ports import Context, UnitOfWork
from domain.spreadsheet import csv_text
from domain.tenancy import held_readings


def export_data(uow: UnitOfWork, ctx: Context, user_id: int) -> dict:
    """Everything the portal holds about this login and its customers (GDPR Art. 15/20), as plain JSON data."""
    user = uow.users.get(user_id)
    if user is None:
        raise NotAllowed()
    me, since = f'user:{user_id}', user.created_at  # a deleted login's id may be given again (SQLite)
    customers = []
    for customer_id in uow.users.customer_ids(user_id):
        customer = uow.customers.get(customer_id)
        if customer is None:
            continue
        contracts = uow.customers.contracts(customer_id)
        meters = uow.customers.meters([id_of(c) for c in contracts])
        account = uow.data.bank_account(customer_id)
        numbers = {id_of(c): c.contract_number for c in contracts}
        by_id = {id_of(c): c for c in contracts}
        meter_numbers = {id_of(m): m.meter_number for m in meters}
        paid = uow.billing.inputs(list(numbers), FIRST_DAY, LAST_DAY).payments if numbers else {}
        customers.append(
            {
                'customer': customer.model_dump(exclude={'id'}),
                'contracts': [c.model_dump(exclude={'id', 'customer_id'}) for c in contracts],
                'meters': [m.model_dump(exclude={'id', 'contract_id'}) for m in meters],
                'readings': [
                    dict(r.model_dump(exclude={'id', 'meter_id'}), meter_number=m.meter_number)
                    for m in meters
                    for r in held_readings(uow, by_id[m.contract_id], uow.meters.readings(id_of(m)))
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
                'payments': [
                    {'contract_number': numbers[contract_id], 'paid_on': day, 'amount': amount}
                    for contract_id, rows in paid.items()
                    for day, amount in rows
                ],
                'billing_information': [
                    dict(
                        i.model_dump(include={'through', 'made_at', 'projected_result'}),
                        contract_number=numbers.get(i.contract_id, ''),
                    )
                    for i in uow.information.of_customer(customer_id)
                ],
                'requests_for_review': [  # an Abschlag reduction, a reading, a copy: what was asked and decided
                    r.model_dump(include=_REVIEW_OTHERS if r.kind == LOST_ACCESS else _REVIEW)
                    for r in uow.desk.reviews_of(customer_id)
                ],
                'contract_requests': [  # a cancellation, a move, a tariff change as received, and how settled
                    _contract_request(r, numbers) for r in uow.contract_requests.of_customer(customer_id)
                ],
                'reading_reminders': [
                    dict(r.model_dump(include=_REMINDER), meter_number=meter_numbers.get(r.meter_id, ''))
                    for r in uow.reminders.of_customer(customer_id)
                ],
                'bank_account': account.model_dump(exclude={'id', 'customer_id'}) if account else None,
                'earlier_bank_accounts': [  # replaced in the portal, kept with their mandates
                    a.model_dump(exclude={'id', 'customer_id'}) for a in uow.data.earlier_bank_accounts(customer_id)
                ],
                'inbox': [
                    m.model_dump(exclude={'id', 'customer_id', 'bill_id', 'document_path'})
                    for m in uow.data.inbox(customer_id)
                ],
                'contact_messages': [
                    m.model_dump(exclude={'id', 'customer_id', 'user_id', 'staff_id'})
                    for m in uow.data.contact_messages(customer_id)
                ],
                'activity': [_activity(entry, me, since) for entry in uow.data.audit_entries(customer_id)],
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
            'language': user.language,
            'second_factor': user.totp_enabled,
            'devices': [d.model_dump(include={'created_at', 'last_used_at'}) for d in uow.devices.of_user(user_id)],
        },
        'activity': [_activity(entry, me, since) for entry in uow.data.login_entries(me, since)],
        'customers': customers,
    }


_REVIEW = {'kind', 'created_at', 'details', 'reason', 'status', 'decided_at', 'decision_note'}
# "Zugang verloren" may come from anyone who knows the numbers (an ex-partner): their name, address and phone, and
# the staff's note on the call back, are another person's data; when and what was asked and decided is the customer's
_REVIEW_OTHERS = {'kind', 'created_at', 'status', 'decided_at'}


_REMINDER = {'kind', 'period_end', 'email', 'queued_at'}


def _contract_request(request: ContractRequest, numbers: dict[int, str]) -> dict:
    """A declaration as received and settled; one a visitor made with the customer number (a cancellation may come
    from anyone, §312k BGB) without what that person wrote (their name, their address): when, what, how settled."""
    fields = json.loads(request.content or '{}')
    row = {
        'reference': reference(request.kind, id_of(request)),
        'kind': request.kind,
        'received_at': request.received_at,
        'contract_number': numbers.get(request.contract_id or 0, ''),
        'effective': request.effective,
        'status': request.status,
        'decided_at': request.decided_at,
    }
    if fields.get('declared_by') == 'visitor':
        return row
    return dict(row, email=request.email, content=fields, answer=request.answer)


def _activity(entry: AuditEntry, me: str, since: datetime) -> dict:
    """The login's own entries in full; of the others (staff, the billing system, an earlier login of the same
    customer) when and what, not who or from which address: that is other people's data."""
    if entry.actor == me and entry.at >= since:
        return entry.model_dump(exclude={'id', 'customer_id'})
    by = {'staff': 'staff', 'user': 'another login'}.get(entry.actor.partition(':')[0], 'system')
    return {'at': entry.at, 'action': entry.action, 'actor': by}


def export_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


def export_zip(data: dict) -> bytes:
    """The same data as one `;`-separated CSV file per kind, in a zip."""
    login = {'exported_at': data['exported_at'], 'utility': data['utility'], **data['login']}
    devices = login.pop('devices', [])
    tables: dict[str, list[dict]] = {'login': [login], 'login_devices': devices, 'login_activity': data['activity']}
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
    if isinstance(value, dict):  # a declaration's fields: as JSON, not as Python writes a dict
        return json.dumps(value, ensure_ascii=False, default=str)
    return '' if value is None else str(value)
