"""Abschlag ändern: a slider per contract, with the year-end result calculated live as it moves."""

from decimal import Decimal

from nicegui import ui

from domain.errors import DomainError
from domain.i18n import day, money, number
from domain.installment import InstallmentView, change_installment, installment_views
from domain.installment_rules import rounded
from pages import session
from pages.forms import Form, client_address, notice, page_title
from pages.language import t
from pages.protected import protected_page
from service.runner import Portal


def create(portal: Portal) -> None:
    @protected_page(portal, '/abschlag', 'installment.title')
    async def installment_page(me, choices) -> None:
        page_title(t('installment.title'))
        if me.customer_id is None:
            return
        views = await portal.act(installment_views, me.user_id, me.customer_id, login=session.login(me))
        if not views:
            ui.label(t('installment.none'))
            return
        ui.label(t('installment.intro'))
        for view in views:
            _card(portal, me, view)


def result_text(balance: Decimal) -> str:
    if balance > 0:
        return t('installment.credit', amount=money(balance))
    if balance < 0:
        return t('installment.back_payment', amount=money(-balance))
    return t('installment.even')


def _card(portal: Portal, me: session.LoggedIn, view: InstallmentView) -> None:
    calc = view.calculator
    with ui.card().classes('w-full'):
        ui.label(
            t('installment.contract', commodity=t(f'commodity.{view.commodity}'), contract=view.contract_number)
        ).classes('text-h6').props('role=heading aria-level=2')
        ui.label(t('installment.current', amount=money(calc.current)))
        if view.pending is not None:
            notice(
                t('installment.pending', amount=money(view.pending.amount), date=day(view.pending.valid_from)), 'info'
            )
        if view.announced is not None:  # the utility's: a change moves the due dates before it
            notice(
                t('installment.announced', amount=money(view.announced.amount), date=day(view.announced.valid_from)),
                'info',
            )
        if not view.changeable:
            ui.label(t('installment.no_due_left', end=day(view.period_end)))
            return
        if view.next_year:
            notice(t('installment.next_year', date=day(view.first_due), year=view.year_label), 'info')
        basis = f'installment.basis_{view.basis}'  # this_year, last_year, none or unconverted
        ui.label(
            t(
                basis,
                consumption=number(view.projected_consumption, 0),
                unit=view.unit,
                start=day(view.period_start),
                end=day(view.period_end),
            )
        ).classes('text-grey-8')
        start = view.pending.amount if view.pending is not None else calc.current
        # whole euros, unless the utility rounds to cents; an amount with cents (an imported 87,50 €) is where the
        # slider starts and stays while unmoved (it was cut to 87 €, and "Abschlag ändern" unmoved stored 87,00 €)
        cents = calc.rule.rounding == 'cents'

        def exact(value: float | int | Decimal | None) -> Decimal:
            if value is None or float(value) == float(start):
                return start
            chosen = Decimal(str(value))
            if not chosen.is_finite():
                return start
            # within the slider's range: a value from outside it (a client of its own) raised in the rounding
            chosen = min(max(chosen, calc.minimum), calc.maximum)
            return rounded(chosen, calc.rule.rounding)  # the slider's float as the utility rounds

        ui.label(t('installment.slider')).classes('text-subtitle2 q-mt-sm')
        slider = (
            ui.slider(min=float(calc.minimum), max=float(calc.maximum), step=0.01 if cents else 1, value=float(start))
            .props(f'label-always aria-label="{t("installment.slider")}" aria-valuetext="{money(start)}" color=primary')
            .classes('q-mt-xl q-mb-sm')
        )
        new = ui.label().classes('text-subtitle1').props('aria-live=polite')
        result = ui.label().classes('text-subtitle1 text-weight-medium').props('aria-live=polite')
        with ui.row().classes('items-center gap-2'):
            ui.label(t('installment.suggested', amount=money(calc.suggested)))
            ui.button(t('installment.use_suggested'), on_click=lambda: slider.set_value(float(calc.suggested))).props(
                'outline dense no-caps'
            )
        ui.label(t('installment.first_due', date=day(view.first_due)))
        hint = 'installment.keyboard_hint_cents' if cents else 'installment.keyboard_hint'  # the slider's steps
        ui.label(t(hint)).classes('text-caption text-grey-7')
        form = Form()
        with ui.column().classes('w-full gap-2') as review_box:
            notice(t('installment.review_hint', amount=money(calc.review_below)), 'info')
            form.field('reading', t('installment.reading')).props('inputmode=numeric')
            form.field('reason', t('installment.reason'))
        form.alert()
        done = ui.column().classes('w-full')

        def update() -> None:
            amount = exact(slider.value)
            new.text = f'{t("installment.new")}: {money(amount)}'
            label = t('installment.result') + (f' {view.year_label}' if view.next_year else '')
            result.text = f'{label}: {result_text(calc.balance(amount))}'
            slider.props(f'aria-valuetext="{money(amount)}"')
            review_box.set_visibility(calc.needs_review(amount))

        slider.on_value_change(update)
        update()

        async def submit() -> None:
            form.clear()
            done.clear()
            amount = exact(slider.value)
            try:
                changed = await session.act(
                    portal,
                    me,
                    change_installment,
                    me.user_id,
                    me.customer_id,
                    view.contract_number,
                    amount,
                    form.value('reading'),
                    form.value('reason'),
                    address=client_address(),
                )
            except DomainError as error:
                form.show(error)
                return
            if changed is None:  # the session has ended: on the way to the login
                return
            with done:
                if changed.review:
                    notice(t('installment.done_review', amount=money(changed.amount)))
                else:
                    notice(t('installment.done', amount=money(changed.amount), date=day(changed.first_due)))

        ui.button(t('installment.submit'), on_click=submit).props('no-caps')
