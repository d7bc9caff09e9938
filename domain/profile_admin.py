"""The utility profile edited by an admin in the back office: which settings, how they are checked, audit.

The profile file stays the base; what an admin changes is kept as overrides (dotted setting → text) in the
database and laid over the file, so an upgrade that adds a setting keeps working and a change is effective
without a restart (every instance picks up the new version within seconds).
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from domain.documents import usable_logo
from domain.errors import InvalidSetting, NotAllowed
from domain.i18n import current
from domain.identifiers import is_creditor_id, is_digits, is_email, is_iban, is_vat_id, normalise
from domain.model import AuditEntry
from domain.ports import Context, DocumentFiles, UnitOfWork
from domain.profile import UtilityProfile, is_month_day, repeats_a_group
from domain.staff import active_staff
from domain.stored import LOGO

OVERRIDES = 'profile_overrides'
VERSION = 'profile_version'


@dataclass(frozen=True)
class Editable:
    path: str  # dotted: 'installment.lower_percent'
    label: str
    kind: str  # text, optional (text that may be empty), vat_id, iban, creditor_id, email, int, decimal, bool, color,
    # regex, month_day, choice, year
    choices: tuple[str, ...] = ()
    group: str = ''
    limits: tuple[int, int] = (0, 100000)  # an int's range: values outside it would break the portal

    def label_in(self, language: str) -> str:
        """The setting's name on the page: German, or English on the English back office."""
        return ENGLISH_LABELS.get(self.path, self.label) if language == 'en' else self.label

    def group_in(self, language: str) -> str:
        return ENGLISH_GROUPS.get(self.group, self.group) if language == 'en' else self.group


