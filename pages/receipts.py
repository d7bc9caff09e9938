"""A declaration as received (Kündigung, Umzug): shown on the page, and a link that saves it as a PDF."""

from collections.abc import Awaitable, Callable

from nicegui import ui

from domain import i18n
from domain.contract_requests import Receipt
from domain.customer_documents import receipt_pdf
from pages.forms import notice
from pages.language import t
from service.runner import Portal


def show_receipt(portal: Portal, receipt: Receipt, texts: str, allowed: Callable[[], Awaitable[bool]] | None) -> None:
    """`texts`: the catalogue section with `done`, `pdf` and `pdf_note`; `allowed`: on a page behind the login, is
    its session still valid (the PDF holds the customer's data)."""
    notice(t(f'{texts}.done' if receipt.mailed else f'{texts}.done_unmailed', email=receipt.email))
    with ui.element('dl').classes('w-full q-ma-none'):
        for label, value in receipt.rows:
            with ui.element('dt').classes('text-grey-8'):
                ui.label(label)
            with ui.element('dd').classes('q-ml-none q-mb-sm text-weight-medium'):
                ui.label(value).style('white-space: pre-wrap')
    name = f'{receipt.title.split()[0]}-{receipt.reference}.pdf'.replace('ü', 'ue')

    async def download() -> None:
        if allowed is None or await allowed():  # the PDF's note in the declaration's binding language, as its rows
            note = i18n.t(f'{texts}.pdf_note', 'de')
            ui.download.content(receipt_pdf(portal.profile, receipt, note), name, 'application/pdf')

    ui.link(t(f'{texts}.pdf'), '#').on('click', download)
