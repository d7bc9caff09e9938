"""The command line (`kundenportal`, docs/design.md "Interfaces"): serve, demo, import, export, bill, remind, backup,
restore, staff. `serve` hands over to the composition root (app.py); the other commands work on the database the same
settings name, with the same clock."""

import argparse
import sys
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine

from domain.clock import Clock, SystemClock
from domain.errors import DomainError
from domain.i18n import t
from domain.ports import Context
from domain.profile import UtilityProfile
from domain.spreadsheet import write_csv
from storage.database import UnknownSchema, make_engine, migrate
from storage.hashing import Argon2Hasher
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork


def main(argv: list[str] | None = None, clock: Clock | None = None) -> int:
    """The `kundenportal` command; `clock` is the machine's unless a test hands in another."""
    clock = clock or SystemClock()
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            where = '_'.join(str(part) for part in problem['loc']).upper()
            name = f'KUNDENPORTAL_{where}' if where else 'configuration'  # the storage secret's check has no field
            print(f'kundenportal: {name}: {problem["msg"]}', file=sys.stderr)
        return 2
    try:
        settings.load_profile()  # a wrong profile is said before any command, not a traceback in the middle of one
    except ValidationError as error:  # a value in the profile file: named by its table and key there
        for problem in error.errors():
            where = '.'.join(str(part) for part in problem['loc'])
            print(f'kundenportal: KUNDENPORTAL_PROFILE {settings.profile}: {where}: {problem["msg"]}', file=sys.stderr)
        return 2
    except ValueError as error:  # the profile: unknown, or its file not valid
        print(f'kundenportal: KUNDENPORTAL_PROFILE: {error}', file=sys.stderr)
        return 2
    try:
        return _run(args, settings, clock)
    except UnknownSchema as error:  # a database a newer version migrated: said, not Alembic's traceback
        print(f'kundenportal: {error}', file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    if args.command == 'serve':
        from app import start

        start(settings, clock)
        return 0
    if args.command in ('backup', 'restore'):
        return _backup_or_restore(settings, args.command, args.archive)
    engine = make_engine(settings.url)
    migrate(engine)
    if args.command == 'demo':
        return _demo(engine, settings, args.customers, clock)
    if args.command == 'import':
        from service import tuning
        from storage.importer import import_folder

        tuning.set_aside_before_a_batch(settings.tuning, settings.tuning_skipped)  # the collector walks less
        result = import_folder(engine, args.folder, settings.documents_dir, clock, progress=sys.stderr)
        return 0 if result.ok else 1
    if args.command == 'bill':
        return _bill(engine, settings, args, clock)
    if args.command == 'remind':
        from storage.reminders import run_reminders

        print(run_reminders(engine, _context(engine, settings, clock)).describe())
        return 0
    if args.command == 'staff' and args.action == 'password':
        return _staff_password(engine, settings, args.email, clock)
    if args.command == 'staff':
        return _staff_create(engine, settings, args.email, args.name, args.role, clock)
    if args.kind == 'reading-codes':
        if args.since is not None:  # taken for a filter it is not: every code would be made anyway
            _parser().error('export reading-codes takes no --since (it makes a code for every self-read meter)')
        return _reading_codes(engine, settings, args.valid_until, clock)
    if args.valid_until is not None:
        _parser().error(f'export {args.kind} takes no --valid-until (only reading-codes do)')
    if args.since is None:
        _parser().error('export readings|changes needs --since DATE')
    from storage.exporter import export

    export(engine, args.kind, args.since, sys.stdout)
    return 0


FIRST_YEAR, LAST_YEAR = 2000, 2100  # a year outside is a typing error (`0001-01-01`, `20266`), not a wish


def _day(text: str) -> date:
    """An ISO date within FIRST_YEAR..LAST_YEAR (beyond, the databases' and Python's dates overflow)."""
    try:
        value = date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f'not a date as YYYY-MM-DD: {text!r}') from error
    _year(str(value.year))
    return value


def _year(text: str) -> int:
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise argparse.ArgumentTypeError(f'a year from {FIRST_YEAR} to {LAST_YEAR}, not {text!r}')
    return int(text)


