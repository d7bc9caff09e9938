"""Settings edited by an admin: checked, kept as overrides of the profile file, audited, versioned."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import Session, select

from domain import profile_admin, staff
from domain.errors import InvalidFormat, InvalidSetting, NotAllowed
from domain.model import AuditEntry
from storage.unit_of_work import SqlUnitOfWork
from tests.storage.conftest import run


@pytest.fixture
def admin(uow, context):
    run(uow, staff.create_staff, context(), 'cli', 'admin@stadtwerke.example', 'Ada Admin', 'admin')
    run(uow, staff.create_staff, context(), 'cli', 'service@stadtwerke.example', 'Sven Service', 'service')
    with uow() as u:
        return u.staff.by_email('admin@stadtwerke.example').id, u.staff.by_email('service@stadtwerke.example').id


def test_changes_are_kept_as_overrides_audited_and_versioned(uow, context, admin, engine):
    base = context().profile
    values = profile_admin.current_values(base)
    assert values['readings.period_start'] == '' and values['installment.rounding'] == 'up'  # all year
    changed = {
        **values,
        'readings.period_start': '11-15',
        'readings.period_end': '01-31',
        'installment.rounding': 'cents',
        'primary_color': '#123456',
    }
    profile, version = run(uow, profile_admin.save_profile, context(), admin[0], base, changed)
    assert (profile.readings.period_start, profile.installment.rounding, profile.primary_color, version) == (
        '11-15',
        'cents',
        '#123456',
        1,
    )
    with uow() as u:
        assert profile_admin.stored(u) == (
            1,
            {
                'readings.period_start': '11-15',
                'readings.period_end': '01-31',
                'installment.rounding': 'cents',
                'primary_color': '#123456',
            },
        )
    period = {'readings.period_start': '11-15', 'readings.period_end': '01-31'}
    assert profile_admin.with_overrides(base, period).readings.period_start == '11-15'
    with Session(engine) as session:
        details = [e.details for e in session.exec(select(AuditEntry).where(AuditEntry.action == 'setting_changed'))]
    assert "installment.rounding: 'up' → 'cents'" in details and len(details) == 4
    _, again = run(uow, profile_admin.save_profile, context(), admin[0], base, changed)
    assert again == 1  # nothing changed, no new version


@pytest.mark.parametrize(
    'path, value, reason',
    [
        ('primary_color', 'blau', '#RRGGBB'),
        ('account_id.pattern', '([0-9', 'regulärer Ausdruck'),
        ('account_id.pattern', r'^(\d+)+$', 'Gruppen nicht wiederholen'),  # 30 digits and an x: minutes per check
        ('readings.period_end', '13-01', 'MM-TT'),
        ('installment.lower_percent', 'zwanzig', 'ganze Zahl'),
        ('installment.minimum', '5 Euro', 'Betrag'),
        ('registration.confirmation', 'brieftaube', 'Möglichkeiten'),
        ('bills.online_from_year', '2099', 'Jahr zwischen'),
        ('name', '', 'ausfüllen'),
        ('bill.logo', '/etc/passwd', 'PNG'),
        ('seller.vat_id', 'DE131234567', 'Prüfziffer'),
        ('seller.iban', 'DE00 1234', 'IBAN'),
        ('readings.reminder_mails_per_minute', '-1', 'ganze Zahl'),
        # values that would break the portal
        ('password.min_length', '0', '8 bis 64'),  # customers' passwords could be empty
        ('password.min_length', '300', '8 bis 64'),  # longer than any password may be: nobody could register
        ('registration.pin_valid_minutes', '0', '5 bis 60'),  # every PIN expired when it is sent
        ('registration.link_valid_hours', '0', '1 bis 168'),
        ('installment.lower_percent', '500', '0 bis 100'),  # a "lowest installment" of -400 %
        ('short_name', 'Stadtwerke\nAue', 'Steuerzeichen'),  # into every mail's Subject header
        ('short_name', 'Stadtwerke\x00Aue', 'Steuerzeichen'),
        ('name', 'Stadtwerke\u202eAue', 'Steuerzeichen'),  # turns the text after it around
        ('creditor_id', 'DE00ZZZ00000000000', 'Prüfziffer'),  # on every SEPA mandate: was taken as text
        ('creditor_id', 'keine Angabe', 'Prüfziffer'),
        ('email', 'kundenservice-at-stadtwerke', 'E-Mail-Adresse'),  # in every mail's footer
    ],
)
def test_bad_values_are_refused_at_their_field(uow, context, admin, path, value, reason):
    base = context().profile
    with pytest.raises(InvalidSetting) as error:
        run(
            uow,
            profile_admin.save_profile,
            context(),
            admin[0],
            base,
            {**profile_admin.current_values(base), path: value},
        )
    assert error.value.field == path and reason in error.value.params['reason']
    with uow() as u:
        assert profile_admin.stored(u) == (0, {})


def test_one_reading_date_without_the_other_is_refused_and_only_admins_save(uow, context, admin):
    base = context().profile
    values = {**profile_admin.current_values(base), 'readings.period_start': '12-01', 'readings.period_end': ''}
    with pytest.raises(InvalidSetting) as error:
        run(uow, profile_admin.save_profile, context(), admin[0], base, values)
    assert error.value.field == 'readings.period_end'
    with pytest.raises(NotAllowed):
        run(uow, profile_admin.save_profile, context(), admin[1], base, profile_admin.current_values(base))


def test_the_sellers_details_for_bills_and_e_invoices_are_saved_normalised(uow, context, admin):
    base = context().profile
    values = {**profile_admin.current_values(base), 'seller.vat_id': 'de 131 234 568', 'seller.tax_number': ''}
    profile, _ = run(uow, profile_admin.save_profile, context(), admin[0], base, values)
    assert (profile.seller.vat_id, profile.seller.tax_number) == ('DE131234568', '')
    assert 'USt-IdNr. DE131234568' in profile.seller_line


def test_a_new_name_needs_its_forms_in_running_text_and_then_reads_in_them(uow, context, admin):
    """Renamed without its declined forms, the SEPA mandate, the mails' footer and the accessibility statement went on
    naming the old utility ("Ich ermächtige die Stadtwerke Aue …")."""
    from domain.i18n import t

    base = context().profile
    renamed = {**profile_admin.current_values(base), 'name': 'Stadtwerke Neustadt'}
    with pytest.raises(InvalidSetting) as error:
        run(uow, profile_admin.save_profile, context(), admin[0], base, renamed)
    assert error.value.field == 'name_cases.nominative' and 'Stadtwerke Neustadt' in error.value.params['reason']
    cases = {
        'name_cases.nominative': 'die Stadtwerke Neustadt',
        'name_cases.genitive': 'der Stadtwerke Neustadt',
        'name_cases.dative': 'den Stadtwerken Neustadt',
        'name_cases.accusative': 'die Stadtwerke Neustadt',
    }
    profile, _ = run(uow, profile_admin.save_profile, context(), admin[0], base, {**renamed, **cases})
    mandate = t('customer_data.mandate_text', 'de', **profile.names)
    assert 'Neustadt' in mandate and 'Aue' not in mandate


def _png(colour: str) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new('RGB', (40, 20), colour).save(out, 'PNG')
    return out.getvalue()


def test_an_uploaded_logo_reaches_the_pdfs_and_the_settings_can_still_be_saved_after_it(
    uow, context, admin, engine, tmp_path
):
    """Once the saved settings were laid over the profile (every instance does within seconds, and at its start),
    the page showed the logo's absolute path and refused every later save at the logo field; and the instance that
    saved kept the bare name, so its PDFs could not find the logo."""
    from service.runner import Portal
    from storage.documents import FolderFiles
    from storage.unit_of_work import SqlUnitOfWork
    from tests.factories import CHEAP_HASHER

    base = context().profile
    files = FolderFiles(tmp_path)
    files.store('logo.png', _png('red'))
    portal = Portal(
        profile=base,
        secret='test-secret',
        base_url='http://portal.test',
        hasher=CHEAP_HASHER,
        unit_of_work=lambda: SqlUnitOfWork(engine),
        mail_queued=lambda: None,
        files=files,
        base_profile=base,
    )
    run(
        uow,
        profile_admin.save_profile,
        context(),
        admin[0],
        base,
        {**profile_admin.current_values(base), 'bill.logo': 'logo.png'},
    )
    portal.apply_stored_settings()  # what the settings page does after saving, as every instance does
    assert Path(portal.profile.bill.logo).is_file()
    page = profile_admin.current_values(portal.profile)  # the settings page as it opens now
    assert page['bill.logo'] == 'logo.png'
    profile, _ = run(uow, profile_admin.save_profile, context(), admin[0], base, {**page, 'primary_color': '#123456'})
    assert profile.primary_color == '#123456'


def test_the_profile_s_own_logo_is_shown_by_its_name_and_saved_unchanged(uow, context, admin, engine, tmp_path):
    """The settings page showed the server's path to the profile file's own logo; and an own logo named logo.png was
    taken for an upload on saving (not in the documents folder: every save refused)."""
    from storage.documents import FolderFiles

    base = context().profile
    assert Path(base.bill.logo).is_absolute()
    page = profile_admin.current_values(base)
    assert page['bill.logo'] == Path(base.bill.logo).name  # no server path
    files = FolderFiles(tmp_path)
    own = tmp_path / 'profile' / 'logo.png'
    own.parent.mkdir()
    own.write_bytes(_png('blue'))
    named_logo = base.model_copy(update={'bill': base.bill.model_copy(update={'logo': str(own)})})
    for profile in (base, named_logo):
        values = {**profile_admin.current_values(profile), 'primary_color': '#123456'}
        saved, _ = run(uow, profile_admin.save_profile, context(), admin[0], profile, values, None, files)
        assert saved.bill.logo == profile.bill.logo and saved.primary_color == '#123456'
        with Session(engine) as session:
            changes = [
                e.details for e in session.exec(select(AuditEntry).where(AuditEntry.action == 'setting_changed'))
            ]
        assert not any(c.startswith('bill.logo') for c in changes)


def test_a_logo_name_typed_by_hand_must_be_an_uploaded_file(uow, context, admin, tmp_path):
    """A name of the uploads' form that is not in the documents folder left every bill without its logo."""
    from storage.documents import FolderFiles

    base, files = context().profile, FolderFiles(tmp_path)
    values = {**profile_admin.current_values(base), 'bill.logo': 'logo-0123456789abcdef.png'}
    with pytest.raises(InvalidSetting) as error:
        run(uow, profile_admin.save_profile, context(), admin[0], base, values, None, files)
    assert error.value.field == 'bill.logo' and 'nicht hochgeladen' in error.value.params['reason']
    with uow() as u:
        assert profile_admin.stored(u) == (0, {})
    files.store('logo-0123456789abcdef.png', _png('red'))
    profile, _ = run(uow, profile_admin.save_profile, context(), admin[0], base, values, None, files)
    assert profile.bill.logo == 'logo-0123456789abcdef.png'


