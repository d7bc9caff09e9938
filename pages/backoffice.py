"""Verwaltung: the staff's login with two factors, the service desk, and the staff list (admins)."""

import inspect
import secrets
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import segno
from nicegui import app, run, ui
from starlette.responses import RedirectResponse

from domain import api_tokens, profile_admin, requests, staff
from domain import service_desk as desk
from domain.customer_data import TOPICS
from domain.errors import DomainError
from domain.i18n import BERLIN, day, number
from pages import language, renewal, staff_session
from pages.forms import Form, client_address, file_picker, notice, page_title
from pages.frame import house_style, public_frame
from pages.language import t
from pages.portal import PAGE_TIMEOUT, Portal
from pages.staff_session import StaffMe

NAVIGATION = (('staff.nav_customers', '/verwaltung/kunden', False),
              ('staff.nav_messages', '/verwaltung/nachrichten', False),
              ('staff.nav_reviews', '/verwaltung/pruefungen', False),
              ('staff.nav_changes', '/verwaltung/aenderungen', False),
              ('staff.nav_settings', '/verwaltung/einstellungen', True),
              ('staff.nav_import', '/verwaltung/import', True),
              ('staff.nav_api', '/verwaltung/api', True),
              ('staff.nav_staff', '/verwaltung/mitarbeiter', True))
IMPORT_FILES = ('customers.csv', 'contracts.csv', 'meters.csv', 'readings.csv', 'prices.csv', 'installments.csv',
                'payments.csv', 'bills.csv')
Builder = Callable[[StaffMe], Awaitable[None] | None]


def _when(value) -> str:
    return value.astimezone(BERLIN).strftime('%d.%m.%Y %H:%M') if value else t('staff.never')


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


def staff_page(portal: Portal, path: str, title_key: str, admin: bool = False):
    """Decorator: a page for a verified staff session (and the admin role where asked)."""
    def register(builder: Builder) -> Builder:
        async def page(**params):
            me = await staff_session.current(portal)
            if me is None or not me.verified:
                return RedirectResponse('/verwaltung')
            if me.must_change_password:
                return RedirectResponse('/verwaltung/passwort')
            if admin and not me.admin:
                return RedirectResponse('/verwaltung/kunden')
            with staff_frame(portal, me, t(title_key), path):
                result = builder(me, **params)
                if result is not None:
                    await result
        # path and query parameters as the builder declares them (after `me`), for FastAPI to parse
        signature = inspect.signature(builder)
        page.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])  # type: ignore
        ui.page(path, response_timeout=PAGE_TIMEOUT)(page)
        return builder
    return register


def create(portal: Portal) -> None:
    _login_pages(portal)
    _desk_pages(portal)
    _request_pages(portal)
    _changes_page(portal)
    _exchange_pages(portal)
    _settings_page(portal)
    _staff_pages(portal)


