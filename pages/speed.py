"""Work NiceGUI and Python would otherwise repeat or keep for every page and event (bench/load.py, idle.py)."""

import asyncio
import gc
import time
import types
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from nicegui import context, core, helpers, outbox
from nicegui.classes import Classes
from nicegui.observables import ObservableCollection
from nicegui.props import Props
from nicegui.style import Style
from starlette.background import BackgroundTask
from starlette.responses import RedirectResponse


def remember_handler_signatures() -> None:
    """NiceGUI inspects the signature of each element's change handlers every time it creates an element (its
    classes, style and props are observable collections, each with a bound method as handler): a tenth of a page's
    build time; and the handler of every click, a closure made anew with each page, on every event. The answer
    depends only on the function behind a bound method, and for a plain function or lambda only on its code and how
    many of its parameters have defaults, so it is remembered by those. Anything else (partials, wrapped or
    callable objects) is still inspected each time."""
    inspect_each_time = helpers.expects_arguments
    known: dict[object, bool] = {}

    def expects_arguments(handler: Callable) -> bool:
        function = getattr(handler, '__func__', None)
        if function is not None:
            key: object = function
        elif (
            type(handler) is types.FunctionType
            and not hasattr(handler, '__wrapped__')
            and not hasattr(handler, '__signature__')
        ):
            key = (handler.__code__, len(handler.__defaults__ or ()), tuple(handler.__kwdefaults__ or ()))
        else:
            return inspect_each_time(handler)
        if key not in known:
            known[key] = inspect_each_time(handler)
        return known[key]

    helpers.expects_arguments = expects_arguments


def wake_outboxes_only_to_send() -> None:
    """Each connected customer's NiceGUI outbox waits for something to send with a one-second timeout, after which
    it only looks whether it has been stopped and waits again; but `Outbox.stop` wakes it anyway. On Python 3.11
    every such timeout makes a task and cancels it: with 1,000 customers sitting on their dashboards, almost half
    the portal's CPU (bench/idle.py, py-spy). That wait is the only `wait_for` in NiceGUI's outbox module: there it
    now waits for its wake-up alone (tests/pages/test_speed.py checks both: it sleeps while idle, and stops)."""

    class OutboxAsyncio(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            return getattr(asyncio, name)

        @staticmethod
        def wait_for(awaitable: Awaitable, timeout: float | None = None) -> Awaitable:
            return awaitable

    outbox.asyncio = OutboxAsyncio('asyncio')


class RoomsBySocket(socketio.AsyncManager):
    """python-socketio's manager finds the rooms of a socket by looking through all rooms, twice when it disconnects
    (NiceGUI asks for them, then the manager leaves them). Every tab has two rooms (its socket's and its page's), so
    with 2,000 customers connected each page change looked through 4,000 rooms twice: a seventh of the event loop's
    time at a login peak (py-spy, bench/load.py). This manager also keeps each socket's rooms."""

    def __init__(self) -> None:
        super().__init__()
        self.rooms_of: dict[tuple[str, str], dict[str | None, None]] = {}  # (namespace, sid) → its rooms, in order

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self.rooms_of.setdefault((namespace, sid), {})[room] = None

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.pop(room, None)
            if not rooms:
                del self.rooms_of[(namespace, sid)]

    def get_rooms(self, sid, namespace):
        return [room for room in self.rooms_of.get((namespace, sid), ()) if room is not None]

    def basic_disconnect(self, sid, namespace, **kwargs):
        """As python-socketio's, but leaving the socket's own rooms instead of looking through all."""
        if namespace not in self.rooms:
            return
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]


