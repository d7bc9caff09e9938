"""Readings without a login: the one-time code printed on the utility's reading letter (Ablesekarte).

Codes are made for every self-read meter when the letters are prepared (`kundenportal export reading-codes`),
stored only as keyed digests, valid until the end of the reading period, and used once. Entering a code
and meter number is throttled per client address, so codes cannot be guessed.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain import i18n, throttle, tokens
from domain.clock import BERLIN
from domain.errors import CodesValidUntilOutOfRange, FieldRequired, ReadingCodeInvalid, TooManyAttempts
from domain.identifiers import normalise
from domain.model import Contract, Meter, ReadingCode, id_of
from domain.ports import Context, UnitOfWork
from domain.reading_rules import REMOTE_KINDS, reading_window
from domain.readings import GRACE, MeterForm, Submitted, form_for, store_reading

ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'  # no 0/O, 1/I: read from paper
LONGEST = timedelta(days=366)  # a code outlives no reading period by more than a year


def new_code() -> str:
    raw = ''.join(secrets.choice(ALPHABET) for _ in range(12))
    return f'{raw[:4]}-{raw[4:8]}-{raw[8:]}'


def code_digest(ctx: Context, code: str) -> str:
    return tokens.digest(ctx.secret, normalise(code))


@dataclass(frozen=True)
class IssuedCode:
    meter_number: str
    customer_number: str
    code: str
    valid_until: date


def issue_codes(uow: UnitOfWork, ctx: Context, valid_until: date | None = None) -> list[IssuedCode]:
    """A fresh code for every self-read meter in supply, valid to the end of the reading period, the coming one
    when the letters are prepared before it opens (they were valid for eight weeks then, and died in the period);
    earlier unused letter codes of those meters end (a reminder's mailed code stays valid)."""
    today = ctx.today
    if valid_until is not None and not today <= valid_until <= today + LONGEST:
        raise CodesValidUntilOutOfRange(first=i18n.day(today), last=i18n.day(today + LONGEST))
    window = reading_window(ctx.profile.readings, today)
    if window.closes_on is None and window.opens_on is not None:
        window = reading_window(ctx.profile.readings, window.opens_on)
    until = valid_until or window.closes_on or today + timedelta(weeks=8)
    expires = datetime.combine(until + timedelta(days=1), time(0), tzinfo=BERLIN).astimezone(UTC)
    issued = []
    first = max(today, window.opened_on or today)  # the days the code can be used on: the meters in supply then
    for customer, contract, meter in uow.meters.self_read(first, max(first, until)):
        uow.meters.end_codes(id_of(meter), ctx.now, 'letter')
        code = new_code()
        uow.meters.add_code(
            ReadingCode(
                meter_id=id_of(meter),
                digest=code_digest(ctx, code),
                created_at=ctx.now,
                expires_at=expires,
                customer_id=contract.customer_id,
            )
        )
        issued.append(IssuedCode(meter.meter_number, customer, code, until))
    uow.commit()
    return issued


def _check(
    uow: UnitOfWork, ctx: Context, code: str, meter_number: str, grace: timedelta = timedelta(0)
) -> tuple[Contract, Meter, ReadingCode]:
    if not code.strip():
        raise FieldRequired('code', label=i18n.t('reading_code.code'))
    if not meter_number.strip():
        raise FieldRequired('meter_number', label=i18n.t('field.meter_number'))
    key = f'reading_code:{ctx.address}'
    state = uow.throttles.state(key)
    if state.is_locked(ctx.now):
        raise TooManyAttempts('code', minutes=state.minutes_left(ctx.now))
    found = uow.meters.by_code(code_digest(ctx, code))
    if found is not None:
        contract, meter, row = found
        if (
            meter.meter_number == normalise(meter_number)
            and tokens.is_usable(row.expires_at + grace, row.used_at, ctx.now)
            and meter.kind not in REMOTE_KINDS
            and row.customer_id in (None, contract.customer_id)  # the meter handed on: not the next tenant's
        ):
            return contract, meter, row
    state.record_failure(throttle.READING_CODE_PER_ADDRESS, ctx.now)
    uow.throttles.save(key, state)
    uow.commit()
    raise ReadingCodeInvalid()


def open_by_code(uow: UnitOfWork, ctx: Context, code: str, meter_number: str) -> MeterForm:
    contract, meter, _ = _check(uow, ctx, code, meter_number)
    return form_for(uow, contract, meter)


def submit_by_code(
    uow: UnitOfWork,
    ctx: Context,
    code: str,
    meter_number: str,
    values: dict[str, str],
    reading_date: str,
    confirmed: bool = False,
    reason: str = '',
    photo: str = '',
) -> Submitted:
    # sent in the hour after its last day's midnight: a reading dated on that day still counts (store_reading), as
    # with the login; the form was opened before midnight
    contract, meter, row = _check(uow, ctx, code, meter_number, GRACE)
    if not uow.meters.use_code(row, ctx.now):  # sent twice at the same moment: the other one took it
        raise ReadingCodeInvalid()
    return store_reading(
        uow, ctx, contract, meter, values, reading_date, confirmed, reason, 'reading_code', 'letter', photo=photo
    )
