"""The login's customer numbers in Einstellungen: each but the last can be taken off the login
(`domain.accounts.remove_customer`); adding one is the switcher's dialog (pages/frame.py)."""

from functools import partial

from nicegui import app, ui

from domain.accounts import remove_customer
from domain.errors import DomainError
from domain.overview import CustomerChoice
from pages import session
from pages.forms import Form, client_address, notice, titled_card
from pages.language import t
from service.runner import Portal

REMOVED = 'customer_removed'  # the number just removed, for the notice on the page shown next


def card(portal: Portal, me: session.LoggedIn, choices: list[CustomerChoice]) -> None:
    """The login's customer numbers; each but the last can be taken off it (`remove_customer`)."""
    if not choices:
        return
    with titled_card(t('settings.customers_title')):
        if len(choices) == 1:
            ui.label(choices[0].label)
            ui.label(t('settings.customers_only_one')).classes('text-grey-8')
            return
        ui.label(t('settings.customers_intro'))
        chosen: list[CustomerChoice] = []

        async def remove() -> None:
            form.clear()
            try:
                shown = await session.act(
                    portal, me, remove_customer, me.user_id, chosen[0].customer_id, address=client_address()
                )
            except DomainError as error:
                form.show(error)
                return
            if shown is None:
                return
            if me.customer_id == chosen[0].customer_id:
                session.select_customer(shown)
            app.storage.user[REMOVED] = chosen[0].customer_number
            ui.navigate.to('/einstellungen')  # the switcher above lists it no more

        def ask(choice: CustomerChoice) -> None:
            chosen[:] = [choice]
            question.text = t('settings.customers_remove_confirm', number=choice.customer_number)
            form.clear()
            confirm.open()

        with ui.dialog() as confirm, ui.card():
            question = ui.label().classes('text-body1')
            form = Form()
            form.alert()
            with ui.row():
                ui.button(t('settings.customers_remove_button'), color='negative', on_click=remove).props('no-caps')
                ui.button(t('common.cancel'), on_click=confirm.close).props('flat no-caps')
        for choice in choices:
            with ui.row().classes('w-full items-center justify-between gap-2'):
                ui.label(choice.label)
                named = t('settings.customers_remove_label', number=choice.customer_number)
                ui.button(t('settings.customers_remove'), on_click=partial(ask, choice)).props(
                    f'outline no-caps dense aria-label="{named}"'
                )


def removed_notice() -> None:
    """The notice of a number just removed, on the page shown after it (once)."""
    removed = app.storage.user.pop(REMOVED, None)
    if removed:
        notice(t('settings.customers_removed', number=removed))
