"""Serving a stored document (bill, inbox PDF) to the logged-in customer it belongs to."""

from collections.abc import Awaitable, Callable

from fastapi import Response
from starlette.responses import FileResponse, RedirectResponse

from domain.errors import DomainError
from pages import session
from pages.language import t
from service.runner import Portal


async def owned_document(portal: Portal, find: Callable[[int], Awaitable[str]], filename: str) -> Response:
    """`find(user_id)` is the use case that names the document (relative to the documents folder) or raises;
    a foreign, unknown or missing document answers the same 404. A plain download (attachment): works on
    mobile Safari, no pop-up window."""
    me = await session.current(portal)
    if me is None:
        return RedirectResponse('/')
    try:
        relative = await find(me.user_id)
    except DomainError:
        return _not_found()
    path = portal.files.locate(relative) if portal.files else None
    if path is None:
        return _not_found()
    return FileResponse(
        path,
        media_type='application/pdf',
        filename=filename or path.name,
        headers={'Cache-Control': 'private, no-store'},
    )


def _not_found() -> Response:
    return Response(t('error.not_allowed'), status_code=404, media_type='text/plain; charset=utf-8')
