"""Serving a stored document (bill, inbox PDF) to the logged-in customer it belongs to."""

import re
from collections.abc import Awaitable, Callable

from fastapi import Response
from starlette.responses import FileResponse, RedirectResponse

from domain.errors import DomainError
from pages import session
from pages.language import t
from service.runner import Portal

Find = Callable[[session.LoggedIn, tuple[int, int]], Awaitable[str | tuple[str, str]]]


async def owned_document(portal: Portal, find: Find, filename: str, media_type: str = 'application/pdf') -> Response:
    """`find(me, login)` runs the use case that names the document (relative to the documents folder; or with the
    name to save it under, which then replaces `filename`) or raises,
    with `login=login`: the session is checked in that use case's transaction, as for a change. A foreign, unknown
    or missing document answers the same 404; an ended session leads to the login. A plain download
    (attachment): works on mobile Safari, no pop-up window."""
    try:
        valid, found = await session.fetch(portal, find)
    except DomainError:
        return _not_found()
    if not valid or found is None:
        return RedirectResponse('/')
    relative, filename = found if isinstance(found, tuple) else (found, filename)
    path = portal.files.locate(relative) if portal.files else None
    if path is None:
        return _not_found()
    return FileResponse(
        path,
        media_type=media_type,
        filename=safe_filename(filename) or path.name,
        headers={'Cache-Control': 'private, no-store'},
    )


def safe_filename(name: str) -> str:
    """A download's file name from letters, digits, `-`, `_` and `.` only (it may contain a number from a URL)."""
    return re.sub(r'[^A-Za-z0-9._-]', '', name)[:100]


def _not_found() -> Response:
    return Response(t('error.not_allowed'), status_code=404, media_type='text/plain; charset=utf-8')