EDITABLE = (
    Editable('name', 'Name des Versorgers', 'text', group='Versorger'),
    Editable('name_cases.nominative', 'Der Name im Satz: Wer? (z. B. „die Stadtwerke Aue“)', 'text', group='Versorger'),
    Editable('name_cases.genitive', 'Wessen? (z. B. „der Stadtwerke Aue“)', 'text', group='Versorger'),
    Editable('name_cases.dative', 'Wem? (z. B. „den Stadtwerken Aue“)', 'text', group='Versorger'),
    Editable('name_cases.accusative', 'Wen? (z. B. „die Stadtwerke Aue“)', 'text', group='Versorger'),
    Editable('short_name', 'Kurzname', 'text', group='Versorger'),
    Editable('street', 'Straße und Hausnummer', 'text', group='Versorger'),
    Editable('postal_code', 'Postleitzahl', 'text', group='Versorger'),
    Editable('city', 'Ort', 'text', group='Versorger'),
    Editable('phone', 'Telefon', 'text', group='Versorger'),
    Editable('email', 'E-Mail-Adresse', 'email', group='Versorger'),
    Editable('creditor_id', 'Gläubiger-Identifikationsnummer', 'creditor_id', group='Versorger'),
    Editable('primary_color', 'Hauptfarbe', 'color', group='Erscheinungsbild'),
    Editable('secondary_color', 'Zweitfarbe', 'color', group='Erscheinungsbild'),
    Editable('bill.logo', 'Logo (PNG oder JPEG)', 'text', group='Erscheinungsbild'),
    Editable('account_id.label', 'Bezeichnung der Kundennummer', 'text', group='Kennungen'),
    Editable('account_id.pattern', 'Format der Kundennummer (regulärer Ausdruck)', 'regex', group='Kennungen'),
    Editable('account_id.hint', 'Hinweis zum Format', 'text', group='Kennungen'),
    Editable('account_id.label_en', 'Bezeichnung der Kundennummer (englische Seiten)', 'text', group='Kennungen'),
    Editable('account_id.hint_en', 'Hinweis zum Format (englische Seiten)', 'text', group='Kennungen'),
    Editable(
        'registration.confirmation', 'Bestätigung der E-Mail-Adresse', 'choice', ('link', 'pin'), group='Registrierung'
    ),
    Editable(
        'registration.link_valid_hours', 'Gültigkeit des Links (Stunden)', 'int', group='Registrierung', limits=(1, 168)
    ),
    Editable(
        'registration.pin_valid_minutes', 'Gültigkeit der PIN (Minuten)', 'int', group='Registrierung', limits=(5, 60)
    ),
    Editable('password.min_length', 'Mindestlänge des Passworts', 'int', group='Registrierung', limits=(8, 64)),
    Editable(
        'password.require_classes',
        'Groß-/Kleinbuchstaben, Ziffer und Sonderzeichen verlangen',
        'bool',
        group='Registrierung',
    ),
    Editable(
        'readings.period_start', 'Ablesezeitraum von (MM-TT, leer: ganzjährig)', 'month_day', group='Zählerstände'
    ),
    Editable('readings.period_end', 'Ablesezeitraum bis (MM-TT)', 'month_day', group='Zählerstände'),
    Editable(
        'readings.reminder_mails_per_minute',
        'E-Mails je Minute höchstens, wie das Mail-Relay erlaubt (auch Ablese-Erinnerungen; 0: keine Erinnerungen)',
        'int',
        group='Zählerstände',
    ),
    Editable('installment.lower_percent', 'Senkung ohne Prüfung bis (%)', 'int', group='Abschlag', limits=(0, 100)),
    Editable('installment.raise_percent', 'Erhöhung bis (%)', 'int', group='Abschlag'),
    Editable('installment.minimum', 'Mindestabschlag (€)', 'decimal', group='Abschlag'),
    Editable('installment.rounding', 'Rundung', 'choice', ('up', 'nearest', 'cents'), group='Abschlag'),
    Editable('bills.online_from_year', 'Rechnungen online ab Jahr', 'year', group='Rechnungen'),
    Editable('seller.legal_name', 'Firma (mit Rechtsform)', 'optional', group='Rechnungen'),
    Editable('seller.vat_id', 'Umsatzsteuer-Identifikationsnummer', 'vat_id', group='Rechnungen'),
    Editable('seller.tax_number', 'Steuernummer (ohne USt-IdNr.)', 'optional', group='Rechnungen'),
    Editable('seller.commercial_register', 'Registergericht und -nummer', 'optional', group='Rechnungen'),
    Editable('seller.management', 'Geschäftsführung / Vorstand', 'optional', group='Rechnungen'),
    Editable('seller.iban', 'IBAN für Überweisungen', 'iban', group='Rechnungen'),
    Editable('seller.bic', 'BIC', 'optional', group='Rechnungen'),
    Editable('seller.bank', 'Kreditinstitut', 'optional', group='Rechnungen'),
)
BY_PATH = {e.path: e for e in EDITABLE}
ENGLISH_GROUPS = {
    'Versorger': 'Utility',
    'Erscheinungsbild': 'Appearance',
    'Kennungen': 'Identifiers',
    'Registrierung': 'Registration',
    'Zählerstände': 'Meter readings',
    'Abschlag': 'Installment (Abschlag)',
    'Rechnungen': 'Bills',
}
ENGLISH_LABELS = {
    'name': 'Name of the utility',
    'name_cases.nominative': 'The name in a sentence: who? (e.g. “die Stadtwerke Aue”)',
    'name_cases.genitive': 'Whose? (e.g. “der Stadtwerke Aue”)',
    'name_cases.dative': 'To whom? (e.g. “den Stadtwerken Aue”)',
    'name_cases.accusative': 'Whom? (e.g. “die Stadtwerke Aue”)',
    'short_name': 'Short name',
    'street': 'Street and house number',
    'postal_code': 'Postcode',
    'city': 'Town',
    'phone': 'Phone',
    'email': 'Email address',
    'creditor_id': 'Creditor identifier',
    'primary_color': 'Main colour',
    'secondary_color': 'Second colour',
    'bill.logo': 'Logo (PNG or JPEG)',
    'account_id.label': 'Name of the customer number',
    'account_id.pattern': 'Format of the customer number (regular expression)',
    'account_id.hint': 'Hint on the format',
    'account_id.label_en': 'Name of the customer number (English pages)',
    'account_id.hint_en': 'Hint on the format (English pages)',
    'registration.confirmation': 'Confirmation of the email address',
    'registration.link_valid_hours': 'Link valid for (hours)',
    'registration.pin_valid_minutes': 'PIN valid for (minutes)',
    'password.min_length': 'Minimum password length',
    'password.require_classes': 'Require upper and lower case letters, a digit and a special character',
    'readings.period_start': 'Reading period from (MM-DD, empty: all year)',
    'readings.period_end': 'Reading period to (MM-DD)',
    'readings.reminder_mails_per_minute': (
        'Emails per minute at most, as the mail relay allows (reading reminders too; 0: no reminders)'
    ),
    'installment.lower_percent': 'Reduction without review up to (%)',
    'installment.raise_percent': 'Increase up to (%)',
    'installment.minimum': 'Minimum installment (€)',
    'installment.rounding': 'Rounding',
    'bills.online_from_year': 'Bills online from year',
    'seller.legal_name': 'Company (with legal form)',
    'seller.vat_id': 'VAT identification number',
    'seller.tax_number': 'Tax number (without a VAT ID)',
    'seller.commercial_register': 'Register court and number',
    'seller.management': 'Management / board',
    'seller.iban': 'IBAN for transfers',
    'seller.bic': 'BIC',
    'seller.bank': 'Bank',
}
_COLOR = re.compile(r'^#[0-9a-fA-F]{6}$')


