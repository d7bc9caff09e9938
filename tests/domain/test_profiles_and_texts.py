import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.i18n import catalogue, day, moment, money, t, using
from storage.settings import PROFILES, Settings


@pytest.mark.parametrize(
    ('key', 'number', 'ok'),
    [
        ('stadtwerke-a', '41234567', True),
        ('stadtwerke-a', '51234567', False),
        ('stadtwerke-a', '4123456', False),
        ('stadtwerke-b', 'IR12345678', True),
        ('stadtwerke-b', '12345678', False),
        ('wasserverband-c', '7000123', True),
        ('wasserverband-c', 'AB123', False),
    ],
)
def test_each_profile_knows_its_customer_number_format(key, number, ok):
    profile = Settings(profile=key).load_profile()
    assert profile.account_id.matches(number) is ok


def test_the_three_profiles_reproduce_the_three_faq_seeds():
    a, b, c = (Settings(profile=key).load_profile() for key in ('stadtwerke-a', 'stadtwerke-b', 'wasserverband-c'))
    assert (a.registration.confirmation, a.reset.method, a.profile_deletion.self_service) == ('link', 'link', False)
    assert (b.registration.confirmation, b.reset.method) == ('link', 'temporary_password')
    assert c.registration.confirmation == 'pin' and c.registration.confirmation_valid_for == timedelta(minutes=15)
    assert c.registration.pin_resend_after_minutes == 5 and c.registration.requires_annual_bill
    assert c.password.require_classes and c.profile_deletion.self_service and c.accepts_bill_number
    assert a.bills.online_from_year == 2014
    assert {a.session.idle_minutes, b.session.idle_minutes, c.session.idle_minutes} == {15}


def test_every_profile_file_is_valid():
    assert {p.stem for p in PROFILES.glob('*.toml')} >= {'stadtwerke-a', 'stadtwerke-b', 'wasserverband-c'}
    for path in PROFILES.glob('*.toml'):
        assert Settings(profile=path.stem).load_profile().key == path.stem


def test_a_utility_may_keep_its_own_profile_file_anywhere(tmp_path):
    own = tmp_path / 'stadtwerke-eigen.toml'
    own.write_text((PROFILES / 'stadtwerke-a.toml').read_text().replace('Stadtwerke Aue', 'Stadtwerke Eigen'))
    with pytest.raises(ValueError, match=r'logo .* is not a PNG or JPEG file'):  # said at start, not at billing
        Settings(profile=str(own)).load_profile()
    (tmp_path / 'stadtwerke-a-logo.png').write_bytes((PROFILES / 'stadtwerke-a-logo.png').read_bytes())
    profile = Settings(profile=str(own)).load_profile()
    assert profile.name == 'Stadtwerke Eigen' and profile.bill.logo == str(tmp_path / 'stadtwerke-a-logo.png')


@pytest.mark.parametrize(
    ('section', 'setting'),
    [
        ('[session]', 'idle_minutes = 1'),  # the idle warning would open at once
        ('[session]', 'idle_minutes = 600'),
        ('[readings]', 'plausible_low = "-1"'),
        ('[readings]', 'plausible_high = "0.9"'),
        ('[readings]', 'period_start = "13-45"\nperiod_end = "01-26"'),
        ('[readings]', 'period_start = "12-02"'),  # no end
        ('[installment]', 'lower_percent = 150'),
        ('[installment]', 'notice_days = -3'),
        ('[password]', 'min_length = 4'),
        ('[reset]', 'link_valid_days = 0'),
        ('[registration]', 'pin_valid_minutes = 0'),
        ('[bill.fuel_mix]', '"Kohle" = 120'),
    ],
)
def test_a_profile_file_with_a_setting_out_of_range_is_refused_at_start(tmp_path, section, setting):
    text = (PROFILES / 'stadtwerke-b.toml').read_text()
    for name in ('session', 'readings', 'installment', 'password', 'reset', 'registration', 'bill.fuel_mix'):
        text = _without_section(text, name)
    own = tmp_path / 'stadtwerke-eigen.toml'
    own.write_text(f'{text}\n{section}\n{setting}\n')
    with pytest.raises(ValueError, match=setting.split()[0].strip('"[')):
        Settings(profile=str(own)).load_profile()
    own.write_text(text)  # the same file without the setting is fine
    assert Settings(profile=str(own)).load_profile().key == 'stadtwerke-b'


