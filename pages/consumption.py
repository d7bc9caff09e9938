"""Verbrauchshistorie: consumption per billing year (and month where readings allow) as chart and as table."""

from decimal import ROUND_HALF_UP, Decimal

from nicegui import ui

from domain.contracts import MeterHistory, consumption_csv, consumption_history
from domain.i18n import number
from pages import session
from pages.forms import page_title, scroll_region
from pages.language import current, t
from pages.protected import protected_page
from service.runner import Portal


def create(portal: Portal) -> None:
    @protected_page(portal, '/verbrauch', 'consumption.title')
    async def consumption_page(me, choices) -> None:
        page_title(t('consumption.title'))
        if me.customer_id is None:
            return
        histories = await portal.act(consumption_history, me.user_id, me.customer_id, login=session.login(me))
        if not histories:
            ui.label(t('consumption.none'))
            return
        gas = any(h.commodity == 'gas' and h.unit == 'kWh' for h in histories)  # m³ without factors stay m³
        ui.label(t('consumption.intro_gas' if gas else 'consumption.intro'))
        for history in histories:
            _meter(history, portal.profile.primary_color)

        async def download() -> None:  # read again, with the session checked in the same transaction
            now = await session.act(portal, me, consumption_history, me.user_id, me.customer_id)
            if now is not None:
                content = consumption_csv(now, current()).encode('utf-8-sig')  # BOM: Excel
                ui.download.content(content, 'verbrauch.csv', 'text/csv')

        ui.button(t('consumption.download'), icon='download', on_click=download).props('outline no-caps')


GERMAN_NUMBER = "value => Number(value).toLocaleString('de-DE', {maximumFractionDigits: 0})"
GERMAN_LABEL = "params => Number(params.value).toLocaleString('de-DE', {maximumFractionDigits: 0})"


def _change(previous: Decimal | None, current: Decimal) -> str:
    if not previous:
        return '–'
    percent = ((current - previous) / previous * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)
    if not percent:  # −0.03 % is no change: it read "-0,0 %"
        return f'{number(Decimal(0), 1)} %'
    return f'{"+" if percent > 0 else ""}{number(percent, 1)} %'


def _meter(history: MeterHistory, color: str) -> None:  # the bars in the utility's colour
    with ui.card().classes('w-full'):
        # a meter without a whole billing year yet shows its months (a remote meter's first months), named so
        by_month = not history.years
        title = t('consumption.chart_months' if by_month else 'consumption.chart', meter=history.meter_number)
        ui.label(f'{t("commodity." + history.commodity)} · {title}').classes('text-h6').props(
            'role=heading aria-level=2'
        )
        periods = list(history.years) or list(history.months)
        if not periods:
            ui.label(t('consumption.too_few'))
            return
        summary = '; '.join(f'{p.label}: {number(p.amount)} {history.unit}' for p in periods)
        ui.echart(
            renderer='svg',  # text as text: readable when zoomed, and checked by the browser tests
            options={
                # German number format on axis, bars and tooltip (4.000, not 4,000 or 4000), as everywhere else
                'tooltip': {'trigger': 'axis', ':valueFormatter': GERMAN_NUMBER},
                # room above the plot for the unit, and for the widest axis label (containLabel)
                'grid': {'left': 16, 'right': 16, 'top': 40, 'bottom': 32, 'containLabel': True},
                'xAxis': {'type': 'category', 'data': [p.label for p in periods]},
                'yAxis': {
                    'type': 'value',
                    'name': history.unit,
                    'nameTextStyle': {'align': 'left'},
                    'axisLabel': {':formatter': GERMAN_NUMBER},
                },
                'series': [
                    {
                        'type': 'bar',
                        'name': history.unit,
                        'data': [float(p.amount) for p in periods],
                        'itemStyle': {'color': color},
                        'label': {'show': True, 'position': 'top', ':formatter': GERMAN_LABEL},
                    }
                ],
                'aria': {'enabled': True, 'label': {'description': t('consumption.chart_alt', summary=summary)}},
            },
        ).classes('w-full h-64').props(f'role=img aria-label="{t("consumption.chart_alt", summary=summary)}"')
        columns = [
            {'name': k, 'label': t(f'consumption.{k}'), 'field': k, 'align': 'left'}
            for k in ('year', 'amount', 'change')
        ]
        if by_month:  # each month is compared with the month before it, not with a year
            columns[-1]['label'] = t('consumption.change_month')
        rows, previous = [], None
        for p in periods:
            rows.append(
                {'year': p.label, 'amount': f'{number(p.amount)} {history.unit}', 'change': _change(previous, p.amount)}
            )
            previous = p.amount
        region = 'consumption.months_region' if by_month else 'consumption.table_region'
        with scroll_region(t(region, meter=history.meter_number)):
            ui.table(columns=columns, rows=rows, title=t('consumption.table')).classes('w-full').props('flat dense')
        if history.months and history.years:
            month_rows = [
                {'year': p.label, 'amount': f'{number(p.amount)} {history.unit}', 'change': ''} for p in history.months
            ]
            with scroll_region(t('consumption.months_region', meter=history.meter_number)):
                ui.table(columns=columns[:2], rows=month_rows).classes('w-full').props('flat dense')
