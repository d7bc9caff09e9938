"""Abrechnungsinformation (billing information, §40b EnWG, docs/domain.md §9): between the annual bills, online
(paperless) customers learn what their billing year has cost so far and what it is heading for.

Every six months by default, every three on request, monthly where the meter is read remotely; as of the last day
of a month: consumption so far from the readings (an end reading estimated where none was taken, and said so), the
cost so far at the current prices, the installments paid, and the projected result of the year (§4). Each entry is
a PDF in the bill's layout without a demand for payment, announced in the inbox and by mail.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.bill_prepare import Skipped, billing_period, vat_rate_on
from domain.bill_readings import begin_readings, meter_span
from domain.billing import (
    BillResult,
    PricePeriod,
    RegisterReadings,
    compute_bill,
    estimate_reading,
    outcome_key,
    value_before_year,
)
from domain.i18n import money, t
from domain.installment import plan_dues, plan_on
from domain.installment_rules import billing_year, projected_consumption
from domain.mails import compose
from domain.model import AuditEntry, BillingInformation, Contract, Customer, InboxMessage, Meter, MeterReading, id_of
from domain.ports import Context, UnitOfWork
from domain.profile import UtilityProfile
from domain.reading_rules import REMOTE_KINDS, gas_kwh
from domain.stored_json import load, to_json
from domain.tenancy import held_readings

INTERVALS = (1, 3, 6)  # months: monthly only where the meter is read remotely
ENERGY = ('electricity', 'gas')  # §40b EnWG is the energy law's: not for water (nor district heating)


def offered(profile: UtilityProfile) -> bool:
    """Whether the utility supplies anything the billing information is for (a water association does not)."""
    return any(tariff.commodity in ENERGY for tariff in profile.tariffs.values())


DEFAULT_MONTHS, REMOTE_MONTHS = 6, 1


@dataclass(frozen=True)
class InformationDocument:
    """Everything an Abrechnungsinformation states, ready for its PDF."""

    made_on: date
    customer_number: str
    customer_name: str
    customer_address: tuple[str, ...]
    contract_number: str
    commodity: str
    meter_number: str
    unit: str  # of the cost: kWh (gas converted) or m³
    period_start: date  # the billing year (the contract's part of it)
    period_end: date
    through: date  # consumption and cost so far: to the end of this day
    registers: tuple[RegisterReadings, ...]
    consumption: Decimal
    estimated: bool  # a reading was estimated: an end where none was taken, a start between readings (§3)
    so_far: BillResult  # cost so far at the current prices; `paid`: the installments paid so far
    vat_rate: Decimal
    projected_consumption: Decimal  # of the whole billing year
    projected_gross: Decimal
    installments: Decimal  # paid so far and still due until the year's end at the current amount
    projected_result: Decimal  # projected_gross − installments: positive a back-payment, negative a credit
    interval_months: int


def interval(customer: Customer, remote: bool) -> int:
    """The customer's choice (while it is one for the meter: monthly ends with a remote meter's removal), else
    monthly for a remote-read meter and every six months otherwise."""
    if customer.information_months in choices(remote):
        return customer.information_months
    return REMOTE_MONTHS if remote else DEFAULT_MONTHS


def choices(remote: bool) -> tuple[int, ...]:
    return INTERVALS if remote else tuple(m for m in INTERVALS if m != REMOTE_MONTHS)


def month_end_before(today: date) -> date:
    return today.replace(day=1) - timedelta(days=1)


def due_through(period: tuple[date, date], today: date, months: int, year_start: date | None = None) -> date | None:
    """The month end an entry is due for today: the last one before today, if it closes a whole number of intervals
    since the billing year began (`year_start`: a contract begun in March gets its half year's as of 30.06., not
    31.08.) and is not the year's end (that is the annual bill). A portal down on the 1st makes it later in the
    month; only the latest one is made."""
    start, end = period
    began = year_start or start
    through = month_end_before(today)
    elapsed = (through.year - began.year) * 12 + through.month - began.month + 1
    if through < start or through >= end or elapsed % months:
        return None
    return through


def key_of(contract_id: int, through: date) -> str:
    return f'info:{contract_id}:{through.isoformat()}'


def prepare(uow: UnitOfWork, ctx: Context, contract: Contract, customer: Customer, through: date, months: int):
    """The entry for the contract as of `through` (nothing is written), or Skipped with the reason."""
    period = billing_period(contract, _year_of(contract, through))
    if period is None:
        return Skipped(contract.contract_number, 'kein Lieferzeitraum')
    start, end = period
    meters = [
        m
        for m in uow.customers.meters([id_of(contract)])
        if (m.removed_on is None or m.removed_on >= start) and (m.installed_on is None or m.installed_on <= through)
    ]
    if not meters:
        return Skipped(contract.contract_number, 'kein Zähler')
    meters.sort(key=lambda m: (m.installed_on or date.min, id_of(m)))
    if len({(m.z_number, m.calorific_value) for m in meters}) > 1:  # one conversion for the whole consumption
        return Skipped(contract.contract_number, 'Zählerwechsel mit unterschiedlicher Zustandszahl oder Brennwert')
    registers: list[RegisterReadings] = []
    for index, meter in enumerate(meters):  # more than one: exchanged in the year, each its own part of it
        readings = held_readings(uow, contract, uow.meters.readings(id_of(meter)))
        part = _part(meter, readings, start, through, index == 0, index == len(meters) - 1, contract.commodity)
        if isinstance(part, str):
            return Skipped(contract.contract_number, part)
        registers.extend(part)
    meter = meters[-1]
    volume = sum((r.consumption for r in registers), Decimal(0))
    z_number, calorific_value = meter.z_number, meter.calorific_value
    gas = contract.commodity == 'gas' and z_number is not None and calorific_value is not None
    if contract.commodity == 'gas' and not (gas and z_number and calorific_value):  # m³ are no kWh
        return Skipped(contract.contract_number, 'Gaszähler ohne Zustandszahl oder Brennwert: kein Verbrauch in kWh')
    consumption = gas_kwh(volume, z_number, calorific_value) if gas and z_number and calorific_value else volume
    prices = uow.billing.prices(contract.tariff_code)
    if not prices:
        return Skipped(contract.contract_number, f'keine Preise für Tarif {contract.tariff_code}')
    periods = [PricePeriod(p.valid_from, p.working_price_net, p.base_price_net_per_year) for p in prices]
    vat = vat_rate_on(prices, through)
    paid = sum(uow.billing.payment_amounts(id_of(contract), start, through), Decimal(0))
    try:
        year_start = billing_year(contract.billing_month, start)[0]  # a part year: the days of its billing year
        so_far = compute_bill(consumption, contract.commodity, start, through, periods, vat, paid, year_start)
        exact = projected_consumption(consumption, start, through, end, contract.commodity)
        projected = exact.quantize(Decimal(1), ROUND_HALF_UP)  # shown in whole units
        # costed as the Abschlag page costs it (docs/domain.md §4's vector: 1,159.23 €), at the VAT rate the bill
        # will take, the one in force at the period's end
        projected_gross = compute_bill(
            exact, contract.commodity, start, end, periods, vat_rate_on(prices, end), Decimal(0), year_start
        ).gross
    except ValueError as error:
        return Skipped(contract.contract_number, str(error))
    plans = uow.billing.plans(id_of(contract))  # by `valid_from`; a change made for a later due date counts there
    still_due = Decimal(0)
    if any(p.valid_from <= through for p in plans):  # each date on the calendar of the plan in force on it, as the
        # Abschlag page reckons (a later plan of 11 installments had a December date counted on today's calendar)
        for due in plan_dues(plans, through + timedelta(days=1), end, contract.billing_month):
            still_due += plan_on(plans, due).amount
    installments = paid + still_due
    return InformationDocument(
        made_on=ctx.today,
        customer_number=customer.customer_number,
        customer_name=customer.display_name,
        customer_address=customer.postal_lines,
        contract_number=contract.contract_number,
        commodity=contract.commodity,
        meter_number=', '.join(m.meter_number for m in meters),
        unit='m³' if contract.commodity == 'water' else 'kWh',
        period_start=start,
        period_end=end,
        through=through,
        registers=tuple(registers),
        consumption=consumption,
        estimated=any('estimated' in (r.start_source, r.end_source) for r in registers),
        so_far=so_far,
        vat_rate=vat,
        projected_consumption=projected,
        projected_gross=projected_gross,
        installments=installments,
        projected_result=projected_gross - installments,
        interval_months=months,
    )


def _part(
    meter: Meter, readings: list[MeterReading], start: date, through: date, first: bool, last: bool, commodity: str
) -> list[RegisterReadings] | str:
    """One meter's registers over its part of the year so far: the first from the value at the year's start (read
    or interpolated), a meter installed in the year from its installation reading; the newest to `through` (read or
    estimated), one removed in the year to its removal reading. Or the reason it cannot be shown."""
    span = meter_span(meter, start, through, first, last)
    if isinstance(span, str):
        return span
    named, begins, ends = span
    parts = []
    for obis in meter.registers.split(','):
        own = sorted((r for r in readings if r.obis == obis and r.reading_date <= ends), key=lambda r: r.reading_date)
        before = begin_readings(own, begins, first)
        if not before:
            return f'kein {"Anfangsstand" if first else "Einbaustand"} für Zählwerk {obis}{named}'
        latest = own[-1]
        if latest.reading_date == ends:
            value, source = latest.value, latest.source
        elif last and len(own) >= 2:
            a, b = own[-2], own[-1]
            estimate = estimate_reading((b.reading_date, b.value), (a.reading_date, a.value), ends, commodity)
            value, source = estimate, 'estimated'  # gas and heat by their degree-day weights, as the projection
        elif last:
            return f'keine Schätzgrundlage für Zählwerk {obis}{named}'
        else:
            return f'kein Ausbaustand für Zählwerk {obis}{named}'
        opened = before[-1]
        value = max(value, opened.value)
        if first:
            later = next((r for r in own if r.reading_date >= start and r not in before), None)  # the year's first
            after = (later.reading_date, later.value) if later is not None else (ends, value)
            eve = start - timedelta(days=1)
            start_value = value_before_year((opened.reading_date, opened.value), after, start, commodity)
            start_source = opened.source if opened.reading_date >= eve else 'estimated'
            start_date = opened.reading_date if opened.reading_date >= eve else eve
        else:
            start_value, start_source, start_date = opened.value, opened.source, opened.reading_date
        parts.append(
            RegisterReadings(
                obis,
                start_date,
                start_value,
                start_source,
                ends,
                value,
                source,
                value - start_value,
                meter.meter_number,
            )
        )
    return parts


def _year_of(contract: Contract, day: date) -> int:
    """The calendar year in which the billing year containing `day` ends."""
    return day.year if day.month <= contract.billing_month else day.year + 1


@dataclass(frozen=True)
class Issued:
    pdf_path: str  # relative to the documents folder: the caller renders it after the commit
    document: InformationDocument


def issue(uow: UnitOfWork, ctx: Context, contract_id: int) -> Issued | Skipped | None:
    """Make the contract's entry if one is due today and not made yet: stored with its inbox message and mail in
    one transaction (the PDF follows, `storage.information`). None when nothing is due."""
    contract = uow.billing.contract(contract_id)
    customer = uow.customers.get(contract.customer_id)
    if customer is None or not customer.paperless:
        return None
    if (contract.end_date is not None and contract.end_date <= ctx.today) or contract.commodity not in ENERGY:
        return None
    months = interval(customer, remote_meter(uow, id_of(customer)))
    period = billing_period(contract, _year_of(contract, month_end_before(ctx.today)))
    through = (
        due_through(period, ctx.today, months, billing_year(contract.billing_month, period[0])[0]) if period else None
    )
    if through is None or uow.information.exists(key_of(contract_id, through)):
        return None
    document = prepare(uow, ctx, contract, customer, through, months)
    if isinstance(document, Skipped):
        return document
    row = BillingInformation(
        contract_id=contract_id,
        customer_id=id_of(customer),
        through=through,
        made_at=ctx.now,
        key=key_of(contract_id, through),
        projected_result=document.projected_result,
        details=to_json(document),
    )
    uow.information.add(row)  # the id names the PDF
    row.pdf_path = f'information/{row.id}.pdf'
    result = document.projected_result
    language = uow.users.owner_language(id_of(customer))  # nobody in front of the portal: the login's language
    said = t(f'written.{outcome_key(result)}', language)
    what = t('written.information_what', language, outcome=said, amount=money(abs(result)))
    what = what if result else t('written.information_even', language)
    uow.data.save(
        InboxMessage(
            customer_id=id_of(customer),
            created_at=ctx.now,
            kind='document',
            subject=t('written.information_subject', language, through=f'{through:%d.%m.%Y}'),
            body=t('written.information_body', language, through=f'{through:%d.%m.%Y}', what=what),
            document_path=row.pdf_path,
        )
    )
    email = uow.users.owner_email(id_of(customer))
    if email:
        uow.queue_mail(
            compose(
                ctx,
                email,
                'information_ready',
                language,
                through=f'{through:%d.%m.%Y}',
                link=f'{ctx.base_url}/abrechnungsinformation',
            ),
            ctx.now,
        )
    uow.audit(
        AuditEntry(
            at=ctx.now,
            actor='system',
            action='billing_information_made',
            customer_id=id_of(customer),
            details=f'contract={contract.contract_number} through={through.isoformat()} '
            f'projected_result={document.projected_result}',
        )
    )
    uow.commit()
    return Issued(row.pdf_path, document)


def from_json(text: str) -> InformationDocument:
    return load(InformationDocument, text)


def remote_meter(uow: UnitOfWork, customer_id: int) -> bool:
    """Whether one of the customer's energy meters in use is read remotely (then monthly is a choice, and the
    default): the same answer for the page, the choice and the entries."""
    contracts = [id_of(c) for c in uow.customers.contracts(customer_id) if c.commodity in ENERGY]
    return any(m.kind in REMOTE_KINDS for m in uow.customers.meters(contracts) if m.removed_on is None)
