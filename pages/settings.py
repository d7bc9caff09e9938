"""Einstellungen: login email (re-confirmed), password, the login's customer numbers (pages/customer_numbers.py),
and "Profil entfernen" where the utility allows it."""

from collections.abc import Awaitable, Callable
from typing import Annotated

import segno
from fastapi import Path, Request, Response
from nicegui import app, ui

from domain.accounts import (
    change_password,
    confirm_email_change,
    delete_profile,
    request_email_change,
    stop_email_change,
)
from domain.data_export import export_data, export_json, export_zip
from domain.errors import DomainError
from domain.information_page import information_page
from domain.passwords import describe_policy
from domain.reminders import reminders_on, set_reminders, stop_reminders
from domain.second_factor import (
    begin_second_factor,
    confirm_second_factor,
    disable_second_factor,
    second_factor_enabled,
)
from pages import customer_numbers, session
from pages.forms import Form, client_address, notice, page_title, titled_card
from pages.frame import public_frame
from pages.information import interval_card
from pages.language import current, t
from pages.protected import protected_page
from service.runner import Portal


def create(portal: Portal) -> None:
    @protected_page(portal, '/einstellungen', 'settings.title')
    async def settings_page(me, choices) -> None:
        page_title(t('settings.title'))
        customer_numbers.removed_notice()
        _email_card(portal, me)
        _password_card(portal, me)
        if me.customer_id is not None:  # billing information's interval, for the customer chosen (energy only)
            information = await portal.act(information_page, me.user_id, me.customer_id, login=session.login(me))
            if information.energy:
                interval_card(portal, me, information)
        await _reminders_card(portal, me)
        await _second_factor_card(portal, me)
        customer_numbers.card(portal, me, choices)
        _export_card(portal, me)
        _delete_card(portal, me)

    @ui.page('/erinnerungen-abbestellen/{customer_id}/{mac}')
    async def stop_reminders_page(customer_id: int, mac: str):
        """The opt-out link of a reading reminder: asks first (mail scanners open links), then stops them."""
        with public_frame(portal, t('settings.reminders_stop_title')):
            page_title(t('settings.reminders_stop_title'))
            ui.label(t('settings.reminders_stop_intro'))
            result = ui.column()

            async def stop() -> None:
                result.clear()
                with result:
                    try:
                        await portal.act(stop_reminders, customer_id, mac[:64], address=client_address())
                    except DomainError as error:
                        notice(t(error.key, **error.params), 'negative')
                        return
                    notice(t('settings.reminders_stopped'))
                    button.set_visibility(False)

            button = ui.button(t('settings.reminders_stop'), on_click=stop).props('no-caps')

    @app.post('/erinnerungen-abbestellen/{customer_id}/{mac}')
    async def stop_reminders_one_click(
        request: Request, customer_id: Annotated[int, Path(ge=1, le=2**31 - 1)], mac: str
    ) -> Response:
        """List-Unsubscribe-Post (RFC 8058): the mail program's one-click opt-out, a POST no link scanner sends."""
        address = request.client.host if request.client is not None else ''
        try:
            await portal.act(stop_reminders, customer_id, mac[:64], address=address)
        except DomainError:
            return Response(t('error.not_allowed'), status_code=404, media_type='text/plain; charset=utf-8')
        return Response(t('settings.reminders_stopped'), media_type='text/plain; charset=utf-8')

    @ui.page('/email-aenderung-stoppen/{token}')
    def stop_email_page(token: str):
        """Asks before it acts: mail scanners open the links in a mail, and one at the old address would stop every
        change of the login email and end every session."""
        _link_page(portal, 'stop', lambda: portal.act(stop_email_change, token, address=client_address()))

    @ui.page('/email-bestaetigen/{token}')
    def confirm_email_page(token: str):
        """Asks before it acts, as the stop page: a mail scanner at a mistyped new address (someone else's) opening
        the link moved the login there."""
        _link_page(portal, 'confirm', lambda: portal.act(confirm_email_change, token, address=client_address()))