def _up_to(most: int) -> Callable[[str], int]:
    """A count from 0 to `most`."""

    def count(text: str) -> int:
        if not text.isdigit() or int(text) > most:
            raise argparse.ArgumentTypeError(f'a whole number from 0 to {most:,}, not {text!r}')
        return int(text)

    return count


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='kundenportal', description='Customer self-service portal for utilities')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('serve', help='start the portal (settings from KUNDENPORTAL_* and .env)')
    demo_command = commands.add_parser('demo', help='fill an empty database with a believable demo utility')
    demo_command.add_argument('--customers', type=_up_to(1_000_000), default=200)
    import_command = commands.add_parser('import', help='import billing-system CSV files from a folder')
    import_command.add_argument('folder', type=Path)
    export_command = commands.add_parser('export', help='export what customers did, as CSV on standard output')
    export_command.add_argument(
        'kind',
        choices=['readings', 'changes', 'reading-codes'],
        help='reading-codes: a new one-time code per self-read meter, for the reading letters',
    )
    export_command.add_argument('--since', type=_day, help='ISO date, e.g. 2026-11-01 (readings, changes)')
    export_command.add_argument(
        '--valid-until',
        type=_day,
        help='reading-codes: last day the codes work (default: end of the reading period; without one, 8 weeks on)',
    )
    backup_command = commands.add_parser('backup', help='database (SQLite, online) and documents into one .tar.gz')
    backup_command.add_argument('archive', type=Path)
    restore_command = commands.add_parser('restore', help='a backup into an empty data folder')
    restore_command.add_argument('archive', type=Path)
    staff_command = commands.add_parser('staff', help='staff accounts for the back office (/verwaltung)')
    staff_actions = staff_command.add_subparsers(dest='action', required=True)
    staff_create = staff_actions.add_parser('create', help='create a staff account (the first admin, or more)')
    staff_create.add_argument('--email', required=True)
    staff_create.add_argument('--name', required=True)
    staff_create.add_argument('--role', choices=['admin', 'service'], default='admin')
    staff_password = staff_actions.add_parser(
        'password', help="a new start password for a staff account (an admin's forgotten or expired one)"
    )
    staff_password.add_argument('--email', required=True)
    commands.add_parser(
        'remind', help='queue the reading reminders due today (the portal does it hourly; docs/domain.md §10)'
    )
    bill_command = commands.add_parser(
        'bill', help='compute and render the bills of all contracts due for a billing year'
    )
    target = bill_command.add_mutually_exclusive_group(required=True)
    target.add_argument('--period', type=_year, help='the billing year, e.g. 2026')
    target.add_argument(
        '--correct',
        metavar='BILL_NUMBER',
        help='replace one bill (after corrected readings or prices) by a correction with a new number',
    )
    target.add_argument(
        '--information',
        action='store_true',
        help='make the billing information (§40b EnWG) due today and render its PDFs (the portal does it hourly)',
    )
    bill_command.add_argument('--workers', type=_up_to(256), default=0, help='processes (default: one per core)')
    bill_command.add_argument('--bill-date', type=_day, help='date printed on the bills (default: today)')
    return parser


def _context(engine: Engine, settings: Settings, clock: Clock) -> Context:
    profile = _profile(engine, settings)
    return Context(profile, settings.storage_secret, settings.public_url, Argon2Hasher(), clock.now())


def _profile(engine: Engine, settings: Settings) -> UtilityProfile:
    """The profile as the portal runs with it: the file and the settings an admin saved in the back office (the
    reading period of the codes, the seller's bank account on the bills)."""
    from domain.profile_admin import effective_profile, stored
    from storage.documents import FolderFiles

    base = settings.load_profile()
    with SqlUnitOfWork(engine) as uow:
        _, overrides = stored(uow)
    try:
        return effective_profile(base, overrides, FolderFiles(settings.documents_dir))
    except ValueError as error:  # as the portal does: the file as it is, and said
        print(f'saved settings do not fit the profile file ({error}); using the file as it is', file=sys.stderr)
        return base


def _backup_or_restore(settings: Settings, command: str, archive: Path) -> int:
    from storage.backup import backup, restore

    try:
        done = (backup if command == 'backup' else restore)(settings.url, settings.documents_dir, archive)
    except (FileExistsError, ValueError, OSError) as error:
        print(f'{command}: {error}', file=sys.stderr)
        return 1
    print(done.describe())
    if command == 'restore':
        migrate(make_engine(settings.url))  # a backup from an older version is brought up to date
    return 0


