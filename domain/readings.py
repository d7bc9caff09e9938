"""Meter readings by the customer (docs/domain.md §3): the use cases the pages call, `meter_forms` and
`submit_reading` (and `store_reading`, shared with the reading code's form). The rules they apply, plain functions
on plain values, are in domain.reading_rules. A submitted reading is never discarded: an implausible one is kept
with its reason and flag.
"""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from domain.clock import BERLIN
from domain.errors import (
    DateBeforePeriod,
    DateBeforeSupply,
    DomainError,
    MeterNotInSupply,
    MeterReadRemotely,
    NotAllowed,
    ReadingBeforeLast,
    ReadingExistsForDay,
    ReadingImplausible,
    ReadingPeriodClosed,
    ReasonRequired,
)
from domain.i18n import current, day, number, t
from domain.installment import installment_after_reading, installment_basis
from domain.installment_rules import billing_year
from domain.mails import compose
from domain.meter_exchange import predecessor_readings, with_replaced
from domain.model import AuditEntry, Contract, Meter, MeterReading, ReviewItem, id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.reading_rules import (
    REMOTE_KINDS,
    Judgement,
    Window,
    gas_kwh,
    judge,
    parse_date,
    parse_value,
    reading_window,
    register_field,
)
from domain.tenancy import held_readings, held_since

PHOTO = re.compile(r'photos/[0-9a-f]{40}\.jpg')  # domain.stored.photo_file: the portal's own name, nothing else


@dataclass(frozen=True)
class LastValue:
    obis: str
    reading_date: date
    value: Decimal
    source: str
    plausibility: str = ''


@dataclass(frozen=True)
class MeterForm:
    """What the page shows for one meter: a form, or the remark that the utility reads it remotely."""

    meter_number: str
    contract_number: str
    commodity: str
    unit: str
    kind: str
    registers: tuple[str, ...]
    digits: int
    remote: bool
    last: tuple[LastValue, ...]
    history: tuple[LastValue, ...]
    billing_month: int = 12  # the month the contract's billing year ends: a remote meter is read for its last day

    def reading_day(self, today: date) -> date:
        """The Stichtag a remote-read meter's value is taken for: the end of the current billing year."""
        return billing_year(self.billing_month, today)[1]


def unit_of(contract: Contract) -> str:
    return 'm³' if contract.commodity in ('water', 'gas') else 'kWh'


