"""Zählerstand melden: one form per meter that the customer reads; remote meters show their last value."""

from collections.abc import Awaitable, Callable
from html import escape

from nicegui import run, ui

from domain.customer_documents import reading_confirmation_pdf
from domain.errors import DomainError, ReadingCodeSpent, ReadingImplausible
from domain.i18n import day, money, number
from domain.identifiers import printable
from domain.photos import MAX_BYTES, clean_photo
from domain.reading_codes import open_by_code, submit_by_code
from domain.reading_rules import reading_window, reasons, register_field
from domain.readings import MeterForm, Submitted, meter_forms, submit_reading
from domain.stored import photo_file
from pages import markup, session
from pages.forms import Form, client_address, file_picker, notice, page_title, scroll_region
from pages.frame import public_frame
from pages.language import current, t
from pages.markup import block
from pages.protected import protected_page
from service.runner import Portal

PHOTO_TYPES = 'image/jpeg,image/png,image/heic,image/heif,.heic,.heif'  # what phones take; checked by content


def create(portal: Portal) -> None:
    @ui.page('/ablesung')
    def reading_by_code_page(code: str = '', zaehler: str = ''):
        """The link in a reading reminder fills in its one-time code and the meter number (docs/domain.md §10)."""
        with public_frame(portal, t('reading_code.title')):
            page_title(t('reading_code.title'))
            ui.label(t('reading_code.intro'))
            _period_notice(portal)
            _by_code(portal, code[:40], zaehler[:40])
            ui.link(t('reading_code.login_hint'), '/')

    @protected_page(portal, '/zaehlerstand', 'reading.title')
    async def reading_page(me, choices) -> None:
        page_title(t('reading.title'))
        if me.customer_id is None:
            return
        forms = await portal.act(meter_forms, me.user_id, me.customer_id, login=session.login(me))
        if not forms:
            ui.label(t('reading.no_meters'))
        if any(not form.remote for form in forms):  # no banner above meters that need no reading
            _period_notice(portal)
        ui.label(t('reading.intro'))
        for form in forms:
            _meter_card(portal, me, form)


def _period_notice(portal: Portal) -> None:
    rule = portal.profile.readings
    window = reading_window(rule, portal.clock.today())
    if window.open and window.closes_on:
        notice(t('reading.period_open_until', date=day(window.closes_on)), 'info')
    elif not window.open and window.opens_on:
        start, end = (f'{p[3:]}.{p[:2]}.' for p in (rule.period_start, rule.period_end))
        notice(t('reading.period_closed', start=start, end=end, opens=day(window.opens_on)), 'info')


def _meter_card(portal: Portal, me: session.LoggedIn, meter: MeterForm) -> None:
    with ui.card().classes('w-full'):
        ui.label(f'{t("commodity." + meter.commodity)} · {t("reading.meter", meter=meter.meter_number)}').classes(
            'text-h6'
        ).props('role=heading aria-level=2')
        if meter.remote:
            kind, stichtag = t(f'meter_kind_short.{meter.kind}'), day(meter.reading_day(portal.clock.today()))
            ui.label(t('reading.remote', kind=kind, date=stichtag))
            for last in meter.last:
                ui.label(
                    f'{t("reading.last_remote")} ({register_field(last.obis, current())}): '
                    + t('reading.value_of', value=number(last.value), unit=meter.unit, date=day(last.reading_date))
                )
            return
        with ui.column().classes('gap-0') as last_box:
            last_values(meter)
        window = reading_window(portal.profile.readings, portal.clock.today())
        if window.open:

            async def send(
                values: dict[str, str], when: str, confirmed: bool, reason: str, photo: str
            ) -> Submitted | None:
                return await session.act(
                    portal,
                    me,
                    submit_reading,
                    me.user_id,
                    me.customer_id,
                    meter.meter_number,
                    values,
                    when,
                    confirmed,
                    reason,
                    photo,
                    address=client_address(),
                )

            async def stored(result: Submitted) -> None:  # the last value and the list show the reading just sent
                _proposal(result)
                # the session may have ended since the reading was stored: to the login, as every handler goes
                forms = await session.act(portal, me, meter_forms, me.user_id, me.customer_id)
                now = next((f for f in forms or () if f.meter_number == meter.meter_number), None)
                if now is None:
                    return
                last_box.clear()
                with last_box:
                    last_values(now)
                history_box.clear()
                with history_box:
                    _history(now)

            reading_form(portal, meter, send, stored, allowed=lambda: session.valid(portal, me))
        with ui.column().classes('w-full gap-2') as history_box:  # below the form
            _history(meter)


