"""Kein Zugriff mehr auf die E-Mail-Adresse: a public request for a new login address, checked by staff."""

from nicegui import ui

from domain.errors import DomainError
from domain.lost_access import request_new_login_email
from pages.forms import Form, client_address, notice, page_title
from pages.frame import at_second, customer_number_field, identifiers, public_frame, second_fields
from pages.language import t
from service.runner import Portal

PATH = '/zugang-verloren'


def create(portal: Portal) -> None:
    @ui.page(PATH)
    def lost_access_page():
        with public_frame(portal, t('lost_access.title')):
            page_title(t('lost_access.title'))
            _form(portal)


def _form(portal: Portal) -> None:
    ui.label(t('lost_access.intro_bill' if portal.profile.accepts_bill_number else 'lost_access.intro'))
    form = Form()
    with ui.column().classes('w-full gap-4') as form_area:
        form.field('name', t('lost_access.name'), autocomplete='name')
        customer_number_field(portal, form)
        second_fields(portal, form)
        form.field('new_email', t('lost_access.new_email'), autocomplete='email')
        form.field('phone', t('lost_access.phone'), autocomplete='tel', hint=t('lost_access.phone_hint'))
        form.fields['phone'].props('type=tel maxlength=40')
        form.alert()
        ui.button(t('lost_access.submit'), on_click=lambda: submit()).classes('w-full').props('no-caps size=lg')
        ui.link(t('common.back_to_login'), '/')
    result = ui.column().classes('w-full')

    async def submit() -> None:
        form.clear()
        try:
            email = await portal.act(
                request_new_login_email,
                form.value('name'),
                identifiers(form),
                form.value('new_email'),
                form.value('phone'),
                address=client_address(),
            )
        except DomainError as error:
            form.show(at_second(error, form) if error.field == 'second' else error)
            return
        form_area.set_visibility(False)
        with result:
            notice(t('lost_access.sent', email=email))
            ui.label(t('register.spam_hint'))
            ui.link(t('common.back_to_login'), '/')
