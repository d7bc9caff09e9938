"""Umzug melden (`/umzug`): move-out date and readings, the new address for the final bill, and within the supply
area the wish to be supplied there; the receipt on the page and as PDF, the confirmation by mail."""

from nicegui import ui

from domain.contract_requests import Receipt
from domain.errors import DomainError
from domain.i18n import day
from domain.moves import MoveForm, MoveStart, abroad, outside_area, reading_field, report_move, start
from domain.reading_rules import register_name
from pages import session
from pages.forms import Form, client_address, page_title
from pages.language import current, t
from pages.protected import protected_page
from pages.receipts import show_receipt
from service.runner import Portal

PATH = '/umzug'


def create(portal: Portal) -> None:
    @protected_page(portal, PATH, 'move.title')
    async def move_page(me, choices) -> None:
        page_title(t('move.title'))
        if me.customer_id is None:
            return
        begin = await portal.act(start, me.user_id, me.customer_id, login=session.login(me))
        if not begin.running:  # all contracts ended: nothing to move (the form took a request nobody could carry out)
            ui.label(t('move.none'))
            return
        ui.label(t('move.intro'))
        _form(portal, me, begin)


def _form(portal: Portal, me: session.LoggedIn, begin: MoveStart) -> None:
    form = Form()
    with ui.column().classes('w-full gap-4') as area:
        form.field(
            'move_out',
            t('move.move_out'),
            hint=t('move.date_hint', earliest=day(begin.earliest), latest=day(begin.latest)),
        )
        ui.label(t('move.readings')).classes('text-subtitle1 text-weight-medium').props('role=heading aria-level=2')
        ui.label(t('move.readings_hint')).classes('text-body2')
        several = len(begin.meters) > 1
        for meter in begin.meters:
            if meter.remote:
                ui.label(t('move.remote', meter=meter.meter_number))
                continue
            ui.label(
                t('move.meter', meter=meter.meter_number, commodity=t('commodity.' + meter.commodity), unit=meter.unit)
            ).classes('text-weight-medium')
            for obis in meter.registers:
                label = t('move.reading_out')
                if len(meter.registers) > 1:
                    label += ' ' + register_name(obis, current()).split(' ')[0]
                if several:
                    label += f' ({meter.meter_number})'
                form.field(reading_field(meter.meter_number, obis), label).props('inputmode=numeric')
        ui.label(t('move.new_address')).classes('text-subtitle1 text-weight-medium').props('role=heading aria-level=2')
        form.field('street', t('move.street'), autocomplete='address-line1')
        form.field('house_number', t('move.house_number'))
        form.field('postal_code', t('move.postal_code'), autocomplete='postal-code').props('inputmode=numeric')
        form.field('city', t('move.city'), autocomplete='address-level2')
        form.field('country', t('move.country'), hint=t('move.country_hint'), autocomplete='country-name')
        outside = ui.label(t('move.outside_area')).props('role=status').classes('text-body2')
        outside.set_visibility(False)
        keep = ui.checkbox(t('move.continue_supply'))
        with ui.column().classes('w-full gap-4') as continued:
            form.field('move_in', t('move.move_in'), hint=t('cancel.date_hint'))
            form.field('new_meter', t('move.new_meter'), hint=t('move.new_meter_hint'))
            form.field('reading_in', t('move.reading_in'), hint=t('move.new_meter_hint')).props('inputmode=numeric')
        continued.bind_visibility_from(keep, 'value')

        def area_check() -> None:  # outside the supply area the contract ends: no continuing to offer
            elsewhere = abroad(form.value('country'))
            away = outside_area(begin.supply_postal_codes, form.value('postal_code'), form.value('country'))
            form.fields['postal_code'].props(f'inputmode={"text" if elsewhere else "numeric"}')  # 1234 AB, SW1A 1AA
            outside.set_visibility(away)
            keep.set_visibility(not away)
            if away:
                keep.value = False

        form.fields['postal_code'].on_value_change(area_check)
        form.fields['country'].on_value_change(area_check)
        form.alert()
        ui.button(t('move.submit'), on_click=lambda: submit()).classes('w-full').props('no-caps size=lg')
    result = ui.column().classes('w-full gap-2')

    async def submit() -> None:
        form.clear()
        declared = MoveForm(
            move_out=form.value('move_out'),
            readings={key: form.value(key) for key in form.fields if key.startswith('out_')},
            street=form.value('street'),
            house_number=form.value('house_number'),
            postal_code=form.value('postal_code'),
            city=form.value('city'),
            country=form.value('country'),
            continue_supply=bool(keep.value),
            move_in=form.value('move_in'),
            new_meter=form.value('new_meter'),
            reading_in=form.value('reading_in'),
        )
        receipt: Receipt | None
        try:
            receipt = await session.act(
                portal, me, report_move, me.user_id, me.customer_id, declared, address=client_address()
            )
        except DomainError as error:
            form.show(error)
            return
        if receipt is None:
            return
        area.set_visibility(False)
        with result:
            show_receipt(portal, receipt, 'move', lambda: session.valid(portal, me))
