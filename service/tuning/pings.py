"""engine.io pings every connected tab. NiceGUI derives the pings from the reconnect time at its start-up (with
10 s: every 8 s, answer within 4 s), but at a peak the event loop is seconds behind, and a tab whose answer waited
unread longer than that was dropped; idle, each tab is pinged three times as often as engine.io's defaults would
(docs/operations.md). NiceGUI has no setting for them: after its start-up they are set as engine.io's own
defaults, every 25 s, answer within 20 s."""

from nicegui import app, core

from service.tuning.guard import Patch, Undo

INTERVAL_SECONDS, TIMEOUT_SECONDS = 25.0, 20.0
_on = False


def apply() -> Undo:
    global _on
    _on = True
    app.on_startup(_ping_as_engineio_does)  # after NiceGUI's own start-up handler, which sets them

    def undo() -> None:
        global _on
        _on = False

    return undo


def _ping_as_engineio_does() -> None:
    if _on:
        core.sio.eio.ping_interval, core.sio.eio.ping_timeout = INTERVAL_SECONDS, TIMEOUT_SECONDS


PATCH = Patch('pings', 'nicegui', '3.18.*', apply)
