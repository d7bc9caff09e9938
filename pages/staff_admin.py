"""Verwaltung, for admins: import from the billing system, API tokens, the staff list (the utility's settings:
pages/staff_settings.py)."""

import shutil
import tempfile
from pathlib import Path

from nicegui import run, ui

from domain import api_tokens, staff
from domain.bills import deliver_bill_copies
from domain.errors import ConcurrentChange, DomainError, NotAllowed
from domain.stored import IMPORT_FOLDER_PREFIX, PDF_FILE
from pages import staff_session
from pages.forms import Form, client_address, file_picker, notice, page_title
from pages.language import current, t
from pages.staff_frame import staff_page, when
from pages.staff_session import StaffMe
from service.runner import Portal

IMPORT_FILES = (
    'customers.csv',
    'contracts.csv',
    'meters.csv',
    'readings.csv',
    'prices.csv',
    'installments.csv',
    'payments.csv',
    'bills.csv',
)


def create(portal: Portal) -> None:
    _exchange_pages(portal)
    _staff_pages(portal)


def _exchange_pages(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/import', 'staff.nav_import', admin=True)
    async def import_page(me: StaffMe) -> None:
        page_title(t('staff.nav_import'))
        ui.label(t('staff.import_intro')).classes('text-grey-8')
        folder = Path(tempfile.mkdtemp(prefix=IMPORT_FOLDER_PREFIX))
        ui.context.client.on_delete(lambda: shutil.rmtree(folder, ignore_errors=True))  # the page is gone
        received = ui.label(t('staff.import_none')).props('role=status')
        report = ui.column().classes('w-full gap-1')

        async def uploaded(event) -> None:
            name = Path(event.file.name).name
            if name not in IMPORT_FILES and not PDF_FILE.fullmatch(name):  # a PDF that bills.csv names by pdf_file
                ui.notify(t('staff.import_unknown_file', name=name, known=', '.join(IMPORT_FILES)), type='warning')
                return
            await event.file.save(folder / name)
            names = sorted(p.name for p in folder.iterdir() if p.name in IMPORT_FILES)
            pdfs = sum(1 for p in folder.iterdir() if p.name not in IMPORT_FILES)
            received.text = t('staff.import_files', names=', '.join(names) or '–') + (
                t('staff.import_pdfs', count=pdfs) if pdfs else ''
            )
            report.clear()  # the last check was of the files before this one: check again
            run_button.disable()

        file_picker(
            t('staff.import_upload'),
            uploaded,
            '.csv,.pdf',
            portal.max_upload,
            lambda: staff_session.valid(portal, me, admin=True),
            multiple=True,
        )

        working: set[str] = set()  # a double click on "Importieren" imported twice (two runs, two audit entries)

        async def check(apply: bool) -> None:
            if working:
                return
            working.add('run')
            try:
                await _check(apply)
            finally:
                working.clear()

        async def _check(apply: bool) -> None:
            report.clear()
            if not await staff_session.valid(portal, me, admin=True) or portal.importer is None:
                ui.navigate.to('/verwaltung')
                return
            if not any(folder.glob('*.csv')):
                with report:
                    notice(t('staff.import_none'), 'negative')
                return
            result = await run.io_bound(portal.importer, folder, not apply, f'staff:{me.staff_id}')
            if result is None:  # NiceGUI's answer when the portal is stopping
                return
            if apply and result.ok:
                # copies asked for, if the import brought them
                await staff_session.done(portal, me, deliver_bill_copies, address=client_address())
            with report:
                for file in result.files:
                    if file.errors:
                        ui.label(t('staff.import_file_errors', name=file.name, count=len(file.errors))).classes(
                            'text-negative text-weight-medium'
                        )
                        for error in file.errors[:100]:
                            ui.label(error.said(current())).classes('text-negative text-body2')
                    else:
                        key = 'staff.import_file_done' if apply else 'staff.import_file_ok'
                        ui.label(
                            t(
                                key,
                                name=file.name,
                                rows=file.rows,
                                created=file.created,
                                updated=file.updated,
                                unchanged=file.unchanged,
                            )
                        )
                notice(
                    t('staff.import_fix')
                    if not result.ok
                    else t('staff.import_done')
                    if apply
                    else t('staff.import_checked'),
                    'positive' if result.ok else 'negative',
                )
            if not apply and result.ok:
                run_button.enable()
            if apply:
                run_button.disable()

        with ui.row().classes('gap-2'):
            ui.button(t('staff.import_check'), on_click=lambda: check(False)).props('no-caps outline')
            run_button = ui.button(t('staff.import_run'), on_click=lambda: check(True)).props('no-caps')
            run_button.disable()

    @staff_page(portal, '/verwaltung/api', 'staff.nav_api', admin=True)
    async def api_page(me: StaffMe) -> None:
        page_title(t('staff.nav_api'))
        ui.label(t('staff.api_intro')).classes('text-grey-8')
        ui.link(t('staff.api_schema'), '/api/v1/openapi.json', new_tab=True)
        listing = ui.column().classes('w-full gap-2')

        async def refresh() -> None:
            listing.clear()
            rows = await staff_session.read(portal, me, api_tokens.token_list, me.staff_id)
            if rows is None:
                return
            with listing:
                for row in rows:
                    with ui.card().classes('w-full'), ui.row().classes('w-full items-center justify-between'):
                        state = t('staff.api_revoked') if row.revoked else t('staff.api_active')
                        ui.label(
                            f'{row.name} · {t("staff.api_scopes." + row.scope)} · {state} · '
                            f'{t("staff.api_last_used")}: {when(row.last_used_at)}'
                        )
                        if not row.revoked:
                            ui.button(t('staff.api_revoke'), on_click=lambda r=row: revoke(r.token_id)).props(
                                'no-caps outline color=negative'
                            )

        async def revoke(token_id: int) -> None:
            try:
                done = await staff_session.done(
                    portal, me, api_tokens.revoke_token, me.staff_id, token_id, address=client_address()
                )
            except DomainError as error:  # a colleague revoked it a moment earlier: the list shows how it is now
                ui.notify(_refused(error), type='warning')
                done = True
            if done:
                await refresh()

        await refresh()
        with ui.card().classes('w-full'):
            ui.label(t('staff.api_create')).classes('text-h6').props('role=heading aria-level=2')
            form = Form()
            form.field('name', t('staff.api_name'))
            scope = (
                ui.select(
                    {s: t(f'staff.api_scopes.{s}') for s in api_tokens.SCOPES}, value='read', label=t('staff.api_scope')
                )
                .classes('w-full')
                .props('outlined')
            )
            form.alert()
            created = ui.column().classes('w-full')

            async def create_token() -> None:
                form.clear()
                created.clear()
                try:
                    plain = await staff_session.act(
                        portal,
                        me,
                        api_tokens.create_token,
                        me.staff_id,
                        form.value('name'),
                        str(scope.value),
                        address=client_address(),
                    )
                except DomainError as error:
                    form.show(error)
                    return
                if plain is None:
                    return
                with created:
                    notice(t('staff.api_created'))
                    ui.label(plain).style('font-family: monospace; word-break: break-all')
                form.fields['name'].value = ''
                await refresh()

            ui.button(t('staff.api_create_submit'), on_click=create_token).props('no-caps')


def _refused(error: DomainError) -> str:
    """A list's action refused: changed meanwhile or not allowed (any more), or what went wrong with its reference."""
    if isinstance(error, (NotAllowed, ConcurrentChange)):
        return t('staff.changed_meanwhile')
    return t(error.key, **error.params)


def _staff_pages(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/mitarbeiter', 'staff.nav_staff', admin=True)
    async def staff_list_page(me: StaffMe) -> None:
        page_title(t('staff.staff_list'))
        issued = ui.column().classes('w-full')  # a new start password, shown once above the list
        listing = ui.column().classes('w-full')

        async def refresh() -> None:
            listing.clear()
            rows = await staff_session.read(portal, me, staff.staff_list, me.staff_id)
            if rows is None:
                return
            with listing:
                for row in rows:
                    with ui.card().classes('w-full'), ui.row().classes('w-full items-center justify-between'):
                        with ui.column().classes('gap-0'):
                            ui.label(f'{row.name} · {row.email}').classes('text-subtitle1')
                            state = t('staff.staff_active') if row.active else t('staff.staff_locked')
                            extra = '' if row.enrolled else f' · {t("staff.staff_not_enrolled")}'
                            ui.label(f'{t("staff.staff_roles." + row.role)} · {state}{extra}').classes('text-grey-8')
                        if row.staff_id != me.staff_id:
                            with ui.row().classes('gap-2'):
                                ui.button(
                                    t('staff.staff_unlock') if not row.active else t('staff.staff_lock'),
                                    on_click=lambda r=row: change(staff.set_active, r.staff_id, not r.active),
                                ).props('no-caps outline')
                                ui.button(
                                    t('staff.staff_reset_2fa'),
                                    on_click=lambda r=row: change(staff.reset_second_factor, r.staff_id),
                                ).props('no-caps outline')
                                ui.button(t('staff.staff_new_password'), on_click=lambda r=row: new_password(r)).props(
                                    'no-caps outline'
                                )

        async def change(use_case, *args) -> None:
            try:
                done = await staff_session.done(portal, me, use_case, me.staff_id, *args, address=client_address())
            except DomainError as error:  # changed by a colleague a moment earlier, or not allowed (any more)
                ui.notify(_refused(error), type='warning')
                done = True
            if done:
                await refresh()

        async def new_password(row: staff.StaffRow) -> None:
            issued.clear()
            try:
                password = await staff_session.act(
                    portal, me, staff.new_start_password, me.staff_id, row.staff_id, address=client_address()
                )
            except DomainError as error:
                ui.notify(_refused(error), type='warning')
                return
            if password is not None:
                with issued:  # until the page is left or another is issued
                    notice(t('staff.staff_new_password_done', name=row.name, password=password))

        await refresh()
        with ui.card().classes('w-full'):
            ui.label(t('staff.staff_create')).classes('text-h6').props('role=heading aria-level=2')
            form = Form()
            form.field('name', t('staff.staff_name'))
            form.field('email', t('staff.email'))
            role = (
                ui.select(
                    {r: t(f'staff.staff_roles.{r}') for r in staff.ROLES}, value='service', label=t('staff.staff_role')
                )
                .classes('w-full')
                .props('outlined')
            )
            form.alert()
            created = ui.column().classes('w-full')

            async def create_staff() -> None:
                form.clear()
                created.clear()
                try:
                    password = await staff_session.act(
                        portal,
                        me,
                        staff.create_staff,
                        me.staff_id,
                        form.value('email'),
                        form.value('name'),
                        str(role.value),
                        address=client_address(),
                    )
                except DomainError as error:
                    form.show(error)
                    return
                if password is None:
                    return
                with created:
                    notice(t('staff.staff_created', password=password))
                form.fields['name'].value, form.fields['email'].value = '', ''
                await refresh()

            ui.button(t('staff.staff_create_submit'), on_click=create_staff).props('no-caps')
