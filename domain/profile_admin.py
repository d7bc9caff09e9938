"""The utility profile edited by an admin in the back office: the values checked (each setting in `settings_fields`,
the name's cases in `name_cases`), stored as overrides and audited.

The profile file stays the base; what an admin changes is kept as overrides (dotted setting → text) in the
database and laid over the file, so an upgrade that adds a setting keeps working and a change is effective
without a restart (every instance picks up the new version within seconds).
"""

import json
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from domain.documents import usable_logo
from domain.errors import InvalidSetting, NotAllowed
from domain.model import AuditEntry
from domain.name_cases import names_agree
from domain.ports import Context, DocumentFiles, UnitOfWork
from domain.profile import UtilityProfile, repeats_a_group
from domain.settings_fields import BY_PATH, EDITABLE, check_one, get_path, said, set_path, text_of, typed
from domain.staff import hold_admin
from domain.stored import LOGO

OVERRIDES = 'profile_overrides'
VERSION = 'profile_version'


def current_values(profile: UtilityProfile) -> dict[str, str]:
    data = profile.model_dump(mode='json')
    values = {e.path: text_of(get_path(data, e.path)) for e in EDITABLE}
    values['bill.logo'] = shown_logo(values['bill.logo'])
    return values


def shown_logo(logo: str) -> str:
    """A logo as the settings page names it: by its file's name, an uploaded one (found in the documents folder by
    it) or the profile file's own (the page showed the server's path to it)."""
    return Path(logo).name if Path(logo).is_absolute() else logo


def _own_logo(base: UtilityProfile, value: str, files: DocumentFiles | None = None) -> bool:
    """Whether a value of the logo field is the profile file's own logo, by its path or as the page shows it; an
    upload of the same name in the documents folder (an own logo called logo.png) is the upload."""
    own, value = base.bill.logo, value.strip()
    if not own or value not in (own, shown_logo(own)):
        return False
    return value == own or not (LOGO.fullmatch(value) and files is not None and files.locate(value) is not None)


def effective_profile(base: UtilityProfile, overrides: dict, files: DocumentFiles | None) -> UtilityProfile:
    """The profile file with the admin's saved settings laid over it, a logo uploaded in the back office found in
    the documents folder by its name (absent: none); what the portal and every command work with."""
    profile = with_overrides(base, overrides)
    if not LOGO.fullmatch(profile.bill.logo):
        return profile
    found = files.locate(profile.bill.logo) if files else None
    return profile.model_copy(update={'bill': profile.bill.model_copy(update={'logo': str(found) if found else ''})})


def with_overrides(base: UtilityProfile, overrides: dict[str, str]) -> UtilityProfile:
    """The base profile with the stored overrides laid over it (unknown or stale keys are ignored, and so is a
    pattern saved before patterns that repeat a group were refused: the file's own stays in force)."""
    data = base.model_dump(mode='json')
    for path, value in overrides.items():
        if path in BY_PATH and not (BY_PATH[path].kind == 'regex' and repeats_a_group(value)):
            set_path(data, path, typed(BY_PATH[path], value))
    return UtilityProfile.model_validate(data)


def check(
    base: UtilityProfile, values: dict[str, str], today: date, files: DocumentFiles | None = None
) -> UtilityProfile:
    """Raise InvalidSetting (field = the dotted path) for the first bad value; return the profile they give."""
    if _own_logo(base, values.get('bill.logo', ''), files):  # the profile file's own logo, unchanged
        values = {**values, 'bill.logo': base.bill.logo}
    for path, value in values.items():
        editable = BY_PATH.get(path)
        if editable is None:
            raise NotAllowed()
        if path == 'bill.logo' and value == base.bill.logo:
            continue
        check_one(editable, value.strip(), today)
    start, end = values.get('readings.period_start', '').strip(), values.get('readings.period_end', '').strip()
    if bool(start) != bool(end):
        raise InvalidSetting(
            'readings.period_end',
            reason=said(
                'Bitte beide Daten angeben oder beide leer lassen.', 'Please give both days or leave both empty.'
            ),
        )
    try:
        profile = with_overrides(base, values)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidSetting('.'.join(str(p) for p in first['loc']), reason=first['msg']) from None
    names_agree(profile)
    return profile


