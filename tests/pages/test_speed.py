"""pages/speed.py: the shortcuts taken for NiceGUI's repeated work give NiceGUI's own answers."""

import asyncio
import functools
import gc
import threading
import weakref

import socketio
from hypothesis import given, settings
from hypothesis import strategies as st
from nicegui import Client, core, helpers, ui

from pages.speed import (
    RoomsBySocket,
    free_elements_without_the_collector,
    remember_handler_signatures,
    set_aside_survivors,
    thaw_and_collect,
    thaw_due,
)

OPERATION = st.tuples(
    st.sampled_from(['connect', 'enter', 'leave', 'disconnect', 'callback']),
    st.integers(0, 5),
    st.sampled_from(['page-1', 'page-2', 'page-3']),
)


def test_handler_signatures_are_remembered_by_code_and_answer_as_nicegui_does(monkeypatch):
    original = helpers.expects_arguments
    monkeypatch.setattr(helpers, 'expects_arguments', original)
    remember_handler_signatures()
    remembered = helpers.expects_arguments
    assert remembered is not original

    def make(n):  # closures made anew per page, as the click handlers are
        return [lambda: n, lambda event: n, lambda event=None: n, lambda *args: n, lambda r=n, s=n: (r, s)]

    class Page:
        def method(self, event): ...

    def needs(a, b=1): ...

    for handlers in (make(1), make(2)):
        for handler in handlers:
            assert remembered(handler) == original(handler)
    for handler in (Page().method, needs, functools.partial(needs, 1), functools.partial(needs)):
        assert remembered(handler) == original(handler)
        assert remembered(handler) == original(handler)  # the remembered answer too

    @functools.wraps(needs)
    def wrapped(): ...  # its signature is the wrapped function's: inspected each time, like NiceGUI does

    assert remembered(wrapped) == original(wrapped) is True


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


async def test_the_portal_finds_a_sockets_rooms_without_looking_through_all(user):
    await user.open('/')
    await user.should_see('Passwort vergessen?')
    assert isinstance(core.sio.manager, RoomsBySocket) and core.sio.manager.server is core.sio


async def test_a_page_that_only_redirects_leaves_no_client_behind(user):
    await user.open('/anmelden/weiter?t=unknown')  # a login ticket that is not valid: on to the login
    await user.should_see('Passwort vergessen?')
    assert not [c for c in Client.instances.values() if c.page.path == '/anmelden/weiter']


async def test_a_page_left_is_freed_by_reference_counting_without_the_cyclic_collector(user):
    free_elements_without_the_collector()  # done at start already: a second time changes nothing
    await user.open('/')
    await user.should_see('Passwort vergessen?')
    client = user.client
    kept = [id(value) for value in vars(client).values()]  # the frame the client itself holds (test's client)
    parts = [
        weakref.ref(part)
        for element in client.elements.values()
        if id(element) not in kept
        for part in (element, element.props, element.classes, element.style)
    ]
    assert len(parts) > 40
    gc.collect()
    gc.disable()
    try:
        client.delete()  # what NiceGUI does when the browser has left the page
        alive = [part() for part in parts if part() is not None]
        assert not alive, f'{len(alive)} of {len(parts)} wait for the cyclic collector: {alive[:3]}'
    finally:
        gc.enable()


async def test_props_classes_and_style_still_update_their_element_also_through_nested_values(user):
    await user.open('/')
    await user.should_see('Passwort vergessen?')
    with user.client.layout:
        label = ui.label('Zählerstand')
    updates = []
    label.update = lambda: updates.append(1)

    def changes(step) -> bool:
        before = len(updates)
        step()
        return len(updates) > before

    assert changes(lambda: label.props('color=red'))
    assert changes(lambda: label.classes('text-h6'))
    assert changes(lambda: label.style('margin: 0'))
    assert changes(lambda: label.props.update(nested={'values': [1]}))
    assert changes(lambda: label.props['nested']['values'].append(2))  # a collection inside the props
    assert changes(lambda: label.props['nested'].update(more=3))
    seen = []
    label.props.on_change(lambda: seen.append(len(updates)))  # a handler added later comes after the update
    assert changes(lambda: label.props('dense'))
    assert seen == [len(updates)]


