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


def test_a_use_case_s_error_names_its_field_in_the_visitor_s_language():
    """Labels inside errors were German on English pages: "Please check the Kundennummer: 8 Ziffern …", "Please fill
    in the field “Straße”"."""
    from domain.contract_requests import text_field
    from domain.errors import DomainError
    from domain.i18n import label_of, t, using
    from domain.identification import Identifiers, check_format
    from domain.ports import Context
    from storage.settings import Settings
    from tests import clock
    from tests.factories import CHEAP_HASHER

    ctx = Context(Settings(profile='stadtwerke-a').load_profile(), 's', 'http://x', CHEAP_HASHER, clock.now())
    for language, expected in (
        ('en', ('Please check your entry “Customer number”: 8 digits, starting with 4', '“Street”')),
        ('de', ('Bitte prüfen Sie Ihre Angabe „Kundennummer“: 8 Ziffern, beginnt mit 4', '„Straße“')),
    ):
        with using(language):
            errors: list[DomainError] = []
            for attempt in (
                lambda: check_format(ctx, Identifiers('123', '1EBZ01')),
                lambda: text_field('', 'street', label_of('street'), 200),
            ):
                try:
                    attempt()
                except DomainError as error:
                    errors.append(error)
            texts = [t(error.key, language, **error.params) for error in errors]
        assert expected[0] in texts[0] and expected[1] in texts[1], texts


def test_every_import_problem_raised_has_its_text_in_both_languages():
    """The import's reasons come from the catalogue (English for the CLI and the API, German for the back office):
    a key raised without its text would end the import in a KeyError instead of naming the wrong line."""
    import re
    from pathlib import Path

    raised = {
        key
        for path in (Path(__file__).parents[2] / 'storage').glob('*.py')
        for key in re.findall(r"RowProblem\('(\w+)'", path.read_text(encoding='utf-8'))
    }
    assert len(raised) > 20
    for language in ('de', 'en'):
        assert sorted(k for k in raised if f'import_problem.{k}' not in i18n.catalogue(language)) == [], language


def test_every_audit_action_written_has_its_name_in_both_languages():
    """The customer card names each entry of the audit log: one of no name stood there as the code's word."""
    import re
    from pathlib import Path

    from domain.change_list import CHANGE_KINDS

    root = Path(__file__).parents[2]
    written = {
        action
        for folder in ('domain', 'storage', 'service')
        for path in (root / folder).glob('*.py')
        if path.name != 'cli.py'  # argparse's action='store_true'
        for action in re.findall(
            r"(?:action=|_audit\([^)]*?|audit_change\([^)]*?|audit_entry\([^)]*?)'([a-z]+_[a-z_]*[a-z])'",
            path.read_text(encoding='utf-8'),
        )
    }
    assert len(written) > 40
    for language in ('de', 'en'):
        names = i18n.catalogue(language)
        unnamed = [a for a in written if a not in CHANGE_KINDS and f'audit_action.{a}' not in names]
        assert sorted(unnamed) == [], language
