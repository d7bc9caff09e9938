"""Verträge and Verbrauchshistorie: what a customer's contracts say, and what their meters have counted.

Consumption per billing year comes from the readings at the ends of the years (and per month where the
readings are monthly); gas is shown in kWh (m³ × Zustandszahl × Brennwert).
"""

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from domain.contract_requests import known_end
from domain.i18n import day, t
from domain.identifiers import WITH_MALO
from domain.model import Contract, Meter, MeterReading, Price, id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.reading_rules import REMOTE_KINDS, gas_kwh
from domain.spreadsheet import csv_text
from domain.tenancy import held_readings


@dataclass(frozen=True)
class PriceView:
    valid_from: date
    unit: str
    working_price_gross: Decimal
    base_price_gross_per_year: Decimal
    vat_percent: Decimal


@dataclass(frozen=True)
class MeterInfo:
    meter_number: str
    kind: str
    registers: str


@dataclass(frozen=True)
class ContractDetails:
    contract_number: str
    commodity: str
    tariff_code: str
    start_date: date
    end_date: date | None
    notice_period_weeks: int
    malo_id: str
    billing_month: int
    price: PriceView | None
    next_price: PriceView | None
    meters: tuple[MeterInfo, ...]
    installment: Decimal | None
    due_day: int | None
    contract_id: int | None = None
    confirmed_end: date | None = None  # without an end date yet: the end of a cancellation or move staff accepted
    supply_address: str = ''  # the Lieferstelle, where the billing system sent one


def price_view(price: Price) -> PriceView:
    vat = 1 + price.vat_rate
    return PriceView(
        price.valid_from,
        'm³' if price.unit == 'm3' else price.unit,
        (price.working_price_net * vat).quantize(Decimal('0.0001'), ROUND_HALF_UP),  # as money is rounded
        (price.base_price_net_per_year * vat).quantize(Decimal('0.01'), ROUND_HALF_UP),
        (price.vat_rate * 100).normalize(),
    )


# Market locations (MaLo-ID) exist in the energy market only: water and heat contracts have none to show.


def unit_price(price: PriceView) -> str:
    """As the utility's price sheets show it: energy in cents per kWh (`30,00 ct/kWh`), water in euros per cubic
    metre (`2,3005 €/m³`)."""
    if price.unit == 'm³':
        euros = f'{price.working_price_gross:.4f}'.replace('.', ',')
        return f'{euros} €/m³'
    cents = f'{price.working_price_gross * 100:.2f}'.replace('.', ',')
    return f'{cents} ct/{price.unit}'


