"""The shared frame of every page: utility header, navigation, customer switcher, idle logout."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape

from nicegui import ui

from domain.accounts import add_customer, set_language
from domain.clock import Clock
from domain.errors import DomainError
from domain.identification import Identifiers
from domain.information import offered as information_offered
from domain.overview import CustomerChoice
from pages import language, session
from pages.forms import Form, client_address
from pages.language import t
from pages.markup import block, line, link
from service.runner import Portal

NAVIGATION = (
    ('nav.overview', '/uebersicht'),
    ('nav.contracts', '/vertraege'),
    ('nav.reading', '/zaehlerstand'),
    ('nav.consumption', '/verbrauch'),
    ('nav.installment', '/abschlag'),
    ('nav.bills', '/rechnungen'),
    ('nav.information', '/abrechnungsinformation'),
    ('nav.customer_data', '/kundendaten'),
    ('nav.inbox', '/posteingang'),
    ('nav.contact', '/kontakt'),
    ('nav.settings', '/einstellungen'),
)
ACTIVITY_SCRIPT = """<script>
(() => { let last = 0;
  const ping = () => { const now = Date.now(); if (now - last > 30000) { last = now; emitEvent('kp_activity'); } };
  ['click', 'keydown', 'touchstart'].forEach(type => document.addEventListener(type, ping, {passive: true}));
})();
</script>"""


@contextmanager
def public_frame(portal: Portal, title: str) -> Iterator[None]:
    """Pages without login: the utility's name and colours, a narrow readable column."""
    _chrome(portal, title)
    with ui.header().classes('items-center justify-between q-px-md'):
        ui.link(portal.profile.name, '/').classes('text-h6 text-white no-underline')
        language.switch()
    with ui.column().classes('w-full max-w-md mx-auto q-pa-md gap-4'):
        yield
    _footer(portal)


@contextmanager
def frame(
    portal: Portal, me: session.LoggedIn, choices: list[CustomerChoice], title: str, path: str, unread: int = 0
) -> Iterator[None]:
    _chrome(portal, title)
    with ui.left_drawer(value=False, bordered=True).props('show-if-above width=220 breakpoint=900') as drawer:
        # the billing information is for electricity and gas (§40b EnWG): a water association's menu leaves it out
        _navigation(path, unread, information_offered(portal.profile))
    with ui.header().classes('items-center justify-between q-px-md no-wrap'):
        with ui.row().classes('items-center no-wrap gap-1'):
            ui.button(icon='menu', on_click=drawer.toggle).props(f'flat round color=white aria-label="{t("nav.menu")}"')
            ui.link(portal.profile.short_name, '/uebersicht').classes('text-h6 text-white no-underline')
        with ui.row().classes('items-center no-wrap gap-1'):
            language.switch(
                remember=lambda chosen: session.done(
                    portal, me, set_language, me.user_id, chosen, address=client_address()
                )
            )
            ui.button(t('nav.logout'), on_click=lambda: _logout()).props('flat color=white no-caps')
    with ui.column().classes('w-full max-w-3xl mx-auto q-pa-md gap-4'):
        _switcher(portal, me, choices, path)
        yield
    _footer(portal)
    _idle_watch(portal)


def _navigation(path: str, unread: int, energy: bool) -> None:
    """The menu as one element of plain links (as ui.link renders them): one per page instead of eleven, which
    counts in the memory of thousands of connected customers."""
    links = []
    for key, target in NAVIGATION:
        if target == '/abrechnungsinformation' and not energy:
            continue
        text = t('nav.inbox_unread', count=unread) if target == '/posteingang' and unread else t(key)
        current = 'bg-primary text-white" aria-current="page' if target == path else 'text-primary'
        links.append(
            f'<a href="{target}" class="nicegui-link block q-py-sm q-px-md text-body1 no-underline '
            f'rounded-borders {current}">{escape(text)}</a>'
        )
    ui.html(''.join(links), sanitize=False, tag='nav').props(f'aria-label="{t("nav.menu")}"').classes('w-full')


def house_style() -> None:
    """NiceGUI's link blue (#3b82f6) has 3.5:1 on the page background, below the 4.5:1 WCAG AA asks for text. A
    table scrolls inside its named, focusable region (pages.forms.scroll_region), not in Quasar's unnamed one; and
    a long error under a field pushes the next field down rather than overlapping it."""
    ui.add_css(
        'a.nicegui-link { color: #1d4ed8; } .kp-scroll .q-table__middle { overflow: visible; } '
        # a field's hint or error takes the room it needs instead of running over the next field
        '.q-field--with-bottom { padding-bottom: 0; } .q-field__bottom { position: static; transform: none; }'
    )
    language.declare()


def _chrome(portal: Portal, title: str) -> None:
    ui.page_title(f'{title} – {portal.profile.name}')
    house_style()
    ui.colors(primary=portal.profile.primary_color, secondary=portal.profile.secondary_color)
    ui.query('body').classes('bg-grey-1')