def test_a_logo_that_is_no_usable_image_is_not_saved(uow, context, admin, tmp_path):
    """A PNG's first bytes and no image after them, or 20,000² pixels in 76 KB: once saved, every PDF's letterhead
    failed (bills, mandates, cancellations)."""
    import io

    from PIL import Image

    from storage.documents import FolderFiles

    huge = io.BytesIO()
    Image.new('1', (20000, 20000), 1).save(huge, 'PNG', optimize=True)
    base, files = context().profile, FolderFiles(tmp_path)
    for name, content in (
        ('logo-00000000000000aa.png', b'\x89PNG\r\n\x1a\n' + b'kein Bild' * 10),
        ('logo-00000000000000bb.png', huge.getvalue()),
    ):
        files.store(name, content)
        values = {**profile_admin.current_values(base), 'bill.logo': name}
        with pytest.raises(InvalidSetting) as error:
            run(uow, profile_admin.save_profile, context(), admin[0], base, values, None, files)
        assert error.value.field == 'bill.logo' and 'kein nutzbares Bild' in error.value.params['reason']


def test_a_logo_replaced_under_the_same_name_reaches_the_bills(tmp_path):
    """The upload is always stored as logo.png: the letterhead's image was cached by that path for good."""
    from domain import documents

    path = tmp_path / 'logo.png'
    path.write_bytes(_png('red'))
    first = Path(documents._logo(str(path), '#00588f')).read_bytes()
    path.write_bytes(_png('blue'))
    assert Path(documents._logo(str(path), '#00588f')).read_bytes() != first


