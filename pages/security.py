"""Security headers on every answer (pages, downloads, API), as strict as NiceGUI allows.

NiceGUI renders with Vue's in-browser template compiler and inline start-up scripts, so the CSP must allow
'unsafe-eval' and 'unsafe-inline' for scripts; everything else is limited to the portal's own origin (the
websocket included: `connect-src 'self'`, no other ws:/wss: host), and no other site may frame the portal
(clickjacking). Pages and API answers are never stored by a browser or proxy (`Cache-Control: no-store`); HSTS is
sent only when the portal runs behind TLS.
"""

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pages import styles

CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


# NiceGUI's own scripts, styles and fonts (their URLs name NiceGUI's version), our stylesheet (its URL names its
# content) and the icon may be cached; nothing else is.
CACHEABLE = ('/_nicegui/', '/favicon.ico', styles.PREFIX)


class SecurityHeaders:
    """ASGI middleware: the headers are added to each answer's start as it is sent (a plain ASGI wrapper, not
    Starlette's BaseHTTPMiddleware, which runs every request in a task group of its own with streams between:
    2.5 % of the event loop at a login burst, py-spy 03.12.2026)."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = {
            'Content-Security-Policy': CSP,
            'X-Content-Type-Options': 'nosniff',
            'Referrer-Policy': 'same-origin',
            'X-Frame-Options': 'DENY',
            'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
            'Cross-Origin-Opener-Policy': 'same-origin',
        }
        if https:
            self.headers['Strict-Transport-Security'] = 'max-age=31536000; includeSubDomains'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        private = not scope['path'].startswith(CACHEABLE)  # pages and API answers hold personal data

        async def with_headers(message: Message) -> None:
            if message['type'] == 'http.response.start':
                message.setdefault('headers', [])
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if private:
                    headers['Cache-Control'] = 'no-store'
            await send(message)

        await self.app(scope, receive, with_headers)


def same_origin(public_url: str):
    """The websocket's Origin check (cross-site websocket hijacking): a browser may open the portal's socket only
    from a page of the portal itself, reached by its public address or by the Host it asked for (the address a
    reverse proxy passes on). Non-browser clients send no Origin and are not checked by engine.io."""
    parts = urlsplit(public_url)
    public = f'{parts.scheme}://{parts.netloc}'.lower()

    def allowed(origin: str | None, environ: dict) -> bool:
        if not origin:
            return True
        origin = origin.lower().rstrip('/')
        if origin == public:
            return True
        host = (environ.get('HTTP_X_FORWARDED_HOST') or environ.get('HTTP_HOST') or '').split(',')[0].strip().lower()
        return bool(host) and origin in (f'http://{host}', f'https://{host}')

    return allowed
