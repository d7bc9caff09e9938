"""Composition root and command line: Settings → engine, unit of work, mailer → pages → ui.run.

`python app.py` and `kundenportal serve` start the portal; `kundenportal demo|import|export` work on the
database the same settings name. Nothing creates an engine at import time.
"""

import argparse
import asyncio
import io
import logging
import sys
import time
from datetime import date
from functools import partial
from pathlib import Path

from nicegui import app, core, run, ui
from sqlalchemy import Engine, text

from api import v1 as api_v1
from domain.errors import DomainError
from domain.profile_admin import stored, with_overrides
from domain.registration import forget_unconfirmed
from pages import (
    accessibility,
    backoffice,
    bills,
    consumption,
    contact,
    contracts,
    customer_data,
    inbox,
    installment,
    login,
    overview,
    readings,
    registration,
)
from pages import settings as settings_page
from pages.admission import PageQueue
from pages.portal import Portal
from pages.security import SecurityHeaders, same_origin
from pages.speed import (
    free_elements_without_the_collector,
    freeze_startup_objects,
    index_socket_rooms,
    remember_handler_signatures,
    set_aside_survivors,
    stop_setting_aside,
    thaw_and_collect,
    thaw_due,
    wake_outboxes_only_to_send,
)
from storage.database import checkpoint, make_engine, migrate, without_waiting
from storage.hashing import Argon2Hasher
from storage.importer import import_rows
from storage.mail import FolderTransport, OutboxSender, SmtpTransport
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork

log = logging.getLogger('kundenportal')

# How long NiceGUI keeps the page of a tab that lost its connection, waiting for it to come back (its default: 3 s).
RECONNECT_SECONDS = 10.0
# engine.io pings every connected tab. NiceGUI derives the pings from the reconnect time (with 10 s: every 8 s,
# answer within 4 s), but at a peak the event loop is seconds behind, and a tab whose answer waited unread longer
# than that was dropped (with 3 s, hundreds of waiting login pages); idle, 2,000 tabs cost 250 pings a second and
# engine.io's check of each tab every 4 s. Pings as engine.io's own defaults: every 25 s, answer within 20 s.
PING_INTERVAL_SECONDS, PING_TIMEOUT_SECONDS = 25.0, 20.0
# The survivors of each full garbage collection are set aside and not walked again (pages.speed.set_aside_survivors);
# one collection walks them all, freeing the reference cycles among them: 10 minutes after the last one, once the
# process used less than 30 % of a core for 5 s, and after an hour in any case (every, latest, quiet).
THAW = (600.0, 3600.0, 0.3)


def build(settings: Settings) -> tuple[Engine, Portal, OutboxSender]:
    engine = make_engine(settings.url, checkpoint_in_background=True)
    migrate(engine)  # before ui.run: async start-up handlers would race the first page
    transport = (
        SmtpTransport(
            settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password, settings.smtp_starttls
        )
        if settings.smtp_host
        else FolderTransport(settings.outbox_dir)
    )
    sender = OutboxSender(engine, transport, settings.sender_address)
    portal = Portal(
        profile=settings.load_profile(),
        secret=settings.storage_secret,
        base_url=settings.public_url,
        hasher=Argon2Hasher(),
        unit_of_work=lambda: SqlUnitOfWork(engine),
        mail_queued=sender.wake.set,
        demo=settings.demo,
        documents=settings.documents_dir,
        export=partial(_export_csv, engine),
        importer=partial(_import_folder, engine, settings.documents_dir),
        inline=without_waiting if engine.dialect.name == 'sqlite' else None,
    )
    portal.base_profile = portal.profile
    _apply_stored_settings(portal)
    return engine, portal, sender


def _apply_stored_settings(portal: Portal) -> None:
    """Lay the admin's saved settings over the profile file when their version changed (or at start)."""
    with portal.unit_of_work() as uow:
        version, overrides = stored(uow)
    if version == portal.profile_version:
        return
    try:
        portal.profile = with_overrides(portal.base_profile or portal.profile, overrides)
    except ValueError:
        log.exception('saved settings do not fit the profile file any more; using the file as it is')
    portal.profile_version = version


