"""A document dataclass (a bill, a billing information) as the JSON stored with it, and back: its PDF can be
rendered again identically, years later."""

import json
from dataclasses import is_dataclass
from datetime import date
from decimal import Decimal
from types import UnionType
from typing import TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar('T')


def to_json(document: object) -> str:
    """A document's contents as JSON (stored with it, so its PDF can be rendered again identically). The same text
    as `json.dumps(asdict(document), default=str)`, without asdict's deep copy of every value (a sixth of a bill's
    issue in the billing run)."""
    return json.dumps(document, default=_plain, ensure_ascii=False)


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return {name: getattr(value, name) for name in value.__dataclass_fields__}
    return str(value)  # Decimal, date


def load(cls: type[T], text: str) -> T:
    """A document dataclass (bill, billing information) from its JSON (`to_json`)."""
    return _build(cls, json.loads(text))


def _build(cls: type, data: dict):
    hints = get_type_hints(cls)
    return cls(**{name: _value(hints[name], value) for name, value in data.items()})


def _value(hint, value):
    if value is None:
        return None
    args = [a for a in get_args(hint) if a is not type(None)]
    if get_origin(hint) in (UnionType, Union) and args:
        return _value(args[0], value)
    if get_origin(hint) is tuple:
        inner = get_args(hint)[0]
        return tuple(_value(inner, v) for v in value)
    if hint is Decimal:
        return Decimal(value)
    if hint is date:
        return date.fromisoformat(value)
    if is_dataclass(hint):
        return _build(hint, value)
    return value
