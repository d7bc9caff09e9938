"""A new session id at every login (against session fixation, ASVS 3.2.1).

The login itself runs in a websocket handler, which cannot set a cookie. So the handler leaves a one-time
ticket in the current session and sends the browser to `/anmelden/weiter`; that request gives the browser a fresh
session id and hands the login over to the next request in the signed session cookie (readable by the browser,
not changeable: the grant holds only ids and flags), since NiceGUI makes the storage of a new session id at the
start of a request (and has no public way to make it later). That next request, to the same address, starts the
session in the new storage and redirects on. Whoever knew the old id holds an empty session.

Both steps are plain routes, not NiceGUI pages: they only read and write the session's storage and redirect, and a
page would cost each login two NiceGUI clients made and deleted again (docs/operations.md, "Login bursts").
"""

import logging
import secrets
import uuid
from collections.abc import Awaitable
from dataclasses import asdict

from fastapi import Request
from nicegui import app, ui
from starlette.responses import RedirectResponse

from domain.accounts import SessionGrant
from domain.clock import Clock
from domain.errors import VisitorGone
from domain.staff import StaffGrant
from pages import language, session, staff_session

TICKET_SECONDS = 60
HANDOVER = 'login_handover'  # in the signed session cookie, between the two requests
# the handover taken, in the new session's storage (kept at a logout, and when the next login in this browser clears
# that storage): the cookie of the first step, sent again within its minute (by anyone who has it), does not start
# the session again
HANDED_OVER = 'login_handed_over'
DEVICE_DAYS = 400  # a browser stays known for about a year after its last login


def device_cookie(https: bool, staff: bool = False) -> str:
    """The known-device cookie's name (the customers' or, `staff`, the back office's): with the `__Host-` prefix
    behind TLS (only over HTTPS, only this host)."""
    name = 'kp_staff_device' if staff else 'kp_device'
    return f'__Host-{name}' if https else name


def device_of(https: bool, staff: bool = False) -> str:
    """The device cookie the browser sent with the page a login handler belongs to ('' if none)."""
    request = ui.context.client.request
    return request.cookies.get(device_cookie(https, staff), '') if request is not None else ''


log = logging.getLogger('kundenportal')


async def log_in(kind: str, attempt: Awaitable[SessionGrant | StaffGrant], clock: Clock) -> None:
    """From a login handler: await the login use case (its DomainError reaches the caller), then hand over to the
    renewal route.

    Unless the tab has gone meanwhile: closed, or its connection lost for longer than NiceGUI waits while the login
    queued at a peak. Then its session storage may be gone too, and nobody would follow the ticket. (The tab is
    taken before the await: afterwards a deleted tab cannot even be asked.)
    """
    tab = ui.context.client
    try:
        grant = await attempt
    except VisitorGone:
        log.info('login dropped unhashed: its tab had gone before its turn')
        return
    if tab.is_deleted:
        log.info('login finished after its tab had gone; no session started')
        return
    token = secrets.token_urlsafe(24)
    app.storage.user['login_ticket'] = {
        'token': token,
        'kind': kind,
        'at': clock.now().timestamp(),
        'grant': asdict(grant),
    }
    ui.navigate.to(f'/anmelden/weiter?t={token}')


def create(clock: Clock, https: bool = False) -> None:
    @app.get('/anmelden/weiter', include_in_schema=False)
    async def renew(request: Request, t: str = '') -> RedirectResponse:
        handover = request.session.pop(HANDOVER, None)
        if handover is not None:  # the second step: the new session id has its storage now
            if not _valid(handover, t, clock) or app.storage.user.get(HANDED_OVER) == t:
                return RedirectResponse('/')
            app.storage.user[HANDED_OVER] = t
            try:
                grant = _grant_of(handover)
            except (KeyError, TypeError, ValueError):  # a grant of another release (an update within the minute)
                log.warning('login handover not understood; the customer logs in again')
                return RedirectResponse('/')
            return _start_session(grant, handover.get('language'), clock, https)
        ticket = app.storage.user.pop('login_ticket', None)
        if not _valid(ticket, t, clock):
            return RedirectResponse('/')
        chosen = app.storage.user.get(language.KEY)
        handed_over = app.storage.user.get(HANDED_OVER)
        app.storage.user.clear()  # nothing of the old session lives on but the language (in the new one)
        if handed_over is not None:  # a login after a logout within the minute: its handover stays taken
            app.storage.user[HANDED_OVER] = handed_over
        request.session['id'] = str(uuid.uuid4())
        token = secrets.token_urlsafe(24)
        request.session[HANDOVER] = {**ticket, 'token': token, 'language': chosen}
        return RedirectResponse(f'/anmelden/weiter?t={token}')


def _valid(ticket: dict | None, token: str, clock: Clock) -> bool:
    return bool(
        ticket
        and secrets.compare_digest(str(ticket.get('token', '')), token)
        and clock.now().timestamp() - float(ticket.get('at', 0)) <= TICKET_SECONDS
    )


def _grant_of(handover: dict) -> StaffGrant | SessionGrant:
    data = handover['grant']
    if handover['kind'] == 'staff':
        return StaffGrant(**data)
    return SessionGrant(**{**data, 'customer_ids': tuple(data['customer_ids'])})


def _start_session(grant: StaffGrant | SessionGrant, chosen: str | None, clock: Clock, https: bool) -> RedirectResponse:
    if chosen:
        app.storage.user[language.KEY] = chosen
    if isinstance(grant, StaffGrant):
        staff_session.start(grant, clock)
        response = RedirectResponse('/verwaltung/code' if grant.enrolled else '/verwaltung/einrichten')
        _remember(response, grant.device, https, staff=True)
        return response
    if grant.needs_code:
        session.await_code(grant, clock)
        response = RedirectResponse('/anmelden/code')
    else:
        session.start(grant, clock)
        response = RedirectResponse('/passwort-aendern' if grant.must_change_password else '/uebersicht')
    _remember(response, grant.device, https)
    return response


def _remember(response: RedirectResponse, device: str, https: bool, staff: bool = False) -> None:
    if device:  # the password was right: this browser is known from now on
        response.set_cookie(
            device_cookie(https, staff),
            device,
            max_age=DEVICE_DAYS * 86400,
            path='/',
            secure=https,
            httponly=True,
            samesite='lax',
        )
