"""python-socketio's manager finds the rooms of a socket by looking through all rooms, twice when it disconnects
(NiceGUI asks for them, then the manager leaves them). Every tab has two rooms (its socket's and its page's), so
each page change costs time in proportion to the customers connected: at a login peak with thousands connected, a
large share of the event loop (docs/operations.md). `RoomsBySocket` also keeps each socket's rooms. NiceGUI makes
its socket.io server at import, with python-socketio's manager: it gets this one at start."""

from typing import Any

import socketio
from nicegui import core

from service.tuning.guard import Patch, Undo


class RoomsBySocket(socketio.AsyncManager):
    """python-socketio's `AsyncManager`, which also keeps the rooms of each socket."""

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


STATE = ('rooms', 'eio_to_sid', 'callbacks', 'pending_connect', 'pending_disconnect')


def apply() -> Undo:
    original: Any = core.sio.manager
    manager = RoomsBySocket()
    manager.set_server(core.sio)
    for name in STATE:  # sockets connected already (none at start) keep their rooms
        setattr(manager, name, getattr(original, name))
    for namespace, rooms in manager.rooms.items():
        for room, sids in rooms.items():
            for sid in sids:
                manager.rooms_of.setdefault((namespace, sid), {})[room] = None
    core.sio.manager = manager

    def undo() -> None:  # python-socketio's own manager again, with the sockets connected meanwhile
        for name in STATE:
            setattr(original, name, getattr(manager, name))
        core.sio.manager = original

    return undo


PATCH = Patch('socket_rooms', 'python-socketio', '5.18.1', apply)