def test_two_admins_saving_from_pages_opened_at_the_same_time_keep_both_changes(uow, context, admin):
    """Both pages show the same values; A changes the colour, then B the name (and its forms): B's save put A's colour
    back, as the page sends every field."""
    run(uow, staff.create_staff, context(), 'cli', 'bert@stadtwerke.example', 'Bert Admin', 'admin')
    with uow() as u:
        bert = u.staff.by_email('bert@stadtwerke.example').id
    base = context().profile
    opened = profile_admin.current_values(base)
    run(uow, profile_admin.save_profile, context(), admin[0], base, {**opened, 'primary_color': '#123456'}, opened)
    renamed = {**opened, 'short_name': 'SW Neu'}
    run(uow, profile_admin.save_profile, context(), bert, base, renamed, opened)
    with uow() as u:
        _, overrides = profile_admin.stored(u)
    assert overrides.get('primary_color') == '#123456' and overrides.get('short_name') == 'SW Neu'


def test_two_admins_saving_at_the_same_moment_keep_both_changes(engine, uow, context, admin):
    """Ada's save had read the stored overrides when Bert's ran to its commit; Ada's then wrote its copy over Bert's
    change (and audited it as hers). Now a save holds the admins' rows first: Bert's waits, then reads Ada's."""
    run(uow, staff.create_staff, context(), 'cli', 'bert@stadtwerke.example', 'Bert Admin', 'admin')
    with uow() as u:
        bert = u.staff.by_email('bert@stadtwerke.example').id
    base = context().profile
    opened = profile_admin.current_values(base)
    ada_read, bert_done = threading.Event(), threading.Event()

    class Ada(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            get = self.settings.get

            def read(key):
                value = get(key)
                if not ada_read.is_set():
                    ada_read.set()
                    _until(bert_done, seconds=1)  # Bert's save runs now, unless it waits for Ada's
                return value

            self.settings.get = read
            return self

    def ada() -> None:
        with Ada(engine) as work:
            profile_admin.save_profile(work, context(), admin[0], base, {**opened, 'primary_color': '#123456'}, opened)

    def bert_saves() -> None:
        assert _until(ada_read, seconds=10)
        run(uow, profile_admin.save_profile, context(), bert, base, {**opened, 'short_name': 'SW Neu'}, opened)
        bert_done.set()

    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(ada), pool.submit(bert_saves)]:
            done.result()
    with uow() as u:
        version, overrides = profile_admin.stored(u)
    assert (version, overrides.get('primary_color'), overrides.get('short_name')) == (2, '#123456', 'SW Neu')