def contract_details(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> list[ContractDetails]:
    ensure_owner(uow, user_id, customer_id)
    today = ctx.today
    result = []
    contracts = uow.customers.contracts(customer_id)
    meters = uow.customers.meters([id_of(c) for c in contracts])
    for c in contracts:
        prices = uow.billing.prices(c.tariff_code)
        current = [p for p in prices if p.valid_from <= today]
        future = [p for p in prices if p.valid_from > today]
        plans = [p for p in uow.billing.plans(id_of(c)) if p.valid_from <= today]
        result.append(
            ContractDetails(
                c.contract_number,
                c.commodity,
                c.tariff_code,
                c.start_date,
                c.end_date,
                c.notice_period_weeks,
                c.malo_id if c.commodity in WITH_MALO else '',
                c.billing_month,
                price_view(current[-1]) if current else None,
                price_view(future[0]) if future else None,
                tuple(MeterInfo(m.meter_number, m.kind, m.registers) for m in meters if m.contract_id == c.id),
                plans[-1].amount if plans else None,
                plans[-1].due_day if plans else None,
                c.id,
                None if c.end_date else known_end(uow, c, accepted_only=True),
                c.supply_address,
            )
        )
    return result


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date
    amount: Decimal  # kWh (gas converted) or m³


@dataclass(frozen=True)
class MeterHistory:
    meter_number: str
    commodity: str
    unit: str
    remote: bool
    years: tuple[Period, ...]
    months: tuple[Period, ...]


def consumption_history(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> list[MeterHistory]:
    """Per meter (a meter exchanged for another: one history under the new meter's number, the year of the exchange
    whole in it), its billing years and months."""
    ensure_owner(uow, user_id, customer_id)
    histories = []
    for line in _lines(uow, uow.meters.of_customer(customer_id)):
        contract, meter = line.contract, line.meter
        unit = 'kWh' if in_kwh(contract, meter) else 'm³'  # gas without its conversion values stays in m³
        histories.append(
            MeterHistory(
                meter.meter_number,
                contract.commodity,
                unit,
                meter.kind in REMOTE_KINDS,
                tuple(_years(line)),
                tuple(_months(line)),
            )
        )
    return histories


def last_yearly_consumption(uow: UnitOfWork, contract: Contract) -> Decimal | None:
    """The contract's consumption in its last whole billing year, for comparing tariffs: each meter's last whole
    year, meters exchanged one for the other read as one, meters side by side added up. A meter removed and not read
    as one with a successor counts until another meter has a whole year that begins after the removal: that year is
    the contract's use without it (a successor's year counted beside it was about double; a meter taken out for good
    years ago was added for ever). None without one, or for gas whose m³ cannot be converted."""
    lines = _lines(uow, [(contract, meter) for meter in uow.customers.meters([id_of(contract)])])
    if any(not in_kwh(contract, line.meter) for line in lines) and contract.commodity != 'water':
        return None
    last = {id(line): years[-1] for line in lines if (years := _years(line))}

    def gone(line: _Line) -> bool:
        removed = line.meter.removed_on
        return removed is not None and any(year.start >= removed for year in last.values())

    counted = [year.amount for line in lines if (year := last.get(id(line))) is not None and not gone(line)]
    return sum(counted, Decimal(0)) if counted else None


@dataclass(frozen=True)
class _Line:
    """A meter's totals per reading day; after an exchange, the meter it replaced and then it, the new meter's
    values moved on by what the old one showed at its removal, so that the year of the exchange reads as one."""

    contract: Contract
    meter: Meter  # the newest of the line
    totals: list[tuple[date, Decimal]]
    listed: int = 0  # where its first meter was listed (the lines keep that order)
    earlier: tuple[tuple[date, Decimal, Meter], ...] = ()  # each meter it replaced: its removal, the line's value then

    def amount(self, d0: date, v0: Decimal, d1: date, v1: Decimal) -> Decimal:
        """What the line counted from (d0, v0) to (d1, v1), gas in kWh with each meter's own conversion values
        (a meter without them: the newest meter's) for the part it counted."""
        if not in_kwh(self.contract, self.meter):  # the line is shown in m³ (its newest meter has no values)
            return v1 - v0
        parts: list[tuple[Decimal, Meter]] = []
        for removed, value, meter in self.earlier:
            if d0 < removed:
                parts.append((min(value, v1) - v0, meter))
                v0 = min(value, v1)
                d0 = removed
        parts.append((v1 - v0, self.meter))
        return sum(
            (_amount(self.contract, m if in_kwh(self.contract, m) else self.meter, v) for v, m in parts), Decimal(0)
        )


def _lines(uow: UnitOfWork, pairs: list[tuple[Contract, Meter]]) -> list[_Line]:
    listed = {id_of(meter): index for index, (_, meter) in enumerate(pairs)}
    by_meter = {
        id_of(m): _unwrapped(m, _totals(m, held_readings(uow, c, uow.meters.readings(id_of(m))))) for c, m in pairs
    }
    replaced = _replaced(pairs, by_meter)
    lines: dict[int, _Line] = {}  # by the id of each line's newest meter
    for contract, meter in sorted(pairs, key=lambda pair: (pair[1].installed_on or date.min, id_of(pair[1]))):
        totals = by_meter[id_of(meter)]
        old = replaced.get(id_of(meter))
        before = lines.pop(id_of(old), None) if old is not None else None
        if before is None or old is None or old.removed_on is None:
            lines[id_of(meter)] = _Line(contract, meter, totals, listed[id_of(meter)])
            continue
        removal = [v for d, v in before.totals if d == old.removed_on][-1]
        joined = [(d, v) for d, v in before.totals if d <= old.removed_on]
        joined += [(d, v + removal - totals[0][1]) for d, v in totals if d > joined[-1][0]]
        earlier = (*before.earlier, (old.removed_on, removal, old))
        lines[id_of(meter)] = _Line(contract, meter, joined, before.listed, earlier)
    return sorted(lines.values(), key=lambda line: line.listed)


def _replaced(pairs: list[tuple[Contract, Meter]], by_meter: dict[int, list[tuple[date, Decimal]]]) -> dict[int, Meter]:
    """Which meter each new one replaced: of the same contract, removed on the day of its installation or the day
    before, read at the removal, the new one read at its installation; only where that is one meter for one (two
    exchanged on the same day cannot be told apart, and each keeps its own history)."""
    edges = [
        (old, new)
        for contract, old in pairs
        for other, new in pairs
        if contract.id == other.id
        and old.id != new.id
        and old.removed_on is not None
        and new.installed_on is not None
        and timedelta(0) <= new.installed_on - old.removed_on <= timedelta(days=1)
        and any(d == old.removed_on for d, _ in by_meter[id_of(old)])
        and by_meter[id_of(new)][:1]
        and by_meter[id_of(new)][0][0] == new.installed_on
    ]
    olds = Counter(id_of(old) for old, _ in edges)
    news = Counter(id_of(new) for _, new in edges)
    return {id_of(new): old for old, new in edges if olds[id_of(old)] == 1 and news[id_of(new)] == 1}


def _unwrapped(meter: Meter, totals: list[tuple[date, Decimal]]) -> list[tuple[date, Decimal]]:
    """The totals with each rollover round the dial undone (§3: a lower value is stored only as one, with this
    meter's digits), so that a line joined over an exchange counts each meter's own dial; a lower value across the
    meter's own installation date is another physical meter's and stays."""
    turns, out = Decimal(0), list[tuple[date, Decimal]]()
    for index, (d, v) in enumerate(totals):
        if index and v + turns < out[-1][1]:
            d0 = out[-1][0]
            if not (meter.installed_on is not None and d0 < meter.installed_on <= d):
                turns += Decimal(10) ** meter.pre_decimal_digits
        out.append((d, v + turns))
    return out


def in_kwh(contract: Contract, meter: Meter) -> bool:
    """Whether the meter's consumption is shown in kWh: energy, and gas only with its Zustandszahl and Brennwert."""
    if contract.commodity == 'gas':
        return bool(meter.z_number and meter.calorific_value)
    return contract.commodity != 'water'


def _totals(meter: Meter, readings: list[MeterReading]) -> list[tuple[date, Decimal]]:
    """The sum over all registers per reading date, where every register was read that day."""
    registers = meter.registers.split(',')
    by_date: dict[date, dict[str, Decimal]] = {}
    for r in readings:
        by_date.setdefault(r.reading_date, {})[r.obis] = r.value
    return sorted((d, sum(v.values(), Decimal(0))) for d, v in by_date.items() if set(registers) <= set(v))


def _amount(contract: Contract, meter: Meter, volume: Decimal) -> Decimal:
    if contract.commodity == 'gas' and meter.z_number and meter.calorific_value:
        return gas_kwh(volume, meter.z_number, meter.calorific_value)
    return volume


def _years(line: _Line) -> list[Period]:
    """Per billing year, between the readings taken nearest to its ends (within the weeks around them a reading
    period has); readings taken during the year (a customer's, a move's, a remote meter's monthly ones) lie between
    and do not split it."""
    contract = line.contract
    nearest: dict[date, tuple[date, Decimal]] = {}  # per billing year's end, the reading taken nearest to it
    for d, v in line.totals:
        end = _year_end_near(contract, d)
        if end is not None and (end not in nearest or abs((d - end).days) < abs((nearest[end][0] - end).days)):
            nearest[end] = (d, v)
    at_ends = [(d, v, end) for end, (d, v) in sorted(nearest.items())]
    periods = []
    for (d0, v0, _), (d1, v1, year_end) in pairwise(at_ends):
        start, end = d0 + timedelta(days=1), d1
        used = _used(v0, v1)
        if not 300 <= (end - start).days <= 430 or used is None:
            continue  # not one whole billing year
        label = str(year_end.year) if contract.billing_month == 12 else f'{start:%m/%Y}–{end:%m/%Y}'
        periods.append(Period(label, start, end, line.amount(d0, v0, d1, v1)))
    return periods[-6:]


def _used(v0: Decimal, v1: Decimal) -> Decimal | None:
    """What the meter counted from v0 to v1: the line's totals have its rollovers undone (a year with one was left
    out), so a lower value is a meter exchanged in between (its values are two meters')."""
    if v1 >= v0:  # rollovers are undone in the line's totals already (`_unwrapped`)
        return v1 - v0
    return None  # the meter exchanged in between (its values are two meters')


def _year_end_near(contract: Contract, day: date) -> date | None:
    """The end of a billing year (the last day of the contract's billing month) within 45 days of `day`, if any."""
    month = contract.billing_month
    ends = (date(year, month, calendar.monthrange(year, month)[1]) for year in (day.year - 1, day.year, day.year + 1))
    nearest = min(ends, key=lambda end: abs((end - day).days))
    return nearest if abs((nearest - day).days) <= 45 else None


def _months(line: _Line) -> list[Period]:
    """Per month where consecutive readings are about a month apart."""
    periods = []
    for (d0, v0), (d1, v1) in pairwise(line.totals):
        used = _used(v0, v1)
        if 20 <= (d1 - d0).days <= 40 and used is not None:
            periods.append(Period(f'{d1:%m/%Y}', d0 + timedelta(days=1), d1, line.amount(d0, v0, d1, v1)))
    return periods[-24:]


def consumption_csv(histories: list[MeterHistory], language: str | None = None) -> str:
    """For the customer's spreadsheet: headings in the page's language (`language`: the page calls this outside a
    use case, where the current language is German), days and decimals as in Germany (a spreadsheet set to German
    reads `3200,5` as a number, and `2026-12-31` as text)."""
    return csv_text(
        t('consumption.csv_columns', language).split(';'),
        (
            (h.meter_number, p.label, day(p.start), day(p.end), str(p.amount).replace('.', ','), h.unit)
            for h in histories
            for p in (*h.years, *h.months)
        ),
    )
