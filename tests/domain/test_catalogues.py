"""The English catalogue is complete: every German key, with the same {placeholders}."""

import string

from domain import i18n


def placeholders(text: str) -> set[str]:
    """The placeholders; the utility's name counts as one, whether declined (German) or not (English)."""
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return {'utility' if name.startswith('utility_') else name for name in names}


def test_english_has_every_key_of_german_with_the_same_placeholders():
    german, english = i18n.catalogue('de'), i18n.catalogue('en')
    assert sorted(set(german) - set(english)) == [] and sorted(set(english) - set(german)) == []
    assert [key for key in german if placeholders(german[key]) != placeholders(english[key])] == []


def test_texts_follow_the_language_chosen_for_the_current_work():
    assert i18n.t('nav.bills') == 'Rechnungen'
    with i18n.using('en'):
        assert i18n.t('nav.bills') == 'Bills' and i18n.t('nav.bills', 'de') == 'Rechnungen'
    with i18n.using('xx'):  # unknown: German
        assert i18n.t('nav.bills') == 'Rechnungen'
