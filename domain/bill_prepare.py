"""A contract's bill computed for the billing run (docs/domain.md §5): its period, the inputs read for a chunk of
contracts at once, and the bill from its readings, prices and installments paid (`prepare_bill`), with what an
e-invoice needs of buyer and seller. The arithmetic is domain/billing.py's; numbering and storing are
domain/bill_issue.py's."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.bill_readings import meter_part
from domain.billing import (
    BillDocument,
    PricePeriod,
    RegisterReadings,
    compute_bill,
    due_date_for,
    proposal,
)
from domain.contract_requests import earliest_end
from domain.identifiers import WITH_MALO
from domain.installment_rules import WEIGHTED, billing_year, due_dates, weight_share
from domain.model import (
    Contract,
    Customer,
    Meter,
    Price,
    id_of,
)
from domain.ports import Context, UnitOfWork
from domain.reading_rules import gas_kwh
from domain.repository_ports import BillingInputs


@dataclass(frozen=True)
class Skipped:
    contract_number: str
    reason: str


def billing_period(contract: Contract, year: int) -> tuple[date, date] | None:
    """The contract's part of the billing year ending in `year` (to its end date for a final bill)."""
    start, end = billing_year(contract.billing_month, date(year, contract.billing_month, 1))
    start, end = max(start, contract.start_date), min(end, contract.end_date or end)
    return (start, end) if start <= end else None


def run_key(contract_id: int, year: int) -> str:
    """What makes a billing run's bill unique: one per contract and billing year (a correction has none)."""
    return f'{contract_id}:{year}'


def billing_inputs(uow: UnitOfWork, contract_ids: list[int], year: int) -> BillingInputs:
    """What `prepare_bill` needs of these contracts for the billing year ending in `year`, read at once (no such
    billing year starts before 1 January of the year before or ends after 31 December: `billing_year`)."""
    return uow.billing.inputs(contract_ids, paid_from=date(year - 1, 1, 1), paid_until=date(year, 12, 31))