def _footer(portal: Portal) -> None:
    p = portal.profile
    block(
        [
            line(f'{p.name} · {p.street} · {p.postal_code} {p.city} · {t("common.phone", phone=p.phone)} · {p.email}'),
            link(t('accessibility.title'), '/barrierefreiheit', 'text-grey-8'),
            link(t('cancel.title'), '/kuendigen', 'text-grey-8'),  # §312k BGB: on every page
        ],
        'nicegui-column w-full max-w-3xl mx-auto q-pa-md text-caption text-grey-8',
    )


def _switcher(portal: Portal, me: session.LoggedIn, choices: list[CustomerChoice], path: str) -> None:
    options = {c.customer_id: c.label for c in choices}

    def switch(event) -> None:
        if event.value in options and event.value != me.customer_id:
            session.select_customer(event.value)
            ui.navigate.to(path)

    with ui.row().classes('w-full items-center gap-2 wrap') as row:
        ui.select(options, label=t('switcher.label'), value=me.customer_id, on_change=switch).classes(
            'min-w-[16rem] grow'
        ).props('outlined dense')
        dialogs: list[ui.dialog] = []

        def add() -> None:  # built on first use: every page has the button, few customers press it
            if not dialogs:
                with row:
                    dialogs.append(_add_customer_dialog(portal, me, path))
            dialogs[0].open()

        ui.button(t('switcher.add'), icon='add', on_click=add).props('outline no-caps')


def _add_customer_dialog(portal: Portal, me: session.LoggedIn, path: str) -> ui.dialog:
    form = Form()

    async def submit() -> None:
        form.clear()
        ids = identifiers(form)
        try:
            customer_id = await session.act(portal, me, add_customer, me.user_id, ids, address=client_address())
        except DomainError as error:
            form.show(error if error.field != 'second' else at_second(error, form))
            return
        if customer_id is None:
            return
        session.select_customer(customer_id)
        ui.navigate.to(path)

    with ui.dialog() as dialog, ui.card().classes('w-full max-w-md'):
        ui.label(t('switcher.add_title')).classes('text-h6').props('role=heading aria-level=2')
        ui.label(t('switcher.add_intro'))
        customer_number_field(portal, form)
        second_fields(portal, form)
        form.alert()
        with ui.row():
            ui.button(t('switcher.add_submit'), on_click=submit).props('no-caps')
            ui.button(t('common.cancel'), on_click=dialog.close).props('flat no-caps')
    return dialog


def customer_number_field(portal: Portal, form: Form, value: str = '') -> None:
    """The utility's own name for its customer number, in the visitor's language, with its format hint."""
    rule = portal.profile.account_id
    form.field('customer_number', rule.label_in(language.current()), hint=rule.hint_in(language.current()), value=value)


def second_fields(portal: Portal, form: Form) -> None:
    """Zählernummer and, where the utility allows it, Rechnungsnummer, in the utility's order of preference."""
    rule = portal.profile.registration
    for kind in rule.second_identifiers:
        name = 'meter_number' if kind == 'meter' else 'bill_number'
        own = rule.meter_hint_in(language.current()) if kind == 'meter' else ''
        hint = own or t(f'field.{name}_hint')
        form.field(kind, t(f'field.{name}'), hint=hint)


def identifiers(form: Form) -> Identifiers:
    return Identifiers(*(form.value(key) if key in form.fields else '' for key in ('customer_number', 'meter', 'bill')))


def at_second(error: DomainError, form: Form) -> DomainError:
    """Errors about the second identifier belong at whichever of its fields the customer filled in."""
    present = [key for key in form.fields if key in ('meter', 'bill')]
    filled = [key for key in present if form.value(key)]
    error.field = (filled or present)[0]
    return error


def _idle_watch(portal: Portal) -> None:
    idle_watch(portal, session.idle_seconds, session.touch, session.end, '/?abgemeldet=1')


def idle_watch(
    portal: Portal,
    idle_seconds: Callable[[Clock], float],
    touch: Callable[[Clock, float], None],
    end: Callable[[], None],
    login: str,
) -> None:
    """An open page logs its session out after the profile's idle minutes (a minute before, it asks whether to stay):
    the customers' and the staff's (a customer card left open on a desk's screen stayed readable)."""
    limit = portal.profile.session.idle_minutes * 60
    ui.add_body_html(ACTIVITY_SCRIPT)
    ui.on('kp_activity', lambda: touch(portal.clock, limit))
    page = ui.context.client.layout
    warnings: list[ui.dialog] = []

    def warn() -> None:  # built when first needed: every page has it, few customers see it
        if not warnings:

            def stay() -> None:
                touch(portal.clock, limit)
                warning.close()
                check()  # too late: logged out now

            with page, ui.dialog().props('persistent') as warning, ui.card():
                ui.label(t('idle.warning')).classes('text-body1')
                ui.button(t('idle.stay'), on_click=stay).props('no-caps')
            warnings.append(warning)
        warnings[0].open()

    def check() -> None:
        idle = idle_seconds(portal.clock)
        if idle > limit:
            end()
            ui.navigate.to(login)
        elif idle > limit - 60:
            warn()

    ui.timer(15, check).mark('idle-check')


def _logout() -> None:
    session.end()
    ui.navigate.to('/')
