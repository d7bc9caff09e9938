"""Reading reminders (docs/domain.md §10): at the start of the reading period a mail to every self-reading customer
with an email (portal login, else contact email) who has not opted out, with a link that opens /ablesung with a
one-time code filled in; seven days before the end one more to those who have not read yet. Sent through the mail
queue, spread at the rate the SMTP relay allows; staff see who got which; opt-out in the settings and by the link
in each reminder.
"""

import hmac
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from domain import tokens
from domain.clock import BERLIN
from domain.errors import NotAllowed
from domain.i18n import day
from domain.mails import compose
from domain.model import AuditEntry, ReadingCode, ReadingReminder
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.profile import ReadingsRule
from domain.reading_codes import code_digest, new_code
from domain.reading_rules import REMOTE_KINDS, reading_window
from domain.readings import in_supply
from domain.repository_ports import ReminderLine, Target
from domain.staff import LIST_LIMIT, active_staff

FINAL_DAYS = 7  # the second reminder: this many days before the period ends
MAC = re.compile(r'[0-9a-f]{24}')  # the opt-out link's signature (anything else is refused before comparing)


@dataclass(frozen=True)
class Due:
    kind: str  # start, final
    start: date
    end: date


def due(rule: ReadingsRule, today: date) -> Due | None:
    """Which reminder is due today: `start` from the period's first day, `final` from seven days before its end;
    none without a reading period (readings all year) or with the rate set to 0."""
    window = reading_window(rule, today)
    if not window.open or window.closes_on is None or window.opened_on is None or rule.reminder_mails_per_minute == 0:
        return None
    end = window.closes_on  # its first day as the window has it: a period from 02-29 opens on 28.02. in a common year
    return Due('final' if today >= end - timedelta(days=FINAL_DAYS) else 'start', window.opened_on, end)


def key_of(meter_id: int, customer_id: int, due: Due) -> str:
    """Per meter and customer: a tenant moving in during the period is reminded too."""
    return f'{meter_id}:{customer_id}:{due.end.isoformat()}:{due.kind}'


def opt_out_mac(ctx: Context, customer_id: int) -> str:
    return tokens.digest(ctx.secret, f'reminders-off:{customer_id}')[:24]


def remind(uow: UnitOfWork, ctx: Context, due: Due, targets: list[Target], first_slot: datetime, gap: float) -> int:
    """Queue the reminders for these meters (one transaction): each with a fresh one-time code (valid to the
    period's end; codes on paper letters stay valid), sent from `first_slot` one every `gap` seconds. Returns how
    many were queued."""
    sent = uow.reminders.sent_keys([key_of(t.meter_id, t.customer_id, due) for t in targets])
    read = uow.reminders.read_since([t.meter_id for t in targets], due.start)  # read already: nothing to remind of
    expires = datetime.combine(due.end + timedelta(days=1), time(0), tzinfo=BERLIN).astimezone(UTC)
    queued = 0
    for target in targets:
        key = key_of(target.meter_id, target.customer_id, due)
        if target.reminders_off or not target.email or key in sent or target.meter_id in read:
            continue
        code = new_code()
        uow.meters.add_code(
            ReadingCode(
                meter_id=target.meter_id,
                digest=code_digest(ctx, code),
                created_at=ctx.now,
                expires_at=expires,
                customer_id=target.customer_id,
                kind='reminder',
            )
        )
        link = f'{ctx.base_url}/ablesung?{urlencode({"code": code, "zaehler": target.meter_number})}'
        stop = stop_link(ctx, target.customer_id)
        message = compose(
            ctx,
            target.email,
            f'reminder_{due.kind}',
            target.language,
            meter=target.meter_number,
            end=day(due.end),
            link=link,
            code=code,
            stop=stop,
        )
        message = replace(message, unsubscribe=stop)  # List-Unsubscribe: a POST to the same link stops them at once
        uow.queue_mail(message, ctx.now, not_before=first_slot + timedelta(seconds=queued * gap))
        uow.reminders.add(
            ReadingReminder(
                customer_id=target.customer_id,
                meter_id=target.meter_id,
                period_end=due.end,
                kind=due.kind,
                email=target.email,
                queued_at=ctx.now,
                key=key,
            )
        )
        queued += 1
    uow.commit()
    return queued


def stop_link(ctx: Context, customer_id: int) -> str:
    """The opt-out link of the customer's reminders (also their List-Unsubscribe, by which queued ones are found)."""
    return f'{ctx.base_url}/erinnerungen-abbestellen/{customer_id}/{opt_out_mac(ctx, customer_id)}'


def withdraw_queued(uow: UnitOfWork, ctx: Context, customer_id: int) -> None:
    """Reminders of the customer's still waiting for their turn in the mail queue (a mailing to 150,000 takes hours)
    are not sent: after an opt-out or a deleted profile, none arrives with a live code link."""
    uow.reminders.withdraw(stop_link(ctx, customer_id))


def stop_reminders(uow: UnitOfWork, ctx: Context, customer_id: int, mac: str) -> None:
    """The opt-out link in a reminder (the page asks before it calls this: mail scanners open links)."""
    if (
        not 0 < customer_id < 2**31
        or not MAC.fullmatch(mac)
        or not hmac.compare_digest(mac, opt_out_mac(ctx, customer_id))
    ):
        raise NotAllowed()
    customer = uow.customers.get(customer_id)
    if customer is None:
        raise NotAllowed()
    _set(uow, ctx, customer_id, False, 'link')


def set_reminders(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, on: bool) -> None:
    """The settings' checkbox `Ablese-Erinnerungen per E-Mail`."""
    ensure_owner(uow, user_id, customer_id)
    _set(uow, ctx, customer_id, on, f'user:{user_id}')


def _set(uow: UnitOfWork, ctx: Context, customer_id: int, on: bool, actor: str) -> None:
    customer = uow.customers.get(customer_id)
    assert customer is not None  # checked by the callers
    if customer.reminders_off == (not on):
        return
    customer.reminders_off = not on
    uow.data.save(customer)
    if not on:
        withdraw_queued(uow, ctx, customer_id)
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=actor,
            action='reminders_on' if on else 'reminders_off',
            customer_id=customer_id,
            details='',
            address=ctx.address,
        )
    )
    email = uow.users.owner_email(customer_id) or customer.email
    if email:
        uow.queue_mail(compose(ctx, email, 'reminders_on' if on else 'reminders_off'), ctx.now)
    uow.commit()


def reminders_on(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> bool | None:
    """Whether the customer gets reading reminders; None where none are ever sent to them: the utility takes
    readings all year (no period to remind of) or sends none (rate 0), or the customer reads no meter themselves."""
    ensure_owner(uow, user_id, customer_id)
    rule = ctx.profile.readings
    if not rule.period_start or not rule.period_end or rule.reminder_mails_per_minute == 0:
        return None
    if not any(
        meter.kind not in REMOTE_KINDS and in_supply(contract, meter, ctx.today)
        for contract, meter in uow.meters.of_customer(customer_id)
    ):
        return None
    customer = uow.customers.get(customer_id)
    return customer is not None and not customer.reminders_off


def reminder_list(
    uow: UnitOfWork, staff_id: int, customer_number: str, limit: int = LIST_LIMIT + 1
) -> list[ReminderLine]:
    """For staff: who got which reminder, newest first (optionally for one customer number)."""
    active_staff(uow, staff_id)
    return uow.reminders.listing(customer_number.strip(), limit)
