from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.i18n import catalogue, day, moment, money
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