def _link_page(portal: Portal, kind: str, act: Callable[[], Awaitable[str]]) -> None:
    """A link's page from a mail about a change of the login email (`kind`: stop or confirm): the link acts only
    when its button is pressed, and says the outcome."""
    done = {'stop': 'settings.email_stopped', 'confirm': 'settings.email_changed'}[kind]
    with public_frame(portal, t(f'settings.email_{kind}_title')):
        page_title(t(f'settings.email_{kind}_title'))
        ui.label(t(f'settings.email_{kind}_intro'))
        answer = ui.column().classes('w-full')

        async def press() -> None:
            button.disable()
            try:
                email = await act()
            except DomainError as error:
                with answer:
                    notice(t(error.key, **error.params), 'negative')
                return
            button.set_visibility(False)
            with answer:
                notice(t(done, email=email))

        button = ui.button(t(f'settings.email_{kind}_submit'), on_click=press).props('no-caps')
        ui.link(t('common.back_to_login'), '/')


def _email_card(portal: Portal, me: session.LoggedIn) -> None:
    with titled_card(t('settings.email_title')):
        ui.label(t('settings.email_intro'))
        form = Form()
        form.field('new_email', t('field.new_email'), autocomplete='email')
        form.field('current_password', t('field.current_password'), password=True, autocomplete='current-password')
        form.alert()
        done = notice('')
        done.set_visibility(False)

        async def submit() -> None:
            form.clear()
            done.set_visibility(False)
            try:
                email = await session.act(
                    portal,
                    me,
                    request_email_change,
                    me.user_id,
                    form.value('new_email'),
                    form.value('current_password'),
                    address=client_address(),
                )
            except DomainError as error:
                form.show(error)
                return
            if email is None:
                return
            form.fields['current_password'].value = ''
            done.text = t('settings.email_taken_or_sent', email=email)
            done.set_visibility(True)

        ui.button(t('settings.email_submit'), on_click=submit).props('no-caps')


def _password_card(portal: Portal, me: session.LoggedIn) -> None:
    with titled_card(t('settings.password_title')):
        ui.label(describe_policy(portal.profile.password, current()))
        form = Form()
        form.field('current_password', t('field.current_password'), password=True, autocomplete='current-password')
        form.field('new_password', t('field.new_password'), password=True, autocomplete='new-password')
        form.field('password_repeat', t('field.password_repeat'), password=True, autocomplete='new-password')
        form.alert()
        done = notice(t('settings.password_changed'))
        done.set_visibility(False)

        async def submit() -> None:
            form.clear()
            try:
                epoch = await session.act(
                    portal,
                    me,
                    change_password,
                    me.user_id,
                    form.value('current_password'),
                    form.value('new_password'),
                    form.value('password_repeat'),
                    address=client_address(),
                )
            except DomainError as error:
                form.show(error)
                return
            if epoch is None:
                return
            session.set_epoch(epoch)
            for element in form.fields.values():
                element.value = ''
            done.set_visibility(True)

        ui.button(t('settings.password_submit'), on_click=submit).props('no-caps')


async def _second_factor_card(portal: Portal, me: session.LoggedIn) -> None:
    """Optional for customers: an authenticator app as a second factor after the password."""
    enabled = await portal.read(second_factor_enabled, me.user_id, login=session.login(me))
    with titled_card(t('settings.totp_title')):
        ui.label(t('settings.totp_on' if enabled else 'settings.totp_intro'))
        form = Form()
        box = ui.column().classes('w-full gap-2')
        if enabled:
            with box:
                form.field(
                    'current_password', t('field.current_password'), password=True, autocomplete='current-password'
                )
                form.alert()

                async def disable() -> None:
                    form.clear()
                    try:
                        if not await session.done(
                            portal,
                            me,
                            disable_second_factor,
                            me.user_id,
                            form.value('current_password'),
                            address=client_address(),
                        ):
                            return
                    except DomainError as error:
                        form.show(error)
                        return
                    ui.navigate.to('/einstellungen')

                ui.button(t('settings.totp_disable'), on_click=disable).props('no-caps outline')
            return

        with box:
            form.field('current_password', t('field.current_password'), password=True, autocomplete='current-password')
            form.alert()

        async def start() -> None:
            form.clear()
            try:
                enrolment = await session.act(
                    portal,
                    me,
                    begin_second_factor,
                    me.user_id,
                    form.value('current_password'),
                    address=client_address(),
                )
            except DomainError as error:
                form.show(error)
                return
            if enrolment is None:
                return
            starter.set_visibility(False)
            form.fields.pop('current_password').set_visibility(False)
            with box:
                ui.label(t('settings.totp_scan'))
                ui.image(segno.make(enrolment.uri, error='m').png_data_uri(scale=5)).classes('w-56').props(
                    f'alt="{t("settings.totp_qr")}"'
                )
                ui.label(t('settings.totp_secret', secret=enrolment.secret)).style('word-break: break-all')
                form.field('code', t('settings.totp_code'), autocomplete='one-time-code').props('inputmode=numeric')

                async def confirm() -> None:
                    form.clear()
                    try:
                        if not await session.done(
                            portal, me, confirm_second_factor, me.user_id, form.value('code'), address=client_address()
                        ):
                            return
                    except DomainError as error:
                        form.show(error)
                        return
                    ui.navigate.to('/einstellungen')

                ui.button(t('settings.totp_confirm'), on_click=confirm).props('no-caps')

        starter = ui.button(t('settings.totp_enable'), on_click=start).props('no-caps outline')


