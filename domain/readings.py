"""Meter readings by the customer (docs/domain.md §3): who may enter them and when, and how a value is judged.

The rules are plain functions on plain values; `submit_reading` and `meter_forms` are the use cases the
page calls. A submitted reading is never discarded: an implausible one is kept with its reason and flag.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import (
    DateFormat,
    DomainError,
    FieldRequired,
    FutureDate,
    MeterReadRemotely,
    NotAllowed,
    ReadingBeforeLast,
    ReadingExistsForDay,
    ReadingFormat,
    ReadingImplausible,
    ReadingLower,
    ReadingPeriodClosed,
    ReasonRequired,
)
from domain.i18n import day, number, t
from domain.installment import billing_year, installment_after_reading, installment_basis
from domain.mails import compose
from domain.model import AuditEntry, Contract, Meter, MeterReading, ReviewItem, id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.profile import ReadingsRule

REMOTE_KINDS = ('radio', 'smart', 'load_profile')
PHOTO = re.compile(r'photos/[0-9a-f]{40}\.jpg')  # domain.stored.photo_file: the portal's own name, nothing else
REGISTERS = ('1.8.0', '1.8.1', '1.8.2')  # OBIS codes: single rate; two-rate meters' HT and NT
REASONS = (
    'Mehr Personen im Haushalt',
    'Neues Gerät (z. B. Wärmepumpe, E-Auto, Klimaanlage)',
    'Längere Abwesenheit',
    'Leerstand',
    'Zählerwechsel',
    'Wasserrohrbruch oder Leck',
    'Sonstiges',
)


def register_field(obis: str, language: str | None = None) -> str:
    """The label of the register's reading field (`Zählerstand HT`) in `language`, by default the one of the current
    work; a code the catalogues do not name is shown as it is. Forms key the field by the OBIS code."""
    return t(f'obis.field.{obis}', language) if obis in REGISTERS else obis


def register_name(obis: str, language: str | None = None) -> str:
    """The register itself with its code (`HT (1.8.1)`, `Eintarif (1.8.0)`), otherwise as `register_field`."""
    return f'{t(f"obis.name.{obis}", language)} ({obis})' if obis in REGISTERS else obis


@dataclass(frozen=True)
class Window:
    """Whether readings are accepted today; `opens_on` when closed, `closes_on` when open (if limited)."""

    open: bool
    opens_on: date | None = None
    closes_on: date | None = None


def reading_window(rule: ReadingsRule, today: date) -> Window:
    if not rule.period_start or not rule.period_end:
        return Window(True)

    def on(year: int, month_day: str) -> date:
        month, dd = (int(part) for part in month_day.split('-'))
        return date(year, month, dd)

    for start_year in (today.year - 1, today.year):
        start = on(start_year, rule.period_start)
        end = on(start_year if rule.period_end >= rule.period_start else start_year + 1, rule.period_end)
        if start <= today <= end:
            return Window(True, closes_on=end)
    start = on(today.year, rule.period_start)
    return Window(False, opens_on=start if start > today else on(today.year + 1, rule.period_start))


@dataclass(frozen=True)
class Judgement:
    """How a new value compares with what the meter's history makes expectable."""

    status: str  # ok, implausible, rollover, exchange, first
    consumption: Decimal
    expected_low: Decimal | None = None  # meter values, for "expected range"
    expected_high: Decimal | None = None


def judge(
    history: list[tuple[date, Decimal]],
    new_date: date,
    new_value: Decimal,
    digits: int,
    rule: ReadingsRule,
    installed_on: date | None = None,
) -> Judgement:
    """Judge `new_value` against `history` (earlier readings of this register, oldest first).

    Expected consumption = last period's per-day consumption × days since the last reading; values within
    `plausible_low`…`plausible_high` × expected pass. A lower value is a rollover (`new + 10^digits − old`)
    when that consumption is plausible, or follows a meter exchange known from master data; otherwise refused.
    """
    if not history:
        return Judgement('first', Decimal(0))
    last_date, last_value = history[-1]
    if installed_on is not None and last_date < installed_on <= new_date:
        return Judgement('exchange', new_value)  # the last value was the old meter's
    expected = None
    if len(history) >= 2:
        (before_date, before_value), days = history[-2], (new_date - last_date).days
        period_days = (last_date - before_date).days
        if period_days > 0 and last_value >= before_value:
            expected = (last_value - before_value) / period_days * days
    low = high = None
    if expected is not None:
        low = last_value + (expected * rule.plausible_low).quantize(Decimal(1), ROUND_HALF_UP)
        high = last_value + (expected * rule.plausible_high).quantize(Decimal(1), ROUND_HALF_UP)
    if new_value < last_value:
        rolled = new_value + Decimal(10) ** digits - last_value
        near_end = last_value >= Decimal(10) ** digits * Decimal('0.9')
        if (expected is not None and rolled <= expected * rule.plausible_high) or (expected is None and near_end):
            return Judgement('rollover', rolled, low, high)
        raise ReadingLower(last=number(last_value), last_date=day(last_date))
    consumption = new_value - last_value
    if low is not None and high is not None and not low <= new_value <= high:
        return Judgement('implausible', consumption, low, high)
    return Judgement('ok', consumption, low, high)


