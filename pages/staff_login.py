"""Verwaltung: the staff's login with two factors, first enrolment and the forced password change."""

from collections.abc import Callable
from typing import TypeVar

import segno
from nicegui import app, ui

from domain import staff
from domain.errors import DomainError, SessionEnded
from pages import renewal, staff_session
from pages.forms import Form, client_address, notice, page_title
from pages.frame import public_frame
from pages.language import t
from service.runner import Portal
from service.tuning.redirects import redirect

T = TypeVar('T')


def create(portal: Portal) -> None:
    _login_pages(portal)


async def _half_session_step(
    portal: Portal, me: staff_session.StaffMe, form: Form, use_case: Callable[..., T]
) -> T | None:
    """A step of the half session with the form's code (the code itself, the enrolment's first code), run while its
    login is valid. None after an error, shown at the form, or when the half session ended while its page was open
    (a password changed, the account locked): the code is not taken, and the staff login starts again."""
    form.clear()
    try:
        return await portal.act(
            use_case, me.staff_id, form.value('code'), address=client_address(), staff_login=staff_session.login(me)
        )
    except SessionEnded:
        _end_own(me)
        ui.navigate.to('/verwaltung')
    except DomainError as error:
        form.show(error)
    return None


def _end_own(me: staff_session.StaffMe) -> None:
    """End this page's half session; a session of another staff member made in this browser meanwhile (another tab)
    is not this page's to end."""
    if app.storage.user.get('staff_id') == me.staff_id:
        staff_session.end()


def _login_pages(portal: Portal) -> None:
    @ui.page('/verwaltung')
    async def login_page(abgemeldet: str = ''):  # from an open page's idle logout (pages.frame.idle_watch)
        me = await staff_session.current(portal)
        if me is not None and me.verified:
            return redirect('/verwaltung/kunden')
        idle = app.storage.user.pop('staff_idle_logout', False) or bool(abgemeldet)
        with public_frame(portal, t('staff.login_title')):
            page_title(t('staff.login_title'))
            if idle:
                notice(t('staff.idle_logout', minutes=portal.profile.session.idle_minutes), 'info')
            ui.label(t('staff.login_intro')).classes('text-grey-8')
            form = Form()
            form.field('email', t('staff.email'), autocomplete='username')
            form.field('password', t('staff.password'), password=True, autocomplete='current-password')
            form.alert()

            async def submit() -> None:
                form.clear()
                try:  # a new session id, then the second factor
                    await renewal.log_in(
                        'staff',
                        portal.act(
                            staff.password_step,
                            form.value('email'),
                            form.value('password'),
                            renewal.device_of(portal.base_url.startswith('https'), staff=True),
                            address=client_address(),
                        ),
                        portal.clock,
                    )
                except DomainError as error:
                    form.show(error)

            form.fields['password'].on('keydown.enter', submit)
            ui.button(t('staff.submit'), on_click=submit).props('no-caps')

    @ui.page('/verwaltung/code')
    async def code_page():
        me = await staff_session.current(portal)
        if me is None:
            return redirect('/verwaltung')
        with public_frame(portal, t('staff.code_title')):
            page_title(t('staff.code_title'))
            form = Form()
            form.field('code', t('staff.code'), hint=t('staff.code_hint'), autocomplete='one-time-code').props(
                'inputmode=numeric'
            )
            form.alert()

            async def submit() -> None:
                grant = await _half_session_step(portal, me, form, staff.code_step)
                if grant is None:
                    return
                staff_session.start(grant, portal.clock)
                ui.navigate.to('/verwaltung/passwort' if grant.must_change_password else '/verwaltung/kunden')

            form.fields['code'].on('keydown.enter', submit)
            ui.button(t('staff.code_submit'), on_click=submit).props('no-caps')

    @ui.page('/verwaltung/einrichten')
    async def enrol_page():
        me = await staff_session.current(portal)
        if me is None:
            return redirect('/verwaltung')
        try:
            enrolment = await portal.act(
                staff.begin_enrolment, me.staff_id, address=client_address(), staff_login=staff_session.login(me)
            )
        except SessionEnded:  # ended between the page's check and this step (the same as the code's)
            _end_own(me)
            return redirect('/verwaltung')
        except DomainError:
            return redirect('/verwaltung/code')
        with public_frame(portal, t('staff.enrol_title')):
            page_title(t('staff.enrol_title'))
            ui.label(t('staff.enrol_intro'))
            ui.image(segno.make(enrolment.uri, error='m').png_data_uri(scale=5)).classes('w-56').props(
                f'alt="{t("staff.enrol_qr")}"'
            )
            ui.label(
                t(
                    'staff.enrol_secret',
                    secret=' '.join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)),
                )
            ).classes('text-body2').style('word-break: break-all')
            form = Form()
            form.field('code', t('staff.code'), autocomplete='one-time-code').props('inputmode=numeric')
            form.alert()
            codes_box = ui.column().classes('w-full')

            async def submit() -> None:
                confirmed = await _half_session_step(portal, me, form, staff.confirm_enrolment)
                if confirmed is None:
                    return
                grant, codes = confirmed
                staff_session.start(grant, portal.clock)
                confirm.set_visibility(False)
                with codes_box:
                    ui.label(t('staff.recovery_title')).classes('text-h6').props('role=heading aria-level=2')
                    ui.label(t('staff.recovery_intro'))
                    ui.label('   '.join(codes)).classes('text-mono text-body1').style('font-family: monospace')
                    target = '/verwaltung/passwort' if grant.must_change_password else '/verwaltung/kunden'
                    ui.button(t('staff.recovery_done'), on_click=lambda: ui.navigate.to(target)).props('no-caps')

            confirm = ui.button(t('staff.enrol_submit'), on_click=submit).props('no-caps')

    @ui.page('/verwaltung/passwort')
    async def password_page():
        me = await staff_session.current(portal)
        if me is None or not me.verified:
            return redirect('/verwaltung')
        if not me.must_change_password:  # only after a temporary password (a first login, a reset by an admin)
            return redirect('/verwaltung/kunden')
        with public_frame(portal, t('staff.password_title')):
            page_title(t('staff.password_title'))
            ui.label(t('staff.password_intro'))
            form = Form()
            form.field('password', t('staff.new_password'), password=True, autocomplete='new-password')
            form.field('password_repeat', t('staff.new_password_repeat'), password=True, autocomplete='new-password')
            form.alert()

            async def submit() -> None:
                form.clear()
                try:
                    grant = await staff_session.act(
                        portal,
                        me,
                        staff.change_staff_password,
                        me.staff_id,
                        form.value('password'),
                        form.value('password_repeat'),
                        address=client_address(),
                    )
                except DomainError as error:
                    form.show(error)
                    return
                if grant is None:  # the session had ended meanwhile: on to the staff login
                    return
                staff_session.start(grant, portal.clock)
                ui.navigate.to('/verwaltung/kunden')

            ui.button(t('staff.password_submit'), on_click=submit).props('no-caps')