def current_values(profile: UtilityProfile) -> dict[str, str]:
    data = profile.model_dump(mode='json')
    values = {e.path: _text(_get(data, e.path)) for e in EDITABLE}
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
            _set(data, path, _typed(BY_PATH[path], value))
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
        _check_one(editable, value.strip(), today)
    start, end = values.get('readings.period_start', '').strip(), values.get('readings.period_end', '').strip()
    if bool(start) != bool(end):
        raise InvalidSetting(
            'readings.period_end',
            reason=_said(
                'Bitte beide Daten angeben oder beide leer lassen.', 'Please give both days or leave both empty.'
            ),
        )
    try:
        profile = with_overrides(base, values)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidSetting('.'.join(str(p) for p in first['loc']), reason=first['msg']) from None
    _names_agree(profile)
    return profile


def _names_agree(profile: UtilityProfile) -> None:
    """A new name without its declined forms would leave the old name in the mandate, the mails' footer and the
    accessibility statement: each form must be the name with its article, word for word, each word declined or not
    („den Stadtwerken Aue“, „des Wasserverbands Charlottental“). Checking only the last word let „Wasserwerke Aue“
    keep „die Stadtwerke Aue“, and a form with words more („die Stadt- und Wasserwerke Aue“) or a longer place name
    („Aue-Bad Schlema“) passed too."""
    for case in _CASES:
        if not _names(profile.name, getattr(profile.name_cases, case)):
            raise InvalidSetting(
                f'name_cases.{case}',
                reason=_said(
                    f'Bitte passen Sie den Namen im Satz an „{profile.name}“ an.',
                    f'Please adapt the name in a sentence to “{profile.name}”.',
                ),
            )
    _articles_agree([getattr(profile.name_cases, case).split()[0] for case in _CASES])


_CASES = ('nominative', 'genitive', 'dative', 'accusative')
# the definite article through the four cases: masculine, feminine, neuter, plural („die Stadtwerke“)
_DECLENSIONS = (
    ('der', 'des', 'dem', 'den'),
    ('die', 'der', 'der', 'die'),
    ('das', 'des', 'dem', 'das'),
    ('die', 'der', 'den', 'die'),
)
_ARTICLES = frozenset(article for declension in _DECLENSIONS for article in declension)


def _articles_agree(articles: list[str]) -> None:
    """Each form with its article, and the four articles of one gender (or the plural): „dem Stadtwerke Aue“ as the
    nominative, or the genitive without an article, made the SEPA mandate read „Ich ermächtige den Stadtwerken Aue“."""
    left = list(_DECLENSIONS)
    for index, case in enumerate(_CASES):
        fitting = [declension for declension in left if declension[index] == articles[index]]
        if not fitting:
            expected = ' / '.join(sorted({declension[index] for declension in left}))
            raise InvalidSetting(
                f'name_cases.{case}',
                reason=_said(
                    f'Bitte mit dem Artikel, den der Name in diesem Fall hat: {expected}.',
                    f'Please begin with the article the name takes in this case: {expected}.',
                ),
            )
        left = fitting


def _names(name: str, form: str) -> bool:
    """Whether `form` is `name` with an article before it, word for word, each word as in the name or with a German
    ending (-n, -s, -es, -en): it starts with the name's word (less its last two letters when that is longer than
    four) and is at most three letters longer."""
    words, said = name.split(), form.split()
    if said and said[0] in _ARTICLES and len(said) == len(words) + 1:
        said = said[1:]
    return bool(words) and len(said) == len(words) and all(map(_declined, words, said))