Send = Callable[[dict[str, str], str, bool, str, str], Awaitable[Submitted | None]]


def reading_form(
    portal: Portal,
    meter: MeterForm,
    send: Send,
    after: Callable[[Submitted], Awaitable[None] | None] | None = None,
    allowed: Callable[[], Awaitable[bool]] | None = None,
) -> None:
    """Fields per register (keyed by OBIS code), Ablesedatum, and — once a value looks implausible — "Wert ist
    korrekt" + Begründung. `allowed`: on a page behind the login, whether its session is still valid (checked before
    the confirmation PDF is handed out); the code page (/ablesung) has none."""
    form = Form()
    for obis in meter.registers:
        hint = t('reading.register_hint', unit=meter.unit, digits=meter.digits)
        form.field(obis, register_field(obis, current()), hint=hint).props('inputmode=numeric')
    today = portal.clock.today()
    form.field('reading_date', t('reading.field_date'), hint=t('reading.date_hint'), value=day(today))
    with ui.column().classes('w-full gap-2') as confirm_box:
        confirmed = ui.checkbox(t('reading.confirm'))
        reason = (
            ui.input(t('reading.reason'), autocomplete=reasons(meter.commodity, current()))
            .classes('w-full')
            .props(f'outlined maxlength=500 hint="{t("reading.reason_hint")}"')
        )
        form.fields['reason'] = reason
        photo: dict[str, bytes] = {}  # re-encoded at the upload, stored only with the reading

        async def photo_uploaded(event) -> None:
            photo.clear()
            try:
                cleaned = await run.io_bound(clean_photo, await event.file.read())
            except DomainError as error:
                photo_status.text = t(error.key, **error.params)
                return
            if cleaned:  # None: the portal is stopping
                photo['content'] = cleaned
                photo_status.text = t('reading.photo_added')

        file_picker(t('reading.photo'), photo_uploaded, PHOTO_TYPES, MAX_BYTES, allowed or _always)
        photo_status = ui.label().props('role=status aria-live=polite')
    confirm_box.set_visibility(False)
    form.alert()
    done = ui.column().classes('w-full gap-2')

    stored_before: set[str] = set()  # photos already kept for a reading stored earlier: a failed submit keeps them

    async def submit() -> None:
        form.clear()
        done.clear()
        values = {obis: form.value(obis) for obis in meter.registers}
        picture = photo.get('content', b'') if confirmed.value else b''
        stored = photo_file(picture) if picture and portal.files else ''
        if stored and portal.files:
            if portal.files.locate(stored) is not None:  # the same photo sent with a reading before: that one's
                stored_before.add(stored)
            await run.io_bound(portal.files.store, stored, picture)
        try:
            result = await send(
                values, form.value('reading_date'), bool(confirmed.value), str(reason.value or ''), stored
            )
        except ReadingImplausible as error:
            forget(stored)
            confirm_box.set_visibility(True)
            form.show(error)
            return
        except DomainError as error:
            forget(stored)
            form.show(error)
            return
        if result is None:
            forget(stored)
            return
        confirm_box.set_visibility(False)
        confirmed.value, reason.value = False, ''
        photo.clear()
        photo_status.text = ''
        with done:  # what does not change as plain markup: one element instead of one per line (a peak's CPU)
            thanks = t('reading.done_flagged') if result.flagged else t('reading.done', date=day(result.reading_date))
            block([markup.notice(thanks), *(markup.line(text) for text in result.lines)], 'nicegui-column w-full gap-2')
            name = f'Zaehlerstand-{result.meter_number}-{result.reading_date:%Y-%m-%d}.pdf'

            async def download(r: Submitted = result, n: str = name) -> None:
                if allowed is None or await allowed():  # a logged-in page's session must still be valid
                    ui.download.content(reading_confirmation_pdf(portal.profile, r, current()), n, 'application/pdf')

            ui.button(t('reading.confirmation_pdf'), icon='download', on_click=download).props('outline no-caps')
            if after is not None:
                outcome = after(result)
                if outcome is not None:
                    await outcome

    def forget(stored: str) -> None:  # nothing is kept of a reading that was not stored
        if stored and portal.files and stored not in stored_before:
            portal.files.remove(stored)

    ui.button(t('reading.submit'), on_click=submit).props('no-caps')


