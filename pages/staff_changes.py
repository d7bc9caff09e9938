"""Verwaltung: the changes customers made (for the billing system) and the reading reminders sent."""

from datetime import datetime

from nicegui import ui

from domain import change_list
from domain.clock import BERLIN
from domain.errors import DomainError
from domain.exports import staff_export
from domain.reminders import reminder_list
from pages import staff_session
from pages.forms import client_address, page_title
from pages.language import current, t
from pages.staff_frame import counted, shown, staff_page, when
from pages.staff_session import StaffMe
from service.runner import Portal


def create(portal: Portal) -> None:
    _changes_page(portal)
    _reminders_page(portal)


def _reminders_page(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/erinnerungen', 'staff.nav_reminders')
    async def reminders_page(me: StaffMe) -> None:
        """Who got which reading reminder (docs/domain.md §10), newest first; by customer number."""
        page_title(t('staff.nav_reminders'))
        ui.label(t('staff.reminders_intro')).classes('text-grey-8')
        number = ui.input(t('staff.reminders_col_customer')).classes('w-64').props('outlined dense maxlength=20')
        columns = [
            {'name': k, 'label': t(f'staff.reminders_col_{k}'), 'field': k, 'align': 'left'}
            for k in ('at', 'customer', 'meter', 'kind', 'email', 'end')
        ]
        table = ui.table(columns=columns, rows=[]).classes('w-full').props('flat dense wrap-cells')
        status = ui.label().props('role=status')

        async def refresh() -> None:
            lines = await staff_session.read(portal, me, reminder_list, me.staff_id, str(number.value or '')[:20])
            if lines is None:
                return
            table.rows = [
                {
                    'at': when(line.queued_at),
                    'customer': line.customer_number,
                    'meter': line.meter_number,
                    'kind': t(f'staff.reminders_kind_{line.kind}'),
                    'email': line.email or t('staff.reminders_email_deleted'),  # the login was deleted since
                    'end': line.period_end.strftime('%d.%m.%Y'),
                }
                for line in shown(lines)
            ]
            status.text = counted(lines)

        number.on('keydown.enter', refresh)
        ui.button(t('staff.search'), on_click=refresh).props('no-caps')
        await refresh()


def _changes_page(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/aenderungen', 'staff.nav_changes')
    async def changes_page(me: StaffMe) -> None:
        page_title(t('staff.nav_changes'))
        ui.label(t('staff.changes_intro')).classes('text-grey-8')
        with ui.row().classes('w-full items-start gap-4 wrap'):
            kinds = {
                '': t('staff.changes_all'),
                **{kind: change_list.change_kind(kind, current()) for kind in change_list.CHANGE_KINDS},
            }
            kind = ui.select(kinds, value='', label=t('staff.changes_kind')).classes('w-64').props('outlined dense')
            since = (
                ui.input(t('staff.changes_since'), value='', placeholder=t('staff.changes_since_placeholder'))
                .classes('w-48')
                .props('outlined dense')
            )
            open_only = ui.checkbox(t('staff.changes_open_only'), value=True)
        columns = [
            {'name': k, 'label': t(f'staff.changes_col_{k}'), 'field': k, 'align': 'left'}
            for k in ('at', 'kind', 'customer', 'details', 'state')
        ]
        table = (
            ui.table(columns=columns, rows=[], row_key='id', selection='multiple')
            .classes('w-full')
            .props('flat dense wrap-cells')
        )
        table.add_slot(
            'header-selection',
            f'<q-checkbox v-model="props.selected" dense aria-label="{t("staff.changes_select_all")}" />',
        )
        table.add_slot(
            'body-selection',
            '<q-checkbox v-model="props.selected" dense :aria-label="'
            f"'{t('staff.changes_select')} ' + props.row.customer + ', ' + props.row.at"
            '" />',
        )
        status = ui.label().props('role=status')

        def since_value() -> datetime | None:
            text = str(since.value or '').strip()
            since.error = None
            if not text:
                return None
            try:
                value = datetime.strptime(text, '%d.%m.%Y').replace(tzinfo=BERLIN)
                if not 2000 <= value.year <= 2100:  # 01.01.0001 overflowed the query: no answer at all
                    raise ValueError(text)
                return value
            except ValueError:
                since.error = t('staff.changes_since_invalid')
                raise

        async def refresh() -> None:
            try:
                start = since_value()
            except ValueError:
                return
            try:
                rows = await staff_session.read(
                    portal,
                    me,
                    change_list.customer_changes,
                    me.staff_id,
                    kind.value or '',
                    start,
                    bool(open_only.value),
                )
            except DomainError as error:  # the database away a moment: said, not only logged
                ui.notify(t(error.key, **error.params), type='negative')
                return
            if rows is None:
                return
            table.rows = [
                {
                    'id': r.audit_id,
                    'at': when(r.at),
                    'kind': change_list.change_kind(r.kind, current()),
                    'customer': r.customer_number,
                    'details': r.details,
                    'state': t('staff.changes_taken') if r.taken_over else t('staff.changes_open'),
                }
                for r in shown(rows)
            ]
            table.selected = []
            status.text = counted(rows)

        async def mark() -> None:
            ids = [row['id'] for row in table.selected]
            if not ids:
                ui.notify(t('staff.changes_none_selected'), type='warning')
                return
            try:
                count = await staff_session.act(
                    portal, me, change_list.mark_taken_over, me.staff_id, ids, address=client_address()
                )
            except DomainError as error:
                ui.notify(t(error.key, **error.params), type='negative')
                return
            if count is None:
                return
            ui.notify(t('staff.changes_marked', count=count), type='positive')
            await refresh()

        async def download(kind_name: str) -> None:
            try:
                start = since_value()
            except ValueError:
                return
            if start is None:
                since.error = t('staff.changes_since_needed')
                return
            try:
                content = await staff_session.act(  # the staff session checked in the export's own transaction
                    portal, me, staff_export, me.staff_id, kind_name, start.date(), address=client_address()
                )
            except DomainError as error:
                ui.notify(t(error.key, **error.params), type='negative')
                return
            if content is None:  # the session has ended: on the way to the staff login
                return
            ui.download.content(
                content.encode('utf-8-sig'),  # BOM: staff open it in a spreadsheet, which then reads umlauts as such
                f'{kind_name}-seit-{start:%Y-%m-%d}.csv',
                'text/csv; charset=utf-8',
            )

        for element in (kind, open_only):
            element.on_value_change(refresh)
        since.on('blur', refresh)
        since.on('keydown.enter', refresh)
        with ui.row().classes('gap-2 wrap'):
            ui.button(t('staff.changes_mark'), on_click=mark).props('no-caps')
            ui.button(t('staff.changes_csv_changes'), icon='download', on_click=lambda: download('changes')).props(
                'no-caps outline'
            )
            ui.button(t('staff.changes_csv_readings'), icon='download', on_click=lambda: download('readings')).props(
                'no-caps outline'
            )
        await refresh()
