"""service/tuning/socket_rooms.py: python-socketio's server keeps each socket's rooms in `RoomsBySocket`, with the
same rooms and answers as its own manager."""

import socketio
from hypothesis import given, settings
from hypothesis import strategies as st
from nicegui import Client, core

from service.tuning.socket_rooms import RoomsBySocket
from tests.tuning.conftest import close_tab, open_tab

OPERATION = st.tuples(
    st.sampled_from(['connect', 'enter', 'leave', 'disconnect', 'callback']),
    st.integers(0, 5),
    st.sampled_from(['page-1', 'page-2', 'page-3']),
)


async def test_a_tab_connecting_and_leaving_goes_through_the_manager_that_keeps_each_sockets_rooms(served):
    manager = core.sio.manager
    assert isinstance(manager, RoomsBySocket) and manager.server is core.sio
    tab, client_id = await open_tab(served)
    sid = tab.get_sid('/')
    assert manager.rooms_of[('/', sid)] == {None: None, sid: None, client_id: None}  # socket.io's and NiceGUI's
    assert core.sio.rooms(sid) == [sid, client_id]
    assert Client.instances[client_id].has_socket_connection
    await close_tab(tab)
    assert manager.rooms_of == {} and manager.rooms == {}  # left through NiceGUI's handler and the manager's own
    assert not Client.instances[client_id].has_socket_connection


@settings(max_examples=300, deadline=None)
@given(st.lists(OPERATION, max_size=40), st.sampled_from(['/', '/other']))
def test_the_socket_rooms_are_those_python_socketio_keeps(operations, namespace):
    """Any sequence of connecting, entering and leaving rooms, disconnecting: the same rooms, callbacks and
    answers as python-socketio's own manager."""
    ours, theirs = RoomsBySocket(), socketio.AsyncManager()
    for operation, n, room in operations:
        sid = f'sid-{n}'
        for manager in (ours, theirs):
            connected = sid in manager.rooms.get(namespace, {}).get(None, {})
            if operation == 'connect' and not connected:
                manager.basic_enter_room(sid, namespace, None, eio_sid=f'eio-{n}')
                manager.basic_enter_room(sid, namespace, sid)
            elif operation == 'enter' and connected:
                manager.basic_enter_room(sid, namespace, room)
            elif operation == 'leave':
                manager.basic_leave_room(sid, namespace, room)
            elif operation == 'disconnect':
                manager.pending_disconnect.setdefault(namespace, []).append(sid)  # as the server does first
                manager.basic_disconnect(sid, namespace)
            elif operation == 'callback' and connected:
                manager.callbacks.setdefault(sid, {})[n] = print
        assert ours.rooms == theirs.rooms
        assert ours.callbacks == theirs.callbacks and ours.pending_disconnect == theirs.pending_disconnect
        for k in range(6):
            assert sorted(map(str, ours.get_rooms(f'sid-{k}', namespace))) == sorted(
                map(str, theirs.get_rooms(f'sid-{k}', namespace))
            )
