"""Verwaltung: contact messages, readings to review, and the changes customers made (for the billing system)."""

import base64
from datetime import datetime

from nicegui import run, ui

from domain import contract_requests, lost_access, requests
from domain.bills import COPY_KIND, attach_bill_copy
from domain.clock import BERLIN
from domain.errors import DomainError
from domain.exports import staff_export
from domain.inbox import TOPICS
from domain.readings import PHOTO
from domain.reminders import reminder_list
from domain.stored import bill_file
from pages import staff_session
from pages.forms import Form, client_address, file_picker, page_title
from pages.language import current, t
from pages.staff_frame import staff_page, when
from pages.staff_session import StaffMe
from service.runner import Portal

COPY_BYTES = 20 * 2**20  # a bill's PDF uploaded for a copy a customer asked for


def create(portal: Portal) -> None:
    _request_pages(portal)
    _changes_page(portal)
    _reminders_page(portal)


def _reminders_page(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/erinnerungen', 'staff.nav_reminders')
    async def reminders_page(me: StaffMe) -> None:
        """Who got which reading reminder (docs/domain.md §10), newest first; by customer number."""
        page_title(t('staff.nav_reminders'))
        ui.label(t('staff.reminders_intro')).classes('text-grey-8')
        number = ui.input(t('staff.reminders_col_customer')).classes('w-64').props('outlined dense maxlength=20')
        columns = [
            {'name': k, 'label': t(f'staff.reminders_col_{k}'), 'field': k, 'align': 'left'}
            for k in ('at', 'customer', 'meter', 'kind', 'email', 'end')
        ]
        table = ui.table(columns=columns, rows=[]).classes('w-full').props('flat dense wrap-cells')
        status = ui.label().props('role=status')

        async def refresh() -> None:
            lines = await staff_session.read(portal, me, reminder_list, me.staff_id, str(number.value or '')[:20])
            if lines is None:
                return
            table.rows = [
                {
                    'at': when(line.queued_at),
                    'customer': line.customer_number,
                    'meter': line.meter_number,
                    'kind': t(f'staff.reminders_kind_{line.kind}'),
                    'email': line.email,
                    'end': line.period_end.strftime('%d.%m.%Y'),
                }
                for line in lines
            ]
            status.text = t('staff.hits', count=len(lines))

        number.on('keydown.enter', refresh)
        ui.button(t('staff.search'), on_click=refresh).props('no-caps')
        await refresh()


def _request_pages(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/nachrichten', 'staff.nav_messages')
    async def messages_page(me: StaffMe, status: str = 'open', thema: str = '', meine: str = '') -> None:
        page_title(t('staff.nav_messages'))
        statuses = {
            'open': t('staff.status_open'),
            'answered': t('staff.status_answered'),
            'closed': t('staff.status_closed'),
            'all': t('staff.status_all'),
        }
        with ui.row().classes('w-full items-center gap-4 wrap'):
            status_select = (
                ui.select(statuses, value=status if status in statuses else 'open', label=t('staff.filter_status'))
                .classes('w-48')
                .props('outlined dense')
            )
            topics = {'': t('staff.filter_all_topics'), **{topic: topic for topic in TOPICS}}
            topic_select = (
                ui.select(topics, value=thema if thema in topics else '', label=t('staff.filter_topic'))
                .classes('w-64')
                .props('outlined dense')
            )
            mine = ui.checkbox(t('staff.filter_mine'), value=bool(meine))
        listing = ui.column().classes('w-full gap-2')

        async def refresh() -> None:
            listing.clear()
            rows = await staff_session.read(
                portal,
                me,
                requests.contact_messages,
                me.staff_id,
                status_select.value,
                topic_select.value or '',
                bool(mine.value),
            )
            if rows is None:
                return
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
            rows = await staff_session.read(portal, me, requests.reviews, me.staff_id)
            declared = await staff_session.read(portal, me, contract_requests.for_staff, me.staff_id)
            if rows is None or declared is None:
                return
            with listing:
                ui.label(t('staff.hits', count=len(rows) + len(declared))).props('role=status')
                for row in rows:
                    _review_card(portal, me, row, refresh)
                for request in declared:
                    _contract_request_card(portal, me, request, refresh)

        await refresh()


def _changes_page(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/aenderungen', 'staff.nav_changes')
    async def changes_page(me: StaffMe) -> None:
        page_title(t('staff.nav_changes'))
        ui.label(t('staff.changes_intro')).classes('text-grey-8')
        with ui.row().classes('w-full items-start gap-4 wrap'):
            kinds = {
                '': t('staff.changes_all'),
                **{kind: requests.change_kind(kind, current()) for kind in requests.CHANGE_KINDS},
            }
            kind = ui.select(kinds, value='', label=t('staff.changes_kind')).classes('w-64').props('outlined dense')
            since = (
                ui.input(t('staff.changes_since'), value='', placeholder='TT.MM.JJJJ')
                .classes('w-48')
                .props('outlined dense')
            )
            open_only = ui.checkbox(t('staff.changes_open_only'), value=True)
        columns = [
            {'name': k, 'label': t(f'staff.changes_col_{k}'), 'field': k, 'align': 'left'}
            for k in ('at', 'kind', 'customer', 'details', 'state')
        ]
        table = (
            ui.table(columns=columns, rows=[], row_key='id', selection='multiple')
            .classes('w-full')
            .props('flat dense wrap-cells')
        )
        table.add_slot(
            'header-selection',
            f'<q-checkbox v-model="props.selected" dense aria-label="{t("staff.changes_select_all")}" />',
        )
        table.add_slot(
            'body-selection',
            '<q-checkbox v-model="props.selected" dense :aria-label="'
            f"'{t('staff.changes_select')} ' + props.row.customer + ', ' + props.row.at"
            '" />',
        )
        status = ui.label().props('role=status')

        def since_value() -> datetime | None:
            text = str(since.value or '').strip()
            since.error = None
            if not text:
                return None
            try:
                value = datetime.strptime(text, '%d.%m.%Y').replace(tzinfo=BERLIN)
                if not 2000 <= value.year <= 2100:  # 01.01.0001 overflowed the query: no answer at all
                    raise ValueError(text)
                return value
            except ValueError:
                since.error = t('staff.changes_since_invalid')
                raise

        async def refresh() -> None:
            try:
                start = since_value()
            except ValueError:
                return
            rows = await staff_session.read(
                portal, me, requests.customer_changes, me.staff_id, kind.value or '', start, bool(open_only.value)
            )
            if rows is None:
                return
            table.rows = [
                {
                    'id': r.audit_id,
                    'at': when(r.at),
                    'kind': requests.change_kind(r.kind, current()),
                    'customer': r.customer_number,
                    'details': r.details,
                    'state': t('staff.changes_taken') if r.taken_over else t('staff.changes_open'),
                }
                for r in rows
            ]
            table.selected = []
            status.text = t('staff.hits', count=len(rows))

        async def mark() -> None:
            ids = [row['id'] for row in table.selected]
            if not ids:
                ui.notify(t('staff.changes_none_selected'), type='warning')
                return
            count = await staff_session.act(
                portal, me, requests.mark_taken_over, me.staff_id, ids, address=client_address()
            )
            if count is None:
                return
            ui.notify(t('staff.changes_marked', count=count), type='positive')
            await refresh()

        async def download(kind_name: str) -> None:
            try:
                start = since_value()
            except ValueError:
                return
            if start is None:
                since.error = t('staff.changes_since_needed')
                return
            content = await staff_session.act(  # the staff session checked in the export's own transaction
                portal, me, staff_export, me.staff_id, kind_name, start.date(), address=client_address()
            )
            if content is None:  # the session has ended: on the way to the staff login
                return
            ui.download.content(
                content.encode('utf-8'), f'{kind_name}-seit-{start:%Y-%m-%d}.csv', 'text/csv; charset=utf-8'
            )

        for element in (kind, open_only):
            element.on_value_change(refresh)
        since.on('blur', refresh)
        since.on('keydown.enter', refresh)
        with ui.row().classes('gap-2 wrap'):
            ui.button(t('staff.changes_mark'), on_click=mark).props('no-caps')
            ui.button(t('staff.changes_csv_changes'), icon='download', on_click=lambda: download('changes')).props(
                'no-caps outline'
            )
            ui.button(t('staff.changes_csv_readings'), icon='download', on_click=lambda: download('readings')).props(
                'no-caps outline'
            )
        await refresh()


def _message_card(portal: Portal, me: StaffMe, row: requests.ContactRow, refresh) -> None:
    with ui.card().classes('w-full'):
        ui.label(f'{row.reference} · {row.topic} · {row.subject}').classes('text-subtitle1 text-weight-medium').props(
            'role=heading aria-level=2'
        )
        with ui.row().classes('gap-2 items-center'):
            ui.link(f'{row.customer_number} · {row.customer_name}', f'/verwaltung/kunden/{row.customer_id}')
            ui.label(f'· {when(row.created_at)} · {t("staff.status_" + row.status)}').classes('text-grey-8')
        ui.label(row.message).style('white-space: pre-wrap')
        if row.answer:
            ui.label(f'{t("staff.answer")}: {row.answer}').classes('text-grey-9').style('white-space: pre-wrap')
        if row.status == 'closed':
            return
        form = Form()
        answer = ui.textarea(t('staff.answer')).classes('w-full').props('outlined maxlength=5000')
        form.fields['answer'] = answer

        async def act(use_case, *args) -> None:
            await _save(portal, me, form, refresh, use_case, row.message_id, *args)

        with ui.row().classes('gap-2'):
            ui.button(
                t('staff.answer_submit'), on_click=lambda: act(requests.answer_message, str(answer.value or ''))
            ).props('no-caps')
            if row.staff_id != me.staff_id:
                ui.button(t('staff.take'), on_click=lambda: act(requests.take_message)).props('no-caps outline')
            ui.button(t('staff.close'), on_click=lambda: act(requests.close_message)).props('no-caps outline')


def _review_card(portal: Portal, me: StaffMe, row: requests.ReviewRow, refresh) -> None:
    with ui.card().classes('w-full'):
        ui.label(f'{t("staff.review_kinds." + row.kind)} · {when(row.created_at)}').classes(
            'text-subtitle1 text-weight-medium'
        ).props('role=heading aria-level=2')
        ui.link(f'{row.customer_number} · {row.customer_name}', f'/verwaltung/kunden/{row.customer_id}')
        if row.kind == lost_access.KIND:  # the staff member calls back before accepting
            facts = dict(part.split('=', 1) for part in row.details.split() if '=' in part)
            phone = facts.get('phone', '-')
            phone = '–' if phone == '-' else phone
            ui.label(t('staff.lost_access_facts', email=facts.get('new_email', ''), phone=phone))
        else:
            ui.label(row.details).classes('text-grey-8')
        photo = next((p.split('=', 1)[1] for p in row.details.split() if p.startswith('photo=')), '')
        if photo:
            _photo(portal, photo)
        if row.kind == COPY_KIND:
            _copy_upload(portal, me, row, refresh)
        else:
            ui.label(f'{t("staff.review_reason")}: {row.reason}').style('white-space: pre-wrap')
        form = Form()
        note = ui.textarea(t('staff.review_note')).classes('w-full').props('outlined maxlength=2000')
        form.fields['note'] = note

        async def decide(accept: bool) -> None:
            await _save(portal, me, form, refresh, requests.decide_review, row.item_id, accept, str(note.value or ''))

        with ui.row().classes('gap-2'):
            if row.kind != COPY_KIND:  # a copy is accepted by uploading its PDF (or the billing system's delivery)
                ui.button(t('staff.accept'), on_click=lambda: decide(True)).props('no-caps')
            ui.button(t('staff.reject'), on_click=lambda: decide(False)).props('no-caps outline color=negative')


def _photo(portal: Portal, relative: str) -> None:
    """The customer's meter photo (re-encoded by the portal when it arrived), inline: no URL leads to it."""
    path = portal.files.locate(relative) if portal.files and PHOTO.fullmatch(relative) else None
    if path is None:
        ui.label(t('staff.photo_missing')).classes('text-grey-8')
        return
    encoded = base64.b64encode(path.read_bytes()).decode()
    ui.image(f'data:image/jpeg;base64,{encoded}').classes('w-full max-w-md rounded-borders').props(
        f'alt="{t("staff.photo")}"'
    )


def _contract_request_card(portal: Portal, me: StaffMe, row: contract_requests.RequestRow, refresh) -> None:
    """A cancellation, move or tariff change as declared: staff (or the billing system, by the API) settle it."""
    with ui.card().classes('w-full'):
        ui.label(f'{row.title} {row.reference} · {when(row.received_at)}').classes(
            'text-subtitle1 text-weight-medium'
        ).props('role=heading aria-level=2')
        if row.customer_id is not None:
            ui.link(row.customer_number, f'/verwaltung/kunden/{row.customer_id}')
        else:
            ui.label(t('staff.request_unknown_customer')).classes('text-warning')
        with ui.element('dl').classes('w-full q-ma-none'):
            for label, value in row.rows:
                with ui.row().classes('w-full gap-x-4 no-margin'):
                    with ui.element('dt').classes('text-grey-8 min-w-[12rem]'):
                        ui.label(label)
                    with ui.element('dd').classes('q-ma-none'):
                        ui.label(value).style('white-space: pre-wrap')
        form = Form()
        note = ui.textarea(t('staff.review_note')).classes('w-full').props('outlined maxlength=2000')
        form.fields['note'] = note

        async def decide(accept: bool) -> None:
            await _save(
                portal,
                me,
                form,
                refresh,
                contract_requests.staff_answer,
                row.request_id,
                accept,
                str(note.value or ''),
            )

        with ui.row().classes('gap-2'):
            ui.button(t('staff.accept'), on_click=lambda: decide(True)).props('no-caps')
            ui.button(t('staff.reject'), on_click=lambda: decide(False)).props('no-caps outline color=negative')


def _copy_upload(portal: Portal, me: StaffMe, row: requests.ReviewRow, refresh) -> None:
    """A bill copy a customer asked for: staff upload the PDF (if the billing system does not deliver it)."""

    async def uploaded(event) -> None:
        content = await event.file.read()
        if not content.startswith(b'%PDF') or portal.files is None:
            ui.notify(t('staff.message_pdf_only'), type='warning')
            return
        relative = bill_file(content)
        await run.io_bound(portal.files.store, relative, content)
        try:
            attached = await staff_session.done(portal, me, attach_bill_copy, me.staff_id, row.item_id, relative)
        except DomainError:  # decided meanwhile (by a colleague, or the billing system delivered it)
            ui.notify(t('staff.changed_meanwhile'), type='warning')
            await refresh()
            return
        if attached:
            ui.notify(t('staff.copy_delivered'), type='positive')
            await refresh()

    file_picker(t('staff.copy_upload'), uploaded, '.pdf', COPY_BYTES, lambda: staff_session.valid(portal, me))


async def _save(portal: Portal, me: StaffMe, form: Form, refresh, use_case, *args) -> None:
    """A staff decision on a request: still logged in, the use case, its error at the form or "gespeichert"."""
    form.clear()
    try:
        if not await staff_session.done(portal, me, use_case, me.staff_id, *args, address=client_address()):
            return
    except DomainError as error:
        form.show(error)
        return
    ui.notify(t('staff.saved'), type='positive')
    await refresh()