def _login_pages(portal: Portal) -> None:
    @ui.page('/verwaltung')
    async def login_page():
        me = await staff_session.current(portal)
        if me is not None and me.verified:
            return RedirectResponse('/verwaltung/kunden')
        idle = app.storage.user.pop('staff_idle_logout', False)
        with public_frame(portal, t('staff.login_title')):
            page_title(t('staff.login_title'))
            if idle:
                notice(t('staff.idle_logout'), 'info')
            ui.label(t('staff.login_intro')).classes('text-grey-8')
            form = Form()
            form.field('email', t('staff.email'), autocomplete='username')
            form.field('password', t('staff.password'), password=True, autocomplete='current-password')
            form.alert()

            async def submit() -> None:
                form.clear()
                try:  # a new session id, then the second factor
                    await renewal.log_in('staff', portal.act(staff.password_step, form.value('email'),
                                                             form.value('password'), address=client_address()))
                except DomainError as error:
                    form.show(error)
            form.fields['password'].on('keydown.enter', submit)
            ui.button(t('staff.submit'), on_click=submit).props('no-caps')

    @ui.page('/verwaltung/code')
    async def code_page():
        me = await staff_session.current(portal)
        if me is None:
            return RedirectResponse('/verwaltung')
        with public_frame(portal, t('staff.code_title')):
            page_title(t('staff.code_title'))
            form = Form()
            form.field('code', t('staff.code'), hint=t('staff.code_hint'), autocomplete='one-time-code') \
                .props('inputmode=numeric')
            form.alert()

            async def submit() -> None:
                form.clear()
                try:
                    grant = await portal.act(staff.code_step, me.staff_id, form.value('code'),
                                             address=client_address())
                except DomainError as error:
                    form.show(error)
                    return
                staff_session.start(grant)
                ui.navigate.to('/verwaltung/passwort' if grant.must_change_password else '/verwaltung/kunden')
            form.fields['code'].on('keydown.enter', submit)
            ui.button(t('staff.code_submit'), on_click=submit).props('no-caps')

    @ui.page('/verwaltung/einrichten')
    async def enrol_page():
        me = await staff_session.current(portal)
        if me is None:
            return RedirectResponse('/verwaltung')
        try:
            enrolment = await portal.act(staff.begin_enrolment, me.staff_id, address=client_address())
        except DomainError:
            return RedirectResponse('/verwaltung/code')
        with public_frame(portal, t('staff.enrol_title')):
            page_title(t('staff.enrol_title'))
            ui.label(t('staff.enrol_intro'))
            ui.image(segno.make(enrolment.uri, error='m').png_data_uri(scale=5)).classes('w-56') \
                .props(f'alt="{t("staff.enrol_qr")}"')
            ui.label(t('staff.enrol_secret', secret=' '.join(enrolment.secret[i:i + 4]
                                                            for i in range(0, len(enrolment.secret), 4)))) \
                .classes('text-body2').style('word-break: break-all')
            form = Form()
            form.field('code', t('staff.code'), autocomplete='one-time-code').props('inputmode=numeric')
            form.alert()
            codes_box = ui.column().classes('w-full')

            async def submit() -> None:
                form.clear()
                try:
                    grant, codes = await portal.act(staff.confirm_enrolment, me.staff_id, form.value('code'),
                                                    address=client_address())
                except DomainError as error:
                    form.show(error)
                    return
                staff_session.start(grant)
                confirm.set_visibility(False)
                with codes_box:
                    ui.label(t('staff.recovery_title')).classes('text-h6').props('role=heading aria-level=2')
                    ui.label(t('staff.recovery_intro'))
                    ui.label('   '.join(codes)).classes('text-mono text-body1').style('font-family: monospace')
                    target = '/verwaltung/passwort' if grant.must_change_password else '/verwaltung/kunden'
                    ui.button(t('staff.recovery_done'), on_click=lambda: ui.navigate.to(target)).props('no-caps')
            confirm = ui.button(t('staff.enrol_submit'), on_click=submit).props('no-caps')

    @ui.page('/verwaltung/passwort')
    async def password_page():
        me = await staff_session.current(portal)
        if me is None or not me.verified:
            return RedirectResponse('/verwaltung')
        with public_frame(portal, t('staff.password_title')):
            page_title(t('staff.password_title'))
            ui.label(t('staff.password_intro'))
            form = Form()
            form.field('password', t('staff.new_password'), password=True, autocomplete='new-password')
            form.field('password_repeat', t('staff.new_password_repeat'), password=True, autocomplete='new-password')
            form.alert()

            async def submit() -> None:
                form.clear()
                try:
                    grant = await portal.act(staff.change_staff_password, me.staff_id, form.value('password'),
                                             form.value('password_repeat'), address=client_address())
                except DomainError as error:
                    form.show(error)
                    return
                staff_session.start(grant)
                ui.navigate.to('/verwaltung/kunden')
            ui.button(t('staff.password_submit'), on_click=submit).props('no-caps')


