"""Verträge hier kündigen (`/kuendigen`, §312k BGB): one page for everyone, linked from every page's footer.

Logged in, it sits in the portal's frame with name, number and address filled in and says which date "zum
nächstmöglichen Zeitpunkt" means for each contract; without a login it is a public page. After "Jetzt kündigen"
the declaration, with the time of receipt, can be saved as a PDF; the confirmation mail is on its way at once.
"""

from functools import partial

from nicegui import app, ui

from domain.cancellation import CancellationForm, Prefill, cancel, prefill
from domain.contract_requests import Receipt
from domain.errors import DomainError, SessionEnded
from domain.i18n import day
from domain.inbox import page_frame
from pages import session
from pages.forms import Form, client_address, page_title
from pages.frame import customer_number_field, frame, public_frame
from pages.language import t
from pages.once import sending
from pages.protected import PAGE_TIMEOUT
from pages.receipts import show_receipt
from service.runner import Portal
from service.tuning.redirects import redirect

PATH = '/kuendigen'


def create(portal: Portal) -> None:
    @ui.page(PATH, response_timeout=PAGE_TIMEOUT)
    async def cancellation_page():
        found = await session.current_with(portal, page_frame)
        if found is None:
            with public_frame(portal, t('cancel.title')):
                page_title(t('cancel.title'))
                _form(portal, None, None)
            return
        me, (choices, unread) = found
        if session.must_change_password():  # as every page behind the login: the temporary password first
            return redirect('/passwort-aendern')
        try:
            filled = (
                None
                if me.customer_id is None
                else await portal.act(prefill, me.user_id, me.customer_id, login=session.login(me))
            )
        except SessionEnded:  # the login ended between the check above and this read
            session.end()
            return redirect('/')
        with frame(portal, me, choices, t('cancel.title'), PATH, unread):
            page_title(t('cancel.title'))
            _form(portal, me, filled)


def _form(portal: Portal, me: session.LoggedIn | None, filled: Prefill | None) -> None:
    ui.label(t('cancel.intro'))
    form = Form()
    with ui.column().classes('w-full gap-4') as area:
        ui.label(t('cancel.kind')).classes('text-weight-medium')
        kind = ui.radio(
            {'ordinary': t('cancel.ordinary'), 'extraordinary': t('cancel.extraordinary')}, value='ordinary'
        ).props(f'aria-label="{t("cancel.kind")}"')
        reason = ui.textarea(t('cancel.reason')).classes('w-full').props('outlined maxlength=2000')
        reason.bind_visibility_from(kind, 'value', backward=lambda v: v == 'extraordinary')
        form.fields['reason'] = reason
        form.field('name', t('cancel.name'), autocomplete='name', value=filled.name if filled else '')
        customer_number_field(portal, form, filled.customer_number if filled else '')
        if filled is not None and filled.contracts:
            options = {'': t('cancel.all_contracts')}
            options |= {
                c.contract_number: t(
                    'cancel.contract_option',
                    commodity=t('commodity.' + c.commodity),
                    number=c.contract_number,
                    date=day(c.earliest_end),
                )
                for c in filled.contracts
            }
            first = filled.contracts[0].contract_number if len(filled.contracts) == 1 else ''
            contract = ui.select(options, label=t('cancel.contract'), value=first).classes('w-full').props('outlined')
            form.fields['contract_number'] = contract  # type: ignore[assignment]
        else:
            form.field('contract_number', t('cancel.contract'), hint=t('cancel.contract_hint'))
        ui.label(t('cancel.when')).classes('text-weight-medium')
        when = ui.radio({'next': t('cancel.next_possible'), 'date': t('cancel.on_date')}, value='next').props(
            f'aria-label="{t("cancel.when")}"'
        )
        earliest = ui.label().props('role=status')
        on_date = form.field('on_date', t('cancel.date'), hint=t('cancel.date_hint'))
        on_date.bind_visibility_from(when, 'value', backward=lambda v: v == 'date')
        if filled is not None:

            def show_earliest() -> None:  # the ordinary notice's date; an extraordinary one's staff decide
                chosen = [c for c in filled.contracts if c.contract_number == form.value('contract_number')]
                ordinary = kind.value == 'ordinary'
                earliest.text = t('cancel.earliest', date=day(chosen[0].earliest_end)) if chosen and ordinary else ''

            show_earliest()
            form.fields['contract_number'].on_value_change(show_earliest)
            kind.on_value_change(show_earliest)
        form.field('email', t('cancel.email'), autocomplete='email', value=filled.email if filled else '').props(
            'type=email'
        )
        form.alert()
        ui.button(t('cancel.submit'), on_click=lambda: submit()).classes('w-full').props('no-caps size=lg')
    result = ui.column().classes('w-full gap-2')

    async def submit() -> None:
        with sending(cancel, ()) as first:  # a visitor's too (logged in, `session.fetch` is no `session.act`)
            if first:
                await send()

    async def send() -> None:
        form.clear()
        declared = CancellationForm(
            extraordinary=kind.value == 'extraordinary',
            reason=form.value('reason'),
            name=form.value('name'),
            customer_number=form.value('customer_number'),
            contract_number=form.value('contract_number'),
            next_possible=when.value == 'next',
            on_date=form.value('on_date'),
            email=form.value('email'),
        )
        receipt: Receipt | None = None
        address = client_address()
        try:
            ran = False
            if me is not None and app.storage.user.get('user_id') == me.user_id:  # the login checked in its transaction
                ran, receipt = await session.fetch(
                    portal, lambda _, login: portal.act(cancel, declared, me.user_id, address=address, login=login)
                )
            if not ran:  # no login, or it ended while the form was filled in (idle, elsewhere): received all the
                receipt = await portal.act(cancel, declared, address=address)  # same, as anyone's (§312k BGB)
        except DomainError as error:
            form.show(error)
            return
        if receipt is None:
            return
        area.set_visibility(False)
        with result:
            logged_in = me if ran else None  # received under the login: its PDF only while that session lasts
            show_receipt(
                portal, receipt, 'cancel', None if logged_in is None else partial(session.valid, portal, logged_in)
            )