def _declined(word: str, form: str) -> bool:
    stem = word[:-2] if len(word) > 4 else word
    return form.startswith(stem) and len(form) <= len(word) + 3


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
    admin = active_staff(uow, staff_id)
    if admin.role != 'admin':
        raise NotAllowed()
    # one save at a time, each reading what the one before stored: two at the same moment read the same overrides and
    # the later wrote its copy over the earlier's change
    uow.staff.hold_admins()
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
            reason=_said(
                'Dieses Logo ist nicht hochgeladen. Bitte die Datei hochladen.',
                'This logo has not been uploaded. Please upload the file.',
            ),
        )
    if found is not None and not usable_logo(found.read_bytes()):  # every PDF's letterhead would fail
        raise InvalidSetting(
            'bill.logo',
            reason=_said(
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


def _said(german: str, english: str) -> str:
    """A reason in the page's language (the use case runs in it)."""
    return english if current() == 'en' else german


def _check_one(editable: Editable, value: str, today: date) -> None:
    def bad(german: str, english: str) -> InvalidSetting:
        return InvalidSetting(editable.path, reason=_said(german, english))

    kind = editable.kind
    if (
        kind in ('text', 'color', 'regex', 'int', 'decimal', 'year', 'choice', 'email', 'creditor_id')
        and not value
        and editable.path != 'bill.logo'
    ):
        raise bad('Bitte ausfüllen.', 'Please fill in.')
    if kind == 'color' and not _COLOR.match(value):
        raise bad('Farbe als #RRGGBB, z. B. #00588f.', 'A colour as #RRGGBB, e.g. #00588f.')
    if kind == 'regex':
        try:
            re.compile(value)
        except re.error:
            raise bad('Kein gültiger regulärer Ausdruck.', 'Not a valid regular expression.') from None
        if repeats_a_group(value):
            raise bad(
                'Bitte Gruppen nicht wiederholen (kein „)+“, „)*“ oder „){…}“): solche Muster können die Prüfung '
                'jeder Eingabe minutenlang aufhalten. Wiederholen Sie einzelne Zeichen, z. B. [0-9]{8}.',
                'Please do not repeat groups (no ")+", ")*" or "){…}"): such patterns can hold up the check of every '
                'input for minutes. Put repetitions on single characters, e.g. [0-9]{8}.',
            )
    if kind in ('int', 'year') and not is_digits(value):
        raise bad('Bitte eine ganze Zahl.', 'Please a whole number.')
    if kind == 'year' and not 1990 <= int(value) <= today.year:
        raise bad(f'Ein Jahr zwischen 1990 und {today.year}.', f'A year from 1990 to {today.year}.')
    low, high = editable.limits
    if kind == 'int' and not low <= int(value) <= high:
        raise bad(f'Eine Zahl von {low} bis {high}.', f'A number from {low} to {high}.')
    if kind in ('text', 'optional') and not value.isprintable():  # a line break in a mail's Subject, NUL, U+202E
        raise bad('Bitte ohne Zeilenumbrüche und Steuerzeichen.', 'Please without line breaks and control characters.')
    if kind == 'decimal' and not re.fullmatch(r'\d{1,6}([.,]\d{1,2})?', value):
        raise bad('Betrag wie 5 oder 5,50.', 'An amount like 5 or 5.50.')
    if kind == 'choice' and value not in editable.choices:
        raise bad(f'Eine der Möglichkeiten: {", ".join(editable.choices)}.', f'One of: {", ".join(editable.choices)}.')
    if kind == 'month_day' and value and not is_month_day(value):
        raise bad(
            'Datum als MM-TT, z. B. 12-02 (ein Tag, den es gibt; 02-29 gilt in anderen Jahren als 02-28).',
            'A day as MM-DD, e.g. 12-02 (a day that exists; 02-29 counts as 02-28 in other years).',
        )
    if kind == 'bool' and value not in ('0', '1', 'true', 'false'):
        raise bad('Ja oder nein.', 'Yes or no.')
    if kind in ('text', 'optional') and len(value) > 200:
        raise bad('Höchstens 200 Zeichen.', 'At most 200 characters.')
    if kind == 'vat_id' and value and not is_vat_id(value):
        raise bad('USt-IdNr. wie DE123456789, mit Prüfziffer.', 'A VAT ID like DE123456789, with its check digit.')
    if kind == 'email' and not is_email(value):  # in every mail's footer and on every PDF
        raise bad(
            'Bitte eine E-Mail-Adresse, z. B. kundenservice@stadtwerke.example.',
            'Please an email address, e.g. kundenservice@stadtwerke.example.',
        )
    if kind == 'creditor_id' and not is_creditor_id(value):  # on every SEPA mandate and e-invoice
        raise bad(
            'Gläubiger-ID wie DE98ZZZ09999999999, mit Prüfziffer.',
            'A creditor identifier like DE98ZZZ09999999999, with its check digit.',
        )
    if kind == 'iban' and value and not is_iban(value):
        raise bad(
            'Bitte eine gültige IBAN, z. B. DE89 3704 0044 0532 0130 00.',
            'Please a valid IBAN, e.g. DE89 3704 0044 0532 0130 00.',
        )
    if editable.path == 'bill.logo' and value and not LOGO.fullmatch(value):
        raise bad(
            'Bitte das Logo hochladen (PNG oder JPEG); ein Pfad wird nicht angenommen.',
            'Please upload the logo (PNG or JPEG); a path is not taken.',
        )


def _typed(editable: Editable, value: str) -> Any:
    value = value.strip()
    if editable.kind in ('int', 'year'):
        return int(value)
    if editable.kind == 'decimal':
        return value.replace(',', '.')
    if editable.kind == 'bool':
        return value in ('1', 'true')
    if editable.kind in ('vat_id', 'iban', 'creditor_id'):
        return normalise(value)
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return '1' if value else '0'
    return '' if value is None else str(value)


def _get(data: dict, path: str) -> Any:
    for part in path.split('.'):
        data = data.get(part, {}) if isinstance(data, dict) else {}
    return data if data != {} else ''


def _set(data: dict, path: str, value: Any) -> None:
    *parents, last = path.split('.')
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value
