"""Anmelden, Passwort vergessen, neues Passwort (by link or after a temporary password)."""

from nicegui import app, ui

from domain.accounts import login, set_initial_password
from domain.errors import CodeTooLate, DomainError, FormerUserName, PendingLoginEnded, SessionEnded
from domain.password_reset import request_password_reset, reset_password, reset_token_is_usable
from domain.passwords import describe_policy
from domain.second_factor import login_code
from pages import renewal, session
from pages.forms import Form, client_address, notice, page_title
from pages.frame import public_frame
from pages.language import current, t
from service.runner import Portal
from service.tuning.redirects import redirect


def create(portal: Portal) -> None:
    https = portal.base_url.startswith('https')
    renewal.create(portal.clock, https)

    @ui.page('/')
    async def login_page(abgemeldet: str = '', aktiviert: str = '', passwort: str = '', entfernt: str = ''):
        if await session.current(portal) is not None:
            return redirect('/uebersicht')
        idle = app.storage.user.pop('idle_logout', False) if 'idle_logout' in app.storage.user else False
        with public_frame(portal, t('login.title')):
            page_title(t('login.title'))
            if abgemeldet or idle:
                notice(t('login.idle_logout', minutes=portal.profile.session.idle_minutes), 'info')
            if aktiviert:
                notice(t('login.activated'))
            if passwort:
                notice(t('login.password_saved'))
            if entfernt:
                notice(t('login.profile_deleted'))
            _login_form(portal)

    @ui.page('/anmelden/code')
    def code_page():
        pending = session.awaiting_code(portal.clock)
        if pending is None:
            return redirect('/')
        with public_frame(portal, t('login.code_title')):
            page_title(t('login.code_title'))
            ui.label(t('login.code_intro'))
            form = Form()
            code = form.field('code', t('login.code'), autocomplete='one-time-code').props('inputmode=numeric')
            form.alert()

            async def submit() -> None:
                form.clear()
                if session.awaiting_code(portal.clock) != pending:  # five minutes after the password, or logged out
                    form.show(CodeTooLate())
                    return
                try:
                    grant = await portal.act(
                        login_code, pending, form.value('code'), address=client_address(), login=session.pending_login()
                    )
                except SessionEnded:  # the password changed (or was reset) since it was given here
                    session.end()
                    form.show(PendingLoginEnded())
                    return
                except DomainError as error:
                    form.show(error)
                    return
                session.start(grant, portal.clock)
                ui.navigate.to('/passwort-aendern' if grant.must_change_password else '/uebersicht')

            code.on('keydown.enter', submit)
            ui.button(t('login.code_submit'), on_click=submit).classes('w-full').props('no-caps size=lg')
            ui.link(t('common.back_to_login'), '/')

    @ui.page('/passwort-vergessen')
    def forgot_page():
        with public_frame(portal, t('forgot.title')):
            page_title(t('forgot.title'))
            _forgot_form(portal)

    @ui.page('/passwort-neu/{token}')
    async def new_password_page(token: str):
        with public_frame(portal, t('reset.title')):
            page_title(t('reset.title'))
            if not await portal.act(reset_token_is_usable, token):
                notice(t('error.token_invalid'), 'negative')
                ui.link(t('forgot.title'), '/passwort-vergessen')
                return
            _new_password_form(
                portal,
                lambda pw, rep: portal.act(reset_password, token, pw, rep, address=client_address()),
                done=lambda _: ui.navigate.to('/?passwort=1'),
            )

    @ui.page('/passwort-aendern')
    async def forced_change_page():
        me = await session.current(portal)
        if me is None:
            return redirect('/')
        with public_frame(portal, t('reset.title')):
            page_title(t('reset.title'))
            notice(t('reset.temporary_intro'), 'info')

            def saved(epoch: int | None) -> None:
                if epoch is None:  # the session had ended (idle, logged out, ended elsewhere): on to the login
                    return
                session.set_epoch(epoch)
                ui.navigate.to('/uebersicht')

            _new_password_form(
                portal,
                lambda pw, rep: session.act(
                    portal, me, set_initial_password, me.user_id, pw, rep, address=client_address()
                ),
                done=saved,
            )


