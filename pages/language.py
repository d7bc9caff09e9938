"""The visitor's UI language: German unless they chose English with the switch in every page's header.

The choice lives in the browser's session storage (it survives the login's new session id)."""

import copy
from collections.abc import Awaitable, Callable

from nicegui import app, ui
from nicegui.language import Language

from domain import i18n

KEY = 'language'


def current() -> str:
    try:
        language = app.storage.user.get(KEY, 'de')
    except RuntimeError:  # no browser behind this call (background work)
        return 'de'
    return language if language in i18n.LANGUAGES else 'de'


def t(key: str, **params: object) -> str:
    """The text for `key` in the visitor's language."""
    return i18n.t(key, current(), **params)


QUASAR: dict[str, Language] = {'de': 'de', 'en': 'en-GB'}


def declare() -> None:
    """The page's `<html lang>` (screen readers pick their voice by it) and Quasar's own texts follow the chosen
    language. NiceGUI takes both from the page's declaration, shared by all visitors; this visitor's page gets a
    copy of it with their language."""
    client = ui.context.client
    if client.page.resolve_language() != QUASAR[current()]:
        own = copy.copy(client.page)
        own.language = QUASAR[current()]
        client.page = own


def switch(dark_header: bool = True, remember: Callable[[str], Awaitable[object]] | None = None) -> None:
    """A button offering the other language, labelled in that language ("English" / "Deutsch"); `remember`: for a
    logged-in customer, stores the choice for what the portal writes later (mails, inbox messages)."""
    other = 'en' if current() == 'de' else 'de'

    async def change() -> None:
        app.storage.user[KEY] = other
        if remember is not None:
            await remember(other)
        ui.navigate.reload()

    ui.button(i18n.t('language.name', other), icon='translate', on_click=change).props(
        f'flat no-caps lang={other} aria-label="{i18n.t("language.switch", other)}"'
        + (' color=white' if dark_header else '')
    )