def _until(event: threading.Event, seconds: float) -> bool:
    """`event.wait(seconds)` by polling: a timed wait never returns under libfaketime (the suite runs under
    `faketime` to try other days)."""
    for _ in range(int(seconds / 0.02)):
        if event.is_set():
            return True
        time.sleep(0.02)
    return event.is_set()


@pytest.mark.parametrize(
    ('name', 'forms', 'agrees'),
    [
        ('Wasserwerke Aue', ('die Stadtwerke Aue', 'der Stadtwerke Aue', 'den Stadtwerken Aue'), False),
        ('Wasserwerke Aue', ('die Wasserwerke Aue', 'der Wasserwerke Aue', 'den Wasserwerken Aue'), True),
        (
            'Zweckverband Wasser Nord',
            (
                'der Zweckverband Wasser Nord',
                'des Zweckverbandes Wasser Nord',
                'dem Zweckverband Wasser Nord',
                'den Zweckverband Wasser Nord',
            ),
            True,
        ),
        (
            'Zweckverband Wasser Nord',
            ('der Zweckverband Nord', 'des Zweckverbandes Nord', 'dem Zweckverband Nord', 'den Zweckverband Nord'),
            False,
        ),
        ('Wasserwerke Aue', ('die Stadt- und Wasserwerke Aue', 'der Wasserwerke Aue', 'den Wasserwerken Aue'), False),
        ('Stadtwerke Aue', ('die Stadtwerke Auerbach', 'der Stadtwerke Auerbach', 'den Stadtwerken Auerbach'), False),
        ('Stadtwerke Aue', ('die Stadtwerke Aue GmbH', 'der Stadtwerke Aue GmbH', 'den Stadtwerken Aue GmbH'), False),
        # the articles of one gender or the plural, each case with its own (the SEPA mandate: „den Stadtwerken“)
        ('Stadtwerke Aue', ('die Stadtwerke Aue', 'die Stadtwerke Aue', 'den Stadtwerken Aue'), False),
        ('Stadtwerke Aue', ('dem Stadtwerke Aue', 'der Stadtwerke Aue', 'den Stadtwerken Aue'), False),
        ('Stadtwerke Aue', ('die Stadtwerke Aue', 'Stadtwerke Aue', 'den Stadtwerken Aue'), False),
        (
            'Stadtwerke Aue',
            ('die Stadtwerke Aue', 'der Stadtwerke Aue', 'den Stadtwerken Aue', 'den Stadtwerken Aue'),
            False,
        ),
        (
            'Energiehaus Aue',
            ('das Energiehaus Aue', 'des Energiehauses Aue', 'dem Energiehaus Aue', 'das Energiehaus Aue'),
            True,
        ),
    ],
)
def test_every_word_of_a_new_name_must_be_in_its_forms_declined_or_not(uow, context, admin, name, forms, agrees):
    """Only the name's last word was checked: „Wasserwerke Aue“ kept „die Stadtwerke Aue“ in every mandate; then
    only that each word was there, so words more passed („die Stadt- und Wasserwerke Aue“, „… Auerbach“)."""
    base = context().profile
    nominative, genitive, dative, accusative = (*forms, forms[0]) if len(forms) == 3 else forms
    values = {
        **profile_admin.current_values(base),
        'name': name,
        'name_cases.nominative': nominative,
        'name_cases.genitive': genitive,
        'name_cases.dative': dative,
        'name_cases.accusative': accusative,
    }
    if agrees:
        profile, _ = run(uow, profile_admin.save_profile, context(), admin[0], base, values)
        assert (profile.name, profile.names['utility_gen']) == (name, genitive)
    else:
        with pytest.raises(InvalidSetting):
            run(uow, profile_admin.save_profile, context(), admin[0], base, values)


