"""Rechnungen: the list with "PDF herunterladen" per bill (and "E-Rechnung (XML)" for a business customer's
e-invoice); each file is served only to its customer's login."""

from nicegui import app, ui

from domain.bills import BillRow, bill_document, bill_list, first_year, request_bill_copy
from domain.errors import DomainError
from domain.i18n import day, money
from pages import session
from pages.downloads import owned_document
from pages.forms import client_address, page_title
from pages.language import t
from pages.protected import protected_page
from service.runner import Portal


def create(portal: Portal) -> None:
    @protected_page(portal, '/rechnungen', 'bills.title')
    async def bills_page(me, choices) -> None:
        page_title(t('bills.title'))
        if me.customer_id is None:
            return
        ui.label(t('bills.intro', year=first_year(portal.context())))
        rows = await portal.act(bill_list, me.user_id, me.customer_id, login=session.login(me))
        if not rows:
            ui.label(t('bills.none'))
        for row in rows:
            _bill(portal, me, row, _ready(portal, row))

    @app.get('/rechnungen/{bill_number}.pdf')
    async def bill_pdf(bill_number: str):
        return await owned_document(
            portal,
            lambda me, login: portal.act(bill_document, me.user_id, bill_number, login=login),
            f'Rechnung-{bill_number}.pdf',
        )

    @app.get('/rechnungen/{bill_number}.xml')
    async def bill_xml(bill_number: str):
        """An e-invoice's XML alone (the PDF carries it too), for a business customer's bookkeeping software."""
        return await owned_document(
            portal,
            lambda me, login: portal.act(bill_document, me.user_id, bill_number, True, login=login),
            f'E-Rechnung-{bill_number}.xml',
            'application/xml',
        )


def _ready(portal: Portal, row: BillRow) -> bool:
    """Whether the bill's PDF can be downloaded: stored, and its file in the documents folder."""
    return row.has_pdf and (portal.files is None or portal.files.locate(row.pdf_path) is not None)


def _status(row: BillRow) -> str:
    if row.replaced_by:
        return t('bills.status_replaced', number=row.replaced_by)
    if row.balance is None:
        return t('bills.status_issued')
    if row.balance > 0:
        due = day(row.due_date) if row.due_date else ''
        return t('bills.status_due', amount=money(row.balance), date=due)
    if row.balance < 0:
        return t('bills.status_credit', amount=money(-row.balance))
    return t('bills.status_even')


def _bill(portal: Portal, me: session.LoggedIn, row: BillRow, ready: bool) -> None:
    with ui.card().classes('w-full'), ui.row().classes('w-full items-center justify-between wrap gap-2'):
        with ui.column().classes('gap-0'):
            ui.label(f'{t("bills.kinds." + row.kind)} {day(row.period_start)} – {day(row.period_end)}').classes(
                'text-subtitle1 text-weight-medium'
            ).props('role=heading aria-level=2')
            ui.label(f'{t("bills.number")} {row.bill_number} · {t("bills.date")} {day(row.bill_date)}').classes(
                'text-grey-8'
            )
            ui.label(f'{t("bills.amount")}: {money(row.amount_gross)} · {_status(row)}')
        if row.has_pdf and not ready and row.computed:  # by the billing run a moment ago: its PDF is being rendered
            ui.label(t('bills.pdf_pending')).classes('text-grey-8')
        elif ready:
            with ui.row().classes('gap-2'):
                ui.button(
                    t('bills.download'),
                    icon='download',
                    on_click=lambda number=row.bill_number: ui.download.from_url(f'/rechnungen/{number}.pdf'),
                ).props(f'outline no-caps aria-label="{t("bills.download")}"')
                if row.has_xml:  # an e-invoice: the XML alone, for bookkeeping software
                    ui.button(
                        t('bills.download_xml'),
                        icon='code',
                        on_click=lambda number=row.bill_number: ui.download.from_url(f'/rechnungen/{number}.xml'),
                    ).props(f'outline no-caps aria-label="{t("bills.download_xml")}"')
        elif row.copy_requested is not None:
            ui.label(t('bills.copy_requested', date=day(row.copy_requested))).classes('text-grey-8')
        else:
            status = ui.column().classes('gap-0')

            async def ask(number: str = row.bill_number) -> None:
                lost = row.has_pdf and not _ready(portal, row)  # an imported bill whose file is gone: asked anew
                try:
                    asked = await session.act(
                        portal,
                        me,
                        request_bill_copy,
                        me.user_id,
                        me.customer_id,
                        number,
                        lost,
                        address=client_address(),
                    )
                except DomainError:  # its PDF arrived since the page was loaded: the page shows it now
                    ui.navigate.reload()
                    return
                if asked is not None:
                    copy.set_visibility(False)
                    with status:
                        ui.label(t('bills.copy_requested', date=day(asked))).classes('text-grey-8').props('role=status')

            copy = ui.button(t('bills.copy'), icon='content_copy', on_click=ask).props(
                f'outline no-caps aria-label="{t("bills.copy")}"'
            )
