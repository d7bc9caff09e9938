"""Password policy per utility, plus the common-password check BSI ORP.4 asks for."""

import string

from domain.errors import PasswordsDiffer, PasswordTooWeak
from domain.i18n import t
from domain.profile import PasswordRule

COMMON_PASSWORDS = frozenset(
    {
        '12345678',
        '123456789',
        '1234567890',
        'password',
        'passwort',
        'passwort1',
        'password1',
        'qwertz123',
        'qwertzuiop',
        'qwerty123',
        'hallo123',
        'hallo1234',
        'abc12345',
        'iloveyou',
        'sommer2026',
        'winter2026',
        'schalke04',
        'fussball',
        'dortmund09',
        'Passwort1!',
        'Passwort123!',
        'Password1!',
        '11111111',
        '00000000',
        'asdfghjk',
        'Stadtwerke1!',
        'stadtwerke',
        'kundenportal',
        'Kundenportal1!',
        'Sommer2026!',
        'Winter2026!',
    }
)
_COMMON_LOWER = frozenset(p.lower() for p in COMMON_PASSWORDS)  # compared in any case
SPECIALS = set(string.punctuation + ' §€°´äöüÄÖÜß')


def check_password(
    rule: PasswordRule, password: str, repeat: str, *, field: str = 'password', known: tuple[str, ...] = ()
) -> None:
    """Raise `PasswordTooWeak` or `PasswordsDiffer`; return quietly when the password may be used. `known`: what
    others know of the login (its email address, the customer numbers on its letters), which it must not hold."""
    problems = password_problems(rule, password, known)
    if problems:
        raise PasswordTooWeak(field=field, problems=', '.join(problems))
    if password != repeat:
        raise PasswordsDiffer()


def password_problems(rule: PasswordRule, password: str, known: tuple[str, ...] = ()) -> list[str]:
    """What is missing, in words a customer understands (empty when the password is fine)."""
    problems = []
    if len(password) < rule.min_length:
        problems.append(t('password.min_length', n=rule.min_length))
    if len(password) > 256:
        problems.append(t('password.max_length'))
    if rule.require_classes:
        checks = {'upper': str.isupper, 'lower': str.islower, 'digit': str.isdigit, 'special': SPECIALS.__contains__}
        problems += [t(f'password.{name}') for name, test in checks.items() if not any(test(c) for c in password)]
    if password.lower() in _COMMON_LOWER:
        problems.append(t('password.common'))
    if any(word in password.casefold() for word in _words(known)):  # NIST SP 800-63B 5.1.1.2: context-specific
        numbered = any('@' not in value for value in known)  # staff have no customer number to be told of
        problems.append(t('password.personal' if numbered else 'password.personal_email'))
    return problems


def _words(known: tuple[str, ...]) -> set[str]:
    """The email address, its part before the @ and each customer number, of five characters or more: a password
    „erika.muster2026“ for erika.muster@example.org, or the customer number printed on every bill, is guessed first."""
    words = set()
    for value in known:
        value = value.strip().casefold()
        words |= {value, value.split('@', 1)[0]} if '@' in value else {value}
    return {word for word in words if len(word) >= 5}  # "anna" is in "Johanna-2026!" by chance


def describe_policy(rule: PasswordRule, language: str | None = None) -> str:
    """The rule in words, in `language` (a page's: the visitor's) or else the use case's."""
    return t('password.policy_classes' if rule.require_classes else 'password.policy', language, n=rule.min_length)