def test_a_customer_number_longer_than_any_is_refused_without_asking_the_pattern(context):
    """A visitor's 10,000 digits went to the utility's pattern (with one that backtracks, a check for hours)."""
    from domain.identification import Identifiers, check_format
    from domain.profile import MAX_NUMBER_LENGTH

    profile = context().profile
    rule = profile.account_id.model_copy(update={'pattern': r'^\d+$'})
    assert rule.matches('4' * MAX_NUMBER_LENGTH) and not rule.matches('4' * 10_000)
    with pytest.raises(InvalidFormat):
        check_format(context(), Identifiers('4' * 10_000, '1EBZ01'))


def test_a_pattern_that_repeats_a_group_is_used_from_nowhere(context):
    """The check ran on saving only: an override saved before it, or the profile file, still reached `matches`, and
    40 characters bound nothing for it (24 digits and an x: 1.8 s, 30: minutes per registration)."""
    from pydantic import ValidationError

    base = context().profile
    profile = profile_admin.with_overrides(base, {'account_id.pattern': r'^(\d+)+$', 'short_name': 'SW Aue'})
    assert profile.account_id.pattern == base.account_id.pattern and profile.short_name == 'SW Aue'
    with pytest.raises(ValidationError, match='repeats a group'):
        base.account_id.model_validate({**base.account_id.model_dump(), 'pattern': r'^(\d+)+$'})


@pytest.mark.parametrize('pattern', [r'(?x)^(\d+) +$', r'^(?x:(\d+) +)$', '(?x)^(\\d+)#\n+$'])
def test_a_verbose_pattern_that_repeats_a_group_is_refused_too(context, pattern):
    """In verbose mode a space or a comment stands between `)` and `+`: 24 digits and an x took 7 s per check."""
    from pydantic import ValidationError

    base = context().profile
    with pytest.raises(ValidationError):
        base.account_id.model_validate({**base.account_id.model_dump(), 'pattern': pattern})
    assert profile_admin.with_overrides(base, {'account_id.pattern': pattern}).account_id == base.account_id


