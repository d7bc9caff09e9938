"""The utility's name in a sentence (`name_cases`): each of the four cases must be the name with its article, word for
word, and the four articles of one gender or of the plural, so that mandate, mails and pages decline it right."""

from domain.errors import InvalidSetting
from domain.profile import UtilityProfile
from domain.settings_fields import said


def names_agree(profile: UtilityProfile) -> None:
    """A new name without its declined forms would leave the old name in the mandate, the mails' footer and the
    accessibility statement: each form must be the name with its article, word for word, each word declined or not
    („den Stadtwerken Aue“, „des Wasserverbands Charlottental“). Checking only the last word let „Wasserwerke Aue“
    keep „die Stadtwerke Aue“, and a form with words more („die Stadt- und Wasserwerke Aue“) or a longer place name
    („Aue-Bad Schlema“) passed too."""
    for case in _CASES:
        if not _names(profile.name, getattr(profile.name_cases, case)):
            raise InvalidSetting(
                f'name_cases.{case}',
                reason=said(
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
                reason=said(
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
