"""Kundendaten: Basisdaten (contact data, Onlinekunde), Bankverbindung with SEPA mandate, mandate as PDF."""

from typing import Annotated

from fastapi import Query, Response
from nicegui import app, ui
from starlette.responses import RedirectResponse

from domain.clock import local_day
from domain.customer_data import (
    ContactData,
    bank_name,
    bank_view,
    change_bank_account,
    change_contact_data,
    contact_data,
    mandate_form,
    revoke_mandate,
)
from domain.customer_documents import sepa_mandate_pdf
from domain.errors import DomainError
from domain.i18n import day
from pages import session
from pages.forms import Form, client_address, notice, page_title
from pages.language import t
from pages.protected import protected_page
from service.runner import Portal

MANDATE_PDF = '/kundendaten/sepa-mandat.pdf'


def create(portal: Portal) -> None:
    @protected_page(portal, '/kundendaten', 'customer_data.title')
    async def customer_data_page(me, choices) -> None:
        page_title(t('customer_data.title'))
        if me.customer_id is None:
            return
        name = next((c.name for c in choices if c.customer_id == me.customer_id), '')
        data = await portal.read(contact_data, me.user_id, me.customer_id, login=session.login(me))
        box = ui.column().classes('w-full')
        _basic(box, portal, me, name, data)
        _bank(portal, me)

    @app.get(MANDATE_PDF)
    async def mandate_pdf(kunde: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None):
        """Served only to a logged-in owner of the customer; a download, never a pop-up. `kunde`: the customer the page
        showed (another tab may have switched the session's customer since), else the selected one."""
        try:
            valid, form = await session.fetch(  # the session checked in the form's own transaction
                portal,
                lambda me, login: portal.act(mandate_form, me.user_id, kunde or me.customer_id or 0, login=login),
            )
        except DomainError:
            return RedirectResponse('/')
        if not valid or form is None:
            return RedirectResponse('/')
        pdf = sepa_mandate_pdf(portal.profile, form)
        return Response(
            pdf,
            media_type='application/pdf',
            headers={
                'Content-Disposition': f'attachment; filename="SEPA-Mandat-{form.customer_number}.pdf"',
                'Cache-Control': 'no-store',
            },
        )


def _card(title: str) -> ui.card:
    card = ui.card().classes('w-full')
    with card:
        ui.label(title).classes('text-h6').props('role=heading aria-level=2')
    return card


def _basic(
    box: ui.column, portal: Portal, me: session.LoggedIn, name: str, data: ContactData, saved: bool = False
) -> None:
    """Read-only view with "Basisdaten ändern"; the edit form replaces it until "Bestätigen" or "Abbrechen"."""
    box.clear()
    with box, _card(t('customer_data.basic')):
        if saved:
            notice(t('customer_data.saved'))
        view = ui.column().classes('w-full gap-1')
        with view:
            ui.label(f'{t("customer_data.name")}: {name}')
            ui.label(t('customer_data.name_hint')).classes('text-caption text-grey-8')
            ui.label(f'{t("customer_data.address")}: {data.street} {data.house_number}, {data.postal_code} {data.city}')
            ui.label(f'{t("customer_data.phone")}: {data.phone or "–"}')
            ui.label(f'{t("customer_data.contact_email")}: {data.email or "–"}')
            ui.label(t('customer_data.paperless_on') if data.paperless else t('customer_data.paperless_off'))
        form = Form()
        with ui.column().classes('w-full gap-2') as edit:
            with ui.row().classes('w-full no-wrap gap-2'):
                form.field('street', t('customer_data.street'), value=data.street, autocomplete='address-line1')
                form.field('house_number', t('customer_data.house_number'), value=data.house_number).classes(
                    replace='w-32'
                )
            with ui.row().classes('w-full no-wrap gap-2'):
                form.field(
                    'postal_code', t('customer_data.postal_code'), value=data.postal_code, autocomplete='postal-code'
                ).classes(replace='w-32').props('inputmode=numeric')
                form.field('city', t('customer_data.city'), value=data.city, autocomplete='address-level2')
            form.field('phone', t('customer_data.phone'), value=data.phone, autocomplete='tel').props('type=tel')
            form.field(
                'contact_email',
                t('customer_data.contact_email'),
                value=data.email,
                hint=t('customer_data.contact_email_hint'),
            )
            paperless = ui.checkbox(t('customer_data.paperless'), value=data.paperless)
            ui.label(t('customer_data.paperless_hint')).classes('text-caption text-grey-8')
            form.alert()

            async def confirm() -> None:
                form.clear()
                new = ContactData(
                    form.value('street'),
                    form.value('house_number'),
                    form.value('postal_code'),
                    form.value('city'),
                    form.value('phone'),
                    form.value('contact_email'),
                    bool(paperless.value),
                )
                try:
                    changed = await session.act(
                        portal, me, change_contact_data, me.user_id, me.customer_id, new, data, address=client_address()
                    )
                except DomainError as error:
                    form.show(error)
                    return
                if changed is None:
                    return
                _basic(box, portal, me, name, changed, saved=True)

            with ui.row():
                ui.button(t('customer_data.confirm'), on_click=confirm).props('no-caps')
                ui.button(t('common.cancel'), on_click=lambda: _basic(box, portal, me, name, data)).props(
                    'flat no-caps'
                )
        edit.set_visibility(False)

        def start_edit() -> None:
            view.set_visibility(False)
            edit_button.set_visibility(False)
            edit.set_visibility(True)

        edit_button = ui.button(t('customer_data.edit'), on_click=start_edit).props('outline no-caps')


