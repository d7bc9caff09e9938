"""Request bodies checked before they are read (docs/security.md, V12/V13).

- Every request body has a size limit (`KUNDENPORTAL_MAX_BODY_MB`); larger ones get 413 without being read, and a
  body without a declared length is counted as it arrives and cut off at the limit.
- The API (`/api/`) authenticates the bearer token before the body is read: without a valid token, 401 at once
  (a 300 MB body used to be parsed before FastAPI looked at the token).
- Uploads (NiceGUI's upload route, `/_nicegui/client/<client>/upload/<element>`) are accepted only for an upload
  field the portal registered (`register_upload`): with that field's own size limit and only while the session
  that may use it (`allowed`, e.g. the staff member who opened the import page) is still valid.
"""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PREFIX = '/_nicegui/client/'
MULTIPART_SLACK = 64 * 1024  # the form's boundaries and headers around the file itself


@dataclass(frozen=True)
class UploadRule:
    max_bytes: int
    allowed: Callable[[], Awaitable[bool]]  # checked in the upload request's own session


UPLOADS: dict[str, UploadRule] = {}  # upload route → its rule, while the page with the field exists


def register_upload(route: str, max_bytes: int, allowed: Callable[[], Awaitable[bool]]) -> None:
    UPLOADS[route] = UploadRule(max_bytes, allowed)


def forget_upload(route: str) -> None:
    UPLOADS.pop(route, None)


class TooLarge(Exception):
    pass


class RequestLimits:
    """ASGI middleware (inside NiceGUI's session middleware, so that an upload's session can be checked)."""

    def __init__(
        self,
        app: ASGIApp,
        max_body: int,
        api_token_scope: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        self.app, self.max_body, self.api_token_scope = app, max_body, api_token_scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        path: str = scope['path']
        limit = self.max_body
        if path.startswith(UPLOAD_PREFIX) and '/upload/' in path:
            rule = UPLOADS.get(path)
            if rule is None or scope['method'] != 'POST':
                await _answer(send, 404, 'unknown upload')
                return
            if not await rule.allowed():
                await _answer(send, 403, 'the session that may upload here has ended')
                return
            limit = rule.max_bytes + MULTIPART_SLACK
        elif path.startswith('/api/') and self.api_token_scope is not None and _has_body(scope):
            token = _bearer(scope)
            granted = await self.api_token_scope(token) if token else None
            if granted is None:
                await _answer(send, 401, 'token missing, unknown or revoked', {'WWW-Authenticate': 'Bearer'})
                return
            if granted != 'write':  # every route with a body writes: a read token's body is not read at all
                await _answer(send, 403, 'this token may only read')
                return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer(send, 413, f'request body larger than {limit} bytes')
            return
        received, exceeded, answered = 0, False, False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message['type'] == 'http.request':
                received += len(message.get('body', b''))
                if received > limit:
                    exceeded = True
                    raise TooLarge()
            return message

        async def sending(message: Message) -> None:
            nonlocal answered
            if not exceeded:
                await send(message)
            elif not answered:  # whatever the app made of the cut-off body (FastAPI: 400), the answer is 413
                answered = True
                await _answer(send, 413, f'request body larger than {limit} bytes')

        try:
            await self.app(scope, counted, sending)
        except TooLarge:
            if not answered:
                answered = True
                await _answer(send, 413, f'request body larger than {limit} bytes')


def _has_body(scope: Scope) -> bool:
    return scope['method'] in ('POST', 'PUT', 'PATCH')


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get('headers', [])}


def _content_length(scope: Scope) -> int | None:
    raw = _headers(scope).get(b'content-length')
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _bearer(scope: Scope) -> str:
    value = _headers(scope).get(b'authorization', b'').decode('latin-1')
    scheme, _, token = value.partition(' ')
    return token.strip() if scheme.lower() == 'bearer' else ''


async def _answer(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({'detail': detail}).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send(
        {
            'type': 'http.response.start',
            'status': status,
            'headers': [
                (b'content-type', b'application/json'),
                (b'content-length', str(len(body)).encode()),
                (b'cache-control', b'no-store'),
                *extra,
            ],
        }
    )
    await send({'type': 'http.response.body', 'body': body})
