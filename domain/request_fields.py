"""A contract request's declared fields as staff and customers read them: their names and values in words (the API
and the export carry the keys and values as stored)."""

import json
from datetime import date

from domain.i18n import day, t


def declared_fields(content: str) -> dict[str, str]:
    """The declared fields as stored; a declaration that an earlier version stored cut off in the middle of its JSON
    (a long reason full of quotes, before 04.12.2026) is shown as the text it is, not as an error."""
    try:
        return json.loads(content or '{}')
    except json.JSONDecodeError:
        return {'stored': content}


# The declared fields in German (staff see them in their language: `request_field.*`; the API and the export carry
# the keys).
FIELD_LABELS = {
    'stored': 'Angaben (gekürzt gespeichert)',
    'confirmation': 'Bestätigung per E-Mail',
    'notice': 'Art',
    'reason': 'Grund',
    'name': 'Name',
    'customer_number': 'Kundennummer',
    'contract_number': 'Vertragsnummer',
    'effective': 'Wirksam zum',
    'email': 'E-Mail-Adresse',
    'move_out': 'Auszugsdatum',
    'readings_out': 'Zählerstände bei Auszug',
    'new_address': 'Neue Anschrift',
    'continue': 'Belieferung fortsetzen',
    'move_in': 'Einzugsdatum',
    'new_meter': 'Zählernummer an der neuen Adresse',
    'reading_in': 'Zählerstand bei Einzug',
    'tariff_from': 'Bisheriger Tarif',
    'tariff_to': 'Neuer Tarif',
    'start': 'Wechsel zum',
    'plausibility': 'Prüfung der Zählerstände',
    'declared_by': 'Erklärt',
}


VALUE_WORDS = {
    'ordinary': 'ordentlich',
    'extraordinary': 'außerordentlich',
    'next_possible': 'zum nächstmöglichen Zeitpunkt',
    'yes': 'ja',
    'no': 'nein',
    'not_mailed': 'nicht gesendet (die Adresse hatte ihre E-Mails dieser Stunde schon)',
    'login': 'angemeldet im Kundenportal',
    'visitor': 'ohne Anmeldung (nur mit der Kundennummer)',
}
IMPLAUSIBLE = 'implausible: '  # domain.moves: the meters whose reading at move-out is out of the expected range


def shown(value: str, translated: bool = False) -> str:
    """A declared value as shown: a day as `31.01.2027`, a choice in words (German; `translated`: in the use case's
    language, `request_value.*`)."""
    if len(value) == 10 and value[4] == '-' and value[7] == '-':
        try:
            return day(date.fromisoformat(value))
        except ValueError:
            return value
    if value in VALUE_WORDS:
        return t(f'request_value.{value}') if translated else VALUE_WORDS[value]
    if value.startswith(IMPLAUSIBLE):
        meters = value.removeprefix(IMPLAUSIBLE)
        return (
            t('request_value.implausible', meters=meters)
            if translated
            else f'außerhalb des erwarteten Bereichs: {meters}'
        )
    return value or '–'
