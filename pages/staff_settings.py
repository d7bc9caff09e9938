"""Verwaltung → Einstellungen, for admins: the utility's settings (its profile's editable part), the logo uploaded
here, each change checked, stored as an override and audited (domain/profile_admin.py)."""

from nicegui import run, ui

from domain import profile_admin
from domain.documents import usable_logo
from domain.errors import DomainError
from domain.settings_fields import EDITABLE
from domain.stored import image_suffix, logo_file
from pages import staff_session
from pages.forms import Form, client_address, file_picker, page_title
from pages.language import current, t
from pages.staff_frame import staff_page
from pages.staff_session import StaffMe
from service.runner import Portal


def create(portal: Portal) -> None:
    @staff_page(portal, '/verwaltung/einstellungen', 'staff.nav_settings', admin=True)
    async def settings_page(me: StaffMe) -> None:
        page_title(t('staff.nav_settings'))
        ui.label(t('staff.settings_intro')).classes('text-grey-8')
        values = profile_admin.current_values(portal.profile)
        form = Form()
        group = ''
        box = None
        for editable in EDITABLE:
            if editable.group != group:
                group = editable.group
                box = ui.card().classes('w-full')
                with box:
                    ui.label(editable.group_in(current())).classes('text-h6').props('role=heading aria-level=2')
            assert box is not None
            with box:
                value = values[editable.path]
                element: ui.select | ui.checkbox | ui.color_input | ui.input
                if editable.kind == 'choice':
                    element = (
                        ui.select(
                            {c: t(f'staff.setting_choices.{c}') for c in editable.choices},
                            value=value,
                            label=editable.label_in(current()),
                        )
                        .classes('w-full')
                        .props('outlined')
                    )
                elif editable.kind == 'bool':
                    element = ui.checkbox(editable.label_in(current()), value=value == '1')
                elif editable.kind == 'color':
                    element = ui.color_input(editable.label_in(current()), value=value)
                    element.classes('w-full').props('outlined')
                else:
                    element = form.field(editable.path, editable.label_in(current()), value=value)
                # Form.fields is typed for inputs; Form works with these elements too (value, props, error)
                form.fields[editable.path] = element  # type: ignore[assignment]
                if editable.path == 'bill.logo':

                    async def logo_uploaded(event, field=element) -> None:
                        content = await event.file.read()
                        suffix = image_suffix(content)
                        if suffix is None or portal.files is None or not await run.io_bound(usable_logo, content):
                            ui.notify(t('staff.settings_logo_type'), type='warning')
                            return
                        name = logo_file(content, suffix)
                        await run.io_bound(portal.files.store, name, content)
                        field.value = name

                    file_picker(
                        t('staff.settings_logo_upload'),
                        logo_uploaded,
                        '.png,.jpg,.jpeg',
                        2 * 2**20,
                        lambda: staff_session.valid(portal, me, admin=True),
                    )
        form.alert()

        def collected() -> dict[str, str]:
            result = {}
            for path, element in form.fields.items():
                raw = element.value
                result[path] = ('1' if raw else '0') if isinstance(raw, bool) else str(raw or '')
            return result

        async def save() -> None:
            form.clear()
            try:
                saved = await staff_session.act(
                    portal,
                    me,
                    profile_admin.save_profile,
                    me.staff_id,
                    portal.base_profile or portal.profile,
                    collected(),
                    values,  # what the page showed: a setting left as it was keeps what a colleague saved meanwhile
                    portal.files,
                    address=client_address(),
                )
            except DomainError as error:
                form.show(error)
                return
            if saved is None:
                return
            # as every instance does (an uploaded logo is found in the documents folder); the page now shows this
            await run.io_bound(portal.apply_stored_settings)
            values.update(profile_admin.current_values(portal.profile))
            ui.notify(t('staff.settings_saved'), type='positive')

        ui.button(t('staff.settings_save'), on_click=save).props('no-caps')
