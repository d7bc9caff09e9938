"""A page that only sends the browser on (`redirect`). NiceGUI has made a client for the page all the same, and as
no browser ever connects to it, it would keep it for a minute, its outbox asking ten times a second whether a
browser has connected: a customer who follows a mailed link to a page behind the login passes one, and at a login
peak they add up (docs/operations.md). So the client is deleted as soon as the redirect has gone out."""

from nicegui import context
from starlette.background import BackgroundTask
from starlette.responses import RedirectResponse

from service.tuning.guard import Patch, Undo

_on = False


def redirect(url: str) -> RedirectResponse:
    """What a page returns that only sends the browser on (with the patch off: Starlette's redirect alone)."""
    if not _on:
        return RedirectResponse(url)
    client = context.client

    async def forget() -> None:
        if not client.is_deleted and not client.has_socket_connection:
            client.delete()

    return RedirectResponse(url, background=BackgroundTask(forget))


def apply() -> Undo:
    global _on
    _on = True

    def undo() -> None:
        global _on
        _on = False

    return undo


PATCH = Patch('redirects', 'nicegui', '3.18.*', apply)
