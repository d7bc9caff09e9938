"""Verwaltung: the service desk – finding a customer, the customer's card and what staff may do for them."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from nicegui import run, ui

from domain import lost_access
from domain import service_desk as desk
from domain.change_list import change_kind
from domain.errors import DomainError
from domain.i18n import day, number
from domain.reading_rules import register_name
from domain.stored import inbox_file
from pages import staff_session
from pages.forms import Form, client_address, file_picker, notice, page_title
from pages.language import current, t
from pages.once import sending
from pages.staff_frame import staff_page, when
from pages.staff_session import StaffMe
from service.runner import Portal

DOCUMENT_BYTES = 20 * 2**20  # a PDF for a customer's inbox


def create(portal: Portal) -> None:
    _desk_pages(portal)


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
            try:
                hits = await staff_session.read(portal, me, desk.find_customers, me.staff_id, form.value('query'))
            except DomainError as error:
                form.show(error)
                return
            if hits is None:  # the session had ended
                return
            with results:
                if not hits:
                    ui.label(t('staff.no_hits'))
                    return
                more = len(hits) > desk.SEARCH_LIMIT  # the rest not listed: a narrower search finds them
                hits = hits[: desk.SEARCH_LIMIT]
                counted = t('staff.hits_more', limit=len(hits)) if more else t('staff.hits', count=len(hits))
                ui.label(counted).props('role=status')
                for hit in hits:
                    with ui.card().classes('w-full'), ui.row().classes('w-full items-center justify-between'):
                        with ui.column().classes('gap-0'):
                            ui.link(
                                f'{hit.customer_number} · {hit.name}', f'/verwaltung/kunden/{hit.customer_id}'
                            ).classes('text-subtitle1')
                            ui.label(hit.address).classes('text-grey-8')
                        ui.label(
                            f'{t("staff.login_" + hit.login_state)}'
                            + (f' · {hit.login_email}' if hit.login_email else '')
                        )

        form.fields['query'].on('keydown.enter', search)
        ui.button(t('staff.search_submit'), on_click=search).props('no-caps')
        if q:
            await search()

    @staff_page(portal, '/verwaltung/kunden/{customer_id}', 'staff.nav_customers')
    async def customer_page(me: StaffMe, customer_id: int) -> None:
        if not 0 < customer_id < 2**31:  # a number from the address line: the ids' range, as every route's
            notice(t('error.not_allowed'), 'negative')
            return
        try:  # the card (and its "viewed" audit entry) in the transaction that checks the staff login
            card = await staff_session.act(portal, me, desk.customer_card, me.staff_id, customer_id)
        except DomainError:
            notice(t('error.not_allowed'), 'negative')
            return
        if card is None:  # the staff login ended meanwhile: on to the staff login
            return
        page_title(t('staff.customer_title', number=card.customer_number))
        with ui.card().classes('w-full'):
            ui.label(t('staff.master_data')).classes('text-h6').props('role=heading aria-level=2')
            ui.label(card.name)
            ui.label(card.address)
            ui.label(' · '.join(x for x in (card.email, card.phone) if x))
            ui.label(t('staff.paperless_yes' if card.paperless else 'staff.paperless_no'))  # "where is my bill?"
            if card.business:  # its bills are e-invoices: which kind, and the IDs they carry
                kind = t('staff.einvoice_xrechnung') if card.leitweg_id else t('staff.einvoice_zugferd')
                ids = [f'{t("staff.vat_id")} {card.vat_id}' if card.vat_id else '']
                ids.append(f'{t("staff.leitweg_id")} {card.leitweg_id}' if card.leitweg_id else '')
                ui.label(' · '.join(x for x in (kind, *ids) if x))
        with ui.card().classes('w-full'):
            ui.label(t('staff.portal_status')).classes('text-h6').props('role=heading aria-level=2')
            _login_status(card)
            if card.registration_held:  # wrong pairs tried with this customer number, from anywhere
                ui.label(t('staff.registration_held', minutes=card.registration_held)).classes('text-negative')
            for mail in card.undelivered:  # the customer who "never got the PIN": the address is likely wrong
                text = t('staff.undelivered', email=mail.email, at=when(mail.queued_at), subject=mail.subject)
                ui.label(f'{text} {mail.error}').classes('text-negative')
        with ui.card().classes('w-full'):
            ui.label(t('staff.actions')).classes('text-h6').props('role=heading aria-level=2')
            _actions(portal, me, card)
        with ui.card().classes('w-full'):
            ui.label(t('staff.readings')).classes('text-h6').props('role=heading aria-level=2')
            rows = [
                {
                    'date': day(r.reading_date),
                    'meter': r.meter_number,
                    'register': register_name(r.obis, current()),
                    'value': number(Decimal(r.value)),
                    'source': t(f'staff.sources.{r.source}'),
                    'status': (t(f'reading.flag.{r.plausibility}') if r.plausibility else '')
                    + (f' – {r.reason}' if r.reason else ''),
                }
                for r in card.readings
            ]
            columns = [
                {
                    'name': k,
                    'label': t(f'reading.{k}') if k != 'meter' else t('staff.col_meter'),
                    'field': k,
                    'align': 'left',
                }
                for k in ('date', 'meter', 'register', 'value', 'source', 'status')
            ]
            ui.table(columns=columns, rows=rows).classes('w-full').props('flat dense wrap-cells')
        with ui.card().classes('w-full'):
            ui.label(t('staff.changes')).classes('text-h6').props('role=heading aria-level=2')
            rows = [
                {'at': when(c.at), 'actor': c.actor, 'kind': change_kind(c.action, current()), 'details': c.details}
                for c in card.changes
            ]
            columns = [
                {'name': k, 'label': t(f'staff.changes_col_{k}'), 'field': k, 'align': 'left'}
                for k in ('at', 'actor', 'kind', 'details')
            ]
            ui.table(columns=columns, rows=rows).classes('w-full').props('flat dense wrap-cells')


def _login_status(card: desk.CustomerCard) -> None:
    login = card.login
    if login is None:
        ui.label(t('staff.no_login'))
        return
    rows = [
        (t('staff.login_email'), login.email),
        (t('staff.portal_status'), t(f'staff.login_{login.state}')),
        (t('staff.registered_at'), when(login.created_at)),
        (t('staff.confirmed_at'), when(login.confirmed_at)),
        (t('staff.last_login'), when(login.last_login_at)),
        (
            t('staff.portal_status'),
            t('staff.locked', minutes=login.locked_minutes) if login.locked_minutes else t('staff.not_locked'),
        ),
        (t('staff.linked'), ', '.join(f'{number} ({name})' for number, name in login.linked) or '–'),
    ]
    for label, value in rows:
        with ui.row().classes('gap-2'):
            ui.label(f'{label}:').classes('text-grey-8')
            ui.label(value)


def _login_email(portal: Portal, me: StaffMe, card: desk.CustomerCard, outcome: ui.column) -> None:
    """A customer who cannot read the login address any more (issue 23): after a call back, a new one."""
    with ui.expansion(t('staff.set_login_email')).classes('w-full'):
        ui.label(t('staff.set_login_email_intro')).classes('text-sm')
        form = Form()
        form.field('new_email', t('lost_access.new_email'), autocomplete='off')
        form.alert()

        async def save() -> None:
            form.clear()
            outcome.clear()
            try:
                email = await staff_session.act(
                    portal,
                    me,
                    lost_access.set_login_email,
                    me.staff_id,
                    card.customer_id,
                    form.value('new_email'),
                    address=client_address(),
                )
            except DomainError as error:
                form.show(error)
                return
            if email is not None:
                form.fields['new_email'].value = ''
                with outcome:
                    notice(t('staff.done_login_email', email=email))

        ui.button(t('staff.set_login_email_submit'), on_click=save).props('no-caps')


def _actions(portal: Portal, me: StaffMe, card: desk.CustomerCard) -> None:
    outcome = ui.column().classes('w-full')

    async def act(use_case, done: str | Callable[[Any], str], *args, form: Form | None = None) -> bool:
        """The use case for this customer; a refusal at its form's field (`form`), else below the actions. `done`:
        what the clerk reads then, or how to say it from the use case's result."""
        outcome.clear()
        try:
            if callable(done):
                result = await staff_session.act(
                    portal, me, use_case, me.staff_id, card.customer_id, *args, address=client_address()
                )
                if result is None:
                    return False
                done = done(result)
            elif not await staff_session.done(
                portal, me, use_case, me.staff_id, card.customer_id, *args, address=client_address()
            ):
                return False
        except DomainError as error:
            if form is not None and error.field in form.fields:
                form.show(error)
                return False
            with outcome:
                notice(t(error.key, **error.params), 'negative')
            return False
        with outcome:
            notice(done)
        return True

    login = card.login
    with ui.row().classes('gap-2 wrap'):
        if login is not None and login.state == 'pending':
            ui.button(
                t('staff.resend_activation'),
                on_click=lambda: act(desk.resend_activation, t('staff.done_activation', email=login.email)),
            ).props('no-caps outline')
        if login is not None and login.state == 'active':
            ui.button(
                t('staff.send_reset'), on_click=lambda: act(desk.send_reset, t('staff.done_reset', email=login.email))
            ).props('no-caps outline')
        if login is not None and login.locked_minutes:
            ui.button(t('staff.unlock'), on_click=lambda: act(desk.unlock_login, t('staff.done_unlock'))).props(
                'no-caps outline'
            )
        if card.registration_held:
            ui.button(
                t('staff.unlock_registration'), on_click=lambda: act(desk.unlock_registration, t('staff.done_unlock'))
            ).props('no-caps outline')
        if login is not None and login.second_factor:
            ui.button(
                t('staff.reset_customer_2fa'), on_click=lambda: act(desk.reset_second_factor, t('staff.done_reset_2fa'))
            ).props('no-caps outline')
    if login is not None and login.state == 'active':
        _login_email(portal, me, card, outcome)
    if login is not None:
        with ui.expansion(t('staff.delete_login')).classes('w-full'):
            reason = Form()
            reason.field('reason', t('staff.delete_reason'))

            async def delete() -> None:
                reason.clear()
                if await act(desk.delete_login, t('staff.done_delete'), reason.value('reason'), form=reason):
                    ui.navigate.to(f'/verwaltung/kunden/{card.customer_id}')

            ui.button(t('staff.delete_confirm'), on_click=delete).props('no-caps color=negative')
    with ui.expansion(t('staff.post_message')).classes('w-full'):
        message = Form()
        message.field('subject', t('staff.message_subject'))
        body = ui.textarea(t('staff.message_body')).classes('w-full').props('outlined maxlength=10000')
        message.fields['body'] = body
        attached: dict[str, bytes] = {}  # held with the page until sent: nothing is stored before "senden"

        async def attach(event) -> None:
            content = await event.file.read()
            if not content.startswith(b'%PDF'):
                ui.notify(t('staff.message_pdf_only'), type='warning')
                return
            attached['document'] = content
            attachment.text = t('staff.message_attached', name=Path(event.file.name).name)

        file_picker(
            t('staff.message_document'), attach, '.pdf', DOCUMENT_BYTES, lambda: staff_session.valid(portal, me)
        )
        attachment = ui.label().props('role=status')

        async def send() -> None:
            # the whole send at once per tab: a double click's second found the document taken by the first and
            # posted the message again without it (the use case's own guard saw other arguments)
            with sending(send, ()) as first:
                if first:
                    await send_once()

        async def send_once() -> None:
            message.clear()
            content = attached.pop('document', b'')
            relative = inbox_file(card.customer_id) if content and portal.files else ''
            if relative and portal.files:
                await run.io_bound(portal.files.store, relative, content)
            subject, text = message.value('subject'), message.value('body')

            def said(notified: bool) -> str:  # nobody told by mail: the clerk hears it, the letter goes by post
                return t('staff.done_message' if notified else 'staff.done_message_unmailed')

            if await act(desk.post_message, said, subject, text, relative, form=message):
                message.fields['subject'].value, body.value, attachment.text = '', '', ''
            else:  # not sent (the session ended, or the input was refused): not stored, still on the page
                if relative and portal.files:
                    await run.io_bound(portal.files.remove, relative)
                if content:
                    attached['document'] = content

        ui.button(t('staff.message_submit'), on_click=send).props('no-caps')