def free_elements_without_the_collector() -> None:
    """Each NiceGUI element keeps its props, classes and style in observable collections that hold their own bound
    method `_update` as change handler: three reference cycles per element, so a page a customer has left is not
    freed when NiceGUI lets go of it but waits for Python's cyclic garbage collector, which then walks and frees
    some 1,000 objects per page in one of its full collections (up to 0.8 s each at a peak, bench/load.py: while it
    runs, nothing else does). The collections now find their `_update` when a change is handled, as the first
    handler as before, instead of storing it, and a page is freed by reference counting the moment it is let go.
    (NiceGUI's nested collections ask their parent for its handlers: they get `_update` the same way.)"""
    base = vars(ObservableCollection)['_change_handlers_with_args'].fget
    assert base is not None

    def handlers_with_own_update(self: ObservableCollection) -> list[tuple[Callable, bool]]:
        return [(self._update, False), *base(self)]  # type: ignore[attr-defined]

    kinds: tuple[Any, ...] = (Props, Classes, Style)  # patched below, attributes mypy cannot know
    for kind in kinds:
        if getattr(kind, 'without_cycles', False):
            continue
        make = kind.__init__

        def __init__(self, *args, _make=make, **kwargs) -> None:
            _make(self, *args, **kwargs)
            self._change_handlers = [
                (handler, expects)
                for handler, expects in self._change_handlers
                if getattr(handler, '__self__', None) is not self
            ]

        kind.__init__ = __init__
        kind._change_handlers_with_args = property(handlers_with_own_update)
        kind.without_cycles = True


def index_socket_rooms() -> None:
    """NiceGUI's socket.io server (made at import) gets a `RoomsBySocket` manager before anything connects."""
    if not isinstance(core.sio.manager, RoomsBySocket):
        assert not core.sio.manager.rooms, 'sockets connected before the manager was replaced'
        core.sio.manager = RoomsBySocket()
        core.sio.manager.set_server(core.sio)


def redirect(url: str) -> RedirectResponse:
    """What a page returns that only sends the browser on. NiceGUI has made a client for the page all the same, and
    as no browser ever connects to it, it would keep it for a minute, its outbox asking ten times a second whether a
    browser has connected: each login passes one such page, and at a login peak those cost a tenth of a core
    (bench/idle.py). So the client is deleted as soon as the redirect has gone out."""
    client = context.client

    async def forget() -> None:
        if not client.is_deleted and not client.has_socket_connection:
            client.delete()

    return RedirectResponse(url, background=BackgroundTask(forget))


def freeze_startup_objects() -> None:
    """Python's cyclic garbage collector walks every object that has survived long enough, modules and NiceGUI's
    own included, whenever it collects the oldest generation: 12 % of the CPU of a submission peak (perf,
    bench/load.py). What exists at start is set aside for good (`gc.freeze`) and no longer walked. (Collecting less
    often as well saved little more CPU and kept the pages of departed customers in memory longer.)"""
    gc.collect()
    gc.freeze()


def set_aside_survivors() -> None:
    """What has survived a full collection is set aside (`gc.freeze`) until the next thaw (`thaw_and_collect`).

    Every connected customer's page stays in memory as long as the tab is open: ~1,800 objects each, which the
    collector walked at each of its full collections, at a peak every few seconds: 0.3-0.5 s with 300 customers,
    seconds with 2,000, while nothing else runs (bench/load.py). Set aside, they are no longer walked; a page left
    is still freed at once by reference counting (`free_elements_without_the_collector`). What only the collector
    can free (reference cycles, mostly of connections that were open at a full collection) waits for the thaw."""
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)


def stop_setting_aside() -> None:
    """At shutdown (and between the tests, which start the portal again and again): nothing set aside any more."""
    if _freeze_after_full_collection in gc.callbacks:
        gc.callbacks.remove(_freeze_after_full_collection)
    gc.unfreeze()


def _freeze_after_full_collection(phase: str, info: dict[str, int]) -> None:
    if phase == 'stop' and info['generation'] == 2:
        gc.freeze()  # the young generations are empty now: exactly the survivors


def thaw_due(seconds_since_last: float, cpu_share: float, every: float, latest: float, quiet: float) -> bool:
    """Whether to walk what was set aside now: `every` seconds after the last time, at a moment the process used
    less than the `quiet` share of a core over the last few seconds (the walk pauses everything, 1.6 s with 1,000
    customers connected to a process: not in the middle of a peak), and after `latest` seconds in any case."""
    return seconds_since_last >= latest or (seconds_since_last >= every and cpu_share < quiet)


def thaw_and_collect() -> tuple[int, int, float]:
    """One full collection over everything set aside, which sets the survivors aside again: how many objects had
    been set aside, how many were freed, and the seconds it took."""
    set_aside = gc.get_freeze_count()
    gc.unfreeze()
    started = time.perf_counter()
    freed = gc.collect()
    return set_aside, freed, time.perf_counter() - started