def _without_section(text: str, name: str) -> str:
    """The profile file's text less the TOML table `[name]` (so that a test may write it anew)."""
    lines, out, skipping = text.splitlines(), [], False
    for line in lines:
        if line.startswith('['):
            skipping = line.strip() == f'[{name}]'
        if not skipping:
            out.append(line)
    return '\n'.join(out)


def test_an_unknown_profile_names_the_known_ones():
    with pytest.raises(ValueError, match='stadtwerke-a'):
        Settings(profile='nirgendwo').load_profile()


def test_the_default_secret_is_refused_outside_demo_mode():
    with pytest.raises(ValueError, match='STORAGE_SECRET'):
        Settings(demo=False, storage_secret='change-me')
    assert Settings(demo=True, storage_secret='change-me').demo


def test_amounts_and_dates_are_shown_in_german_format():
    assert money(Decimal('1234.56')) == '1.234,56\xa0€'
    assert day(date(2026, 11, 22)) == '22.11.2026'
    assert moment(datetime(2026, 11, 22, 13, 5, tzinfo=ZoneInfo('UTC'))) == '22.11.2026, 14:05 Uhr'
    assert moment(datetime(2026, 11, 22, 13, 5, tzinfo=ZoneInfo('UTC')), 'en') == '22.11.2026, 14:05'


def test_the_catalogue_uses_the_accessible_names_of_the_ui_contract():
    texts = catalogue('de')
    for key, name in {
        'field.email': 'E-Mail-Adresse',
        'field.password': 'Passwort',
        'login.submit': 'Anmelden',
        'login.forgot': 'Passwort vergessen?',
        'login.register': 'Jetzt registrieren',
        'nav.logout': 'Abmelden',
        'pin.submit': 'Bestätigen',
        'pin.new': 'Neue PIN anfordern',
        'forgot.submit': 'Link anfordern',
        'reset.submit': 'Passwort speichern',
        'switcher.add': 'Kundennummer hinzufügen',
        'settings.delete_button': 'Entfernen',
        'obis.field.1.8.0': 'Zählerstand',
        'obis.field.1.8.1': 'Zählerstand HT',
        'obis.field.1.8.2': 'Zählerstand NT',
        'reading.field_date': 'Ablesedatum',
        'reading.submit': 'Zählerstand übermitteln',
        'reading.confirm': 'Wert ist korrekt',
        'reading.reason': 'Begründung',
    }.items():
        assert texts[key] == name


NOW_UTC = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo('UTC'))
NAME_PLACEHOLDER = re.compile(r'\{(utility|utility_\w+|name|creditor)\}')
ARTICLE_BEFORE_NAME = re.compile(
    r'\b(der|die|das|dem|den|des|vom|zum|zur|beim|am|im)\s+\{(utility|name|creditor)\}', re.IGNORECASE
)


@pytest.mark.parametrize('language', ['de', 'en'])
def test_no_text_puts_an_article_of_its_own_before_the_utilitys_name(language):
    """ "Ich ermächtige die Wasserverband …", "von der Stadtwerke Aue": the article comes with the declined name
    (`utility_acc`, `utility_dat`, …) from the profile, never from the text."""
    wrong = {key: text for key, text in catalogue(language).items() if ARTICLE_BEFORE_NAME.search(text)}
    assert wrong == {}


class _Anything(dict):
    def __missing__(self, key: str) -> str:
        return f'<{key}>'


@pytest.mark.parametrize('key', ['stadtwerke-a', 'stadtwerke-b', 'wasserverband-c'])
def test_every_text_renders_for_every_profile_with_its_name_declined(key):
    profile = Settings(profile=key).load_profile()
    cases = profile.name_cases
    for language in ('de', 'en'):
        for text_key, text in catalogue(language).items():
            rendered = text.format_map(_Anything(profile.names))
            assert '{' not in rendered, text_key
    german = ' '.join(catalogue('de')[k].format_map(_Anything(profile.names)) for k in catalogue('de'))
    assert f'Ich ermächtige {cases.accusative},' in german and f'die von {cases.dative} auf mein' in german
    assert f'Ihr Kundenservice {cases.genitive}' in german and f'im Kundenportal {cases.genitive}' in german


def test_the_names_decline_as_german_does():
    water = Settings(profile='wasserverband-c').load_profile().name_cases
    works = Settings(profile='stadtwerke-a').load_profile().name_cases
    assert (water.genitive, water.dative, water.accusative) == (
        'des Wasserverbands Charlottental',
        'dem Wasserverband Charlottental',
        'den Wasserverband Charlottental',
    )
    assert (works.genitive, works.dative) == ('der Stadtwerke Aue', 'den Stadtwerken Aue')


