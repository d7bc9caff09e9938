"""Umzug melden (docs/domain.md §8): the move-out date with a reading per register, the new postal address for the
Schlussrechnung (final bill, free of charge: §40b(1) EnWG), and, inside the utility's supply area, the wish to be
supplied at the new address from the move-in date. Otherwise the move ends the contracts: with six weeks' notice at
the move-out date or later (§41b(5) EnWG).

The readings are checked like any reading (§3: format, not below the last one, expected range); an unexpected value
is not refused but marked for staff. The request goes to staff and the billing system like a cancellation.
"""

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.contract_requests import Receipt, known_end, possible_end, receive, text_field
from domain.contract_requests import parse_day as checked_day
from domain.errors import (
    DomainError,
    NoRunningContract,
    PostalCodeAbroadInvalid,
    PostalCodeInvalid,
    ReadingInFormat,
    TooLong,
)
from domain.i18n import day, label_of, number
from domain.identifiers import normalise
from domain.meter_exchange import predecessor_readings, with_replaced
from domain.model import Contract, id_of
from domain.overview import ensure_owner
from domain.ports import Context, UnitOfWork
from domain.reading_rules import REMOTE_KINDS, judge, parse_value, register_name
from domain.readings import form_for
from domain.tenancy import held_since

BACK = timedelta(weeks=6)  # a move reported later than six weeks after it is refused with a clear message
NOTICE = timedelta(weeks=6)  # §41b(5) EnWG: a household ends its contract on a move with six weeks' notice
_POSTAL_CODE = re.compile(r'^\d{5}$')
# a final bill goes abroad too (a move to Austria, the Netherlands): the country's own postal code as written there
_POSTAL_CODE_ABROAD = re.compile(r'^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$')
_GERMANY = frozenset({'deutschland', 'germany', 'de', 'd', 'brd', 'bundesrepublik deutschland'})


def abroad(country: str) -> bool:
    """Whether the country typed for the new address is another than Germany (empty: Germany)."""
    country = ' '.join(country.split()).casefold()
    return bool(country) and country not in _GERMANY


def outside_area(supply_postal_codes: tuple[str, ...], postal_code: str, country: str) -> bool:
    """Whether a new address lies outside the supply area (then the move ends the contract): abroad, or a German postal
    code of five digits the utility does not supply (every one, when it names none). False while it cannot tell yet
    (a postal code half typed)."""
    code = postal_code.strip()
    if abroad(country):
        return True
    return bool(supply_postal_codes) and bool(_POSTAL_CODE.match(code)) and code not in supply_postal_codes


def six_months_after(start: date) -> date:
    """The latest day a move may be reported ahead (docs/domain.md §8): the same day six calendar months later, or
    that month's last day (31.08.2026 → 28.02.2027)."""
    month = start.month + 6
    year, month = start.year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class MoveMeter:
    meter_number: str
    commodity: str
    unit: str
    registers: tuple[str, ...]
    remote: bool


@dataclass(frozen=True)
class MoveStart:
    """What the form needs: the meters with their registers (a field each), and the supply area's postal codes."""

    meters: tuple[MoveMeter, ...]
    earliest: date
    latest: date
    supply_postal_codes: tuple[str, ...]
    running: bool  # a contract not ended: without one there is nothing to move


@dataclass(frozen=True)
class MoveForm:
    move_out: str
    readings: dict[str, str] = field(default_factory=dict)  # field key (reading_field) → value as typed
    street: str = ''
    house_number: str = ''
    postal_code: str = ''
    city: str = ''
    country: str = ''  # empty (or Germany): an address in Germany
    continue_supply: bool = False
    move_in: str = ''
    new_meter: str = ''
    reading_in: str = ''


def reading_field(meter_number: str, obis: str) -> str:
    return f'out_{meter_number}_{obis}'


