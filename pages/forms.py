"""Form helpers: fields named exactly as UI.md says, domain errors shown beside the field they concern."""

import html
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from nicegui import ui
from nicegui.elements.mixins.validation_element import ValidationElement

from domain.errors import DomainError
from domain.identifiers import printable
from pages.language import t
from pages.limits import forget_upload, register_upload
from pages.markup import NOTICE


class Form:
    """Fields by key; `show(error)` puts the domain error's message at its field or in the form's alert."""

    def __init__(self) -> None:
        self.fields: dict[str, ui.input] = {}
        self.alert_label: ui.label | None = None

    def field(
        self, key: str, label: str, *, password: bool = False, autocomplete: str = '', hint: str = '', value: str = ''
    ) -> ui.input:
        element = ui.input(label, value=value, password=password, password_toggle_button=password)
        element.classes('w-full').props(f'outlined maxlength=300 autocomplete="{autocomplete or "off"}"')
        if hint:
            element.props(f'hint="{hint}"')
        self.fields[key] = element
        return element

    def alert(self) -> ui.label:
        self.alert_label = ui.label().classes('text-negative').props('role=alert aria-live=assertive')
        self.alert_label.set_visibility(False)
        return self.alert_label

    def value(self, key: str) -> str:
        """The field's text without control characters (a NUL byte would upset PostgreSQL), capped."""
        return printable(str(self.fields[key].value or ''))

    def clear(self) -> None:
        for element in self.fields.values():
            if not isinstance(element, ValidationElement) and element.props.get('error'):  # see show()
                element.props(remove='error error-message aria-invalid')
            if getattr(element, 'error', None):
                element.error = None
                element.props(remove='aria-invalid')
                _mark_combobox(element, invalid=False)
        if self.alert_label is not None:
            self.alert_label.set_visibility(False)

    def show(self, error: DomainError) -> None:
        message = t(error.key, **error.params)
        target = self.fields.get(error.field or '')
        if target is not None:  # at the field (Quasar shows it with role=alert: read out), marked invalid, focused
            if isinstance(target, ValidationElement):
                target.error = message
            else:  # ui.color_input has no error of its own: Quasar's field shows it from these props
                target.props(f'error error-message="{html.escape(message)}"')
            target.props('aria-invalid=true')
            _mark_combobox(target, invalid=True)
            target.run_method('focus')
        elif self.alert_label is not None:
            self.alert_label.text = message
            self.alert_label.set_visibility(True)
        else:
            ui.notify(message, type='negative')


def _mark_combobox(element: ui.element, invalid: bool) -> None:
    """Quasar puts a select's attributes on a wrapper, not on its focusable combobox, which screen readers read: there
    aria-invalid is set by hand (the combobox is kept across Vue's updates, and so is the attribute)."""
    if isinstance(element, ui.select):
        change = "setAttribute('aria-invalid', 'true')" if invalid else "removeAttribute('aria-invalid')"
        ui.run_javascript(f'getHtmlElement({element.id})?.querySelector("[role=combobox]")?.{change}')


def client_address() -> str:
    request = ui.context.client.request
    return request.client.host if request is not None and request.client is not None else ''


def page_title(text: str) -> None:
    ui.page_title(text)
    ui.label(text).classes('text-h5 q-mt-md').props('role=heading aria-level=1')


def titled_card(title: str) -> ui.card:
    """A full-width card under a second-level heading (Einstellungen's sections)."""
    card = ui.card().classes('w-full')
    with card:
        ui.label(title).classes('text-h6').props('role=heading aria-level=2')
    return card


def notice(text: str, kind: str = 'positive') -> ui.label:
    return ui.label(text).classes(f'q-pa-md rounded-borders w-full {NOTICE[kind]}').props('role=status')


@contextmanager
def scroll_region(label: str) -> Iterator[None]:
    """Wide content (a table on a 360 px phone) scrolls inside this region, which keyboard users can reach and
    scroll (tabindex) and screen readers announce by `label` (axe: scrollable-region-focusable)."""
    with (
        ui.element('div')
        .classes('kp-scroll w-full overflow-x-auto')
        .props(f'tabindex=0 role=region aria-label="{html.escape(label)}"')
    ):
        yield


def file_picker(
    label: str,
    on_upload,
    accept: str,
    max_bytes: int,
    allowed: Callable[[], Awaitable[bool]],
    multiple: bool = False,
) -> ui.upload:
    """A native file input with its own <label>. Quasar's uploader hides its file input inside an unnamed button,
    which screen readers and keyboard users cannot use well (axe: nested-interactive, label); the files still go
    to a NiceGUI upload element's route, whose element stays in the page but out of sight.

    The browser checks the size only as a courtesy: the server refuses a larger file, and any upload once `allowed`
    (the session that opened the page) is no longer true, before it reads the body (pages.limits)."""
    receiver = ui.upload(auto_upload=True, on_upload=on_upload, multiple=multiple).classes('hidden')
    route = str(receiver.props['url'])
    register_upload(route, max_bytes, allowed)
    ui.context.client.on_delete(lambda: forget_upload(route))
    picker = f'file-{receiver.id}'
    too_big = t('error.file_too_large', megabytes=max_bytes // 2**20)
    send = (
        '(async (input) => { input.setCustomValidity(""); '
        'for (const file of input.files) { '
        f'if (file.size > {max_bytes}) {{ input.setCustomValidity("{too_big}"); input.reportValidity(); '
        'continue; } '
        'const data = new FormData(); data.append("file", file); '
        f'await fetch("{receiver.props["url"]}", {{method: "POST", body: data}}); }} '
        'input.value = ""; })(this)'
    )
    ui.html(
        f'<label for="{picker}" class="text-body2 block q-mb-xs">{html.escape(label)}</label>'
        f'<input id="{picker}" type="file" accept="{html.escape(accept)}"{" multiple" if multiple else ""} '
        f'onchange="{html.escape(send)}">',
        sanitize=False,
    ).classes('w-full')
    return receiver
