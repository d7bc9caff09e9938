"""The settings an admin may change in the back office (the utility profile's editable part): each one's label
in German and English, its kind and range, how a value is checked and how it is written into the profile."""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import InvalidSetting
from domain.i18n import current
from domain.identifiers import is_creditor_id, is_digits, is_email, is_iban, is_vat_id, normalise
from domain.profile import is_month_day, repeats_a_group
from domain.stored import LOGO


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
# WCAG 2.1 AA (1.4.3) for normal text: the main colour carries white text (the header, the current menu entry, the
# bills' letterhead) and is the text colour of the other menu entries on the pages' light grey (Quasar's grey-1)
MIN_CONTRAST = 4.5
_LIGHT_BACKGROUNDS = ('#ffffff', '#fafafa')


def _luminance(colour: str) -> float:
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two #RRGGBB colours (1 to 21)."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def said(german: str, english: str) -> str:
    """A reason in the page's language (the use case runs in it)."""
    return english if current() == 'en' else german


def check_one(editable: Editable, value: str, today: date) -> None:
    def bad(german: str, english: str) -> InvalidSetting:
        return InvalidSetting(editable.path, reason=said(german, english))

    kind = editable.kind
    if (
        kind in ('text', 'color', 'regex', 'int', 'decimal', 'year', 'choice', 'email', 'creditor_id')
        and not value
        and editable.path != 'bill.logo'
    ):
        raise bad('Bitte ausfüllen.', 'Please fill in.')
    if kind == 'color' and not _COLOR.match(value):
        raise bad('Farbe als #RRGGBB, z. B. #00588f.', 'A colour as #RRGGBB, e.g. #00588f.')
    if editable.path == 'primary_color':
        ratio = min(contrast(value, background) for background in _LIGHT_BACKGROUNDS)
        if ratio < MIN_CONTRAST:
            shown = f'{int(ratio * 10) / 10:.1f}'
            raise bad(
                f'Zu hell: weiße Schrift auf der Hauptfarbe und die Hauptfarbe als Schrift brauchen einen Kontrast von '
                f'mindestens 4,5:1 (WCAG 2.1 AA), diese Farbe hat {shown.replace(".", ",")}:1. Bitte eine dunklere.',
                f'Too light: white text on the main colour and the main colour as text need a contrast of at least '
                f'4.5:1 (WCAG 2.1 AA); this colour has {shown}:1. Please choose a darker one.',
            )
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
    # more than 18 digits lie outside every range (and int() refuses more than 4,300 with a ValueError)
    whole = (int(value) if len(value) <= 18 else 10**18) if kind in ('int', 'year') else 0
    if kind == 'year' and not 1990 <= whole <= today.year:
        raise bad(f'Ein Jahr zwischen 1990 und {today.year}.', f'A year from 1990 to {today.year}.')
    low, high = editable.limits
    if kind == 'int' and not low <= whole <= high:
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


def typed(editable: Editable, value: str) -> Any:
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


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return '1' if value else '0'
    return '' if value is None else str(value)


def get_path(data: dict, path: str) -> Any:
    for part in path.split('.'):
        data = data.get(part, {}) if isinstance(data, dict) else {}
    return data if data != {} else ''


def set_path(data: dict, path: str, value: Any) -> None:
    *parents, last = path.split('.')
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value