def start(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int) -> MoveStart:
    ensure_owner(uow, user_id, customer_id)
    meters = [
        MoveMeter(
            meter.meter_number,
            contract.commodity,
            'm³' if contract.commodity in ('water', 'gas') else 'kWh',
            tuple(meter.registers.split(',')),
            meter.kind in REMOTE_KINDS,
        )
        for contract, meter in uow.meters.of_customer(customer_id)
        if meter.removed_on is None and (contract.end_date is None or contract.end_date >= ctx.today)
    ]
    return MoveStart(
        tuple(meters),
        _earliest(uow, ctx, customer_id, _running(uow, ctx, customer_id)),
        six_months_after(ctx.today),
        ctx.profile.supply_postal_codes,
        bool(_running(uow, ctx, customer_id)),
    )


def _earliest(uow: UnitOfWork, ctx: Context, customer_id: int, running: list[Contract]) -> date:
    """Six weeks back, but not before the customer's supply began there (a move-out before the move-in is a typing
    error; a renewal under a new contract number at the same address keeps the first day, `held_since`)."""
    contracts = uow.customers.contracts(customer_id)
    began = min((held_since(c, contracts) for c in running), default=ctx.today - BACK)
    return max(ctx.today - BACK, began)


def _running(uow: UnitOfWork, ctx: Context, customer_id: int) -> list[Contract]:
    return [c for c in uow.customers.contracts(customer_id) if c.end_date is None or c.end_date >= ctx.today]


def report_move(uow: UnitOfWork, ctx: Context, user_id: int, customer_id: int, form: MoveForm) -> Receipt:
    ensure_owner(uow, user_id, customer_id)
    customer = uow.customers.get(customer_id)
    user = uow.users.get(user_id)
    assert customer is not None and user is not None
    running = _running(uow, ctx, customer_id)
    if not running:
        raise NoRunningContract()
    move_out = checked_day(
        form.move_out,
        'move_out',
        label_of('move_out'),
        _earliest(uow, ctx, customer_id, running),
        six_months_after(ctx.today),
    )
    readings, flagged = _readings_out(uow, ctx, customer_id, move_out, form.readings)
    street = text_field(form.street, 'street', label_of('street'), 200)
    house_number = text_field(form.house_number, 'house_number', label_of('house_number'), 20)
    country = text_field(form.country, 'country', label_of('country'), 60, required=False)
    elsewhere = abroad(country)
    postal_code = ' '.join(form.postal_code.split())
    if elsewhere and not _POSTAL_CODE_ABROAD.match(postal_code):
        raise PostalCodeAbroadInvalid()
    if not elsewhere and not _POSTAL_CODE.match(postal_code):
        raise PostalCodeInvalid()
    city = text_field(form.city, 'city', label_of('city'), 100)
    in_area = not outside_area(ctx.profile.supply_postal_codes, postal_code, country)
    new_address = f'{street} {house_number}, {postal_code} {city}' + (f', {country.upper()}' if elsewhere else '')
    fields = {
        'customer_number': customer.customer_number,
        'name': customer.display_name,
        'move_out': move_out.isoformat(),
        'readings_out': '; '.join(readings),
        'new_address': new_address,
    }
    rows = [
        ('Kundennummer', customer.customer_number),
        ('Name', customer.display_name),
        ('Bisherige Anschrift', customer.address),
        ('Auszugsdatum', day(move_out)),
        ('Zählerstände bei Auszug', '\n'.join(readings) or 'keine angegeben'),
        ('Neue Anschrift (für die Schlussrechnung)', new_address),
    ]
    if form.continue_supply and in_area:
        move_in = checked_day(form.move_in, 'move_in', label_of('move_in'), move_out - BACK, six_months_after(move_out))
        new_meter = normalise(form.new_meter)
        if len(new_meter) > 40:
            raise TooLong('new_meter', max=40)
        reading_in = form.reading_in.strip().replace(' ', '')
        if reading_in and (not reading_in.isascii() or not reading_in.isdigit() or len(reading_in) > 12):
            raise ReadingInFormat()
        fields |= {'continue': 'yes', 'move_in': move_in.isoformat(), 'new_meter': new_meter, 'reading_in': reading_in}
        rows += [
            ('Belieferung', f'an der neuen Adresse fortsetzen ab dem {day(move_in)}'),
            ('Zählernummer an der neuen Adresse', new_meter or 'nicht angegeben'),
            ('Zählerstand bei Einzug', number(int(reading_in)) if reading_in else 'nicht angegeben'),
        ]
    else:
        # six weeks at the most (§41b(5) EnWG): a contract ordinarily cancelled sooner (two weeks in the
        # Grundversorgung, or its term's end) ends then, as on the cancellation page
        latest = max(possible_end(c, ctx.today) for c in running)
        ends = max(move_out, min(ctx.today + NOTICE, latest))
        # a contract ending before the move-out (its term, a cancellation) is not supplied beyond its end
        ends = min(ends, max(known_end(uow, c) or date.max for c in running))
        fields |= {'continue': 'no', 'effective': ends.isoformat()}
        why = '' if in_area else ' (die neue Anschrift liegt außerhalb unseres Versorgungsgebiets)'
        rows.append(('Belieferung', f'endet zum {day(ends)}{why}'))
    if flagged:
        rows.append(('Hinweis', 'Ein Zählerstand liegt außerhalb des erwarteten Bereichs; wir prüfen ihn.'))
        fields['plausibility'] = 'implausible: ' + ', '.join(flagged)
    receipt = receive(uow, ctx, 'move', f'user:{user_id}', customer, None, user.email, rows, fields, move_out)
    uow.commit()
    return receipt


