"""socket.io messages bound to the socket that owns their tab (docs/security.md, V4 and V7).

NiceGUI dispatches a tab's UI events, JavaScript answers, acknowledgements and browser log lines by the client id the
message names, whichever socket sends it: a second socket (even an anonymous one) that knew a tab's client id could
click in that tab, e.g. change a street. The id is 122 random bits, so this is defence in depth. The portal's own
handlers for these messages accept a message only from a socket that completed the handshake of that very tab, and
write a browser's log line as one limited, single line at a known level: a `log` message with a line break forged
a server log line, and the level "critical" crashed NiceGUI's handler.

This reads NiceGUI's private record of a tab's sockets (`Client._socket_to_document_id`) and replaces NiceGUI's
handlers through python-socketio's public `on`: so it is fenced like the tuning (service.tuning.guard), applied only on
the NiceGUI version it was written for, and unlike the tuning it is not switched off by KUNDENPORTAL_TUNING=off.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from nicegui import Client, core

from service.tuning.guard import Patch, Undo, fits

log = logging.getLogger('kundenportal')
browser_log = logging.getLogger('kundenportal.browser')

BOUND = ('event', 'javascript_response', 'ack')  # NiceGUI's handlers that act on a tab named by the message
LEVELS = {'debug': logging.DEBUG, 'info': logging.INFO, 'warning': logging.WARNING, 'error': logging.ERROR}
LOG_LINE_LIMIT = 300  # characters of a browser's log line
LOG_LINES_PER_MINUTE = 20  # per tab; more are dropped

Handler = Callable[[str, Any], Any]
_undo: list[Undo] = []
_refused_at = 0.0
_log_budget: dict[str, tuple[float, int]] = {}  # client id → (minute started, lines written)


def owns(sid: str, message: Any) -> Client | None:
    """The tab the message names, if the sending socket is one of that tab's own; else None."""
    client_id = message.get('client_id') if isinstance(message, dict) else None
    client = Client.instances.get(client_id) if isinstance(client_id, str) else None
    if client is None or sid not in client._socket_to_document_id:
        return None
    return client


def bound(handler: Handler, name: str) -> Handler:
    def on_message(sid: str, message: Any) -> Any:
        if owns(sid, message) is None:
            _refused(name)
            return None
        return handler(sid, message)

    on_message.__name__ = f'bound_{name}'
    return on_message


def on_log(sid: str, message: Any) -> None:
    """A browser's console line for the server log: from the tab's own socket, one line, limited in length and
    number, at a known level (anything else as a warning)."""
    client = owns(sid, message)
    if client is None:
        _refused('log')
        return
    if not _within_budget(client.id):
        return
    level = LEVELS.get(str(message.get('level', '')), logging.WARNING)
    text = ' '.join(str(message.get('message', '')).split())[:LOG_LINE_LIMIT]
    browser_log.log(level, 'browser %s: %s', client.id[:8], text)


def _within_budget(client_id: str) -> bool:
    now = time.monotonic()
    started, lines = _log_budget.get(client_id, (now, 0))
    if now - started > 60:
        started, lines = now, 0
    _log_budget[client_id] = (started, lines + 1)
    if len(_log_budget) > 10_000:  # tabs gone long ago
        _log_budget.clear()
    return lines < LOG_LINES_PER_MINUTE


def _refused(name: str) -> None:
    global _refused_at
    if time.monotonic() - _refused_at > 10:  # said at most every 10 s, whatever a probe sends
        _refused_at = time.monotonic()
        log.warning('socket.io %r for a tab from a socket that is not its own: ignored', name)


def apply() -> Undo:
    handlers = core.sio.handlers['/']
    original = {name: handlers[name] for name in (*BOUND, 'log')}
    for name in BOUND:
        core.sio.on(name, bound(original[name], name))
    core.sio.on('log', on_log)

    def undo() -> None:
        for name, handler in original.items():
            core.sio.on(name, handler)

    return undo


PATCH = Patch('socket_ownership', 'nicegui', '3.18.*', apply)


def install() -> bool:
    """At start (not switched off with the tuning); whether it is on."""
    if _undo or not fits(PATCH):
        return bool(_undo)
    _undo.append(apply())
    return True


def uninstall() -> None:
    while _undo:
        _undo.pop()()
