"""Übersicht: the selected customer's name, address and contracts with their meters."""

from nicegui import ui

from domain.i18n import day, t
from domain.overview import customer_overview
from pages.forms import notice, page_title
from pages.portal import Portal
from pages.protected import protected_page


def create(portal: Portal) -> None:
    @protected_page(portal, '/uebersicht', 'overview.title')
    async def overview_page(me, choices) -> None:
        page_title(t('overview.title'))
        if me.customer_id is None:
            notice(t('overview.no_customer'), 'info')
            return
        view = await portal.read(customer_overview, me.user_id, me.customer_id)
        with ui.card().classes('w-full'):
            ui.label(view.name).classes('text-h6').props('role=heading aria-level=2')
            ui.label(f'{t("overview.customer_number")}: {view.customer_number}')
            ui.label(view.address)
        ui.label(t('overview.contracts')).classes('text-h6').props('role=heading aria-level=2')
        if not view.contracts:
            ui.label(t('overview.no_contracts'))
        for contract in view.contracts:
            with ui.card().classes('w-full'):
                ui.label(f'{contract.commodity} · {t("overview.contract")} {contract.contract_number}') \
                    .classes('text-subtitle1 text-weight-medium')
                term = day(contract.start_date) + (f' – {day(contract.end_date)}' if contract.end_date else '')
                ui.label(f'{t("overview.tariff")}: {contract.tariff_code} · {t("overview.since")}: {term}')
                if contract.malo_id:
                    ui.label(f'{t("overview.malo")}: {contract.malo_id}')
                for meter in contract.meters:
                    ui.label(f'{meter.kind}: {meter.meter_number}').classes('text-grey-8')