def start(settings: Settings | None = None) -> None:
    """Register the pages and run the web server (also what NiceGUI's test `user` fixture runs)."""
    settings = settings or Settings()
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    engine, portal, sender = build(settings)
    remember_handler_signatures()
    wake_outboxes_only_to_send()
    index_socket_rooms()
    free_elements_without_the_collector()
    if settings.redis_url:  # sessions shared by several instances (docs/operations.md)
        from nicegui.storage import Storage

        Storage.redis_url = settings.redis_url
    if settings.demo:
        _demo_data_on_first_start(engine, portal, settings.url)
    for module in (
        login,
        registration,
        overview,
        contracts,
        readings,
        consumption,
        installment,
        bills,
        customer_data,
        inbox,
        contact,
        settings_page,
        backoffice,
        accessibility,
    ):
        module.create(portal)
    api_v1.create(app, portal, partial(import_rows, engine, settings.documents_dir))
    app.add_middleware(PageQueue)
    app.add_middleware(SecurityHeaders, https=settings.public_url.startswith('https'))
    core.sio.eio.cors_allowed_origins = same_origin(settings.public_url)  # NiceGUI allows '*'
    _health(engine)
    _background_work(engine, portal, sender, settings.mail_poll_seconds)
    freeze_startup_objects()
    ui.run(
        title=portal.profile.name,
        host=settings.host,
        port=settings.port,
        storage_secret=settings.storage_secret,
        language='de',
        show=False,
        reload=False,
        favicon='⚡',
        reconnect_timeout=RECONNECT_SECONDS,
        session_middleware_kwargs={
            'same_site': 'lax',
            'https_only': settings.public_url.startswith('https'),
            'max_age': 12 * 3600,
        },
        uvicorn_logging_level='warning',
        proxy_headers=True,
        forwarded_allow_ips='127.0.0.1',
    )


def _health(engine: Engine) -> None:
    @app.get('/healthz')
    def healthz():
        from fastapi.responses import JSONResponse

        try:
            with engine.connect() as connection:
                connection.execute(text('SELECT 1'))
        except Exception:
            return JSONResponse({'status': 'database unreachable'}, status_code=503)
        return {'status': 'ok'}


def _ping_tabs_as_engineio_does() -> None:
    """After NiceGUI's start-up, which sets the pings from the reconnect time."""
    core.sio.eio.ping_interval, core.sio.eio.ping_timeout = PING_INTERVAL_SECONDS, PING_TIMEOUT_SECONDS


def _background_work(engine: Engine, portal: Portal, sender: OutboxSender, poll_seconds: float) -> None:
    """The mail outbox sender, an hourly clean-up of registrations nobody confirmed, SQLite's checkpoints."""
    tasks: list[asyncio.Task] = []

    async def checkpoints() -> None:
        while True:
            await asyncio.sleep(2)
            try:
                await run.io_bound(checkpoint, engine)
            except Exception:
                log.warning('WAL checkpoint failed; next try in 2 s', exc_info=True)

    async def settings_watch() -> None:  # another instance may have saved new settings
        while True:
            await asyncio.sleep(10)
            try:
                await run.io_bound(_apply_stored_settings, portal)
            except Exception:
                log.exception('reading the saved settings failed; next try in 10 s')

    async def thaw() -> None:  # what only the cyclic collector frees is kept for a limited time
        last = wall = time.monotonic()
        cpu = time.process_time()
        while True:
            await asyncio.sleep(5)
            share = (time.process_time() - cpu) / max(time.monotonic() - wall, 0.001)
            cpu, wall = time.process_time(), time.monotonic()
            if thaw_due(wall - last, share, *THAW):
                set_aside, freed, seconds = thaw_and_collect()
                log.info(
                    'full garbage collection over %d objects set aside: %d freed in %.0f ms',
                    set_aside,
                    freed,
                    seconds * 1000,
                )
                last = wall = time.monotonic()  # the walk's own CPU is not the portal being busy
                cpu = time.process_time()

    async def hourly() -> None:
        while True:
            try:
                await portal.act(forget_unconfirmed)
            except DomainError:
                log.warning('clean-up of unconfirmed registrations failed; next try in an hour')
            await asyncio.sleep(3600)

    app.on_startup(_ping_tabs_as_engineio_does)
    app.on_startup(set_aside_survivors)
    app.on_shutdown(stop_setting_aside)
    app.on_startup(
        lambda: tasks.extend(
            [
                asyncio.create_task(sender.run_forever(poll_seconds)),
                asyncio.create_task(hourly()),
                asyncio.create_task(settings_watch()),
                asyncio.create_task(checkpoints()),
                asyncio.create_task(thaw()),
            ]
        )
    )
    app.on_shutdown(lambda: [task.cancel() for task in tasks])


