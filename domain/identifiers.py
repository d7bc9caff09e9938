"""Identifiers customers type in or that come from master data (docs/domain.md §2).

Customers copy numbers from letters and meters with spaces, dots and dashes; we normalise before we
compare and never reject a meter number by pattern alone.
"""

import re
import unicodedata

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

_SEPARATORS = re.compile(r'[\s.\-/_]+')
# dot-separated atoms (letters of any script, digits, RFC 5322's specials) @ labels of letters, digits and inner
# hyphens, the last starting with a letter: no ',', ';', '<', quotes or empty labels, which no relay takes
_EMAIL = re.compile(
    r"^[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r'@(?:[^\W_](?:(?:[^\W_]|-)*[^\W_])?\.)+[^\W\d_](?:(?:[^\W_]|-)*[^\W_])$'
)
# re.ASCII: `\d` would also take '８' and '٣' (full-width, Arabic-Indic), which `int` reads as digits
_MALO = re.compile(r'^[1-9]\d{10}$', re.ASCII)
_MELO = re.compile(r'^DE\d{11}[0-9A-Z]{20}$', re.ASCII)
_IBAN = re.compile(r'^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$', re.ASCII)
_CREDITOR_ID = re.compile(r'^DE\d{2}[A-Z0-9]{3}0\d{10}$', re.ASCII)
WITH_MALO = ('electricity', 'gas')  # the commodities of the energy market, whose supply points have a MaLo-ID


def for_commodity(key: str, commodity: str) -> str:
    """A text key in its water variant where water has its own words (the Mengenpreis: water is not energy)."""
    return f'{key}_water' if commodity == 'water' else key


def working_price_name(commodity: str) -> str:
    """The price per unit in German: water is not energy, its price per m³ is the Mengenpreis."""
    return 'Mengenpreis' if commodity == 'water' else 'Arbeitspreis'


# The countries of the SEPA schemes (EPC register of participants, 2025) and their IBANs' lengths: a mandate or a
# transfer needs one of them (an IBAN of another country, or one a character short whose mod 97 happens to fit, was
# taken where only nine countries' lengths were known)
IBAN_LENGTHS = {
    'AD': 24, 'AL': 28, 'AT': 20, 'BE': 16, 'BG': 22, 'CH': 21, 'CY': 28, 'CZ': 24, 'DE': 22, 'DK': 18, 'EE': 20,
    'ES': 24, 'FI': 18, 'FR': 27, 'GB': 22, 'GI': 23, 'GR': 27, 'HR': 21, 'HU': 28, 'IE': 22, 'IS': 26, 'IT': 27,
    'LI': 21, 'LT': 20, 'LU': 20, 'LV': 21, 'MC': 27, 'MD': 24, 'ME': 22, 'MK': 19, 'MT': 31, 'NL': 18, 'NO': 15,
    'PL': 28, 'PT': 25, 'RO': 24, 'RS': 22, 'SE': 24, 'SI': 19, 'SK': 24, 'SM': 27, 'VA': 22,
}  # fmt: skip


def printable(raw: str, limit: int = 10_000) -> str:
    """Input as text a database takes: no NUL or other control characters (line breaks stay), capped."""
    capped = (raw or '')[:limit]
    if capped.isprintable():  # the usual case, without looking at each character in Python
        return capped
    return ''.join(ch for ch in capped if ch.isprintable() or ch in '\n\t')


def normalise(raw: str) -> str:
    """Strip spaces, dots, dashes and slashes and upper-case letters: ' 1 ebz-01 ' → '1EBZ01'."""
    if (
        raw and len(raw) <= 200 and raw.isascii() and raw.isalnum()
    ):  # nothing to strip (most values; an import has millions)
        return raw.upper()
    return _SEPARATORS.sub('', printable(raw, 200)).upper()


def is_digits(text: str) -> bool:
    """ASCII digits only, at least one: `str.isdigit` also takes '²' and '٣', which `int` refuses or reads as 3."""
    return text.isascii() and text.isdigit()


def normalise_email(raw: str) -> str:
    """Trimmed, lower case and in Unicode NFC (RFC 6532): 'ü' typed precomposed or as 'u' + U+0308 is one address."""
    return unicodedata.normalize('NFC', printable(raw, 300)).strip().lower()


