"""Pages built a few at a time, in order of arrival, and a friendly "come back shortly" when the queue is long.

NiceGUI builds every page on the event loop and gives up a page whose browser has not connected its websocket
within a minute of the page's creation. Started all at once, the pages of a peak (a mass mailing, the last evening
before the reading deadline) share the loop round-robin, and many are given up before they reach their browser
(`bench/load.py`; the figures are in docs/operations.md, "The page queue"). Queued in order, each page is built and
sent in a few milliseconds once its turn comes, and its websocket connects at once. A visitor who would wait longer
than `max_wait` gets a short page that loads itself again in `RETRY_SECONDS` (503 with Retry-After) instead of a
browser or proxy timeout; so does one whose turn has not come within `max_wait` after all.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pages import styles
from service.backlog import Backlog

log = logging.getLogger('kundenportal')

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

RETRY_SECONDS = 30
# NiceGUI's files and socket, our stylesheet (a page waits for it before its socket connects), probes, the API; and
# the step that starts the session of a login just checked (a one-time ticket valid for a minute: the hashing is
# done, and the customer would have to log in again).
NOT_QUEUED = ('/_nicegui', styles.PREFIX, '/healthz', '/api/', '/favicon.ico', '/anmelden/weiter')
BUSY_PAGE = f'''<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{RETRY_SECONDS}"><title>Einen Moment bitte</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Einen Moment bitte</h1>
<p>Gerade nutzen sehr viele Kundinnen und Kunden das Kundenportal. Diese Seite lädt sich in {RETRY_SECONDS} Sekunden
von selbst neu; Ihre Anmeldung bleibt erhalten.</p>
<p lang="en">The customer portal is very busy right now. This page reloads by itself in {RETRY_SECONDS} seconds.</p>
</body></html>'''.encode()


class PageQueue(Backlog):
    """ASGI middleware: GET requests for pages and downloads wait their turn, `concurrent` at a time.

    The wait is estimated from how often a page was finished while others waited (`seconds`: the moving average of
    the time between two pages done), not from how long one page takes: when the loop is busy with logins and
    websocket messages, a page whose turn has come starts only in the loop's next round, and the time until then
    is lost to the queue. Estimated from a page's own duration, the wait at a login peak was promised under
    `max_wait` and lasted minutes (`bench/load.py`; docs/operations.md)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        concurrent: int = 4,
        max_wait: float = 30.0,
        estimate: float = 0.02,
    ) -> None:
        super().__init__('pages', f'in {RETRY_SECONDS} s', estimate)
        self.app, self.concurrent, self.max_wait = app, concurrent, max_wait
        self.busy = 0  # pages being built
        self.waiting: list[asyncio.Future[bool]] = []  # in order of arrival
        self._since = 0.0  # the last page done, or the moment pages began to wait if later

    def wait_expected(self) -> float:
        return len(self.waiting) * self.seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http' or scope['method'] != 'GET' or scope['path'].startswith(NOT_QUEUED):
            await self.app(scope, receive, send)
            return
        if self.busy >= self.concurrent or self.waiting:
            if self.wait_expected() > self.max_wait:
                await self._turn_away(send)
                return
            if not self.waiting:
                self._since = max(self._since, time.perf_counter())
            loop = asyncio.get_running_loop()
            turn: asyncio.Future[bool] = loop.create_future()  # True: its turn; False: waited `max_wait` in vain
            self.waiting.append(turn)
            expiry = loop.call_later(self.max_wait, self._expire, turn)
            try:
                given = await turn
            except asyncio.CancelledError:  # the visitor left while waiting; a turn handed over passes on
                if turn in self.waiting:
                    self.waiting.remove(turn)
                elif turn.done() and not turn.cancelled() and turn.result():
                    self._next()
                raise
            finally:
                expiry.cancel()
            if not given:  # the estimate was wrong: asked to come back rather than kept waiting any longer
                await self._turn_away(send)
                return
        else:
            self.busy += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._next()

    def _next(self) -> None:
        """The page is done: its turn goes to the longest waiting one."""
        if self.waiting:
            now = time.perf_counter()
            self.took(now - self._since)
            self._since = now
        while self.waiting:
            turn = self.waiting.pop(0)
            if not turn.done():
                turn.set_result(True)
                return
        self.busy -= 1

    def _expire(self, turn: asyncio.Future[bool]) -> None:
        if turn in self.waiting:
            self.waiting.remove(turn)
            turn.set_result(False)

    async def _turn_away(self, send: Send) -> None:
        self.turn_away(len(self.waiting))
        await send(
            {
                'type': 'http.response.start',
                'status': 503,
                'headers': [
                    (b'content-type', b'text/html; charset=utf-8'),
                    (b'retry-after', str(RETRY_SECONDS).encode()),
                    (b'cache-control', b'no-store'),
                    (b'content-length', str(len(BUSY_PAGE)).encode()),
                ],
            }
        )
        await send({'type': 'http.response.body', 'body': BUSY_PAGE})