def _bank(portal: Portal, me: session.LoggedIn) -> None:
    with _card(t('customer_data.bank')):
        current = ui.column().classes('w-full gap-1')

        async def show_current(message: str = '') -> None:
            ran, view = await session.read(portal, me, bank_view, me.user_id, me.customer_id)
            if not ran:
                return
            current.clear()
            # a new account keeps the mandate unless it is unticked (correcting the holder ended it unasked)
            mandate.value = bool(view and view.mandate_active)
            with current:
                if message:
                    notice(message)
                if view is None:
                    ui.label(t('customer_data.no_bank'))
                    return
                ui.label(f'{t("customer_data.holder")}: {view.holder}')
                ui.label(f'{t("customer_data.iban")}: {view.masked_iban}' + (f' ({view.bank})' if view.bank else ''))
                if view.mandate_active and view.mandate_granted_at is not None:
                    ui.label(
                        t(
                            'customer_data.mandate_active',
                            date=day(local_day(view.mandate_granted_at)),
                            reference=view.mandate_reference,
                        )
                    )
                    with ui.dialog() as dialog, ui.card():
                        ui.label(t('customer_data.revoke_confirm'))
                        asked = Form()
                        asked.field(
                            'current_password',
                            t('field.current_password'),
                            password=True,
                            autocomplete='current-password',
                        )
                        asked.alert()
                        with ui.row():
                            ui.button(
                                t('customer_data.revoke'),
                                color='negative',
                                on_click=lambda: revoke(dialog, asked),
                            ).props('no-caps')
                            ui.button(t('common.cancel'), on_click=dialog.close).props('flat no-caps')
                    ui.button(t('customer_data.revoke'), on_click=dialog.open).props('outline color=negative no-caps')
                else:
                    ui.label(t('customer_data.mandate_none'))

        async def revoke(dialog: ui.dialog, asked: Form) -> None:
            asked.clear()
            try:
                if not await session.done(
                    portal,
                    me,
                    revoke_mandate,
                    me.user_id,
                    me.customer_id,
                    asked.value('current_password'),
                    address=client_address(),
                ):
                    return
            except DomainError as error:
                asked.show(error)
                return
            dialog.close()
            await show_current(t('customer_data.revoked'))

        ui.timer(0, show_current, once=True)
        form = Form()
        form.field('holder', t('customer_data.holder'), autocomplete='cc-name').props('maxlength=70')
        iban = form.field('iban', t('customer_data.iban'), hint=t('customer_data.iban_hint')).props(
            'maxlength=42 spellcheck=false'
        )
        bank = ui.label().classes('text-caption text-grey-8').props('aria-live=polite')
        iban.on_value_change(
            lambda e: bank.set_text(
                f'{t("customer_data.bank_name")}: {bank_name(e.value or "")}' if bank_name(e.value or '') else ''
            )
        )
        p = portal.profile
        ui.label(t('customer_data.mandate_text', **p.names)).classes('text-body2')
        ui.label(
            t(
                'customer_data.creditor',
                name=p.name,
                address=f'{p.street}, {p.postal_code} {p.city}',
                creditor_id=p.creditor_id,
            )
        ).classes('text-caption text-grey-8')
        mandate = ui.checkbox(t('customer_data.mandate'))
        form.field('current_password', t('field.current_password'), password=True, autocomplete='current-password')
        form.alert()

        async def save() -> None:
            form.clear()
            try:
                saved = await session.act(
                    portal,
                    me,
                    change_bank_account,
                    me.user_id,
                    me.customer_id,
                    form.value('holder'),
                    form.value('iban'),
                    bool(mandate.value),
                    form.value('current_password'),
                    address=client_address(),
                )
            except DomainError as error:
                form.show(error)
                return
            if saved is None:
                return
            form.fields['holder'].value = ''
            form.fields['current_password'].value = ''
            iban.value = ''
            await show_current(t('customer_data.bank_saved'))

        with ui.row().classes('items-center gap-4 wrap'):
            ui.button(t('customer_data.bank_submit'), on_click=save).props('no-caps')
            ui.link(t('customer_data.mandate_pdf'), f'{MANDATE_PDF}?kunde={me.customer_id}').props('download')
        ui.label(t('customer_data.mandate_pdf_hint')).classes('text-caption text-grey-8')
