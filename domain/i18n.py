"""Message catalogues (one TOML file per language: German, English) and number and date formatting with Babel.

Amounts and dates keep the German format in both languages (`1.234,56 €`, `22.11.2026`): they are the ones on
the utility's bills and letters. The language of texts produced inside a use case (mails, password rules) is
the one `using()` set for the current thread or task; pages set it to the visitor's choice."""

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from babel.dates import format_datetime as _babel_datetime

from domain.clock import BERLIN

TEXTS = Path(__file__).parent / 'texts'
LOCALES = {'de': 'de_DE', 'en': 'de_DE'}  # formats stay German (see above)
LANGUAGES = ('de', 'en')
_current: ContextVar[str] = ContextVar('language', default='de')


@cache
def catalogue(language: str = 'de') -> dict[str, str]:
    """All texts of one language, flattened to dotted keys (`login.title`)."""
    data = tomllib.loads((TEXTS / f'{language}.toml').read_text(encoding='utf-8'))
    return dict(_flatten(data))


def t(key: str, language: str | None = None, /, **params: object) -> str:
    """The text for `key` in `language` (default: the current one), with `{name}` placeholders filled in.
    `key` and `language` are positional, so any placeholder name can be passed on in `params`. Where a count is
    1 and the catalogue has `<key>_one`, that one is taken ("1 ungelesene Nachricht", "2 ungelesene Nachrichten")."""
    texts = catalogue(language or _current.get())
    if any(params.get(name) == 1 for name in COUNTS) and f'{key}_one' in texts:
        key = f'{key}_one'
    text = texts[key]
    return text.format(**params) if params else text


COUNTS = ('count', 'minutes', 'hours', 'days', 'weeks')  # the placeholders that decide between one and many


def label_of(key: str) -> str:
    """A field's name for an error message a use case raises, in the use case's language (`error_label.*`)."""
    return t(f'error_label.{key}')


def current() -> str:
    """The language texts are made in now ('de' or 'en')."""
    return _current.get()


@contextmanager
def using(language: str) -> Iterator[None]:
    """Texts made inside this block (also deep in a use case) are in `language`."""
    token = _current.set(language if language in LANGUAGES else 'de')
    try:
        yield
    finally:
        _current.reset(token)


# Amounts, numbers and days are formatted here directly, as Babel's de_DE does (`.` between thousands, `,` before the
# decimals, a no-break space before `€`; tests compare with Babel), but rounded half up as the rules are (DIN 1333,
# docs/domain.md; Babel rounds half to even: 2,25 % showed as 2,2 %): a page of bills or
# readings makes hundreds of these calls, and Babel's were a noticeable part of it (figures in docs/operations.md).


def money(amount: Decimal, language: str = 'de') -> str:
    """`1234.5` → `1.234,50 €`."""
    return _german(amount, 2) + '\xa0€'


def number(value: Decimal | int, places: int = 0, language: str = 'de') -> str:
    """`1234.5` → `1.234` (places=0), `1.234,50` (places=2)."""
    return _german(value, places)


def _german(value: Decimal | float | int, places: int) -> str:
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    rounded = exact.quantize(_QUANTA[places], rounding=ROUND_HALF_UP)
    whole, _, fraction = f'{abs(rounded):f}'.partition('.')
    grouped = f'{int(whole):,}'.replace(',', '.')
    return ('-' if rounded.is_signed() else '') + grouped + (',' + fraction if places else '')


_QUANTA = [Decimal(1).scaleb(-places) for places in range(10)]


def day(value: date, language: str = 'de') -> str:
    """`2026-11-22` → `22.11.2026`."""
    return f'{value.day:02}.{value.month:02}.{value.year:04}'


def moment(value: datetime, language: str = 'de') -> str:
    """A timezone-aware instant shown in the utility's local time: `22.11.2026, 14:05 Uhr` (English: without
    'Uhr'; the formats stay German, see above)."""
    local = value.astimezone(BERLIN)
    clock = "HH:mm 'Uhr'" if language == 'de' else 'HH:mm'
    return _babel_datetime(local, format=f'dd.MM.yyyy, {clock}', locale=LOCALES[language])


def _flatten(data: dict, prefix: str = ''):
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flatten(value, f'{prefix}{key}.')
        else:
            yield f'{prefix}{key}', value
