"""Registrierung with the utility's two identifiers, and the email confirmation by link or PIN."""

from nicegui import ui

from domain.errors import AlreadyActive, DomainError
from domain.passwords import describe_policy
from domain.registration import PendingRegistration, confirm_link, confirm_pin, register, resend
from pages.forms import Form, client_address, notice, page_title
from pages.frame import at_second, customer_number_field, identifiers, public_frame, second_fields
from pages.language import current, t
from service.runner import Portal


def create(portal: Portal) -> None:
    @ui.page('/registrieren')
    def registration_page():
        with public_frame(portal, t('register.title')):
            page_title(t('register.title'))
            _registration_form(portal)

    @ui.page('/registrieren/bestaetigen')
    def pin_page(ref: str = ''):
        with public_frame(portal, t('pin.title')):
            page_title(t('pin.title'))
            _pin_form(portal, ref)

    @ui.page('/aktivieren/{token}')
    def activation_page(token: str):
        """Asks before it acts, as the pages of a login email change: a mail scanner at a mistyped address (someone
        else's) opening the link activated a login whose mails, reset links included, go to that stranger."""
        with public_frame(portal, t('activation.title')):
            page_title(t('activation.title'))
            ui.label(t('activation.intro'))
            answer = ui.column().classes('w-full')

            async def press() -> None:
                button.set_visibility(False)
                with answer:
                    try:
                        await portal.act(confirm_link, token, address=client_address())
                    except AlreadyActive as error:
                        notice(t(error.key), 'info')
                        ui.link(t('activation.to_login'), '/')
                        return
                    except DomainError as error:
                        notice(t(error.key, **error.params), 'negative')
                        ui.link(t('register.title'), '/registrieren')
                        return
                    notice(t('activation.done'))
                    ui.button(t('activation.to_login'), on_click=lambda: ui.navigate.to('/?aktiviert=1')).props(
                        'no-caps'
                    )

            button = ui.button(t('activation.submit'), on_click=press).props('no-caps')


def _registration_form(portal: Portal) -> None:
    profile = portal.profile
    ui.label(t('register.intro_bill' if profile.accepts_bill_number else 'register.intro'))
    if profile.registration.requires_annual_bill:
        ui.label(t('register.requires_annual_bill')).classes('text-caption')
    form = Form()
    with ui.column().classes('w-full gap-4') as form_area:
        customer_number_field(portal, form)
        second_fields(portal, form)
        form.field('email', t('field.email'), autocomplete='email')
        form.field(
            'password',
            t('field.password'),
            password=True,
            autocomplete='new-password',
            hint=describe_policy(profile.password, current()),
        )
        form.field('password_repeat', t('field.password_repeat'), password=True, autocomplete='new-password')
        form.alert()
        submit_button = ui.button(t('register.submit')).classes('w-full').props('no-caps size=lg')
        ui.link(t('common.back_to_login'), '/')
    result = ui.column().classes('w-full')

    async def submit() -> None:
        form.clear()
        ids = identifiers(form)
        try:
            pending = await portal.act(
                register,
                ids,
                form.value('email'),
                form.value('password'),
                form.value('password_repeat'),
                address=client_address(),
            )
        except DomainError as error:
            form.show(at_second(error, form) if error.field == 'second' else error)
            return
        if pending.method == 'pin':
            ui.navigate.to(f'/registrieren/bestaetigen?ref={pending.reference}')
            return
        form_area.set_visibility(False)
        with result:
            _link_sent(portal, pending)

    submit_button.on_click(submit)
    form.fields['password_repeat'].on('keydown.enter', submit)  # Enter in the last field sends, as in any form


def _link_sent(portal: Portal, pending: PendingRegistration) -> None:
    notice(t('register.link_sent', email=pending.email))
    ui.label(t('register.spam_hint'))
    status = ui.label()

    async def again() -> None:
        try:
            await portal.act(resend, pending.reference, address=client_address())
        except DomainError as error:
            status.text = t(error.key, **error.params)
            return
        status.text = t('register.resent', email=pending.email)

    ui.button(t('register.resend'), on_click=again).props('outline no-caps')


def _pin_form(portal: Portal, ref: str) -> None:
    minutes = portal.profile.registration.pin_valid_minutes
    ui.label(t('pin.intro', minutes=minutes))
    ui.label(t('pin.spam_hint')).classes('text-caption')
    form = Form()
    pin = form.field('pin', t('field.pin'), autocomplete='one-time-code')
    pin.props('inputmode=numeric maxlength=6')
    form.alert()
    status = notice('', 'info')
    status.set_visibility(False)

    async def confirm() -> None:
        form.clear()
        try:
            await portal.act(confirm_pin, ref, form.value('pin'), address=client_address())
        except DomainError as error:
            form.show(error)
            return
        ui.navigate.to('/?aktiviert=1')

    async def new_pin() -> None:
        form.clear()
        try:
            await portal.act(resend, ref, address=client_address())
        except DomainError as error:
            form.show(error)
            return
        status.text = t('pin.resent')
        status.set_visibility(True)

    pin.on('keydown.enter', confirm)
    with ui.row().classes('w-full gap-2'):
        ui.button(t('pin.submit'), on_click=confirm).props('no-caps')
        ui.button(t('pin.new'), on_click=new_pin).props('outline no-caps')
