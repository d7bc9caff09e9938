"""The back office's frame: header with the staff navigation, and the decorator for pages behind the staff
login."""

import inspect
from collections.abc import Awaitable, Callable, Iterator, Sized
from contextlib import contextmanager
from typing import TypeVar

from nicegui import ui

from domain.clock import BERLIN
from domain.staff import LIST_LIMIT
from pages import language, staff_session
from pages.frame import house_style, idle_watch
from pages.language import t
from pages.protected import PAGE_TIMEOUT
from pages.staff_session import StaffMe
from service.runner import Portal
from service.tuning.redirects import redirect

NAVIGATION = (
    ('staff.nav_customers', '/verwaltung/kunden', False),
    ('staff.nav_messages', '/verwaltung/nachrichten', False),
    ('staff.nav_reviews', '/verwaltung/pruefungen', False),
    ('staff.nav_changes', '/verwaltung/aenderungen', False),
    ('staff.nav_reminders', '/verwaltung/erinnerungen', False),
    ('staff.nav_settings', '/verwaltung/einstellungen', True),
    ('staff.nav_import', '/verwaltung/import', True),
    ('staff.nav_api', '/verwaltung/api', True),
    ('staff.nav_staff', '/verwaltung/mitarbeiter', True),
)
Builder = Callable[[StaffMe], Awaitable[None] | None]
T = TypeVar('T')


def when(value) -> str:
    return value.astimezone(BERLIN).strftime('%d.%m.%Y %H:%M') if value else t('staff.never')


def shown(rows: list[T]) -> list[T]:
    """The rows a back-office list shows: a use case hands LIST_LIMIT and one more when there are more."""
    return rows[:LIST_LIMIT]


def counted(*lists: Sized) -> str:
    """The count above a back-office list (of one or more use cases' lists), saying when some are not shown."""
    count = sum(min(len(found), LIST_LIMIT) for found in lists)
    more = any(len(found) > LIST_LIMIT for found in lists)
    return t('staff.list_more', count=count) if more else t('staff.hits', count=count)


@contextmanager
def staff_frame(portal: Portal, me: StaffMe, title: str, path: str) -> Iterator[None]:
    ui.page_title(f'{title} – {t("staff.title")} {portal.profile.short_name}')
    ui.colors(primary='#37474f', secondary=portal.profile.primary_color)  # visibly not the customers' portal
    house_style()
    with ui.header().classes('items-center justify-between q-px-md wrap'):
        with ui.row().classes('items-center gap-4'):
            ui.label(f'{t("staff.title")} · {portal.profile.short_name}').classes('text-h6')
            with ui.element('nav').props(f'aria-label="{t("staff.title")}"').classes('row gap-2'):
                for key, target, admin_only in NAVIGATION:
                    if admin_only and not me.admin:
                        continue
                    link = ui.link(t(key), target).classes('text-white q-px-sm')
                    if target == path:
                        link.props('aria-current=page').classes('text-weight-bold')
        with ui.row().classes('items-center gap-2'):
            ui.label(me.name)
            language.switch()

            def logout() -> None:
                staff_session.end()
                ui.navigate.to('/verwaltung')

            ui.button(t('staff.logout'), on_click=logout).props('flat color=white no-caps')
    with ui.column().classes('w-full max-w-5xl mx-auto q-pa-md gap-4'):
        yield
    idle_watch(portal, staff_session.idle_seconds, staff_session.touch, staff_session.end, '/verwaltung?abgemeldet=1')


def staff_page(portal: Portal, path: str, title_key: str, admin: bool = False):
    """Decorator: a page for a verified staff session (and the admin role where asked)."""

    def register(builder: Builder) -> Builder:
        async def page(**params):
            me = await staff_session.current(portal)
            if me is None or not me.verified:
                return redirect('/verwaltung')
            if me.must_change_password:
                return redirect('/verwaltung/passwort')
            if admin and not me.admin:
                return redirect('/verwaltung/kunden')
            with staff_frame(portal, me, t(title_key), path):
                result = builder(me, **params)
                if result is not None:
                    await result

        # path and query parameters as the builder declares them (after `me`), for FastAPI to parse (typeshed knows
        # no __signature__ on functions; inspect.signature reads it)
        signature = inspect.signature(builder)
        page.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])  # type: ignore[attr-defined]
        ui.page(path, response_timeout=PAGE_TIMEOUT)(page)
        return builder

    return register