def _demo(engine: Engine, settings: Settings, customers: int, clock: Clock) -> int:
    from storage.demo import bill_last_year, build_demo, has_customers

    if has_customers(engine):
        print('The database already holds customers; demo data goes only into an empty database.', file=sys.stderr)
        return 1
    profile, now = settings.load_profile(), clock.now()
    print(build_demo(engine, profile, customers, Argon2Hasher(), now).describe())
    summary = bill_last_year(
        settings.url, profile, settings.storage_secret, settings.public_url, settings.documents_dir, now
    )
    print(summary.describe())
    return 0


def _staff_create(engine: Engine, settings: Settings, email: str, name: str, role: str, clock: Clock) -> int:
    from domain.staff import START_PASSWORD_DAYS, create_staff

    try:
        with SqlUnitOfWork(engine) as uow:
            password = create_staff(uow, _context(engine, settings, clock), 'cli', email, name, role)
    except DomainError as error:
        print(f'{email}: {t(error.key, **error.params)}', file=sys.stderr)
        return 1
    print(
        f'Staff account {email} ({role}) created. Initial password, shown only now: {password}\n'
        f'Log in at {settings.public_url}/verwaltung within {START_PASSWORD_DAYS} days: set up the authenticator app, '
        'then a new password.'
    )
    return 0


def _staff_password(engine: Engine, settings: Settings, email: str, clock: Clock) -> int:
    from domain.staff import START_PASSWORD_DAYS, new_start_password

    try:
        with SqlUnitOfWork(engine) as uow:
            password = new_start_password(uow, _context(engine, settings, clock), 'cli', email)
    except DomainError:
        print(f'{email}: no staff account with this email address', file=sys.stderr)
        return 1
    print(
        f'New start password for {email}, shown only now: {password}\n'
        f'Log in at {settings.public_url}/verwaltung within {START_PASSWORD_DAYS} days and set a new password; the '
        f'sessions of {email} have ended.'
    )
    return 0


def _bill(engine: Engine, settings: Settings, args: argparse.Namespace, clock: Clock) -> int:
    from service import tuning

    already = tuning.active()
    mine = set(tuning.install(settings.tuning, settings.tuning_skipped, tuning.DOCUMENTS)) - already
    try:  # the pool's workers are set up as the run's own processes, and their inherited objects set aside
        return _run_bills(
            engine, settings, args, clock, partial(tuning.document_worker, settings.tuning, settings.tuning_skipped)
        )
    finally:
        tuning.take_out(mine)  # only for a caller that goes on (the tests): the command ends here


def _run_bills(
    engine: Engine, settings: Settings, args: argparse.Namespace, clock: Clock, setup: Callable[[], object]
) -> int:
    from storage.bill_run import RunConfig, correct, run
    from storage.information import run_information

    if args.information:
        made = run_information(engine, _context(engine, settings, clock), settings.documents_dir)
        print(made.describe())
        return 0

    config = RunConfig(
        settings.url,
        _profile(engine, settings),
        settings.storage_secret,
        settings.public_url,
        settings.documents_dir,
        args.period or 0,
        args.bill_date or clock.today(),
        clock.now(),
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
    summary = run(config, args.workers or None, worker_setup=setup)
    print(summary.describe())
    return 0 if not summary.errors else 2


def _reading_codes(engine: Engine, settings: Settings, valid_until: date | None, clock: Clock) -> int:
    from domain.reading_codes import issue_codes

    try:
        with SqlUnitOfWork(engine) as uow:
            codes = issue_codes(uow, _context(engine, settings, clock), valid_until)
    except DomainError as error:
        print(f'--valid-until {valid_until}: {t(error.key, **error.params)}', file=sys.stderr)
        return 1
    write_csv(
        sys.stdout,
        ('meter_number', 'customer_number', 'code', 'valid_until', 'url'),
        (
            (c.meter_number, c.customer_number, c.code, c.valid_until.isoformat(), f'{settings.public_url}/ablesung')
            for c in codes
        ),
    )
    print(f'{len(codes)} reading codes issued', file=sys.stderr)
    return 0
