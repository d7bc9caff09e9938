"""One change at a time per tab: the same use case with the same arguments is not sent again while it runs (a double
click on "Tarif wechseln", "Umzug melden" or the back office's "Nachricht senden" stored two and mailed two)."""

import weakref
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from nicegui import Client, ui

_running: weakref.WeakKeyDictionary[Client, set[tuple[object, tuple[Hashable, ...]]]] = weakref.WeakKeyDictionary()


@contextmanager
def sending(use_case: object, args: tuple[Any, ...]) -> Iterator[bool]:
    """True while this tab sends it for the first time; False for the second click of a double click (the first
    one's request is at work and answers on the page)."""
    running = _running.setdefault(ui.context.client, set())
    request = (use_case, _fingerprint(args))
    if request in running:
        yield False
        return
    running.add(request)
    try:
        yield True
    finally:
        running.discard(request)


def _fingerprint(args: tuple[Any, ...]) -> tuple[Hashable, ...]:
    parts: list[Hashable] = []
    for arg in args:
        try:
            hash(arg)
            parts.append(arg)
        except TypeError:  # a list, a dict, a form holding one
            parts.append(repr(arg))
    return tuple(parts)
