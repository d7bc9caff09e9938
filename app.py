"""Composition root: Settings, Clock → engine, unit of work, mailer → the use-case runner → pages, API, background
work → ui.run. Nothing creates an engine at import time; the command line is `service.cli`.

`python app.py` starts the portal as `kundenportal serve` does (also what NiceGUI's test `user` fixture runs).
"""

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from nicegui import app, core, ui
from sqlalchemy import Engine

from api import health
from api import v1 as api_v1
from domain.api_tokens import authenticate
from domain.clock import Clock, SystemClock
from pages import (
    accessibility,
    backoffice,
    bills,
    cancellation,
    consumption,
    contact,
    contracts,
    customer_data,
    errors,
    inbox,
    information,
    installment,
    language,
    login,
    lost_access,
    move,
    overview,
    readings,
    registration,
    styles,
    tariff,
)
from pages import settings as settings_page
from pages.admission import PageQueue
from pages.limits import RequestLimits
from pages.security import SecurityHeaders, same_origin
from service import hardening, tuning
from service.background import Background
from service.runner import Portal
from storage.database import make_engine, migrate, reachable
from storage.documents import FolderFiles
from storage.hashing import Argon2Hasher
from storage.importer import import_rows
from storage.mail import FolderTransport, OutboxSender, SmtpTransport
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork

log = logging.getLogger('kundenportal')

# How long NiceGUI keeps the page of a tab that lost its connection, waiting for it to come back (its default: 3 s).
RECONNECT_SECONDS = 10.0
PAGES = (
    login,
    cancellation,
    lost_access,
    registration,
    overview,
    contracts,
    readings,
    consumption,
    installment,
    bills,
    information,
    customer_data,
    inbox,
    contact,
    settings_page,
    backoffice,
    accessibility,
    tariff,
    move,
)


def build(settings: Settings, clock: Clock) -> tuple[Engine, Portal, OutboxSender]:
    engine = make_engine(settings.url, checkpoint_in_background=True)
    migrate(engine)  # before ui.run: async start-up handlers would race the first page
    transport = (
        SmtpTransport(
            settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password, settings.smtp_starttls
        )
        if settings.smtp_host
        else FolderTransport(settings.outbox_dir, clock)
    )
    sender = OutboxSender(engine, transport, settings.sender_address, clock)
    portal = Portal(
        profile=settings.load_profile(),
        secret=settings.storage_secret,
        base_url=settings.public_url,
        hasher=Argon2Hasher(),
        unit_of_work=lambda: SqlUnitOfWork(engine),
        mail_queued=sender.wake.set,
        demo=settings.demo,
        documents=settings.documents_dir,
        files=FolderFiles(settings.documents_dir),
        importer=partial(_import_folder, engine, settings.documents_dir, clock),
        clock=clock,
        language=language.current,
        max_upload=int(settings.max_upload_mb * 2**20),
    )
    # never faster than the relay allows (the profile's, which admins may change in the back office)
    sender.per_minute = lambda: portal.profile.readings.reminder_mails_per_minute
    portal.base_profile = portal.profile
    portal.apply_stored_settings()
    return engine, portal, sender


def start(settings: Settings | None = None, clock: Clock | None = None) -> None:
    """Register the pages, the API and the background work, and run the web server."""
    settings, clock = settings or Settings(), clock or SystemClock()
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    engine, portal, sender = build(settings, clock)
    if settings.redis_url:  # sessions shared by several instances (docs/operations.md)
        from nicegui.storage import Storage

        Storage.redis_url = settings.redis_url
    if settings.demo:
        _demo_data_on_first_start(engine, portal, settings.url)
    for module in PAGES:
        module.create(portal)
    api_v1.create(app, portal, partial(import_rows, engine, settings.documents_dir, clock))
    health.create(app, partial(reachable, engine))
    errors.install()
    styles.serve()
    app.add_middleware(
        RequestLimits, max_body=int(settings.max_body_mb * 2**20), api_token_scope=partial(_api_token_scope, portal)
    )
    app.add_middleware(PageQueue)
    app.add_middleware(SecurityHeaders, https=settings.public_url.startswith('https'))
    core.sio.eio.cors_allowed_origins = same_origin(settings.public_url)  # NiceGUI allows '*'
    on = tuning.install(settings.tuning, settings.tuning_skipped)
    log.info('tuning: %s', ', '.join(on) if on else 'off')
    app.on_shutdown(tuning.uninstall)
    if not hardening.install():
        log.warning('socket.io messages are not bound to their own tab: NiceGUI is not the version it was written for')
    app.on_shutdown(hardening.uninstall)
    background = Background(engine, portal, sender, settings.mail_poll_seconds)
    background.register()
    app.on_shutdown(portal.hashing.close)  # after the background's stop (registered before), which may still hash
    app.on_shutdown(lambda: engine.dispose())  # a handler with a parameter would be given the app
    portal.mail_queued = _both(sender.wake.set, background.wake.set)
    ui.run(
        title=portal.profile.name,
        host=settings.host,
        port=settings.port,
        storage_secret=settings.storage_secret,
        language='de',
        show=False,
        reload=False,
        favicon='⚡',
        tailwind=False,  # pages.styles: the utilities as a stylesheet made ahead
        reconnect_timeout=RECONNECT_SECONDS,
        session_middleware_kwargs={
            'same_site': 'lax',
            'https_only': settings.public_url.startswith('https'),
            'max_age': 12 * 3600,
            # behind TLS the `__Host-` prefix: the browser keeps it only if Secure, for this host, for all paths
            'session_cookie': '__Host-session' if settings.public_url.startswith('https') else 'session',
        },
        uvicorn_logging_level='warning',
        proxy_headers=True,
        forwarded_allow_ips='127.0.0.1',
    )


def _both(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    """After every use case: the mail sender and the background's queue both look for work."""

    def call() -> None:
        first()
        second()

    return call


async def _api_token_scope(portal: Portal, token: str) -> str | None:
    """The scope of the API's bearer token (None: missing or revoked), checked before a request body is read
    (pages.limits): every API route that takes a body writes."""
    found = await portal.act(authenticate, token)
    return found.scope if found is not None else None


def _import_folder(engine: Engine, documents: Path, clock: Clock, folder: Path, check_only: bool, actor: str):
    from storage.importer import import_folder

    return import_folder(engine, folder, documents, clock, check_only=check_only, actor=actor)


def _demo_data_on_first_start(engine: Engine, portal: Portal, url: str) -> None:
    from storage.demo import bill_last_year, build_demo, has_customers

    if not has_customers(engine):
        log.info('empty database in demo mode: building demo data (200 customers) and billing its last year')
        now = portal.clock.now()
        print(build_demo(engine, portal.profile, 200, portal.hasher, now).describe(), flush=True)
        made = bill_last_year(url, portal.profile, portal.secret, portal.base_url, portal.documents, now)
        print(made.describe(), flush=True)


if __name__ in {'__main__', '__mp_main__'}:
    start()