def gas_kwh(cubic_metres: Decimal, z_number: Decimal, calorific_value: Decimal) -> Decimal:
    """kWh = m³ × Zustandszahl × Brennwert, rounded to whole kWh (docs/domain.md §3)."""
    return (cubic_metres * z_number * calorific_value).quantize(Decimal(1), ROUND_HALF_UP)


def parse_value(text: str, digits: int, obis: str) -> Decimal:
    """Only the digits before the decimal point, at most as many as the meter has; errors at the register's field."""
    cleaned = text.strip().replace(' ', '')
    if not cleaned:
        raise FieldRequired(obis, label=register_field(obis))
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned.lstrip('0')) > digits:
        raise ReadingFormat(obis, digits=digits)
    return Decimal(int(cleaned))


def parse_date(text: str, today: date, field: str = 'reading_date') -> date:
    text = text.strip()
    if not text:
        return today
    for parse in (date.fromisoformat, _german_date):
        try:
            value = parse(text)
            break
        except ValueError:
            continue
    else:
        raise DateFormat(field)
    if value > today:
        raise FutureDate(field)
    return value


def _german_date(text: str) -> date:
    dd, mm, yyyy = text.split('.')
    return date(int(yyyy), int(mm), int(dd))


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


def meter_forms(uow: UnitOfWork, user_id: int, customer_id: int) -> list[MeterForm]:
    ensure_owner(uow, user_id, customer_id)
    return [
        form_for(uow, contract, meter)
        for contract, meter in uow.meters.of_customer(customer_id)
        if meter.removed_on is None and contract.end_date is None
    ]


def form_for(uow: UnitOfWork, contract: Contract, meter: Meter) -> MeterForm:
    readings = uow.meters.readings(id_of(meter))
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
    window = reading_window(ctx.profile.readings, today)
    if not window.open:
        raise ReadingPeriodClosed(opens=day(window.opens_on) if window.opens_on else '')
    when = parse_date(reading_date, today)
    registers = meter.registers.split(',')
    parsed = {obis: parse_value(values.get(obis, ''), meter.pre_decimal_digits, obis) for obis in registers}
    uow.meters.lock(id_of(meter))  # two tabs submitting at once: one after the other
    readings = uow.meters.readings(id_of(meter))
    judgements: dict[str, Judgement] = {}
    replaced = []
    for obis, value in parsed.items():
        own = sorted((r for r in readings if r.obis == obis), key=lambda r: r.reading_date)
        same_day = [r for r in own if r.reading_date == when]
        if same_day and same_day[0].source != 'customer':
            raise ReadingExistsForDay('reading_date', date=day(when))
        earlier = [r for r in own if r.reading_date < when]
        if any(r.reading_date > when for r in own):
            raise ReadingBeforeLast('reading_date', last=day(own[-1].reading_date))
        try:
            judgements[obis] = judge(
                [(r.reading_date, r.value) for r in earlier],
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
                reason=reason,
                details=f'meter={meter.meter_number} date={when.isoformat()} '
                f'readings={",".join(str(r.id) for r in stored)} '
                + ' '.join(f'{obis}={v}' for obis, v in parsed.items())
                + (f' photo={photo}' if PHOTO.fullmatch(photo) else ''),
            )
        )
    details = (
        f'meter={meter.meter_number} date={when.isoformat()} channel={channel} '
        + ' '.join(f'{obis}={v}' for obis, v in parsed.items())
        + (f' flag={",".join(sorted({j.status for j in implausible.values()}))} reason={reason}' if implausible else '')
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


def days_left(window: Window, today: date) -> int | None:
    return (window.closes_on - today).days if window.closes_on else None
