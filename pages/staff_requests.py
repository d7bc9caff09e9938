"""Verwaltung: contact messages, readings and other requests to review, and the customers' contract requests."""

import base64

from nicegui import run, ui

from domain import contract_requests, lost_access, requests
from domain.bills import COPY_KIND, attach_bill_copy
from domain.errors import DomainError
from domain.inbox import topic_names
from domain.readings import PHOTO
from domain.stored import bill_file
from pages import staff_session
from pages.forms import Form, client_address, file_picker, page_title
from pages.language import current, t
from pages.staff_frame import counted, shown, staff_page, when
from pages.staff_session import StaffMe
from service.runner import Portal

COPY_BYTES = 20 * 2**20  # a bill's PDF uploaded for a copy a customer asked for


def create(portal: Portal) -> None:
    _request_pages(portal)


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
            # stored (and filtered) by the German topic, named in the staff's language
            topics = {'': t('staff.filter_all_topics'), **topic_names(current())}
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
                ui.label(counted(rows)).props('role=status')
                for row in shown(rows):
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
                ui.label(counted(rows, declared)).props('role=status')
                for row in shown(rows):
                    _review_card(portal, me, row, refresh)
                for request in shown(declared):
                    _contract_request_card(portal, me, request, refresh)

        await refresh()


def _message_card(portal: Portal, me: StaffMe, row: requests.ContactRow, refresh) -> None:
    with ui.card().classes('w-full'):
        topic = topic_names(current()).get(row.topic, row.topic)
        ui.label(f'{row.reference} · {topic} · {row.subject}').classes('text-subtitle1 text-weight-medium').props(
            'role=heading aria-level=2'
        )
        with ui.row().classes('gap-2 items-center'):
            ui.link(f'{row.customer_number} · {row.customer_name}', f'/verwaltung/kunden/{row.customer_id}')
            ui.label(f'· {when(row.created_at)} · {t("staff.status_" + row.status)}').classes('text-grey-8')
        ui.label(row.message).style('white-space: pre-wrap')
        for at, text in row.answers:  # each answer given, not only the latest
            ui.label(f'{t("staff.answer")} ({when(at)}): {text}').classes('text-grey-9').style('white-space: pre-wrap')
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
            ui.label(row.summary or row.details).classes('text-grey-8')
        photo = requests.photo_of(row.details)
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
            attached = await staff_session.done(
                portal, me, attach_bill_copy, me.staff_id, row.item_id, relative, address=client_address()
            )
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