def _export_card(portal: Portal, me: session.LoggedIn) -> None:
    with titled_card(t('settings.export_title')):
        ui.label(t('settings.export_intro'))

        async def download(kind: str) -> None:
            data = await session.act(portal, me, export_data, me.user_id, address=client_address())
            if data is None:
                return
            stamp = data['exported_at'].strftime('%Y-%m-%d')
            if kind == 'json':
                ui.download.content(export_json(data), f'meine-daten-{stamp}.json', 'application/json')
            else:
                ui.download.content(export_zip(data), f'meine-daten-{stamp}.zip', 'application/zip')

        with ui.row().classes('gap-2 wrap'):
            ui.button(t('settings.export_json'), icon='download', on_click=lambda: download('json')).props(
                'outline no-caps'
            )
            ui.button(t('settings.export_csv'), icon='download', on_click=lambda: download('csv')).props(
                'outline no-caps'
            )


def _delete_card(portal: Portal, me: session.LoggedIn) -> None:
    with titled_card(t('settings.delete_title')):
        if not portal.profile.profile_deletion.self_service:
            p = portal.profile
            ui.label(t('settings.delete_by_request', phone=p.phone, email=p.email))
            return
        ui.label(t('settings.delete_intro'))

        async def delete() -> None:
            form.clear()
            try:
                if not await session.done(
                    portal, me, delete_profile, me.user_id, form.value('current_password'), address=client_address()
                ):
                    return
            except DomainError as error:
                form.show(error)
                return
            session.end()
            ui.navigate.to('/?entfernt=1')

        with ui.dialog() as confirm, ui.card():
            ui.label(t('settings.delete_confirm')).classes('text-body1')
            form = Form()
            form.field('current_password', t('field.current_password'), password=True, autocomplete='current-password')
            form.alert()
            with ui.row():
                ui.button(t('settings.delete_confirm_button'), color='negative', on_click=delete).props('no-caps')
                ui.button(t('common.cancel'), on_click=confirm.close).props('flat no-caps')
        ui.button(t('settings.delete_button'), color='negative', on_click=confirm.open).props('outline no-caps')


async def _reminders_card(portal: Portal, me: session.LoggedIn) -> None:
    """`Ablese-Erinnerungen per E-Mail` (docs/domain.md §10), for the customer chosen."""
    if me.customer_id is None:
        return
    on = await portal.act(reminders_on, me.user_id, me.customer_id, login=session.login(me))
    if on is None:  # no reminders are ever sent to this customer: nothing to switch
        return
    with titled_card(t('settings.reminders_title')):
        ui.label(t('settings.reminders_intro'))
        status = ui.label().props('aria-live=polite')

        async def changed(event) -> None:
            if me.customer_id is None:
                return
            ran = await session.done(
                portal, me, set_reminders, me.user_id, me.customer_id, bool(event.value), address=client_address()
            )
            if ran:
                status.text = t('settings.reminders_saved_on' if event.value else 'settings.reminders_saved_off')

        ui.checkbox(t('settings.reminders'), value=on, on_change=changed)
