"""Übersicht: the selected customer's name, address and contracts with their meters."""

from nicegui import ui

from domain.contracts import MeterHistory
from domain.dashboard import Dashboard, dashboard
from domain.i18n import day, money, number
from domain.overview import customer_overview
from pages.forms import notice, page_title
from pages.language import t
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
        board = await portal.act(dashboard, me.user_id, me.customer_id)
        with ui.card().classes('w-full'):
            ui.label(view.name).classes('text-h6').props('role=heading aria-level=2')
            ui.label(f'{t("overview.customer_number")}: {view.customer_number}')
            ui.label(view.address)
        _tasks(board)
        with ui.row().classes('w-full gap-4 wrap items-stretch'):
            if board.installments:
                with ui.card().classes('grow min-w-[16rem]'):
                    ui.label(t('dashboard.installment')).classes('text-h6').props('role=heading aria-level=2')
                    for commodity, amount, due in board.installments:
                        ui.label(f'{t("commodity." + commodity)}: '
                                 + t('dashboard.installment_value', amount=money(amount), date=day(due)))
                    ui.link(t('nav.installment'), '/abschlag')
            if board.latest_bill is not None:
                bill = board.latest_bill
                with ui.card().classes('grow min-w-[16rem]'):
                    ui.label(t('dashboard.latest_bill')).classes('text-h6').props('role=heading aria-level=2')
                    ui.label(t('dashboard.bill_value', number=bill.bill_number, date=day(bill.bill_date),
                               amount=money(bill.amount_gross)))
        if board.consumption is not None:
            _consumption(board.consumption)
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


def _tasks(board: Dashboard) -> None:
    with ui.card().classes('w-full'):
        ui.label(t('dashboard.tasks')).classes('text-h6').props('role=heading aria-level=2')
        if not board.tasks:
            ui.label(t('dashboard.no_tasks'))
        with ui.element('ul').classes('q-ma-none q-pl-md'):
            for task in board.tasks:
                params = {k: day(v) if hasattr(v, 'isoformat') else v for k, v in task.params.items()}
                with ui.element('li'):
                    ui.link(t(task.key, **params), task.target)


def _consumption(history: MeterHistory) -> None:
    with ui.card().classes('w-full'):
        ui.label(t('dashboard.consumption')).classes('text-h6').props('role=heading aria-level=2')
        summary = '; '.join(f'{p.label}: {number(p.amount)} {history.unit}' for p in history.years)
        ui.echart({
            'grid': {'left': 50, 'right': 8, 'top': 16, 'bottom': 24},
            'xAxis': {'type': 'category', 'data': [p.label for p in history.years]},
            'yAxis': {'type': 'value', 'name': history.unit},
            'series': [{'type': 'bar', 'data': [float(p.amount) for p in history.years],
                        'itemStyle': {'color': '#00588f'}}],
        }).classes('w-full h-40').props(f'role=img aria-label="{t("consumption.chart_alt", summary=summary)}"')
        ui.link(t('nav.consumption'), '/verbrauch')
