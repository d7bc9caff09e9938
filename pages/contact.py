"""Kontakt: a message to the utility's staff with topic, subject and text; acknowledged by mail."""

from nicegui import ui

from domain.errors import DomainError
from domain.inbox import message_reference, send_contact_message, topic_names
from pages import session
from pages.forms import Form, client_address, notice, page_title
from pages.language import current, t
from pages.protected import protected_page
from service.runner import Portal


def create(portal: Portal) -> None:
    @protected_page(portal, '/kontakt', 'contact.title')
    def contact_page(me, choices) -> None:
        page_title(t('contact.title'))
        if me.customer_id is None:
            return
        number = next((c.customer_number for c in choices if c.customer_id == me.customer_id), '')
        p = portal.profile
        ui.label(t('contact.intro'))
        ui.label(t('contact.phone', phone=p.phone, email=p.email)).classes('text-grey-8')
        form = Form()
        with ui.card().classes('w-full'):
            ui.input(t('contact.customer_number'), value=number).props('outlined readonly').classes('w-full')
            topic = (
                ui.select(topic_names(current()), label=t('contact.topic'), value=None)
                .classes('w-full')
                .props('outlined')
            )
            form.fields['topic'] = topic  # type: ignore[assignment]  # its error at it, marked invalid and focused
            form.field('subject', t('contact.subject')).props('maxlength=200 counter')
            message = ui.textarea(t('contact.message')).classes('w-full').props('outlined maxlength=5000 counter')
            form.fields['message'] = message
            form.alert()
            done = ui.column().classes('w-full')

            async def submit() -> None:
                form.clear()
                done.clear()
                try:
                    ref = await session.act(
                        portal,
                        me,
                        send_contact_message,
                        me.user_id,
                        me.customer_id,
                        topic.value or '',
                        form.value('subject'),
                        form.value('message'),
                        address=client_address(),
                    )
                except DomainError as error:
                    form.show(error)
                    return
                if ref is None:  # the session has ended: on the way to the login
                    return
                form.fields['subject'].value = ''
                message.value = ''
                topic.value = None
                with done:
                    notice(t('contact.sent', reference=message_reference(ref)))

            ui.button(t('contact.submit'), on_click=submit).props('no-caps')
