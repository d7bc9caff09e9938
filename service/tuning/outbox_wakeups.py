"""Each connected tab's NiceGUI outbox waits for something to send with a one-second timeout, after which it only
looks whether it has been stopped and waits again; but `Outbox.stop` wakes it anyway. On Python 3.11 every such
timeout makes a task and cancels it: every second, for every customer who only sits on a page. That wait is the
only `wait_for` in NiceGUI's outbox module: there it now waits for its wake-up alone (docs/operations.md)."""

import asyncio
import types
from collections.abc import Awaitable

from nicegui import outbox

from service.tuning.guard import Patch, Undo


class OutboxAsyncio(types.ModuleType):
    """`asyncio` as NiceGUI's outbox module sees it: the same, but `wait_for` waits without a timeout."""

    def __getattr__(self, name: str) -> object:
        return getattr(asyncio, name)

    @staticmethod
    def wait_for(awaitable: Awaitable, timeout: float | None = None) -> Awaitable:
        return awaitable


def apply() -> Undo:
    original = outbox.asyncio
    outbox.asyncio = OutboxAsyncio('asyncio')

    def undo() -> None:
        outbox.asyncio = original

    return undo


PATCH = Patch('outbox_wakeups', 'nicegui', '3.18.*', apply)