def _login_form(portal: Portal) -> None:
    form = Form()
    email = form.field('email', t('field.email'), autocomplete='username')
    password = form.field('password', t('field.password'), password=True, autocomplete='current-password')
    form.alert()
    register = ui.link(t('login.register_with_email'), '/registrieren')  # for a former portal's user name
    register.set_visibility(False)
    queue = notice('', 'info').props('aria-live=polite')  # at a login peak: the place in the queue
    queue.set_visibility(False)

    def waiting(place: int, seconds: float) -> None:
        queue.set_text(t('login.queued', place=place, wait=wait_text(seconds)) if place else '')
        queue.set_visibility(bool(place))

    tab = ui.context.client

    async def submit() -> None:
        if not send.enabled:  # Enter pressed while this tab's login waits
            return
        form.clear()
        register.set_visibility(False)
        send.disable()  # one login at a time from this tab, also while it waits in the queue
        try:  # a new session id, then the overview or the code page
            await renewal.log_in(
                'customer',
                portal.act(
                    login,
                    form.value('email'),
                    form.value('password'),
                    renewal.device_of(portal.base_url.startswith('https')),
                    address=client_address(),
                    waiting=waiting,
                    gone=lambda: tab.is_deleted,
                ),
                portal.clock,
            )
        except DomainError as error:
            form.show(error)
            register.set_visibility(isinstance(error, FormerUserName))
        finally:
            waiting(0, 0.0)
            send.enable()

    email.on('keydown.enter', submit)
    password.on('keydown.enter', submit)
    send = ui.button(t('login.submit'), on_click=submit).classes('w-full').props('no-caps size=lg')
    with ui.row().classes('w-full justify-between'):
        ui.link(t('login.forgot'), '/passwort-vergessen')
        ui.link(t('login.register'), '/registrieren')
    ui.link(t('lost_access.link'), '/zugang-verloren').classes('text-sm')


def wait_text(seconds: float) -> str:
    """An estimate as a person would say it: "wenige Sekunden", "etwa 20 Sekunden", "etwa 3 Minuten"."""
    if seconds < 8:
        return t('login.wait_moment')
    if seconds < 90:
        return t('login.wait_seconds', n=max(10, round(seconds / 5) * 5))
    return t('login.wait_minutes', n=round(seconds / 60))


def _forgot_form(portal: Portal) -> None:
    temporary = portal.profile.reset.method == 'temporary_password'
    ui.label(t('forgot.intro_temporary' if temporary else 'forgot.intro', days=portal.profile.reset.link_valid_days))
    form = Form()
    form.field('email', t('field.email'), autocomplete='email')
    form.alert()
    done = notice(t('forgot.sent'))
    done.set_visibility(False)

    async def submit() -> None:
        form.clear()
        try:
            await portal.act(request_password_reset, form.value('email'), address=client_address())
        except DomainError as error:
            form.show(error)
            return
        done.set_visibility(True)

    ui.button(t('forgot.submit_temporary' if temporary else 'forgot.submit'), on_click=submit).classes('w-full').props(
        'no-caps'
    )
    ui.link(t('lost_access.link'), '/zugang-verloren')
    ui.link(t('common.back_to_login'), '/')


def _new_password_form(portal: Portal, save, done) -> None:
    ui.label(describe_policy(portal.profile.password, current()))
    form = Form()
    form.field('password', t('field.new_password'), password=True, autocomplete='new-password')
    form.field('password_repeat', t('field.password_repeat'), password=True, autocomplete='new-password')
    form.alert()

    async def submit() -> None:
        form.clear()
        try:
            result = await save(form.value('password'), form.value('password_repeat'))
        except DomainError as error:
            form.show(error)
            return
        done(result)

    ui.button(t('reset.submit'), on_click=submit).classes('w-full').props('no-caps')