def save_profile(
    uow: UnitOfWork,
    ctx: Context,
    staff_id: int,
    base: UtilityProfile,
    values: dict[str, str],
    seen: dict[str, str] | None = None,
    files: DocumentFiles | None = None,
) -> tuple[UtilityProfile, int]:
    """Store the admin's values as overrides (only what differs from the file), audit each change, and raise
    the version that tells every instance to reload. Returns the new profile and version. `seen`: what the page
    showed; a setting left as it was there keeps what is stored now, so that two admins who opened the page at the
    same time and save one after the other keep both changes. `files`: the documents folder, where an uploaded
    logo must be (a name typed by hand that is not there left every bill without its logo)."""
    # one save at a time, each reading what the one before stored: two at the same moment read the same overrides and
    # the later wrote its copy over the earlier's change; and the admin checked after that (an admin locked at the
    # same moment saves nothing after the lock)
    hold_admin(uow, staff_id)
    values = {k: v.strip() for k, v in values.items()}
    if seen is not None:
        stored_now = current_values(with_overrides(base, json.loads(uow.settings.get(OVERRIDES) or '{}')))
        values = {k: stored_now.get(k, v) if v == seen.get(k, '').strip() else v for k, v in values.items()}
    before = json.loads(uow.settings.get(OVERRIDES) or '{}')
    file_values = current_values(base)
    logo = values.get('bill.logo', '')
    # a name shared by the own logo and an upload (logo.png) is the upload only while the upload is in force
    in_force = files if before.get('bill.logo') == logo else None
    profile = check(base, values, ctx.today, in_force)
    own_logo = _own_logo(base, logo, in_force)
    if own_logo:  # as the page shows it: its path typed by hand is no change either
        values['bill.logo'] = logo = file_values['bill.logo']
    uploaded = files is not None and not own_logo and LOGO.fullmatch(logo)
    found = files.locate(logo) if files is not None and uploaded else None
    if uploaded and found is None and before.get('bill.logo') != logo:  # a stored one gone: no reason to refuse all
        raise InvalidSetting(
            'bill.logo',
            reason=said(
                'Dieses Logo ist nicht hochgeladen. Bitte die Datei hochladen.',
                'This logo has not been uploaded. Please upload the file.',
            ),
        )
    if found is not None and not usable_logo(found.read_bytes()):  # every PDF's letterhead would fail
        raise InvalidSetting(
            'bill.logo',
            reason=said(
                'Diese Datei ist kein nutzbares Bild (PNG oder JPEG bis 25 Megapixel).',
                'This file is no usable image (PNG or JPEG up to 25 megapixels).',
            ),
        )
    # an upload named as the own logo is shown (logo.png) is an override all the same
    overrides = {
        k: v for k, v in values.items() if v != file_values.get(k) or (k == 'bill.logo' and v and not own_logo)
    }
    changed = {
        k: (before.get(k, file_values.get(k, '')), overrides.get(k, file_values.get(k, '')))
        for k in set(before) | set(overrides)
        if before.get(k) != overrides.get(k)
    }
    if not changed:
        return profile, int(uow.settings.get(VERSION) or 0)
    version = int(uow.settings.get(VERSION) or 0) + 1
    uow.settings.set(OVERRIDES, json.dumps(overrides, ensure_ascii=False, sort_keys=True))
    uow.settings.set(VERSION, str(version))
    for path, (old, new) in sorted(changed.items()):
        uow.audit(
            AuditEntry(
                at=ctx.now,
                actor=f'staff:{staff_id}',
                action='setting_changed',
                details=f'{path}: {old!r} → {new!r}'[:2000],
                address=ctx.address,
            )
        )
    uow.commit()
    return profile, version


def stored(uow: UnitOfWork) -> tuple[int, dict[str, str]]:
    """The version and the overrides kept in the database (0 and none before the first change)."""
    return int(uow.settings.get(VERSION) or 0), json.loads(uow.settings.get(OVERRIDES) or '{}')
