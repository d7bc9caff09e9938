"""One simulated customer of bench/load.py: a browser tab reduced to what the portal sees of it.

HTTP with its own cookie jar for the pages, and a socket.io websocket speaking NiceGUI's protocol (the events a
browser sends when a field is typed into or a button clicked; the updates and navigation the server sends back),
with python-socketio's client and aiohttp from the test requirements.
"""

import ast
import asyncio
import collections
import json
import random
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import engineio
import socketio

PASSWORD = 'Bench-Passwort-2026'
ELEMENTS = re.compile(r'parseElements\(String\.raw`(.*?)`\)', re.S)
QUERY = re.compile(r'query: (\{.*?\}),\n')
BUSY = 'in einer Minute noch einmal'


class _EngineioWords:
    """The engine.io client's log of one connection: the lines ending in "aborting" say why it ended ("Server sent
    close packet" when the server closed it, "packet queue is empty" when the client gave up waiting itself);
    counted into `said` until the page is left."""

    def __init__(self, said: collections.Counter[str]) -> None:
        self.said: collections.Counter[str] | None = said

    def _note(self, message: str, *args: object, **_: object) -> None:
        text = message % args if args else message
        if self.said is not None and text.endswith('aborting'):
            self.said[re.sub(r'packet data .*,', 'packet,', text)] += 1

    debug = info = warning = error = exception = _note


