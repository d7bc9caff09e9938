import pytest

from domain.errors import PasswordsDiffer, PasswordTooWeak
from domain.passwords import check_password, describe_policy, password_problems
from domain.profile import PasswordRule

SIMPLE = PasswordRule(min_length=8, require_classes=False)
STRICT = PasswordRule(min_length=8, require_classes=True)


def test_eight_characters_suffice_where_the_utility_asks_no_more():
    assert password_problems(SIMPLE, 'grünerapfel') == []


def test_a_short_password_is_refused_with_the_reason():
    with pytest.raises(PasswordTooWeak) as caught:
        check_password(SIMPLE, 'kurz', 'kurz')
    assert 'mindestens 8 Zeichen' in caught.value.params['problems']


def test_the_strict_policy_names_every_missing_class():
    problems = password_problems(STRICT, 'abcdefgh')
    assert problems == ['ein Großbuchstabe', 'eine Ziffer', 'ein Sonderzeichen']


def test_the_strict_policy_accepts_all_four_classes():
    assert password_problems(STRICT, 'Wasser-Uhr7') == []


@pytest.mark.parametrize('common', ['passwort1', 'Passwort1!', '12345678'])
def test_common_passwords_are_refused(common):
    assert 'kein häufig verwendetes Passwort' in password_problems(STRICT if common[0].isupper() else SIMPLE, common)


def test_the_repetition_must_match():
    with pytest.raises(PasswordsDiffer):
        check_password(SIMPLE, 'grünerapfel', 'grünerapfeL')


def test_the_policy_is_described_in_german():
    assert describe_policy(STRICT) == 'Mindestens 8 Zeichen, mit Groß- und Kleinbuchstaben, Ziffer und Sonderzeichen.'


@pytest.mark.parametrize('variant', ['passwort1!', 'PASSWORT1!', 'kundenportal1!', 'STADTWERKE1!'])
def test_common_passwords_are_refused_in_any_case(variant):
    """The list is compared in lower case too ('PASSWORT1' is refused as 'passwort1'), but its entries with capitals
    ('Passwort1!', 'Kundenportal1!') were never lowered: 'passwort1!' passed where the utility asks for 8 characters."""
    assert 'kein häufig verwendetes Passwort' in password_problems(SIMPLE, variant)


@pytest.mark.parametrize(
    'password',
    ['Erika.Muster2026', 'erika.muster@example.org', '1000123!Sommer', 'Mein-ERIKA.MUSTER-Zugang'],
)
def test_a_password_holding_the_login_s_address_or_customer_number_is_refused(password):
    """What others know first of a login (NIST SP 800-63B 5.1.1.2: context-specific words): its address, the part
    before the @, the customer number printed on every letter. A short part ('anna') may be in a name by chance."""
    known = ('erika.muster@example.org', '1000123')
    with pytest.raises(PasswordTooWeak) as caught:
        check_password(SIMPLE, password, password, known=known)
    assert caught.value.params['problems'] == 'ohne Ihre E-Mail-Adresse und Ihre Kundennummer'
    assert password_problems(SIMPLE, 'Johanna-Apfel-2026', ('anna@example.org',)) == []
    staff = ('ada.admin@stadtwerke.example',)  # staff have no customer number: not told of one
    assert password_problems(SIMPLE, 'Ada.Admin-2026', staff) == ['ohne Ihre E-Mail-Adresse']
