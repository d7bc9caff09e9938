"""Übersicht: the selected customer's name, address and contracts with their meters."""

from nicegui import ui

from domain.contracts import MeterHistory
from domain.dashboard import Dashboard, dashboard
from domain.i18n import day, money, number
from domain.overview import ContractView, customer_overview
from pages import session
from pages.consumption import GERMAN_NUMBER
from pages.forms import notice, page_title
from pages.language import t
from pages.markup import CARD, block, card, heading, line, link, links
from pages.protected import protected_page
from service.runner import Portal


def create(portal: Portal) -> None:
    @protected_page(portal, '/uebersicht', 'overview.title')
    async def overview_page(me, choices) -> None:
        page_title(t('overview.title'))
        if me.customer_id is None:
            notice(t('overview.no_customer'), 'info')
            return
        view = await portal.read(customer_overview, me.user_id, me.customer_id, login=session.login(me))
        board = await portal.act(dashboard, me.user_id, me.customer_id, login=session.login(me))
        block(
            [heading(view.name), line(f'{t("overview.customer_number")}: {view.customer_number}'), line(view.address)],
            CARD,
        )
        block(_tasks(board), CARD)
        summaries = _summaries(board)
        if summaries:
            block(summaries, 'nicegui-row w-full gap-4 wrap items-stretch')
        if board.consumption is not None:
            _consumption(board.consumption, portal.profile.primary_color)
        contracts = [
            _contract(contract, portal.profile.tariff_name(contract.tariff_code)) for contract in view.contracts
        ] or [line(t('overview.no_contracts'))]
        block([heading(t('overview.contracts')), *contracts], 'nicegui-column w-full gap-4')


def _tasks(board: Dashboard) -> list[str]:
    tasks = []
    for task in board.tasks:
        params = {k: day(v) if hasattr(v, 'isoformat') else v for k, v in task.params.items()}
        tasks.append((t(task.key, **params), task.target))
    return [heading(t('dashboard.tasks')), links(tasks) if tasks else line(t('dashboard.no_tasks'))]


def _summaries(board: Dashboard) -> list[str]:
    """The installment and the latest bill, side by side where there is room."""
    cards = []
    if board.installments:
        cards.append(
            card(
                [
                    heading(t('dashboard.installment')),
                    *(
                        line(
                            f'{t("commodity." + commodity)}: '
                            + t('dashboard.installment_value', amount=money(amount), date=day(due))
                        )
                        for commodity, amount, due in board.installments
                    ),
                    link(t('nav.installment'), '/abschlag'),
                ],
                'grow min-w-[16rem]',
            )
        )
    if board.latest_bill is not None:
        bill = board.latest_bill
        cards.append(
            card(
                [
                    heading(t('dashboard.latest_bill')),
                    line(
                        t(
                            'dashboard.bill_value',
                            number=bill.bill_number,
                            date=day(bill.bill_date),
                            amount=money(bill.amount_gross),
                        )
                    ),
                ],
                'grow min-w-[16rem]',
            )
        )
    return cards


def _contract(contract: ContractView, tariff: str) -> str:
    term = day(contract.start_date) + (f' – {day(contract.end_date)}' if contract.end_date else '')
    return card(
        [
            line(
                f'{contract.commodity} · {t("overview.contract")} {contract.contract_number}',
                'text-subtitle1 text-weight-medium',
            ),
            line(f'{t("overview.tariff")}: {tariff} · {t("overview.since")}: {term}'),
            *([line(f'{t("overview.malo")}: {contract.malo_id}')] if contract.malo_id else []),
            *(line(f'{meter.kind}: {meter.meter_number}', 'text-grey-8') for meter in contract.meters),
        ]
    )


def _consumption(history: MeterHistory, color: str) -> None:
    with ui.card().classes('w-full'):
        ui.label(t('dashboard.consumption')).classes('text-h6').props('role=heading aria-level=2')
        summary = '; '.join(f'{p.label}: {number(p.amount)} {history.unit}' for p in history.years)
        ui.echart(
            {
                'grid': {'left': 50, 'right': 8, 'top': 36, 'bottom': 24},  # room above the axis for its unit (kWh, m³)
                'tooltip': {'trigger': 'axis', ':valueFormatter': GERMAN_NUMBER},  # 4.000, as on /verbrauch
                'xAxis': {'type': 'category', 'data': [p.label for p in history.years]},
                'yAxis': {'type': 'value', 'name': history.unit, 'axisLabel': {':formatter': GERMAN_NUMBER}},
                'series': [
                    {'type': 'bar', 'data': [float(p.amount) for p in history.years], 'itemStyle': {'color': color}}
                ],
            }
        ).classes('w-full h-40').props(f'role=img aria-label="{t("consumption.chart_alt", summary=summary)}"')
        ui.link(t('nav.consumption'), '/verbrauch')
