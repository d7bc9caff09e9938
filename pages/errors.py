"""No page ever shows an exception's text (docs/security.md V7): a page that fails to build, and any other failed
request of the browser, answers with a short German (or English) message and a reference number; the details go to
the log under the same number, for the service desk to find."""

import logging

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse
from nicegui import app, ui

from domain.errors import reference
from pages.language import current, t

log = logging.getLogger('kundenportal')
MARK = 'kundenportal reference'


def install() -> None:
    """Our error page for page builders (NiceGUI's public `on_page_exception`), and for every other unhandled
    exception an answer without its text (replacing NiceGUI's handler, which shows `ValueError: …`)."""
    app.on_page_exception(_page_failed)
    app.add_exception_handler(Exception, _request_failed)
    app.add_exception_handler(404, _not_found)  # NiceGUI's own shows "HTTPException: 404: Not Found", in English


async def _not_found(request: Request, exception: Exception):
    if request.url.path.startswith('/api/'):  # as FastAPI answers, with the endpoint's own detail if it gave one
        detail = getattr(exception, 'detail', None) or 'Not Found'
        return JSONResponse({'detail': detail}, status_code=404, headers=getattr(exception, 'headers', None))
    return _plain_page(t('error.not_found_title'), t('error.not_found'), 404)


def _page_failed(exception: Exception) -> None:
    number = reference()
    log.error('page failed [reference %s]', number, exc_info=exception)
    exception.add_note(f'{MARK} {number}')  # NiceGUI hands it to the exception handlers too: logged once
    with ui.column().classes('w-full max-w-md mx-auto q-pa-xl gap-4'):
        ui.label(t('error.page_title')).classes('text-h5').props('role=heading aria-level=1')
        ui.label(t('error.page_failed', reference=number)).props('role=alert')
        ui.link(t('error.back_home'), '/')


async def _request_failed(request: Request, exception: Exception):
    notes = [n for n in getattr(exception, '__notes__', []) if n.startswith(MARK)]
    if notes:  # a page's failure, already shown and logged by _page_failed
        return None
    number = reference()
    log.error('request %s %s failed [reference %s]', request.method, request.url.path, number, exc_info=exception)
    if request.url.path.startswith('/api/'):
        return JSONResponse({'detail': f'internal error, reference {number}'}, status_code=500)
    return _plain_page(t('error.page_title'), t('error.page_failed', reference=number), 500)


def _plain_page(title: str, text: str, status: int) -> HTMLResponse:
    """A page without NiceGUI (whose client may be what failed), in the language texts are made in."""
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="{current()}"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body style="font-family: sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">'
        f'<h1>{title}</h1><p>{text}</p><p><a href="/">{t("error.back_home")}</a></p></body></html>',
        status_code=status,
    )
