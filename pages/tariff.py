"""Tarif wechseln (`/tarif`): per contract the utility's tariffs with prices and the yearly cost at the customer's
consumption, cheapest first; "Diesen Tarif wählen", then "Wechsel zum" and "Tarif wechseln"."""

from nicegui import ui

from domain.contract_requests import Receipt
from domain.contracts import unit_price
from domain.errors import DomainError
from domain.i18n import day, money, number
from domain.identifiers import for_commodity
from domain.tariffs import ContractTariffs, Offer, change_tariff, tariffs
from pages import session
from pages.forms import Form, client_address, notice, page_title
from pages.language import t
from pages.protected import protected_page
from service.runner import Portal

PATH = '/tarif'


def create(portal: Portal) -> None:
    @protected_page(portal, PATH, 'tariff.title')
    async def tariff_page(me, choices) -> None:
        page_title(t('tariff.title'))
        if me.customer_id is None:
            return
        running = await portal.act(tariffs, me.user_id, me.customer_id, login=session.login(me))
        if not running:  # none, or all ended: a blank page under the title said nothing
            ui.label(t('tariff.none'))
            return
        ui.label(t('tariff.intro'))
        for contract in running:
            _contract(portal, me, contract)


def _contract(portal: Portal, me: session.LoggedIn, c: ContractTariffs) -> None:
    with ui.card().classes('w-full gap-2'):
        ui.label(f'{t("commodity." + c.commodity)} · {t("contracts.contract", number=c.contract_number)}').classes(
            'text-h6'
        ).props('role=heading aria-level=2')
        for request in c.pending:
            notice(t('tariff.pending', reference=request.reference, date=day(request.received_on)), 'info')
        if c.pending:  # one change at a time (the use case refuses a second)
            return
        if len(c.offers) < 2:
            ui.label(t('tariff.only_one'))
            return
        if not c.starts and c.ends is not None:
            ui.label(t('tariff.ends', date=day(c.ends)))
            return
        if c.consumption is not None:
            ui.label(t('tariff.consumption', amount=number(c.consumption), unit=c.unit))
        else:
            ui.label(t(for_commodity('tariff.no_consumption', c.commodity)))
        offers = ui.column().classes('w-full gap-2')
        chosen = ui.column().classes('w-full')  # below the offers: date and "Tarif wechseln" for the one chosen
        with offers:
            for offer in c.offers:
                _offer(offer, c.commodity, lambda o=offer: _choose(portal, me, c, o, chosen))


def _offer(offer: Offer, commodity: str, choose) -> None:
    with (
        ui.element('section').classes('w-full q-pa-sm rounded-borders bg-grey-2').props(f'aria-label="{offer.name}"'),
        ui.row().classes('w-full items-center justify-between wrap gap-2'),
    ):
        with ui.column().classes('gap-0'):
            ui.label(offer.name).classes('text-subtitle1 text-weight-medium')
            if offer.description:
                ui.label(offer.description).classes('text-body2')
            ui.label(
                t(
                    for_commodity('tariff.prices', commodity),
                    working=unit_price(offer.price),
                    base=money(offer.price.base_price_gross_per_year),
                )
            ).classes('text-body2')
            for later in offer.later:  # a price change already known: a change starting then pays it
                ui.label(
                    t(
                        for_commodity('tariff.prices_from', commodity),
                        date=day(later.valid_from),
                        working=unit_price(later),
                        base=money(later.base_price_gross_per_year),
                    )
                ).classes('text-body2')
            if offer.yearly_cost is not None:
                ui.label(t('tariff.yearly', amount=money(offer.yearly_cost))).classes('text-weight-medium')
        if offer.current:
            ui.label(t('tariff.current')).classes('text-positive text-weight-medium')
        else:
            ui.button(t('tariff.choose'), on_click=choose).props(
                f'no-caps outline aria-label="{t("tariff.choose_named", name=offer.name)}"'
            ).mark(f'choose-{offer.code}')


def _choose(portal: Portal, me: session.LoggedIn, c: ContractTariffs, offer: Offer, area: ui.column) -> None:
    area.clear()
    with area, ui.column().classes('w-full gap-2 q-pa-sm'):
        ui.label(t('tariff.chosen', name=offer.name)).classes('text-weight-medium').props('role=status')
        form = Form()
        options = {d.isoformat(): day(d) for d in c.starts}
        start = ui.select(options, label=t('tariff.start'), value=c.starts[0].isoformat()).props('outlined')
        form.fields['start'] = start  # type: ignore[assignment]
        form.alert()
        result = ui.column().classes('w-full')

        async def submit() -> None:
            form.clear()
            receipt: Receipt | None
            try:
                receipt = await session.act(
                    portal,
                    me,
                    change_tariff,
                    me.user_id,
                    me.customer_id,
                    c.contract_number,
                    offer.code,
                    str(start.value or ''),
                    address=client_address(),
                )
            except DomainError as error:
                form.show(error)
                return
            if receipt is None:
                return
            button.set_visibility(False)
            start.disable()
            with result:
                notice(t('tariff.done', reference=receipt.reference, date=dict(receipt.rows)['Wechsel zum']))

        button = ui.button(t('tariff.submit'), on_click=submit).props('no-caps')