def _import_folder(engine: Engine, documents: Path, folder: Path, check_only: bool, actor: str):
    from storage.importer import import_folder

    return import_folder(engine, folder, documents, check_only=check_only, actor=actor)


def _export_csv(engine: Engine, kind: str, since: date) -> str:
    from storage.exporter import export

    out = io.StringIO()
    export(engine, kind, since, out)
    return out.getvalue()


def _demo_data_on_first_start(engine: Engine, portal: Portal, url: str) -> None:
    from storage.demo import bill_last_year, build_demo, has_customers

    if not has_customers(engine):
        log.info('empty database in demo mode: building demo data (200 customers) and billing its last year')
        summary = build_demo(engine, portal.profile, customers=200, hasher=portal.hasher)
        print(summary.describe(), flush=True)
        print(
            bill_last_year(url, portal.profile, portal.secret, portal.base_url, portal.documents).describe(), flush=True
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='kundenportal', description='Customer self-service portal for utilities')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('serve', help='start the portal (settings from KUNDENPORTAL_* and .env)')
    demo = commands.add_parser('demo', help='fill an empty database with a believable demo utility')
    demo.add_argument('--customers', type=int, default=200)
    imports = commands.add_parser('import', help='import billing-system CSV files from a folder')
    imports.add_argument('folder', type=Path)
    export = commands.add_parser('export', help='export what customers did, as CSV on standard output')
    export.add_argument(
        'kind',
        choices=['readings', 'changes', 'reading-codes'],
        help='reading-codes: a new one-time code per self-read meter, for the reading letters',
    )
    export.add_argument('--since', type=date.fromisoformat, help='ISO date, e.g. 2026-11-01 (readings, changes)')
    export.add_argument(
        '--valid-until',
        type=date.fromisoformat,
        help='reading-codes: last day the codes work (default: end of the reading period)',
    )
    save = commands.add_parser('backup', help='database (SQLite, online) and documents into one .tar.gz')
    save.add_argument('archive', type=Path)
    load = commands.add_parser('restore', help='a backup into an empty data folder')
    load.add_argument('archive', type=Path)
    staff_command = commands.add_parser('staff', help='staff accounts for the back office (/verwaltung)')
    staff_actions = staff_command.add_subparsers(dest='action', required=True)
    staff_create = staff_actions.add_parser('create', help='create a staff account (the first admin, or more)')
    staff_create.add_argument('--email', required=True)
    staff_create.add_argument('--name', required=True)
    staff_create.add_argument('--role', choices=['admin', 'service'], default='admin')
    bill = commands.add_parser('bill', help='compute and render the bills of all contracts due for a billing year')
    target = bill.add_mutually_exclusive_group(required=True)
    target.add_argument('--period', type=int, help='the billing year, e.g. 2026')
    target.add_argument(
        '--correct',
        metavar='BILL_NUMBER',
        help='replace one bill (after corrected readings or prices) by a correction with a new number',
    )
    bill.add_argument('--workers', type=int, default=0, help='processes (default: one per core)')
    bill.add_argument('--bill-date', type=date.fromisoformat, help='date printed on the bills (default: today)')
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == 'serve':
        start(settings)
        return 0
    if args.command in ('backup', 'restore'):
        from storage.backup import backup, restore

        try:
            done = (backup if args.command == 'backup' else restore)(settings.url, settings.documents_dir, args.archive)
        except (FileExistsError, ValueError, OSError) as error:
            print(f'{args.command}: {error}', file=sys.stderr)
            return 1
        print(done.describe())
        if args.command == 'restore':
            migrate(make_engine(settings.url))  # a backup from an older version is brought up to date
        return 0
    engine = make_engine(settings.url)
    migrate(engine)
    if args.command == 'demo':
        from storage.demo import bill_last_year, build_demo, has_customers

        if has_customers(engine):
            print('The database already holds customers; demo data goes only into an empty database.', file=sys.stderr)
            return 1
        profile = settings.load_profile()
        print(build_demo(engine, profile, customers=args.customers, hasher=Argon2Hasher()).describe())
        print(
            bill_last_year(
                settings.url, profile, settings.storage_secret, settings.public_url, settings.documents_dir
            ).describe()
        )
        return 0
    if args.command == 'import':
        from storage.importer import import_folder

        return 0 if import_folder(engine, args.folder, settings.documents_dir, progress=sys.stderr).ok else 1
    if args.command == 'bill':
        return _bill(engine, settings, args)
    if args.command == 'staff':
        return _staff_create(engine, settings, args.email, args.name, args.role)
    if args.kind == 'reading-codes':
        return _reading_codes(engine, settings, args.valid_until)
    if args.since is None:
        parser.error('export readings|changes needs --since DATE')
    from storage.exporter import export

    export(engine, args.kind, args.since, sys.stdout)
    return 0