def is_email(raw: str) -> bool:
    """An address a mail relay takes (what the portal's forms accept)."""
    return len(raw) <= 254 and _EMAIL.match(raw) is not None


_ADDRESS_SHAPE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$')


def looks_like_email(raw: str) -> bool:
    """The import's check of the billing system's address: its shape only. A stray ';' in one customer's address
    must not stop the whole file (an import is whole or nothing); a mail to it is given up at the relay's refusal
    and staff see that on the customer's card, and the customer's own form takes only what `is_email` takes."""
    return len(raw) <= 254 and _ADDRESS_SHAPE.match(raw) is not None


def is_malo_id(raw: str) -> bool:
    """Marktlokations-ID: 11 digits, the last a check digit over the first ten (not Luhn)."""
    value = normalise(raw)
    if not _MALO.match(value):
        return False
    return malo_check_digit(value[:10]) == int(value[10])


def malo_check_digit(first_ten: str) -> int:
    """(10 − s mod 10) mod 10 with s = odd positions + 2 × even positions of the first ten digits."""
    digits = [int(c) for c in first_ten]
    return (10 - (sum(digits[0::2]) + 2 * sum(digits[1::2])) % 10) % 10


def is_melo_id(raw: str) -> bool:
    """Messlokation/Zählpunkt: DE + 11 digits + 20 letters or digits (no check digit)."""
    return _MELO.match(normalise(raw)) is not None


def is_iban(raw: str) -> bool:
    """A SEPA country's IBAN: its length, its country's layout (a German one is digits only) and mod 97 (no
    bank-registry lookup: it would reject valid IBANs of new banks)."""
    value = normalise(raw)
    if not _IBAN.match(value) or len(value) != IBAN_LENGTHS.get(value[:2]):
        return False
    if _mod97(value[4:] + value[:4]) != 1:
        return False
    try:
        IBAN(value)  # the country's BBAN layout (schwifty's table; structure and check digits only, no registry)
    except SchwiftyException:
        return False
    return True


def is_iban_outside_sepa(raw: str) -> bool:
    """A correct IBAN (its country's length and layout, mod 97) of a country outside SEPA (Turkey, Brazil): no SEPA
    debit or transfer reaches it, which the customer is told instead of a typing error that is not there."""
    value = normalise(raw)
    if not _IBAN.match(value) or value[:2] in IBAN_LENGTHS or _mod97(value[4:] + value[:4]) != 1:
        return False
    try:
        IBAN(value)
    except SchwiftyException:
        return False
    return True


def is_creditor_id(raw: str) -> bool:
    """SEPA creditor identifier (Gläubiger-ID) DEppZZZ0nnnnnnnnnn; the business code ZZZ is not checked."""
    value = normalise(raw)
    if not _CREDITOR_ID.match(value):
        return False
    return _mod97(value[7:] + value[:4]) == 1


_LEITWEG_ID = re.compile(r'\d{2,12}(-[A-Z0-9]{1,30})?-\d{2}')
_VAT_ID = re.compile(r'[A-Z]{2}[A-Z0-9]{2,12}')


def is_leitweg_id(raw: str) -> bool:
    """A public body's Leitweg-ID (KoSIT 2.0.2): coarse address, optional fine address, two check digits (mod 97-10
    over the whole, letters as numbers), e.g. 04011000-1234512345-06."""
    value = raw.strip().upper()
    return _LEITWEG_ID.fullmatch(value) is not None and _mod97(value.replace('-', '')) == 1


def is_vat_id(raw: str) -> bool:
    """A VAT ID (USt-IdNr.): country code and 2-12 characters; a German one (DE + 9 digits) with its check digit
    (ISO 7064 mod 11,10)."""
    value = normalise(raw)
    if not _VAT_ID.fullmatch(value):
        return False
    if not value.startswith('DE'):
        return True
    digits = value[2:]
    if len(digits) != 9 or not is_digits(digits):
        return False
    product = 10
    for digit in digits[:8]:
        total = (int(digit) + product) % 10 or 10
        product = 2 * total % 11
    return (11 - product) % 10 == int(digits[8])


def mask_iban(raw: str) -> str:
    value = normalise(raw)
    return f'{value[:4]} •••• •••• {value[-4:]}' if len(value) > 8 else value


def _mod97(text: str) -> int:
    return int(''.join(str(int(c, 36)) for c in text)) % 97
