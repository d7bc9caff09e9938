"""Abrechnungsinformation (§40b EnWG): the entries between the annual bills, each with its PDF; the interval is chosen
on this page and in the settings (a select `Abrechnungsinformation`)."""

from typing import Annotated

from fastapi import Path
from nicegui import app, ui

from domain.errors import DomainError
from domain.i18n import day, money, number
from domain.information_page import InformationPage, choose_interval, information_document, information_page
from pages import session
from pages.downloads import owned_document
from pages.forms import client_address, notice, page_title
from pages.language import t
from pages.protected import protected_page
from service.runner import Portal


def create(portal: Portal) -> None:
    @protected_page(portal, '/abrechnungsinformation', 'information.title')
    async def information_page_(me, choices) -> None:
        page_title(t('information.title'))
        if me.customer_id is None:
            return
        page = await portal.act(information_page, me.user_id, me.customer_id, login=session.login(me))
        if not page.energy:  # water and heat: no billing information, and no promise of one
            ui.label(t('information.no_energy'))
            return
        ui.label(t('information.intro'))
        if not page.paperless:
            ui.label(t('information.paper'))
        interval_card(portal, me, page)
        if not page.rows:
            ui.label(t('information.none'))
        for row in page.rows:
            with ui.card().classes('w-full'), ui.row().classes('w-full items-center justify-between wrap gap-2'):
                with ui.column().classes('gap-0'):
                    ui.label(t('information.entry', date=day(row.through), start=day(row.period_start))).classes(
                        'text-subtitle1 text-weight-medium'
                    ).props('role=heading aria-level=2')
                    estimated = f' ({t("information.estimated")})' if row.estimated else ''
                    ui.label(
                        t('information.facts', consumption=f'{number(row.consumption)} {row.unit}{estimated}',
                          cost=money(row.cost_so_far), paid=money(row.paid))
                    )  # fmt: skip
                    result = row.projected_result
                    key = 'projected_due' if result > 0 else 'projected_credit' if result < 0 else 'projected_even'
                    ui.label(t(f'information.{key}', amount=money(abs(result)))).classes('text-weight-medium')
                if row.has_pdf:
                    ui.button(
                        t('bills.download'),
                        icon='download',
                        on_click=lambda entry=row.id: ui.download.from_url(f'/abrechnungsinformation/{entry}.pdf'),
                    ).props(f'outline no-caps aria-label="{t("bills.download")}"')

    @app.get('/abrechnungsinformation/{entry_id}.pdf')
    async def information_pdf(entry_id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
        return await owned_document(
            portal,
            lambda me, login: portal.act(information_document, me.user_id, entry_id, login=login),
            f'Abrechnungsinformation-{entry_id}.pdf',
        )


def interval_card(portal: Portal, me: session.LoggedIn, page: InformationPage) -> None:
    """The select `Abrechnungsinformation`: every 6 or 3 months (and monthly where the meter is read remotely)."""
    with ui.card().classes('w-full'):
        ui.label(t('information.interval_title')).classes('text-h6').props('role=heading aria-level=2')
        options = {months: t(f'information.every_{months}') for months in page.choices}
        select = ui.select(options, value=page.months, label=t('information.interval')).classes('w-64')
        select.props(f'aria-label="{t("information.interval")}"')
        status = ui.label().props('aria-live=polite')
        saved = {'months': page.months}  # what is stored now (the page's snapshot goes stale after a change)

        async def chosen(event) -> None:
            if event.value == saved['months'] or me.customer_id is None:
                return
            try:
                ran = await session.done(
                    portal, me, choose_interval, me.user_id, me.customer_id, int(event.value), address=client_address()
                )
            except DomainError as error:
                notice(t(error.key, **error.params), 'negative')
                select.set_value(saved['months'])  # shows what is stored, not the refused choice
                return
            if ran:
                saved['months'] = event.value
                status.text = t('information.interval_saved', interval=options[event.value])

        select.on_value_change(chosen)