def meter_forms(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> list[MeterForm]:
    ensure_owner(uow, user_id, customer_id)
    return [
        form_for(uow, contract, meter)
        for contract, meter in uow.meters.of_customer(customer_id)
        if in_supply(contract, meter, ctx.today)
    ]


GRACE = timedelta(hours=1)  # after the period's last day: a reading dated on it, begun before midnight, still counts


def _just_closed(ctx: Context, reading_date: str) -> Window | None:
    """The period as it was yesterday, if it ended yesterday, it is not yet an hour past midnight and the reading is
    dated on that last day (a form opened at 23:59 and sent a minute later was refused as "period closed")."""
    yesterday = ctx.today - timedelta(days=1)
    window = reading_window(ctx.profile.readings, yesterday)
    midnight = datetime.combine(ctx.today, time(0), tzinfo=BERLIN)
    if not window.open or window.closes_on != yesterday or ctx.now - midnight >= GRACE:
        return None
    try:
        dated = parse_date(reading_date, ctx.today)
    except DomainError:
        return None
    return window if dated == yesterday else None


def _withdraw_reviews(uow: UnitOfWork, customer_id: int, replaced: set[int | None]) -> None:
    """A reading under review that the customer replaced the same day is not staff's to decide any more (rejecting it
    told the customer their corrected reading was refused): its item is withdrawn."""
    if not replaced:
        return
    for item in uow.desk.reviews_of(customer_id):
        if item.kind != 'implausible_reading' or item.status != 'open' or item.id is None:
            continue
        facts = dict(part.split('=', 1) for part in item.details.split() if '=' in part)
        if {int(i) for i in facts.get('readings', '').split(',') if i.isdigit()} & replaced:
            uow.desk.claim_review(item.id, 'withdrawn')


def in_supply(contract: Contract, meter: Meter, today: date) -> bool:
    """Whether customers report readings for the meter today: installed, not yet removed, and its contract begun and
    running (also under notice: the reading before the end is the one the utility needs most; the reminders go there
    too)."""
    return (
        contract.start_date <= today
        and (meter.installed_on is None or meter.installed_on <= today)
        and (meter.removed_on is None or meter.removed_on >= today)
        and (contract.end_date is None or contract.end_date >= today)
    )


def form_for(uow: UnitOfWork, contract: Contract, meter: Meter) -> MeterForm:
    readings = held_readings(uow, contract, uow.meters.readings(id_of(meter)))
    values = tuple(
        LastValue(r.obis, r.reading_date, r.value, r.source, r.plausibility)
        for r in sorted(readings, key=lambda r: (r.reading_date, r.obis), reverse=True)
    )
    registers = tuple(meter.registers.split(','))
    last = tuple(next(v for v in values if v.obis == obis) for obis in registers if any(v.obis == obis for v in values))
    return MeterForm(
        meter.meter_number,
        contract.contract_number,
        contract.commodity,
        unit_of(contract),
        meter.kind,
        registers,
        meter.pre_decimal_digits,
        meter.kind in REMOTE_KINDS,
        last,
        values[:12],
        contract.billing_month,
    )


@dataclass(frozen=True)
class Submitted:
    """What was stored, also the contents of the reading confirmation (PDF)."""

    meter_number: str
    reading_date: date
    lines: tuple[str, ...]  # per register, in the visitor's language: "Zählerstand HT: 12.345 kWh (Verbrauch …)"
    flagged: bool
    replaced: bool
    submitted_at: datetime
    customer_number: str
    customer_name: str
    contract_number: str
    commodity: str
    reason: str = ''
    # the Abschlag (monthly installment) this reading implies, when it differs from the current one
    suggested_installment: Decimal | None = None
    current_installment: Decimal | None = None


def submit_reading(
    uow: UnitOfWork,
    ctx: Context,
    user_id: int,
    customer_id: int,
    meter_number: str,
    values: dict[str, str],
    reading_date: str,
    confirmed: bool = False,
    reason: str = '',
    photo: str = '',
    channel: str = 'portal',
) -> Submitted:
    """Check and store one reading per register of a meter (`values` by OBIS code); all registers or none. `photo`:
    the stored meter photo (domain.photos, domain.stored.photo_file) for staff, with a confirmed implausible value."""
    ensure_owner(uow, user_id, customer_id)
    found = [(c, m) for c, m in uow.meters.of_customer(customer_id) if m.meter_number == meter_number]
    if not found:
        raise NotAllowed()
    contract, meter = found[0]
    return store_reading(
        uow,
        ctx,
        contract,
        meter,
        values,
        reading_date,
        confirmed,
        reason,
        f'user:{user_id}',
        channel,
        propose=True,
        photo=photo,
    )


def store_reading(
    uow: UnitOfWork,
    ctx: Context,
    contract: Contract,
    meter: Meter,
    values: dict[str, str],
    reading_date: str,
    confirmed: bool,
    reason: str,
    actor: str,
    channel: str,
    propose: bool = False,
    photo: str = '',
) -> Submitted:
    """Check and store; with `propose`, also the installment the reading implies, worked out in the same
    transaction (the page asks nothing more, and a failure there leaves nothing stored either) from what is read
    before the first write (SQLite: the one writer's turn is kept short)."""
    if meter.kind in REMOTE_KINDS:
        raise MeterReadRemotely()
    today = ctx.today
    if not in_supply(contract, meter, today):
        raise MeterNotInSupply()
    window = reading_window(ctx.profile.readings, today)
    if not window.open:
        window = _just_closed(ctx, reading_date) or window
    if not window.open:
        raise ReadingPeriodClosed(opens=day(window.opens_on) if window.opens_on else '')
    when = parse_date(reading_date, today)
    if window.opened_on is not None and when < window.opened_on:
        raise DateBeforePeriod(start=day(window.opened_on))
    since = held_since(contract, uow.customers.contracts(contract.customer_id))  # a renewal: the earlier contract's too
    held_from = max(since, meter.installed_on or since)
    if when < held_from:  # the previous holder's days, or another meter's: not this customer's to read
        raise DateBeforeSupply(start=day(held_from))
    registers = meter.registers.split(',')
    parsed = {obis: parse_value(values.get(obis, ''), meter.pre_decimal_digits, obis) for obis in registers}
    uow.meters.lock(id_of(meter))  # two tabs submitting at once: one after the other
    readings = uow.meters.readings(id_of(meter))
    judgements: dict[str, Judgement] = {}
    replaced = []
    before = predecessor_readings(uow, contract, meter)
    for obis, value in parsed.items():
        own = sorted((r for r in readings if r.obis == obis), key=lambda r: r.reading_date)
        same_day = [r for r in own if r.reading_date == when]
        if same_day and same_day[0].source not in ('customer', 'estimated'):  # a read value stays; a guess gives way
            raise ReadingExistsForDay('reading_date', date=day(when))
        read = [r for r in own if r.source != 'estimated']  # an estimate (a bill's closing one) is no dial value
        earlier = [r for r in read if r.reading_date < when]
        if any(r.reading_date > when for r in read):
            raise ReadingBeforeLast('reading_date', last=day(read[-1].reading_date))
        try:
            judgements[obis] = judge(
                with_replaced(before, obis, [(r.reading_date, r.value) for r in earlier]),
                when,
                value,
                meter.pre_decimal_digits,
                ctx.profile.readings,
                meter.installed_on,
            )
        except DomainError as error:
            error.field = obis
            raise
        replaced += same_day
    implausible = {obis: j for obis, j in judgements.items() if j.status == 'implausible'}
    if implausible and not confirmed:
        obis, j = next(iter(implausible.items()))
        raise ReadingImplausible(
            obis,
            low=number(j.expected_low or 0),
            high=number(j.expected_high or 0),
            unit=unit_of(contract),
        )
    reason = reason.strip()[:500]
    if implausible and not reason:
        raise ReasonRequired('reason')
    basis = installment_basis(uow, contract, today, {id_of(meter): readings}) if propose else None
    customer = uow.customers.get(contract.customer_id)
    recipient = recipient_for(uow, contract.customer_id, customer.email if customer else '')
    for old in replaced:
        uow.meters.delete_reading(old)
    _withdraw_reviews(uow, contract.customer_id, {old.id for old in replaced})
    lines, stored = [], []
    for obis, value in parsed.items():
        j = judgements[obis]
        flag = '' if j.status in ('ok', 'first') else j.status
        row = MeterReading(
            meter_id=id_of(meter),
            obis=obis,
            reading_date=when,
            value=value,
            source='customer',
            plausibility=flag,
            reason=reason if flag else '',
            submitted_at=ctx.now,
        )
        uow.meters.add_reading(row)
        stored.append(row)
        lines.append(_line(contract, meter, obis, value, j))
    if implausible:  # confirmed with a reason: staff decide (review queue)
        uow.billing.add_review(
            ReviewItem(
                customer_id=contract.customer_id,
                contract_id=contract.id,
                kind='implausible_reading',
                created_at=ctx.now,
                language=current(),  # staff decide later, from pages in their own language
                reason=reason,
                details=f'meter={meter.meter_number} date={when.isoformat()} '
                f'readings={",".join(str(r.id) for r in stored)} '
                + ' '.join(f'{obis}={v}' for obis, v in parsed.items())
                + (f' photo={photo}' if PHOTO.fullmatch(photo) else ''),
            )
        )
    quoted = json.dumps(reason, ensure_ascii=False)  # free text: quoted, as elsewhere in the change feed's pairs
    # a value the billing system must not take at face value, as the readings export's `plausibility` says: one
    # staff are to check, or a lower value taken as the dial's rollover or as a new meter's after an exchange
    flags = sorted({j.status for j in judgements.values() if j.status not in ('ok', 'first')})
    details = (
        f'meter={meter.meter_number} date={when.isoformat()} channel={channel} '
        + ' '.join(f'{obis}={v}' for obis, v in parsed.items())
        + (f' flag={",".join(flags)}' if flags else '')
        + (f' reason={quoted}' if implausible else '')
        + (' replaces_same_day' if replaced else '')
    )
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor=actor,
            action='reading_submitted',
            customer_id=contract.customer_id,
            details=details[:2000],
            address=ctx.address,
        )
    )
    if recipient:
        uow.queue_mail(
            compose(
                ctx, recipient, 'reading_received', meter=meter.meter_number, date=day(when), values='\n'.join(lines)
            ),
            ctx.now,
        )
    if basis is not None:
        basis.readings[id_of(meter)] = [r for r in readings if not any(r is old for old in replaced)] + stored
    calculator = installment_after_reading(ctx, contract, basis)  # None without `propose` (no basis)
    uow.commit()
    return Submitted(
        meter.meter_number,
        when,
        tuple(lines),
        bool(implausible),
        bool(replaced),
        ctx.now,
        customer.customer_number if customer else '',
        customer.display_name if customer else '',
        contract.contract_number,
        contract.commodity,
        reason if implausible else '',
        calculator.suggested if calculator else None,
        calculator.current if calculator else None,
    )


def recipient_for(uow: UnitOfWork, customer_id: int, fallback: str) -> str:
    return uow.users.owner_email(customer_id) or fallback


def _line(contract: Contract, meter: Meter, obis: str, value: Decimal, j: Judgement) -> str:
    unit = unit_of(contract)
    text = f'{register_field(obis)}: {number(value)} {unit}'
    if j.status != 'first':
        text += f' ({t("reading.consumption")}: {number(j.consumption)} {unit}'
        if contract.commodity == 'gas' and meter.z_number and meter.calorific_value:
            text += f' ≈ {number(gas_kwh(j.consumption, meter.z_number, meter.calorific_value))} kWh'
        text += ')'
    if j.status in ('implausible', 'rollover', 'exchange'):
        text += f' – {t(f"reading.flag.{j.status}")}'
    return text