def _readings_out(
    uow: UnitOfWork, ctx: Context, customer_id: int, move_out: date, typed: dict[str, str]
) -> tuple[list[str], list[str]]:
    """Each register's value at the move-out (needed when the move-out is today or past; a remote meter is read by
    the utility), checked as a reading; returns the lines for the request and the meters whose value is unexpected."""
    lines, flagged = [], []
    for contract, meter in uow.meters.of_customer(customer_id):
        if meter.removed_on is not None or (contract.end_date is not None and contract.end_date < ctx.today):
            continue
        if meter.kind in REMOTE_KINDS:
            lines.append(f'{meter.meter_number}: wird fernausgelesen')
            continue
        form = form_for(uow, contract, meter)
        # judged by the meter's whole history, not the holder's part, and by values read: a bill's closing estimate
        # is none (a real reading below it is taken, as on the reading page)
        readings = [r for r in uow.meters.readings(id_of(meter)) if r.source != 'estimated']
        history = {obis: [r for r in readings if r.obis == obis] for obis in form.registers}
        replaced = predecessor_readings(uow, contract, meter)  # a new meter: judged by the old one's use
        for obis in form.registers:
            key = reading_field(meter.meter_number, obis)
            text = typed.get(key, '').strip()
            if not text and move_out > ctx.today:
                continue  # a future move: the reading may follow on the day
            try:
                value = parse_value(text, meter.pre_decimal_digits, obis)
                earlier = [(v.reading_date, v.value) for v in sorted(history[obis], key=lambda v: v.reading_date)]
                earlier = with_replaced(replaced, obis, [(d, v) for d, v in earlier if d < move_out])
                judgement = judge(  # as the reading page does: a lower value after a known exchange is no error
                    earlier, move_out, value, meter.pre_decimal_digits, ctx.profile.readings, meter.installed_on
                )
            except DomainError as error:
                error.field = key
                raise
            register = '' if obis == '1.8.0' else f' {register_name(obis, "de")}'
            lines.append(f'{meter.meter_number}{register}: {number(value)} {form.unit}')
            later = [r.value for r in history[obis] if r.reading_date > move_out]
            if judgement.status == 'implausible' or (later and value > min(later)):  # above what it showed later
                flagged.append(meter.meter_number)
    return lines, flagged