async def test_survivors_of_a_full_collection_are_set_aside_until_the_thaw(user):
    await user.open('/')  # the portal has started: survivors are set aside from now on
    await user.should_see('Passwort vergessen?')

    class Node:
        other: object = None

    first, second = Node(), Node()
    first.other, second.other = second, first  # a reference cycle: only the collector can free it
    cycle = weakref.ref(first)
    gc.collect()
    assert gc.get_freeze_count() > 0 and not any(o is first for o in gc.get_objects(2))
    del first, second
    gc.collect()
    assert cycle() is not None  # set aside: not walked by the collections until the thaw
    set_aside, freed, seconds = thaw_and_collect()
    assert cycle() is None and set_aside > 0 and freed >= 2 and seconds < 5
    set_aside_survivors()  # installed once only
    assert sum(1 for callback in gc.callbacks if getattr(callback, '__module__', '') == 'pages.speed') == 1


def test_what_was_set_aside_is_walked_at_a_quiet_moment_after_the_interval_and_after_the_latest_in_any_case():
    every, latest, quiet = 600.0, 3600.0, 0.3
    assert not thaw_due(599.0, 0.0, every, latest, quiet)  # not yet
    assert thaw_due(600.0, 0.05, every, latest, quiet)  # due, and the process is nearly idle
    assert not thaw_due(1800.0, 0.9, every, latest, quiet)  # due, but busy: the walk would pause a peak
    assert not thaw_due(3599.0, 0.3, every, latest, quiet)
    assert thaw_due(3600.0, 1.5, every, latest, quiet)  # however busy: cycles are not kept longer than this


async def test_an_idle_customers_outbox_sleeps_until_there_is_something_to_send_and_stops_at_once(user):
    await user.open('/')
    await user.should_see('Passwort vergessen?')
    client = user.client
    [loop_task] = [t for t in asyncio.all_tasks() if t.get_name() == f'outbox loop {client.id}']

    class Counting(type(client.outbox)):
        """Counts the outbox loop's rounds: each begins by reading `_should_stop`."""

        rounds = 0

        @property
        def _should_stop(self):
            Counting.rounds += 1
            return self.__dict__['_should_stop']

        @_should_stop.setter
        def _should_stop(self, value):
            self.__dict__['_should_stop'] = value

    await asyncio.sleep(0.1)
    client.outbox.__class__ = Counting
    await asyncio.sleep(1.5)
    assert Counting.rounds == 0  # NiceGUI's own loop looks again every second

    sent = []
    original = client.outbox._emit

    async def emit(message):
        sent.append(message[1])
        await original(message)

    client.outbox._emit = emit
    client.run_javascript('void 0')
    await asyncio.sleep(0.1)
    assert Counting.rounds >= 1 and sent == ['run_javascript']

    client.delete()
    await asyncio.sleep(0.05)
    assert loop_task.done()


async def test_quick_transactions_run_on_the_event_loop_and_wait_in_a_thread_only_behind_another_writer(db, tmp_path):
    """On SQLite a reading submission runs on the event loop; while another writer of the process holds the turn,
    it is rolled back there and runs again in a worker thread once the writer is done: stored once, loop free."""

    from sqlalchemy import text
    from sqlmodel import Session, select

    from app import build
    from domain.clock import SystemClock
    from domain.model import MeterReading
    from domain.readings import meter_forms, submit_reading
    from storage.database import make_engine
    from storage.settings import Settings
    from tests.factories import add_readings, make_customer, make_login, portal_today, year_end

    customer = make_customer(db)
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13650))
    login = make_login(db, [customer['id']])
    _, portal, _ = build(Settings(), SystemClock())
    threads: list[str] = []
    make = portal.unit_of_work

    def recorded():
        threads.append(threading.current_thread().name)
        return make()

    portal.unit_of_work = recorded
    assert await portal.read(meter_forms, login['id'], customer['id'])
    value = str(13650 + 10 * (portal_today() - year_end()).days)
    assert (
        await portal.act(submit_reading, login['id'], customer['id'], customer['meter_number'], {'1.8.0': value}, '')
    ).meter_number == customer['meter_number']
    assert threads == ['MainThread', 'MainThread']

    threads.clear()
    writer = make_engine(str(db.url)).connect()  # another writer of this process, mid-transaction
    writer.execute(text("UPDATE customer SET email = 'x@example.org' WHERE id = :c"), {'c': customer['id']})
    submitting = asyncio.create_task(
        portal.act(submit_reading, login['id'], customer['id'], customer['meter_number'], {'1.8.0': value}, '')
    )
    await asyncio.sleep(0.3)  # the loop is free meanwhile
    assert not submitting.done() and threads[0] == 'MainThread' and len(threads) == 2
    writer.rollback()
    await asyncio.wait_for(submitting, 10)
    assert threads[1] != 'MainThread'
    with Session(db) as session:
        readings = session.exec(select(MeterReading).where(MeterReading.source == 'customer')).all()
    assert [(r.reading_date, r.value) for r in readings] == [(portal_today(), int(value))]  # corrected, not doubled
    writer.close()