def test_after_guten_tag_a_mail_goes_on_in_lower_case_unless_it_addresses_the_reader():
    polite = ('Sie ', 'Ihr')
    wrong = [
        key
        for key, text in catalogue('de').items()
        if key.startswith('mail.') and key.endswith('.body') and text[0].isupper() and not text.startswith(polite)
    ]
    assert wrong == []


def test_only_mails_about_a_change_ask_to_call_if_it_was_not_the_reader():
    from domain.mails import compose
    from domain.ports import Context
    from tests.factories import CHEAP_HASHER

    ctx = Context(Settings(profile='stadtwerke-a').load_profile(), 's', 'http://portal.test', CHEAP_HASHER, NOW_UTC)
    bank = {'customer_number': '4', 'holder': 'E', 'iban': 'DE89', 'reference': 'R', 'creditor_id': 'C'}
    changed = compose(ctx, 'a@example.org', 'bank_changed', **bank)
    reset = compose(ctx, 'a@example.org', 'reset', link='http://portal.test/passwort-neu/x', days=7)
    assert 'nicht veranlasst' in changed.text and '04221 555-0' in changed.text
    assert 'nicht veranlasst' not in reset.text


def test_one_and_many_unread_messages():
    from domain.i18n import t

    assert t('dashboard.task_inbox', 'de', count=1) == '1 ungelesene Nachricht im Posteingang'
    assert t('dashboard.task_inbox', 'de', count=2) == '2 ungelesene Nachrichten im Posteingang'
    assert t('error.throttled', 'de', minutes=1).endswith(
        'für 1 Minute gesperrt. Bitte versuchen Sie es danach erneut.'
    )


def test_the_last_pin_attempt_is_named_in_the_singular():
    from domain.errors import PinWrong

    one, two = PinWrong(count=1), PinWrong(count=2)
    assert t(one.key, 'de', **one.params) == 'Die PIN ist nicht richtig. Sie haben noch 1 Versuch.'
    assert t(one.key, 'en', **one.params) == 'The PIN is not correct. You have 1 attempt left.'
    assert t(two.key, 'de', **two.params) == 'Die PIN ist nicht richtig. Sie haben noch 2 Versuche.'


def test_a_common_password_is_not_reported_as_something_missing():
    """ "Passwort123!" has every class of character but is common: 'Es fehlt: kein häufig verwendetes Passwort.'."""
    from domain.errors import PasswordTooWeak
    from domain.passwords import check_password

    rule = Settings(profile='wasserverband-c').load_profile().password
    with using('de'), pytest.raises(PasswordTooWeak) as raised:
        check_password(rule, 'Passwort123!', 'Passwort123!')
    text = t(raised.value.key, 'de', **raised.value.params)
    assert text == 'Das Passwort erfüllt diese Anforderungen nicht: kein häufig verwendetes Passwort.'


def test_an_english_mail_declares_english_in_its_html_part():
    """Screen readers choose their voice by `lang`, as they do on the pages."""
    from datetime import UTC, datetime

    from domain.mails import compose
    from domain.ports import Context
    from tests.factories import CHEAP_HASHER

    ctx = Context(
        Settings(profile='stadtwerke-a').load_profile(),
        's',
        'http://portal.test',
        CHEAP_HASHER,
        datetime(2026, 12, 2, tzinfo=UTC),
    )
    with using('en'):
        english = compose(ctx, 'a@example.org', 'password_changed')
    german = compose(ctx, 'a@example.org', 'password_changed')
    assert '<html lang="en">' in english.html and '<html lang="de">' in german.html


def test_the_customers_consumption_csv_reads_as_numbers_and_days_in_a_german_spreadsheet():
    from domain.contracts import MeterHistory, Period, consumption_csv

    year = Period('2026', date(2026, 1, 1), date(2026, 12, 31), Decimal('3200.5'))
    history = MeterHistory('1EBZ01', 'electricity', 'kWh', False, (year,), ())
    assert consumption_csv([history]).splitlines() == [
        'Zählernummer;Zeitraum;Beginn;Ende;Verbrauch;Einheit',
        '1EBZ01;2026;01.01.2026;31.12.2026;3200,5;kWh',
    ]
    with using('en'):
        assert consumption_csv([history]).startswith('Meter number;Period;Start;End;Consumption;Unit\n')