def prepare_bill(
    uow: UnitOfWork,
    ctx: Context,
    contract_id: int,
    year: int,
    bill_date: date,
    inputs: BillingInputs | None = None,
) -> BillDocument | Skipped:
    """Compute one contract's bill for the billing year (number still empty); nothing is written. `inputs`: the
    billing run's chunk (`billing_inputs`) the contract belongs to; without, the contract's own are read."""
    data = inputs if inputs is not None else billing_inputs(uow, [contract_id], year)
    if contract_id not in data.contracts:
        return Skipped(f'Vertrag-ID {contract_id}', 'Vertrag nicht gefunden')
    contract, customer = data.contracts[contract_id]
    if customer is None:
        return Skipped(contract.contract_number, 'kein Kunde zum Vertrag')
    period = billing_period(contract, year)
    if period is None:
        return Skipped(contract.contract_number, 'kein Lieferzeitraum im Abrechnungsjahr')
    start, end = period
    meters = [
        m
        for m in data.meters.get(contract_id, [])
        if (m.removed_on is None or m.removed_on >= start) and (m.installed_on is None or m.installed_on <= end)
    ]
    if not meters:
        return Skipped(contract.contract_number, 'kein Zähler')
    meters.sort(key=lambda m: (m.installed_on or date.min, id_of(m)))
    registers: list[RegisterReadings] = []
    previous: Decimal | None = None  # the whole year before, from the meter the period starts with (None: unknown)
    for index, meter in enumerate(meters):  # more than one: exchanged in the year, each its own part of it
        own = meter_part(
            meter,
            data.readings.get(id_of(meter), []),
            start,
            end,
            index == 0,
            index == len(meters) - 1,
            contract.commodity,
            start == contract.start_date,
        )
        if isinstance(own, str):
            return Skipped(contract.contract_number, own)
        parts, before_year = own
        registers.extend(parts)
        if index == 0:
            previous = before_year
    meter = meters[-1]
    if len({(m.z_number, m.calorific_value) for m in meters}) > 1:  # one conversion for the whole consumption
        return Skipped(contract.contract_number, 'Zählerwechsel mit unterschiedlicher Zustandszahl oder Brennwert')
    volume = sum((r.consumption for r in registers), Decimal(0))
    gas = contract.commodity == 'gas' and meter.z_number and meter.calorific_value
    if contract.commodity == 'gas' and not gas:  # m³ are no kWh: the import allows a meter without them
        return Skipped(contract.contract_number, 'Gaszähler ohne Zustandszahl oder Brennwert: kein Verbrauch in kWh')
    consumption = _billed_unit(volume, meter) if gas else volume
    prices = data.prices.get(contract.tariff_code, [])
    if not prices:
        return Skipped(contract.contract_number, f'keine Preise für Tarif {contract.tariff_code}')
    periods = [PricePeriod(p.valid_from, p.working_price_net, p.base_price_net_per_year) for p in prices]
    vat_rate = vat_rate_on(prices, end)
    paid = sum((amount for day, amount in data.payments.get(contract_id, []) if start <= day <= end), Decimal(0))
    try:
        year_start = billing_year(contract.billing_month, start)[0]  # a part year: the days of its billing year
        result = compute_bill(consumption, contract.commodity, start, end, periods, vat_rate, paid, year_start)
    except ValueError as error:
        return Skipped(contract.contract_number, str(error))
    plans = data.plans.get(contract_id, [])
    per_year, due_day = (plans[-1].per_year, plans[-1].due_day) if plans else (12, 15)
    days = (end - start).days + 1
    # a part of the year is compared with the same share of last year's and the average household's year (§40 EnWG:
    # the comparable period), not with a whole year; gas and heat by their degree-day weights, as everywhere (half a
    # year from January is 584 ‰ of a gas year, not 181/365: the same use as last year read '+17,8 %')
    part = None
    if days < result.days_of_year(start):
        part = (
            weight_share(start, end) if contract.commodity in WEIGHTED else Decimal(days) / result.days_of_year(start)
        )
    final = contract.end_date is not None and contract.end_date <= end
    next_start = end + timedelta(days=1)
    first_due = next(
        (
            d
            for d in due_dates(next_start, next_start + timedelta(days=364), due_day, per_year, contract.billing_month)
            if d >= bill_date + timedelta(days=14)
        ),
        None,
    )
    unit = 'm³' if contract.commodity == 'water' else 'kWh'
    mandate = data.mandates.get(id_of(customer), '')  # a debit is announced on the bill (SEPA pre-notification)
    buyer = _buyer(uow, customer) if customer.company else {'mandate_reference': mandate} if mandate else {}
    gap = _seller_gap(ctx, buyer, result.balance) if customer.company else ''
    if gap:  # an e-invoice without what §14 UStG and EN 16931 ask of the seller is not sent: staff fix it, run again
        return Skipped(contract.contract_number, gap)
    return BillDocument(
        bill_number='',
        bill_date=bill_date,
        kind='final' if final else 'annual',
        replaces='',
        customer_number=customer.customer_number,
        customer_name=customer.display_name,
        customer_address=customer.postal_lines,
        contract_number=contract.contract_number,
        commodity=contract.commodity,
        tariff_code=contract.tariff_code,
        contract_start=contract.start_date,
        contract_end=contract.end_date,
        notice_period_weeks=contract.notice_period_weeks,
        # the date the cancellation page names for the same contract (a fixed term's end, or the notice from the
        # bill's date): the bill moved it to a month's end (31.01.2027 where the form said 02.01.2027)
        # none once the contract has ended (an annual bill made after an end agreed for 10.01.: 'Vertrag beendet')
        next_termination=None
        if final or (contract.end_date is not None and contract.end_date < bill_date)
        else min(earliest_end(contract, bill_date), contract.end_date or date.max),
        malo_id=contract.malo_id if contract.commodity in WITH_MALO else '',  # the energy market's only
        supply_address=contract.supply_address or customer.address,  # after a move: the old flat's
        meter_number=', '.join(m.meter_number for m in meters),
        period_start=start,
        period_end=end,
        registers=tuple(registers),
        z_number=meter.z_number if gas else None,
        calorific_value=meter.calorific_value if gas else None,
        consumption=consumption,
        unit=unit,
        result=result,
        vat_rate=vat_rate,
        due_date=due_date_for(bill_date),
        previous_consumption=_share(_billed_unit(previous, meter) if gas and previous is not None else previous, part),
        group_average=_share(ctx.profile.bill.group_average.get(contract.commodity), part),
        compared_days=(end - start).days + 1 if part else 0,
        # a part of the year (a contract's first): the installment of a whole year at its use (docs/domain.md §4)
        next_installment=None
        if final
        else proposal(result, per_year, ctx.profile.installment.rounding, part, vat_rate),
        next_installment_per_year=per_year,
        next_installment_first_due=None if final else first_due,
        next_installment_due_day=due_day,
        **buyer,
    )