def test_a_profile_file_s_broken_pattern_is_refused_naming_its_field(context):
    """re.error is no ValueError: the profile failed to load with a bare "missing ), unterminated subpattern"."""
    from pydantic import ValidationError

    base = context().profile
    with pytest.raises(ValidationError, match='pattern'):
        base.account_id.model_validate({**base.account_id.model_dump(), 'pattern': r'^(\d{8}$'})


def test_the_own_logo_s_path_typed_by_hand_is_no_change(uow, context, admin):
    """The page shows the own logo by its name; its full path typed in was stored as an override and audited."""
    base = context().profile
    values = {**profile_admin.current_values(base), 'bill.logo': base.bill.logo}
    run(uow, profile_admin.save_profile, context(), admin[0], base, values)
    with uow() as work:
        assert profile_admin.stored(work) == (0, {})


def test_an_upload_named_logo_png_survives_a_save_when_the_own_logo_is_logo_png_too(uow, context, admin, tmp_path):
    """An upload stored as logo.png (the uploads' name before 05.12.2026) beside an own logo of that name was taken
    for the own logo: saving any other setting dropped it, and the bills went back to the file's logo."""
    base, own, files = _own_logo_png_beside_an_old_upload(context, tmp_path)
    with uow() as work:
        work.settings.set(profile_admin.OVERRIDES, '{"bill.logo": "logo.png"}')
        work.commit()
    with uow() as work:
        effective = profile_admin.effective_profile(base, profile_admin.stored(work)[1], files)
    assert Path(effective.bill.logo).parent != own.parent  # the upload is in force
    shown = profile_admin.current_values(effective)
    values = {**shown, 'primary_color': '#123456'}
    run(uow, profile_admin.save_profile, context(), admin[0], base, values, shown, files)
    with uow() as work:
        assert profile_admin.stored(work)[1].get('bill.logo') == 'logo.png'


def test_saving_another_setting_keeps_the_own_logo_named_logo_png_beside_an_old_upload_of_that_name(
    uow, context, admin, tmp_path
):
    """The own logo (logo.png) in force, an old upload of that name still in the documents folder: saving the colour
    stored the upload as the logo, and every bill changed its letterhead."""
    base, own, files = _own_logo_png_beside_an_old_upload(context, tmp_path)
    with uow() as work:
        effective = profile_admin.effective_profile(base, profile_admin.stored(work)[1], files)
    assert effective.bill.logo == str(own)
    shown = profile_admin.current_values(effective)
    values = {**shown, 'primary_color': '#123456'}
    run(uow, profile_admin.save_profile, context(), admin[0], base, values, shown, files)
    with uow() as work:
        assert 'bill.logo' not in profile_admin.stored(work)[1]


def test_an_uploaded_logo_whose_file_is_gone_does_not_block_saving(uow, context, admin, tmp_path):
    """The page shows the field empty, `seen` maps that back to the stored name, and every save was refused with
    "nicht hochgeladen" (emptying the field could not clear it either)."""
    from storage.documents import FolderFiles

    base, files = context().profile, FolderFiles(tmp_path / 'documents')
    with uow() as work:
        work.settings.set(profile_admin.OVERRIDES, '{"bill.logo": "logo-0123456789abcdef.png"}')
        work.commit()
    with uow() as work:
        effective = profile_admin.effective_profile(base, profile_admin.stored(work)[1], files)
    shown = profile_admin.current_values(effective)
    values = {**shown, 'primary_color': '#123456'}
    profile, _ = run(uow, profile_admin.save_profile, context(), admin[0], base, values, shown, files)
    assert profile.primary_color == '#123456'


def _own_logo_png_beside_an_old_upload(context, tmp_path):
    """A profile whose own logo is called logo.png, and an upload of that name (the uploads' name before 05.12.2026)
    in the documents folder: the profile, the own logo's path and the documents folder."""
    from storage.documents import FolderFiles

    own = tmp_path / 'profile' / 'logo.png'
    own.parent.mkdir()
    own.write_bytes(_png('blue'))
    base = context().profile
    base = base.model_copy(update={'bill': base.bill.model_copy(update={'logo': str(own)})})
    files = FolderFiles(tmp_path / 'documents')
    files.store('logo.png', _png('red'))
    return base, own, files