def _staff_create(engine: Engine, settings: Settings, email: str, name: str, role: str) -> int:
    from domain.i18n import t
    from domain.ports import Context
    from domain.staff import create_staff

    context = Context(settings.load_profile(), settings.storage_secret, settings.public_url, Argon2Hasher())
    try:
        with SqlUnitOfWork(engine) as uow:
            password = create_staff(uow, context, 'cli', email, name, role)
    except DomainError as error:
        print(f'{email}: {t(error.key, **error.params)}', file=sys.stderr)
        return 1
    print(
        f'Staff account {email} ({role}) created. Initial password, shown only now: {password}\n'
        f'Log in at {settings.public_url}/verwaltung: set up the authenticator app, then a new password.'
    )
    return 0


def _bill(engine: Engine, settings: Settings, args: argparse.Namespace) -> int:
    from domain.errors import DomainError
    from domain.i18n import BERLIN, t
    from domain.types import utcnow
    from storage.bill_run import RunConfig, correct, run

    bill_date = args.bill_date or utcnow().astimezone(BERLIN).date()
    config = RunConfig(
        settings.url,
        settings.load_profile(),
        settings.storage_secret,
        settings.public_url,
        settings.documents_dir,
        args.period or 0,
        bill_date,
    )
    if args.correct:
        try:
            bill = correct(engine, config, args.correct)
        except DomainError as error:
            print(f'{args.correct}: {t(error.key, **error.params)}', file=sys.stderr)
            return 1
        print(
            f'{args.correct} replaced by {bill.bill_number} (gross {bill.result.gross}, balance '
            f'{bill.result.balance}); PDF {settings.documents_dir / "bills" / f"{bill.bill_number}.pdf"}'
        )
        return 0
    summary = run(config, args.workers or None)
    print(summary.describe())
    return 0 if not summary.errors else 2


def _reading_codes(engine: Engine, settings: Settings, valid_until: date | None) -> int:
    import csv

    from domain.ports import Context
    from domain.reading_codes import issue_codes

    context = Context(settings.load_profile(), settings.storage_secret, settings.public_url, Argon2Hasher())
    with SqlUnitOfWork(engine) as uow:
        codes = issue_codes(uow, context, valid_until)
    writer = csv.writer(sys.stdout, delimiter=';', lineterminator='\n')
    writer.writerow(('meter_number', 'customer_number', 'code', 'valid_until', 'url'))
    writer.writerows(
        (c.meter_number, c.customer_number, c.code, c.valid_until.isoformat(), f'{settings.public_url}/ablesung')
        for c in codes
    )
    print(f'{len(codes)} reading codes issued', file=sys.stderr)
    return 0


if __name__ in {'__main__', '__mp_main__'}:
    start()