def _buyer(uow: UnitOfWork, customer: Customer) -> dict[str, str]:
    """What a business customer's e-invoice says of the buyer and how the bill is paid (docs/domain.md §9)."""
    customer_id = id_of(customer)
    account = uow.data.bank_account(customer_id)
    mandate = account is not None and account.mandate_granted_at is not None and account.mandate_revoked_at is None
    return {
        'einvoice': 'xrechnung' if customer.leitweg_id else 'factur-x',
        'buyer_vat_id': customer.vat_id,
        'buyer_leitweg_id': customer.leitweg_id,
        'buyer_email': uow.users.owner_email(customer_id) or customer.email,
        'mandate_reference': account.mandate_reference if account is not None and mandate else '',
        'customer_iban': account.iban if account is not None else '',
    }


def _seller_gap(ctx: Context, buyer: dict[str, str], balance: Decimal) -> str:
    seller = ctx.profile.seller
    if not seller.vat_id and not seller.tax_number:
        return 'E-Rechnung: USt-IdNr. oder Steuernummer des Versorgers fehlt (Verwaltung → Einstellungen)'
    if not seller.vat_id and not seller.commercial_register:  # EN 16931 BR-CO-26: a tax number alone is no seller
        return (  # identifier (BT-29), legal registration (BT-30) or VAT ID (BT-31)
            'E-Rechnung: USt-IdNr. oder Registereintrag des Versorgers fehlt; die Steuernummer allein genügt nach '
            'EN 16931 nicht (Verwaltung → Einstellungen)'
        )
    # a transfer to the utility (a back payment without a mandate, or an even bill, which names the account too)
    if (balance == 0 or (balance > 0 and not buyer['mandate_reference'])) and not seller.iban:
        return 'E-Rechnung: IBAN des Versorgers für die Überweisung fehlt (Verwaltung → Einstellungen)'
    return ''


def vat_rate_on(prices: list[Price], day: date) -> Decimal:
    """The VAT rate of the price valid on `day` (the period's end: a periodically billed supply takes the rate in
    force when it is completed), not of the newest price row, which may already be next year's."""
    valid = [p for p in prices if p.valid_from <= day]
    return (valid or prices)[-1].vat_rate


def _billed_unit(volume: Decimal, meter: Meter) -> Decimal:
    """Gas in kWh; only for a gas meter with both factors (`gas` in prepare_bill)."""
    assert meter.z_number is not None and meter.calorific_value is not None
    return gas_kwh(volume, meter.z_number, meter.calorific_value)


def _share(yearly: Decimal | None, part: Decimal | None) -> Decimal | None:
    """A year's figure, or its share for a part of the year (whole units)."""
    if yearly is None or part is None:
        return yearly
    return (yearly * part).quantize(Decimal(1), ROUND_HALF_UP)
