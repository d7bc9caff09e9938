"""The start of every page behind the login: session check, customer check, then the frame."""

from collections.abc import Awaitable, Callable

from nicegui import ui

from domain.errors import SessionEnded
from domain.inbox import page_frame
from domain.overview import CustomerChoice
from pages import session
from pages.frame import frame
from pages.language import t
from service.runner import Portal
from service.tuning.redirects import redirect

Builder = Callable[[session.LoggedIn, list[CustomerChoice]], Awaitable[None] | None]

# How long a page may take to build before NiceGUI sends it unfinished (its default is 3 s): at a peak, pages wait
# for the database behind other customers' work; a complete page a little later beats a broken one.
PAGE_TIMEOUT = 30.0


def protected_page(portal: Portal, path: str, title_key: str):
    """Decorator: register `builder(me, choices)` at `path`, reachable only for a valid, active session. The
    builder reads with `login=session.login(me)`: each read checks the session in its own transaction."""

    def register(builder: Builder) -> Builder:
        @ui.page(path, response_timeout=PAGE_TIMEOUT)
        async def page():
            found = await session.current_with(portal, page_frame)
            if found is None:
                return redirect('/')
            me, (choices, unread) = found
            if session.must_change_password():
                return redirect('/passwort-aendern')
            if choices and me.customer_id not in {c.customer_id for c in choices}:
                session.select_customer(choices[0].customer_id)  # a stale or foreign id is never used
                me = session.LoggedIn(me.user_id, choices[0].customer_id)
            try:
                with frame(portal, me, choices, t(title_key), path, unread):
                    result = builder(me, choices)
                    if result is not None:
                        await result
            except SessionEnded:  # the login ended between the check above and the page's reads (`session.login`)
                session.end()
                return redirect('/')

        return builder

    return register
