"""Posteingang: messages and documents from the utility, unread ones marked; opening one marks it read."""

from typing import Annotated

from fastapi import Path
from nicegui import app, ui

from domain.errors import DomainError
from domain.i18n import moment
from domain.inbox import InboxEntry, inbox, inbox_document, mark_read, unread_elsewhere
from pages import session
from pages.downloads import owned_document
from pages.forms import client_address, notice, page_title
from pages.language import current, t
from pages.protected import protected_page
from service.runner import Portal


def create(portal: Portal) -> None:
    @protected_page(portal, '/posteingang', 'inbox.title')
    async def inbox_page(me, choices) -> None:
        page_title(t('inbox.title'))
        if me.customer_id is None:
            return
        entries = await portal.read(inbox, me.user_id, me.customer_id, login=session.login(me))
        for number, count in await portal.read(unread_elsewhere, me.user_id, me.customer_id, login=session.login(me)):
            notice(t('inbox.elsewhere', number=number, count=count), 'info')
        if not entries:
            ui.label(t('inbox.empty'))
        for entry in entries:
            _entry(portal, me, entry)

    _document_route(portal)


def _document_route(portal: Portal) -> None:
    @app.get('/posteingang/dokument/{message_id}')
    async def document(message_id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
        """Only for the login the message's customer belongs to."""
        return await owned_document(
            portal, lambda me, login: portal.read(inbox_document, me.user_id, message_id, login=login), ''
        )


def _entry(portal: Portal, me: session.LoggedIn, entry: InboxEntry) -> None:
    with ui.card().classes('w-full'):
        with ui.row().classes('w-full items-center justify-between wrap'):
            heading = ui.label(entry.subject).classes('text-subtitle1').props('role=heading aria-level=2')
            if entry.unread:
                heading.classes('text-weight-bold')
            status = ui.badge(
                t('inbox.unread') if entry.unread else t('inbox.read'), color='primary' if entry.unread else 'grey-6'
            )
        ui.label(f'{t("inbox.kinds." + entry.kind)} · {moment(entry.created_at, current())}').classes(
            'text-caption text-grey-8'
        )
        ui.label(entry.body).classes('whitespace-pre-line')
        if entry.has_document:
            ui.button(
                t('inbox.document'),
                icon='download',
                on_click=lambda: ui.download.from_url(f'/posteingang/dokument/{entry.id}'),
            ).props('outline dense no-caps')

        async def read() -> None:
            try:
                if not await session.done(
                    portal, me, mark_read, me.user_id, me.customer_id, entry.id, address=client_address()
                ):
                    return
            except DomainError as error:
                ui.notify(t(error.key, **error.params), type='negative')
                return
            heading.classes(remove='text-weight-bold')
            status.set_text(t('inbox.read'))
            status.props('color=grey-6')
            button.set_visibility(False)

        button = ui.button(t('inbox.mark_read'), on_click=read).props('outline dense no-caps')
        button.set_visibility(entry.unread)