@pytest.mark.parametrize('key', ['login.idle_logout', 'staff.idle_logout'])
def test_the_idle_logout_names_the_profile_s_minutes(key):
    """It said „nach 15 Minuten“ whatever the utility set (`session.idle_minutes`)."""
    assert 'nach 20 Minuten' in t(key, 'de', minutes=20) and 'after 20 minutes' in t(key, 'en', minutes=20)
    assert 'nach einer Minute' in t(key, 'de', minutes=1) and 'after one minute' in t(key, 'en', minutes=1)


def test_every_text_that_counts_has_its_singular():
    """A count or a number of minutes of 1 takes the `_one` text ("1 Minute", "1 result"): the customer card said
    "noch 1 Minuten gesperrt", the staff search "1 results". Left out: a PIN's minutes (5 to 60, the profile's), the
    menu's "(1 ungelesen)", the same in the singular, and a back-office list's "more than it shows" (500 or more)."""
    from domain.i18n import COUNTS

    never_one = {'pin.intro', 'mail.pin.body', 'nav.inbox_unread', 'staff.list_more'}
    for language in ('de', 'en'):
        texts = catalogue(language)
        counting = [k for k, v in texts.items() if not k.endswith('_one') and any(f'{{{n}}}' in v for n in COUNTS)]
        assert [k for k in counting if f'{k}_one' not in texts and k not in never_one] == [], language
    assert 'noch 1 Minute gesperrt' in t('staff.registration_held', 'de', minutes=1)
    assert t('staff.hits', 'en', count=1) == '1 result'


def test_a_validity_or_notice_of_one_is_named_in_the_singular():
    """A profile may make its links valid for one hour or one day (`link_valid_hours`, `link_valid_days` ≥ 1) and the
    import takes a notice of one week: the mails and pages said „gültig 1 Stunden“, „gültig 1 Tage“, „1 Wochen“."""
    from domain.mails import compose
    from domain.ports import Context
    from tests.factories import CHEAP_HASHER

    ctx = Context(Settings(profile='stadtwerke-a').load_profile(), 's', 'http://portal.test', CHEAP_HASHER, NOW_UTC)
    activation = compose(ctx, 'a@example.org', 'activation', link='http://portal.test/aktivieren/x', hours=1)
    reset = compose(ctx, 'a@example.org', 'reset', link='http://portal.test/passwort-neu/x', days=1)
    assert '(gültig 1 Stunde):' in activation.text and '(gültig 1 Tag, nur einmal verwendbar)' in reset.text
    assert '(gültig 1 Tag, einmal verwendbar)' in t('forgot.intro', 'de', days=1)
    assert t('contracts.notice_weeks', 'de', weeks=1) == '1 Woche'
    assert t('contracts.notice_weeks', 'en', weeks=1) == '1 week'
    assert '(valid for 1 hour)' in t('mail.activation.body', 'en', utility='U', link='L', hours=1)
    assert '(valid for 1 day, usable once)' in t('mail.reset.body', 'en', link='L', days=1)
    assert '(gültig 48 Stunden)' in t('mail.activation.body', 'de', utility_gen='G', link='L', hours=48)


def test_a_link_in_brackets_or_before_a_full_stop_is_linked_without_the_punctuation():
    """The temporary password's mail (profile stadtwerke-b) says „Bitte melden Sie sich damit an ({link}); …“: the
    HTML part linked „https://portal.test/);“, a page that does not exist, while the plain text named the right one."""
    from domain.mails import compose
    from domain.ports import Context
    from tests.factories import CHEAP_HASHER

    ctx = Context(Settings(profile='stadtwerke-b').load_profile(), 's', 'https://portal.test', CHEAP_HASHER, NOW_UTC)
    for language in ('de', 'en'):
        with using(language):
            mail = compose(
                ctx, 'a@example.org', 'temporary_password', password='Kx7-pQ2-aZ9', link='https://portal.test/'
            )
        assert '(https://portal.test/);' in mail.text
        assert re.findall(r'href="([^"]*)"', mail.html) == ['https://portal.test/', 'https://portal.test']
    answered = compose(
        ctx,
        'a@example.org',
        'contract_request_answered',
        title='Kündigung',
        reference='K-1',
        verdict='Wir haben sie bestätigt',
        received='02.12.2026',
        message='Unsere Bedingungen („https://stadtwerke.example/agb“) finden Sie unter https://stadtwerke.example/agb.',
    )
    links = re.findall(r'href="([^"]*)"', answered.html)
    assert [link for link in links if 'agb' in link] == ['https://stadtwerke.example/agb'] * 2
