"""Verträge: each contract with tariff and current prices, term and notice, supply point, meters, installment."""

from nicegui import ui

from domain.contract_requests import RequestRow, customer_pending
from domain.contracts import ContractDetails, PriceView, contract_details, unit_price
from domain.i18n import day, money
from domain.identifiers import for_commodity
from domain.reading_rules import register_name
from domain.request_fields import VALUE_WORDS
from pages import session
from pages.forms import notice, page_title
from pages.language import current, t
from pages.protected import protected_page
from service.runner import Portal


def create(portal: Portal) -> None:
    @protected_page(portal, '/vertraege', 'contracts.title')
    async def contracts_page(me, choices) -> None:
        page_title(t('contracts.title'))
        if me.customer_id is None:
            return
        details = await portal.act(contract_details, me.user_id, me.customer_id, login=session.login(me))
        open_requests = await portal.read(customer_pending, me.user_id, me.customer_id, login=session.login(me))
        if not details:
            ui.label(t('contracts.none'))
        for request in (r for r in open_requests if r.contract_id is None):  # e.g. every contract cancelled
            notice(_pending_text(request), 'info')
        for c in details:
            with ui.card().classes('w-full'):
                ui.label(
                    f'{t("commodity." + c.commodity)} · {t("contracts.contract", number=c.contract_number)}'
                ).classes('text-h6').props('role=heading aria-level=2')
                rows = [
                    (t('contracts.tariff'), portal.profile.tariff_name(c.tariff_code)),
                    (t('contracts.start'), day(c.start_date)),
                    (t('contracts.term'), _term(c)),
                    (t('contracts.notice'), t('contracts.notice_weeks', weeks=c.notice_period_weeks)),
                ]
                if c.supply_address:
                    rows.append((t('contracts.supply_address'), c.supply_address))
                if c.malo_id:
                    rows.append((t('contracts.malo'), c.malo_id))
                if c.price is not None:
                    rows += _price_rows(c.price, c.commodity)
                if c.installment is not None:
                    rows.append(
                        (
                            t('contracts.installment'),
                            t('contracts.installment_value', amount=money(c.installment), day=c.due_day),
                        )
                    )
                for meter in c.meters:
                    about = t('meter_kind.' + meter.kind)
                    if c.commodity == 'electricity':  # Eintarif, HT, NT: the electricity tariff's words
                        about += '; ' + ', '.join(register_name(r, current()) for r in meter.registers.split(','))
                    rows.append((t('contracts.meters'), f'{meter.meter_number} ({about})'))
                _definition_list(rows)
                if c.next_price is not None:
                    ui.label(  # both prices: a change of the base price alone read as no change at all
                        t(
                            for_commodity('contracts.price_change', c.commodity),
                            date=day(c.next_price.valid_from),
                            price=unit_price(c.next_price),
                            base=money(c.next_price.base_price_gross_per_year),
                        )
                    ).classes('text-weight-medium')
                for request in (r for r in open_requests if r.contract_id == c.contract_id):
                    notice(_pending_text(request), 'info')
        if details:
            with ui.row().classes('gap-4 wrap'):
                ui.link(t('tariff.title'), '/tarif')
                ui.link(t('move.title'), '/umzug')
                ui.link(t('cancel.title'), '/kuendigen')


def _term(c: ContractDetails) -> str:
    if c.end_date:
        return day(c.end_date)
    if c.confirmed_end:  # accepted, not yet in the billing system's data
        return t('contracts.term_confirmed', date=day(c.confirmed_end))
    return t('contracts.term_open')


def _pending_text(request: RequestRow) -> str:
    """'Kündigung K-000017 vom 02.12.2026: in Bearbeitung (wirksam zum 31.01.2027)'."""
    title = t(f'contracts.kinds.{request.kind}')
    text = t('contracts.pending', title=title, reference=request.reference, date=day(request.received_on))
    effective = t('contracts.next_possible') if request.effective == VALUE_WORDS['next_possible'] else request.effective
    return f'{text} ({effective})' if effective else text


def _price_rows(price: PriceView, commodity: str) -> list[tuple[str, str]]:
    return [
        (t(for_commodity('contracts.working_price', commodity)), unit_price(price)),
        (t('contracts.base_price'), t('contracts.per_year', price=money(price.base_price_gross_per_year))),
        (t('contracts.vat'), t('contracts.prices_gross', vat=price.vat_percent)),
    ]


def _definition_list(rows: list[tuple[str, str]]) -> None:
    """Term and value pairs as a real <dl>, so that screen readers announce them together."""
    with ui.element('dl').classes('w-full q-ma-none'):
        for term, value in rows:
            with ui.row().classes('w-full gap-x-4 wrap no-margin'):
                with ui.element('dt').classes('text-grey-8 min-w-[14rem]'):
                    ui.label(term)
                with ui.element('dd').classes('q-ma-none'):
                    ui.label(value)
