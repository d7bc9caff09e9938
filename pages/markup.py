"""Plain HTML for the parts of a page that do not change while it is open (a card of text lines, a list of links):
one NiceGUI element for the whole part instead of one per line. Every connected customer's page stays in the
portal's memory, and each element costs memory and objects the garbage collector walks (`bench/idle.py`;
figures in docs/operations.md).
The markup is what NiceGUI renders for `ui.card`, `ui.label` and `ui.link`; all text is escaped here."""

from html import escape

from nicegui import ui

CARD = 'q-card nicegui-card w-full'  # the classes of a full-width `ui.card` as Quasar renders it


def heading(text: str, classes: str = 'text-h6') -> str:
    return f'<div class="{classes}" role="heading" aria-level="2">{escape(text, quote=False)}</div>'


def line(text: str, classes: str = '') -> str:
    return (
        f'<div class="{classes}">{escape(text, quote=False)}</div>'
        if classes
        else f'<div>{escape(text, quote=False)}</div>'
    )


NOTICE = {  # the colours of a notice (`pages.forms.notice`) by kind
    'positive': 'bg-green-1 text-green-10',
    'info': 'bg-blue-1 text-blue-10',
    'negative': 'bg-red-1 text-red-10',
}


def notice(text: str, kind: str = 'positive') -> str:
    """What `pages.forms.notice` renders: a coloured box read out as a status message."""
    return f'<div class="q-pa-md rounded-borders w-full {NOTICE[kind]}" role="status">{escape(text, quote=False)}</div>'


def link(text: str, target: str, classes: str = '') -> str:
    return f'<a href="{escape(target)}" class="{f"nicegui-link {classes}".strip()}">{escape(text, quote=False)}</a>'


def links(items: list[tuple[str, str]]) -> str:
    """A list of links (tasks and the like)."""
    return (
        (
            '<ul class="q-ma-none q-pl-md">'
            + ''.join(f'<li>{link(text, target)}</li>' for text, target in items)
            + '</ul>'
        )
        if items
        else ''
    )


def card(parts: list[str], classes: str = 'w-full') -> str:
    return f'<div class="q-card nicegui-card {classes}">{"".join(parts)}</div>'


def block(parts: list[str], classes: str) -> ui.html:
    """One element holding the parts; `classes` as the NiceGUI element it replaces would have (a card, a row …)."""
    return ui.html(''.join(parts), sanitize=False).classes(classes)