async def _always() -> bool:
    """The reading-code page has no login: its upload needs none (the code was checked to open the form)."""
    return True


def _proposal(result: Submitted) -> None:
    """Beyond the reading: the installment it implies, with a way to change it."""
    if result.suggested_installment is None or result.current_installment is None:
        return
    text = t('reading.proposal', amount=money(result.suggested_installment), current=money(result.current_installment))
    block(
        [f'<span>{escape(text, quote=False)}</span>', markup.link(t('reading.proposal_link'), '/abschlag')],
        'nicegui-row items-center gap-2',
    )


def last_values(meter: MeterForm) -> None:
    for last in meter.last:
        register = f' ({register_field(last.obis, current())})' if len(meter.registers) > 1 else ''
        ui.label(
            f'{t("reading.last")}{register}: '
            + t('reading.value_of', value=number(last.value), unit=meter.unit, date=day(last.reading_date))
        ).classes('text-grey-8')


def _history(meter: MeterForm) -> None:
    if not meter.history:
        return
    ui.label(t('reading.history')).classes('text-subtitle1 text-weight-medium').props('role=heading aria-level=3')
    columns = [
        {'name': k, 'label': t(f'reading.{k}'), 'field': k, 'align': 'left'}
        for k in ('date', 'register', 'value', 'source', 'status')
    ]
    rows = [
        {
            'date': day(v.reading_date),
            'register': register_field(v.obis, current()),
            'value': f'{number(v.value)} {meter.unit}',
            'source': t(f'reading.sources.{v.source}'),
            'status': t(f'reading.flag.{v.plausibility}') if v.plausibility else '',
        }
        for v in meter.history
    ]
    with scroll_region(t('reading.history_region', meter=meter.meter_number)):
        ui.table(columns=columns, rows=rows).classes('w-full').props('flat dense wrap-cells')


def _by_code(portal: Portal, code: str = '', meter_number: str = '') -> None:
    """Code and meter number first (filled in from a reminder's link); then exactly that meter's form (the code is
    checked again on submit)."""
    form = Form()
    form.field('code', t('reading_code.code'), hint=t('reading_code.code_hint'), value=printable(code)).props(
        'spellcheck=false'
    )
    rule = portal.profile.registration
    hint = rule.meter_hint_in(current()) or t('field.meter_number_hint')
    form.field('meter_number', t('field.meter_number'), hint=hint, value=printable(meter_number))
    form.alert()
    meter_box = ui.column().classes('w-full')

    async def open_form() -> None:
        form.clear()
        meter_box.clear()
        code, meter_number = form.value('code'), form.value('meter_number')
        try:
            meter = await portal.act(open_by_code, code, meter_number, address=client_address())
        except DomainError as error:
            form.show(error)
            return

        taken: list[Submitted] = []

        async def send(values: dict[str, str], when: str, confirmed: bool, reason: str, photo: str) -> Submitted:
            if taken:  # sent again after its reading was taken: the code is spent, not mistyped
                raise ReadingCodeSpent(phone=portal.profile.phone)
            result = await portal.act(
                submit_by_code, code, meter_number, values, when, confirmed, reason, photo, address=client_address()
            )
            if result is not None:
                taken.append(result)
            return result

        with meter_box, ui.card().classes('w-full'):
            ui.label(f'{t("commodity." + meter.commodity)} · {t("reading.meter", meter=meter.meter_number)}').classes(
                'text-h6'
            ).props('role=heading aria-level=2')
            last_values(meter)
            reading_form(portal, meter, send)

    ui.button(t('reading_code.next'), on_click=open_form).props('no-caps')