class Busy(Exception):
    """The portal answered "Einen Moment bitte" (503): the page loads itself again after `seconds`."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class _EngineioAsBrowser(engineio.AsyncClient):
    """A browser's engine.io client gives up on a connection when no ping came for the server's ping interval +
    ping timeout (25 + 20 s). Python's gives up when it had nothing to send for max(interval, timeout) + 5 s: a ping
    more than 5 s late (the server's loop busy with a burst) ended the connection here, not in a browser. Its wait
    set to the browser's 45 s once the handshake told interval and timeout (it then waits 25 + 40 s for any packet)."""

    def start_background_task(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if target == self._write_loop:  # (engineio has no type hints: mypy knows ping_timeout only from here)
            self.ping_timeout = self.ping_interval + float(self.ping_timeout) - 5  # type: ignore[has-type]
        return super().start_background_task(target, *args, **kwargs)


class _SocketioAsBrowser(socketio.AsyncClient):
    def _engineio_client_class(self) -> type[engineio.AsyncClient]:
        return _EngineioAsBrowser


class Customer:
    """A browser tab, reduced to what the portal sees of it."""

    def __init__(self, base: str, email: str, value: str) -> None:
        self.base, self.email, self.value = base, email, value
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.socket: socketio.AsyncClient | None = None
        self.elements: dict = {}
        self.client_id = ''
        self.next_message_id = 0
        self.texts: list[str] = []
        self.opened: asyncio.Future | None = None
        self.changed = asyncio.Event()
        self.done_at = 0.0
        self.retries = 0
        self.reloads = 0
        self.waited = 0
        self.lost = asyncio.Event()
        self.ended_by: collections.Counter[str] = collections.Counter()  # socket.io's reasons, while on a page
        self.said: collections.Counter[str] = collections.Counter()  # engine.io's words for it
        self.words: _EngineioWords | None = None

    async def page(self, path: str) -> float:
        """Load a page (HTTP) and connect its websocket as the browser does; returns the page's build time."""
        await self.leave()
        started = time.perf_counter()
        try:
            async with self.http.get(self.base + path) as answer:
                html = await answer.text()
                self.path = answer.url.path
        except TimeoutError as error:  # aiohttp gives up after 300 s, as a browser would: say which page it was
            raise TimeoutError(f'GET {path}: no answer after {time.perf_counter() - started:.0f} s') from error
        built = time.perf_counter() - started
        if answer.status == 503:
            raise Busy(int(answer.headers.get('Retry-After', '30')))
        elements, query_found = ELEMENTS.search(html), QUERY.search(html)
        if elements is None or query_found is None:
            raise LookupError(f'GET {path}: not a NiceGUI page')
        raw = elements.group(1)
        for entity, char in (('&#36;', '$'), ('&#96;', '`'), ('&gt;', '>'), ('&lt;', '<'), ('&amp;', '&')):
            raw = raw.replace(entity, char)
        self.elements = json.loads(raw)
        query = ast.literal_eval(query_found.group(1))  # NiceGUI writes the Python dict as it is
        self.client_id, self.next_message_id = query['client_id'], 0
        params = {**query, 'document_id': str(uuid.uuid4()), 'tab_id': str(uuid.uuid4()), 'old_tab_id': ''}
        url = (
            self.base + '?' + '&'.join(f'{k}={str(v).lower() if isinstance(v, bool) else v}' for k, v in params.items())
        )
        for attempt in range(3):  # a browser retries too
            self.words = _EngineioWords(self.said)
            self.socket = _SocketioAsBrowser(reconnection=False, engineio_logger=self.words)
            self.socket.on('update', self._update)
            self.socket.on('open', self._open)
            self.socket.on('disconnect', self._lost)
            try:
                await self.socket.connect(
                    url, socketio_path='/_nicegui_ws/socket.io', transports=['websocket'], wait_timeout=60
                )
                break
            except socketio.exceptions.ConnectionError:
                if attempt == 2:
                    raise
                await asyncio.sleep(1)
        return built

    async def leave(self) -> None:
        if self.socket is not None:
            socket, self.socket = self.socket, None
            socket.handlers['/'].pop('disconnect', None)  # leaving the page is not a lost connection
            if self.words is not None:
                self.words.said = None
            await socket.disconnect()
        self.lost.clear()

    async def close(self) -> None:
        await self.leave()
        await self.http.close()

    def _note(self, data: dict) -> None:
        if data.get('_id') is not None:
            self.next_message_id = data.pop('_id') + 1

    async def _update(self, data: dict) -> None:
        self._note(data)
        for element in data.values():
            if isinstance(element, dict) and 'hidden' not in element.get('class', []):  # what is on screen
                props = element.get('props', {})
                self.texts.append(
                    ' '.join(
                        str(x)
                        for x in (
                            element.get('text') or '',
                            props.get('label', ''),
                            props.get('error-message') or '',
                            props.get('innerHTML') or '',  # a part of plain markup (pages/markup.py)
                        )
                        if x
                    )
                )
        self.changed.set()

    async def _lost(self, reason: str = '?') -> None:
        """The connection ended while on the page: a browser would reload the page."""
        self.ended_by[str(reason)] += 1
        self.lost.set()

    async def _open(self, data: dict) -> None:
        self._note(data)
        if self.opened is not None and not self.opened.done():
            self.opened.set_result(data['path'])

    def _find(self, label: str, kind: str) -> tuple[str, str]:
        """The element named `label` that listens to `kind` events, and its listener."""
        for element_id, element in self.elements.items():
            if element.get('props', {}).get('label') == label or element.get('text') == label:
                for event in element.get('events', []):
                    if event['type'] == kind:
                        return element_id, event['listener_id']
        raise LookupError(f'no {label!r} for {kind} on {self.path}')

    async def _emit(self, label: str, kind: str, args: list) -> None:
        element_id, listener = self._find(label, kind)
        if self.socket is None:
            raise ConnectionError(f'no websocket on {self.path}')
        await self.socket.emit(
            'event', {'id': int(element_id), 'client_id': self.client_id, 'listener_id': listener, 'args': args}
        )

    async def type(self, label: str, value: str) -> None:
        await self._emit(label, 'update:value', [json.dumps(value)])

    async def click(self, label: str) -> None:
        await self._emit(label, 'click', [])

    async def ack(self) -> None:
        if self.socket is not None:
            await self.socket.emit('ack', {'client_id': self.client_id, 'next_message_id': self.next_message_id})

    async def wait_for_text(self, part: str, timeout: float = 120) -> None:
        deadline = time.perf_counter() + timeout
        while not any(part in t for t in self.texts):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.perf_counter()))

    async def log_in(self) -> float:
        """Log in as a customer does at a peak: turned away with "in einer Minute noch einmal", wait and retry;
        a page whose connection the server dropped is reloaded (what the browser does) and the login starts over."""
        started = time.perf_counter()
        while True:
            await self.reloading('/')
            await self.type('E-Mail-Adresse', self.email)
            await self.type('Passwort', PASSWORD)
            while True:
                self.opened = asyncio.get_running_loop().create_future()
                self.texts.clear()
                await self.click('Anmelden')
                turned_away = asyncio.create_task(self.wait_for_text(BUSY, 1800))
                lost = asyncio.create_task(self.lost.wait())
                await asyncio.wait([self.opened, turned_away, lost], timeout=1800, return_when=asyncio.FIRST_COMPLETED)
                turned_away.cancel()
                lost.cancel()
                if self.opened.done() or self.lost.is_set():
                    break
                self.retries += 1
                await asyncio.sleep(random.uniform(20, 60))  # "Bitte versuchen Sie es in einer Minute noch einmal."
                if self.lost.is_set() or self.opened.done():
                    break
            if self.opened.done():
                break
            self.reloads += 1
        took = time.perf_counter() - started
        await self.reloading(self.opened.result())  # the new session id; redirects on to /uebersicht
        assert self.path == '/uebersicht', self.path
        return took

    async def reloading(self, path: str, tries: int = 20) -> float:
        """`page`, loaded again a few seconds later when its websocket does not connect (the server gave the page up
        while busy), as the browser does, counted in `reloads`; and when the server answers "Einen Moment bitte"
        (503), after the seconds it names, as that page does by itself, counted in `waited`. Returns the time from
        the first request until the page was there."""
        started = time.perf_counter()
        for attempt in range(tries):
            try:
                await self.page(path)
                return time.perf_counter() - started
            except Busy as busy:
                self.waited += 1
                await asyncio.sleep(busy.seconds)
            except socketio.exceptions.ConnectionError:
                if attempt == tries - 1:
                    raise
                self.reloads += 1
                await asyncio.sleep(random.uniform(2, 5))
        raise RuntimeError(f'{path} did not load in {tries} tries')

    async def enter_reading(self) -> None:
        await self.type('Zählerstand', self.value)

    async def submit_reading(self) -> float:
        """Click "Zählerstand übermitteln"; seconds until the confirmation is on screen."""
        self.texts.clear()
        started = time.perf_counter()
        await self.click('Zählerstand übermitteln')
        try:
            await self.wait_for_text('Vielen Dank! Ihr Zählerstand')
        except TimeoutError:
            raise RuntimeError(f'no confirmation for {self.email}; the page showed {self.texts[-4:]}') from None
        self.done_at = time.perf_counter()
        return self.done_at - started
