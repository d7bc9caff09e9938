"""Form helpers: fields named exactly as UI.md says, domain errors shown beside the field they concern."""

from nicegui import ui

from domain.errors import DomainError
from domain.identifiers import printable
from pages.language import t


class Form:
    """Fields by key; `show(error)` puts the domain error's message at its field or in the form's alert."""

    def __init__(self) -> None:
        self.fields: dict[str, ui.input] = {}
        self.alert_label: ui.label | None = None

    def field(self, key: str, label: str, *, password: bool = False, autocomplete: str = '',
              hint: str = '', value: str = '') -> ui.input:
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
            element.error = None
        if self.alert_label is not None:
            self.alert_label.set_visibility(False)

    def show(self, error: DomainError) -> None:
        message = t(error.key, **error.params)
        target = self.fields.get(error.field or '')
        if target is not None:
            target.error = message
            target.run_method('focus')
        elif self.alert_label is not None:
            self.alert_label.text = message
            self.alert_label.set_visibility(True)
        else:
            ui.notify(message, type='negative')


def client_address() -> str:
    request = ui.context.client.request
    return request.client.host if request is not None and request.client is not None else ''


def page_title(text: str) -> None:
    ui.page_title(text)
    ui.label(text).classes('text-h5 q-mt-md').props('role=heading aria-level=1')


def notice(text: str, kind: str = 'positive') -> ui.label:
    colours = {'positive': 'bg-green-1 text-green-10', 'info': 'bg-blue-1 text-blue-10',
               'negative': 'bg-red-1 text-red-10'}
    return ui.label(text).classes(f'q-pa-md rounded-borders w-full {colours[kind]}').props('role=status')