def _desk_pages(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/kunden', 'staff.nav_customers')
    async def customers_page(me: StaffMe, q: str = '') -> None:
        page_title(t('staff.nav_customers'))
        form = Form()
        form.field('query', t('staff.search'), hint=t('staff.search_hint'), value=q).props('type=search')
        results = ui.column().classes('w-full')

        async def search() -> None:
            form.clear()
            results.clear()
            if not await staff_session.still(portal, me):
                return
            try:
                hits = await portal.read(desk.find_customers, me.staff_id, form.value('query'))
            except DomainError as error:
                form.show(error)
                return
            with results:
                if not hits:
                    ui.label(t('staff.no_hits'))
                    return
                ui.label(t('staff.hits', count=len(hits))).props('role=status')
                for hit in hits:
                    with ui.card().classes('w-full'), ui.row().classes('w-full items-center justify-between'):
                        with ui.column().classes('gap-0'):
                            ui.link(f'{hit.customer_number} · {hit.name}', f'/verwaltung/kunden/{hit.customer_id}') \
                                .classes('text-subtitle1')
                            ui.label(hit.address).classes('text-grey-8')
                        ui.label(f'{t("staff.login_" + hit.login_state)}'
                                 + (f' · {hit.login_email}' if hit.login_email else ''))
        form.fields['query'].on('keydown.enter', search)
        ui.button(t('staff.search_submit'), on_click=search).props('no-caps')
        if q:
            await search()

    @staff_page(portal, '/verwaltung/kunden/{customer_id}', 'staff.nav_customers')
    async def customer_page(me: StaffMe, customer_id: int) -> None:
        try:
            card = await portal.act(desk.customer_card, me.staff_id, customer_id)
        except DomainError:
            notice(t('error.not_allowed'), 'negative')
            return
        page_title(t('staff.customer_title', number=card.customer_number))
        with ui.card().classes('w-full'):
            ui.label(t('staff.master_data')).classes('text-h6').props('role=heading aria-level=2')
            ui.label(card.name)
            ui.label(card.address)
            ui.label(' · '.join(x for x in (card.email, card.phone) if x))
        with ui.card().classes('w-full'):
            ui.label(t('staff.portal_status')).classes('text-h6').props('role=heading aria-level=2')
            _login_status(card)
        with ui.card().classes('w-full'):
            ui.label(t('staff.actions')).classes('text-h6').props('role=heading aria-level=2')
            _actions(portal, me, card)
        with ui.card().classes('w-full'):
            ui.label(t('staff.readings')).classes('text-h6').props('role=heading aria-level=2')
            rows = [{'date': day(r.reading_date), 'meter': r.meter_number, 'register': r.obis,
                     'value': number(Decimal(r.value)),
                     'source': t(f'staff.sources.{r.source}'),
                     'status': (t(f'reading.flag.{r.plausibility}') if r.plausibility else '')
                     + (f' – {r.reason}' if r.reason else '')} for r in card.readings]
            columns = [{'name': k, 'label': t(f'reading.{k}') if k != 'meter' else 'Zähler', 'field': k,
                        'align': 'left'} for k in ('date', 'meter', 'register', 'value', 'source', 'status')]
            ui.table(columns=columns, rows=rows).classes('w-full').props('flat dense wrap-cells')
        with ui.card().classes('w-full'):
            ui.label(t('staff.changes')).classes('text-h6').props('role=heading aria-level=2')
            rows = [{'at': _when(c.at), 'actor': c.actor, 'action': c.action, 'details': c.details}
                    for c in card.changes]
            columns = [{'name': k, 'label': label, 'field': k, 'align': 'left'}
                       for k, label in (('at', 'Zeit'), ('actor', 'Wer'), ('action', 'Was'), ('details', 'Details'))]
            ui.table(columns=columns, rows=rows).classes('w-full').props('flat dense wrap-cells')


def _login_status(card: desk.CustomerCard) -> None:
    login = card.login
    if login is None:
        ui.label(t('staff.no_login'))
        return
    rows = [(t('staff.login_email'), login.email), (t('staff.portal_status'), t(f'staff.login_{login.state}')),
            (t('staff.registered_at'), _when(login.created_at)),
            (t('staff.confirmed_at'), _when(login.confirmed_at)), (t('staff.last_login'), _when(login.last_login_at)),
            (t('staff.portal_status'), t('staff.locked', minutes=login.locked_minutes) if login.locked_minutes
             else t('staff.not_locked')),
            (t('staff.linked'), ', '.join(f'{number} ({name})' for number, name in login.linked) or '–')]
    for label, value in rows:
        with ui.row().classes('gap-2'):
            ui.label(f'{label}:').classes('text-grey-8')
            ui.label(value)


def _actions(portal: Portal, me: StaffMe, card: desk.CustomerCard) -> None:
    outcome = ui.column().classes('w-full')

    async def act(use_case, done: str, *args) -> bool:
        outcome.clear()
        if not await staff_session.still(portal, me):
            return False
        try:
            await portal.act(use_case, me.staff_id, card.customer_id, *args, address=client_address())
        except DomainError as error:
            with outcome:
                notice(t(error.key, **error.params), 'negative')
            return False
        with outcome:
            notice(done)
        return True

    login = card.login
    with ui.row().classes('gap-2 wrap'):
        if login is not None and login.state == 'pending':
            ui.button(t('staff.resend_activation'), on_click=lambda: act(
                desk.resend_activation, t('staff.done_activation', email=login.email))).props('no-caps outline')
        if login is not None and login.state == 'active':
            ui.button(t('staff.send_reset'), on_click=lambda: act(
                desk.send_reset, t('staff.done_reset', email=login.email))).props('no-caps outline')
        if login is not None and login.locked_minutes:
            ui.button(t('staff.unlock'), on_click=lambda: act(desk.unlock_login, t('staff.done_unlock'))) \
                .props('no-caps outline')
        if login is not None and login.second_factor:
            ui.button(t('staff.reset_customer_2fa'), on_click=lambda: act(
                desk.reset_second_factor, t('staff.done_reset_2fa'))).props('no-caps outline')
    if login is not None:
        with ui.expansion(t('staff.delete_login')).classes('w-full'):
            reason = Form()
            reason.field('reason', t('staff.delete_reason'))

            async def delete() -> None:
                reason.clear()
                if not reason.value('reason').strip():
                    reason.fields['reason'].error = t('error.field_required', label='Grund')
                    return
                if await act(desk.delete_login, t('staff.done_delete'), reason.value('reason')):
                    ui.navigate.to(f'/verwaltung/kunden/{card.customer_id}')
            ui.button(t('staff.delete_confirm'), on_click=delete).props('no-caps color=negative')
    with ui.expansion(t('staff.post_message')).classes('w-full'):
        message = Form()
        message.field('subject', t('staff.message_subject'))
        body = ui.textarea(t('staff.message_body')).classes('w-full').props('outlined maxlength=10000')
        message.fields['body'] = body  # type: ignore[assignment]
        attached: dict[str, str] = {}

        async def attach(event) -> None:
            content = await event.file.read()
            if not content.startswith(b'%PDF'):
                ui.notify(t('staff.message_pdf_only'), type='warning')
                return
            relative = f'inbox/{card.customer_id}-{secrets.token_hex(8)}.pdf'
            target = portal.documents / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            await run.io_bound(target.write_bytes, content)
            attached['document'] = relative
            attachment.text = t('staff.message_attached', name=Path(event.file.name).name)
        file_picker(t('staff.message_document'), attach, '.pdf', 20 * 2**20)
        attachment = ui.label().props('role=status')

        async def send() -> None:
            message.clear()
            for key, label in (('subject', 'Betreff'), ('body', 'Nachricht')):
                if not message.value(key).strip():
                    message.fields[key].error = t('error.field_required', label=label)
                    return
            if await act(desk.post_message, t('staff.done_message'), message.value('subject'), message.value('body'),
                         attached.pop('document', '')):
                message.fields['subject'].value, body.value, attachment.text = '', '', ''
        ui.button(t('staff.message_submit'), on_click=send).props('no-caps')


def _request_pages(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/nachrichten', 'staff.nav_messages')
    async def messages_page(me: StaffMe, status: str = 'open', thema: str = '', meine: str = '') -> None:
        page_title(t('staff.nav_messages'))
        statuses = {'open': t('staff.status_open'), 'answered': t('staff.status_answered'),
                    'closed': t('staff.status_closed'), 'all': t('staff.status_all')}
        with ui.row().classes('w-full items-center gap-4 wrap'):
            status_select = ui.select(statuses, value=status if status in statuses else 'open',
                                      label=t('staff.filter_status')).classes('w-48').props('outlined dense')
            topics = {'': t('staff.filter_all_topics'), **{topic: topic for topic in TOPICS}}
            topic_select = ui.select(topics, value=thema if thema in topics else '',
                                     label=t('staff.filter_topic')).classes('w-64').props('outlined dense')
            mine = ui.checkbox(t('staff.filter_mine'), value=bool(meine))
        listing = ui.column().classes('w-full gap-2')

        async def refresh() -> None:
            listing.clear()
            if not await staff_session.still(portal, me):
                return
            rows = await portal.read(requests.contact_messages, me.staff_id, status_select.value,
                                     topic_select.value or '', bool(mine.value))
            with listing:
                ui.label(t('staff.hits', count=len(rows))).props('role=status')
                for row in rows:
                    _message_card(portal, me, row, refresh)
        for element in (status_select, topic_select, mine):
            element.on_value_change(refresh)
        await refresh()

    @staff_page(portal, '/verwaltung/pruefungen', 'staff.nav_reviews')
    async def reviews_page(me: StaffMe) -> None:
        page_title(t('staff.nav_reviews'))
        listing = ui.column().classes('w-full gap-2')

        async def refresh() -> None:
            listing.clear()
            if not await staff_session.still(portal, me):
                return
            rows = await portal.read(requests.reviews, me.staff_id)
            with listing:
                ui.label(t('staff.hits', count=len(rows))).props('role=status')
                for row in rows:
                    _review_card(portal, me, row, refresh)
        await refresh()


def _changes_page(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/aenderungen', 'staff.nav_changes')
    async def changes_page(me: StaffMe) -> None:
        page_title(t('staff.nav_changes'))
        ui.label(t('staff.changes_intro')).classes('text-grey-8')
        with ui.row().classes('w-full items-start gap-4 wrap'):
            kinds = {'': t('staff.changes_all'), **requests.CHANGE_KINDS}
            kind = ui.select(kinds, value='', label=t('staff.changes_kind')).classes('w-64').props('outlined dense')
            since = ui.input(t('staff.changes_since'), value='', placeholder='TT.MM.JJJJ') \
                .classes('w-48').props('outlined dense')
            open_only = ui.checkbox(t('staff.changes_open_only'), value=True)
        columns = [{'name': k, 'label': t(f'staff.changes_col_{k}'), 'field': k, 'align': 'left'}
                   for k in ('at', 'kind', 'customer', 'details', 'state')]
        table = ui.table(columns=columns, rows=[], row_key='id', selection='multiple') \
            .classes('w-full').props('flat dense wrap-cells')
        table.add_slot('header-selection', f'<q-checkbox v-model="props.selected" dense '
                                           f'aria-label="{t("staff.changes_select_all")}" />')
        table.add_slot('body-selection', '<q-checkbox v-model="props.selected" dense :aria-label="'
                                         f"'{t('staff.changes_select')} ' + props.row.customer + ', ' + props.row.at"
                                         '" />')
        status = ui.label().props('role=status')

        def since_value() -> datetime | None:
            text = str(since.value or '').strip()
            since.error = None
            if not text:
                return None
            try:
                return datetime.strptime(text, '%d.%m.%Y').replace(tzinfo=BERLIN)
            except ValueError:
                since.error = t('staff.changes_since_invalid')
                raise

        async def refresh() -> None:
            if not await staff_session.still(portal, me):
                return
            try:
                start = since_value()
            except ValueError:
                return
            rows = await portal.read(requests.customer_changes, me.staff_id, kind.value or '', start,
                                     bool(open_only.value))
            table.rows = [{'id': r.audit_id, 'at': _when(r.at), 'kind': requests.CHANGE_KINDS.get(r.kind, r.kind),
                           'customer': r.customer_number, 'details': r.details,
                           'state': t('staff.changes_taken') if r.taken_over else t('staff.changes_open')}
                          for r in rows]
            table.selected = []
            status.text = t('staff.hits', count=len(rows))

        async def mark() -> None:
            ids = [row['id'] for row in table.selected]
            if not ids or not await staff_session.still(portal, me):
                ui.notify(t('staff.changes_none_selected'), type='warning')
                return
            count = await portal.act(requests.mark_taken_over, me.staff_id, ids, address=client_address())
            ui.notify(t('staff.changes_marked', count=count), type='positive')
            await refresh()

        async def download(kind_name: str) -> None:
            try:
                start = since_value()
            except ValueError:
                return
            if start is None or portal.export is None:
                since.error = t('staff.changes_since_needed')
                return
            content = await run.io_bound(portal.export, kind_name, start.date())
            ui.download.content(content.encode('utf-8'), f'{kind_name}-seit-{start:%Y-%m-%d}.csv',
                                'text/csv; charset=utf-8')

        for element in (kind, open_only):
            element.on_value_change(refresh)
        since.on('blur', refresh)
        since.on('keydown.enter', refresh)
        with ui.row().classes('gap-2 wrap'):
            ui.button(t('staff.changes_mark'), on_click=mark).props('no-caps')
            ui.button(t('staff.changes_csv_changes'), icon='download',
                      on_click=lambda: download('changes')).props('no-caps outline')
            ui.button(t('staff.changes_csv_readings'), icon='download',
                      on_click=lambda: download('readings')).props('no-caps outline')
        await refresh()


def _exchange_pages(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/import', 'staff.nav_import', admin=True)
    async def import_page(me: StaffMe) -> None:
        page_title(t('staff.nav_import'))
        ui.label(t('staff.import_intro')).classes('text-grey-8')
        folder = Path(tempfile.mkdtemp(prefix='kp-import-'))
        received = ui.label(t('staff.import_none')).props('role=status')
        report = ui.column().classes('w-full gap-1')

        async def uploaded(event) -> None:
            name = Path(event.file.name).name
            if name not in IMPORT_FILES:
                ui.notify(t('staff.import_unknown_file', name=name, known=', '.join(IMPORT_FILES)), type='warning')
                return
            await event.file.save(folder / name)
            received.text = t('staff.import_files', names=', '.join(sorted(p.name for p in folder.glob('*.csv'))))
            run_button.disable()

        file_picker(t('staff.import_upload'), uploaded, '.csv,.pdf', 200 * 2**20, multiple=True)

        async def check(apply: bool) -> None:
            report.clear()
            if not await staff_session.still(portal, me) or portal.importer is None:
                return
            if not any(folder.glob('*.csv')):
                with report:
                    notice(t('staff.import_none'), 'negative')
                return
            result = await run.io_bound(portal.importer, folder, not apply, f'staff:{me.staff_id}')
            with report:
                for file in result.files:
                    if file.errors:
                        ui.label(t('staff.import_file_errors', name=file.name, count=len(file.errors))) \
                            .classes('text-negative text-weight-medium')
                        for error in file.errors[:100]:
                            ui.label(error).classes('text-negative text-body2')
                    else:
                        key = 'staff.import_file_done' if apply else 'staff.import_file_ok'
                        ui.label(t(key, name=file.name, rows=file.rows, created=file.created, updated=file.updated,
                                   unchanged=file.unchanged))
                notice(t('staff.import_done') if apply else t('staff.import_checked') if result.ok
                       else t('staff.import_fix'), 'positive' if result.ok else 'negative')
            if not apply and result.ok:
                run_button.enable()
            if apply:
                run_button.disable()

        with ui.row().classes('gap-2'):
            ui.button(t('staff.import_check'), on_click=lambda: check(False)).props('no-caps outline')
            run_button = ui.button(t('staff.import_run'), on_click=lambda: check(True)).props('no-caps')
            run_button.disable()

    @staff_page(portal, '/verwaltung/api', 'staff.nav_api', admin=True)
    async def api_page(me: StaffMe) -> None:
        page_title(t('staff.nav_api'))
        ui.label(t('staff.api_intro')).classes('text-grey-8')
        ui.link(t('staff.api_schema'), '/api/v1/openapi.json', new_tab=True)
        listing = ui.column().classes('w-full gap-2')

        async def refresh() -> None:
            listing.clear()
            rows = await portal.read(api_tokens.token_list, me.staff_id)
            with listing:
                for row in rows:
                    with ui.card().classes('w-full'), ui.row().classes('w-full items-center justify-between'):
                        state = t('staff.api_revoked') if row.revoked else t('staff.api_active')
                        ui.label(f'{row.name} · {t("staff.api_scopes." + row.scope)} · {state} · '
                                 f'{t("staff.api_last_used")}: {_when(row.last_used_at)}')
                        if not row.revoked:
                            ui.button(t('staff.api_revoke'), on_click=lambda r=row: revoke(r.token_id)) \
                                .props('no-caps outline color=negative')

        async def revoke(token_id: int) -> None:
            if await staff_session.still(portal, me):
                await portal.act(api_tokens.revoke_token, me.staff_id, token_id, address=client_address())
                await refresh()

        await refresh()
        with ui.card().classes('w-full'):
            ui.label(t('staff.api_create')).classes('text-h6').props('role=heading aria-level=2')
            form = Form()
            form.field('name', t('staff.api_name'))
            scope = ui.select({s: t(f'staff.api_scopes.{s}') for s in api_tokens.SCOPES}, value='read',
                              label=t('staff.api_scope')).classes('w-full').props('outlined')
            form.alert()
            created = ui.column().classes('w-full')

            async def create_token() -> None:
                form.clear()
                created.clear()
                if not await staff_session.still(portal, me):
                    return
                try:
                    plain = await portal.act(api_tokens.create_token, me.staff_id, form.value('name'),
                                             str(scope.value), address=client_address())
                except DomainError as error:
                    form.show(error)
                    return
                with created:
                    notice(t('staff.api_created'))
                    ui.label(plain).style('font-family: monospace; word-break: break-all')
                form.fields['name'].value = ''
                await refresh()
            ui.button(t('staff.api_create_submit'), on_click=create_token).props('no-caps')


def _settings_page(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/einstellungen', 'staff.nav_settings', admin=True)
    async def settings_page(me: StaffMe) -> None:
        page_title(t('staff.nav_settings'))
        ui.label(t('staff.settings_intro')).classes('text-grey-8')
        values = profile_admin.current_values(portal.profile)
        form = Form()
        group = ''
        box = None
        for editable in profile_admin.EDITABLE:
            if editable.group != group:
                group = editable.group
                box = ui.card().classes('w-full')
                with box:
                    ui.label(group).classes('text-h6').props('role=heading aria-level=2')
            assert box is not None
            with box:
                value = values[editable.path]
                if editable.kind == 'choice':
                    element = ui.select({c: t(f'staff.setting_choices.{c}') for c in editable.choices}, value=value,
                                        label=editable.label).classes('w-full').props('outlined')
                elif editable.kind == 'bool':
                    element = ui.checkbox(editable.label, value=value == '1')
                elif editable.kind == 'color':
                    element = ui.color_input(editable.label, value=value).classes('w-full').props('outlined')
                else:
                    element = form.field(editable.path, editable.label, value=value)
                form.fields[editable.path] = element  # type: ignore[assignment]
                if editable.path == 'bill.logo':
                    async def logo_uploaded(event, field=element) -> None:
                        suffix = Path(event.file.name).suffix.lower()
                        if suffix not in ('.png', '.jpg', '.jpeg'):
                            ui.notify(t('staff.settings_logo_type'), type='warning')
                            return
                        target = portal.documents / f'logo{suffix}'
                        await event.file.save(target)
                        field.value = str(target.resolve())
                    file_picker(t('staff.settings_logo_upload'), logo_uploaded, '.png,.jpg,.jpeg', 2 * 2**20)
        form.alert()

        def collected() -> dict[str, str]:
            result = {}
            for path, element in form.fields.items():
                raw = element.value
                result[path] = ('1' if raw else '0') if isinstance(raw, bool) else str(raw or '')
            return result

        async def save() -> None:
            form.clear()
            if not await staff_session.still(portal, me):
                return
            try:
                profile, version = await portal.act(profile_admin.save_profile, me.staff_id,
                                                    portal.base_profile or portal.profile, collected(),
                                                    address=client_address())
            except DomainError as error:
                form.show(error)
                return
            portal.profile, portal.profile_version = profile, version
            ui.notify(t('staff.settings_saved'), type='positive')
        ui.button(t('staff.settings_save'), on_click=save).props('no-caps')


def _message_card(portal: Portal, me: StaffMe, row: requests.ContactRow, refresh) -> None:
    with ui.card().classes('w-full'):
        ui.label(f'{row.reference} · {row.topic} · {row.subject}').classes('text-subtitle1 text-weight-medium') \
            .props('role=heading aria-level=2')
        with ui.row().classes('gap-2 items-center'):
            ui.link(f'{row.customer_number} · {row.customer_name}', f'/verwaltung/kunden/{row.customer_id}')
            ui.label(f'· {_when(row.created_at)} · {t("staff.status_" + row.status)}').classes('text-grey-8')
        ui.label(row.message).style('white-space: pre-wrap')
        if row.answer:
            ui.label(f'{t("staff.answer")}: {row.answer}').classes('text-grey-9').style('white-space: pre-wrap')
        if row.status == 'closed':
            return
        form = Form()
        answer = ui.textarea(t('staff.answer')).classes('w-full').props('outlined maxlength=5000')
        form.fields['answer'] = answer  # type: ignore[assignment]

        async def act(use_case, *args) -> None:
            form.clear()
            if not await staff_session.still(portal, me):
                return
            try:
                await portal.act(use_case, me.staff_id, row.message_id, *args, address=client_address())
            except DomainError as error:
                form.show(error)
                return
            ui.notify(t('staff.saved'), type='positive')
            await refresh()
        with ui.row().classes('gap-2'):
            ui.button(t('staff.answer_submit'),
                      on_click=lambda: act(requests.answer_message, str(answer.value or ''))).props('no-caps')
            if row.staff_id != me.staff_id:
                ui.button(t('staff.take'), on_click=lambda: act(requests.take_message)).props('no-caps outline')
            ui.button(t('staff.close'), on_click=lambda: act(requests.close_message)).props('no-caps outline')


def _review_card(portal: Portal, me: StaffMe, row: requests.ReviewRow, refresh) -> None:
    with ui.card().classes('w-full'):
        ui.label(f'{t("staff.review_kinds." + row.kind)} · {_when(row.created_at)}') \
            .classes('text-subtitle1 text-weight-medium').props('role=heading aria-level=2')
        ui.link(f'{row.customer_number} · {row.customer_name}', f'/verwaltung/kunden/{row.customer_id}')
        ui.label(row.details).classes('text-grey-8')
        ui.label(f'{t("staff.review_reason")}: {row.reason}').style('white-space: pre-wrap')
        form = Form()
        note = ui.textarea(t('staff.review_note')).classes('w-full').props('outlined maxlength=2000')
        form.fields['note'] = note  # type: ignore[assignment]

        async def decide(accept: bool) -> None:
            form.clear()
            if not await staff_session.still(portal, me):
                return
            try:
                await portal.act(requests.decide_review, me.staff_id, row.item_id, accept, str(note.value or ''),
                                 address=client_address())
            except DomainError as error:
                form.show(error)
                return
            ui.notify(t('staff.saved'), type='positive')
            await refresh()
        with ui.row().classes('gap-2'):
            ui.button(t('staff.accept'), on_click=lambda: decide(True)).props('no-caps')
            ui.button(t('staff.reject'), on_click=lambda: decide(False)).props('no-caps outline color=negative')


def _staff_pages(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/mitarbeiter', 'staff.nav_staff', admin=True)
    async def staff_list_page(me: StaffMe) -> None:
        page_title(t('staff.staff_list'))
        listing = ui.column().classes('w-full')

        async def refresh() -> None:
            listing.clear()
            rows = await portal.read(staff.staff_list, me.staff_id)
            with listing:
                for row in rows:
                    with ui.card().classes('w-full'), ui.row().classes('w-full items-center justify-between'):
                        with ui.column().classes('gap-0'):
                            ui.label(f'{row.name} · {row.email}').classes('text-subtitle1')
                            state = t('staff.staff_active') if row.active else t('staff.staff_locked')
                            extra = '' if row.enrolled else f' · {t("staff.staff_not_enrolled")}'
                            ui.label(f'{t("staff.staff_roles." + row.role)} · {state}{extra}').classes('text-grey-8')
                        if row.staff_id != me.staff_id:
                            with ui.row().classes('gap-2'):
                                ui.button(t('staff.staff_unlock') if not row.active else t('staff.staff_lock'),
                                          on_click=lambda r=row: change(staff.set_active, r.staff_id, not r.active)) \
                                    .props('no-caps outline')
                                ui.button(t('staff.staff_reset_2fa'),
                                          on_click=lambda r=row: change(staff.reset_second_factor, r.staff_id)) \
                                    .props('no-caps outline')

        async def change(use_case, *args) -> None:
            if not await staff_session.still(portal, me):
                return
            await portal.act(use_case, me.staff_id, *args, address=client_address())
            await refresh()

        await refresh()
        with ui.card().classes('w-full'):
            ui.label(t('staff.staff_create')).classes('text-h6').props('role=heading aria-level=2')
            form = Form()
            form.field('name', t('staff.staff_name'))
            form.field('email', t('staff.email'))
            role = ui.select({r: t(f'staff.staff_roles.{r}') for r in staff.ROLES}, value='service',
                             label=t('staff.staff_role')).classes('w-full').props('outlined')
            form.alert()
            created = ui.column().classes('w-full')

            async def create_staff() -> None:
                form.clear()
                created.clear()
                if not await staff_session.still(portal, me):
                    return
                try:
                    password = await portal.act(staff.create_staff, me.staff_id, form.value('email'),
                                                form.value('name'), str(role.value), address=client_address())
                except DomainError as error:
                    form.show(error)
                    return
                with created:
                    notice(t('staff.staff_created', password=password))
                form.fields['name'].value, form.fields['email'].value = '', ''
                await refresh()
            ui.button(t('staff.staff_create_submit'), on_click=create_staff).props('no-caps')
