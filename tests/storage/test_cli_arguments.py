"""`kundenportal`'s numbers and dates from the command line have a range: a typing error is a usage message, not a
traceback, and nothing is changed; an option that does not apply is one too."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from domain.model import ReadingCode
from service.cli import main
from tests import clock
from tests.factories import make_customer


@pytest.mark.parametrize(
    'argv',
    [
        ['export', 'changes', '--since', '0001-01-01'],  # overflowed the query (OverflowError)
        ['export', 'readings', '--since', '2026-13-01'],
        ['export', 'reading-codes', '--valid-until', '9999-12-31'],
        ['bill', '--period', '10000'],  # ValueError: year 10000 is out of range
        ['bill', '--period', '-5'],
        ['bill', '--period', '2026', '--workers', '-1'],
        ['bill', '--period', '2026', '--bill-date', '0001-01-01'],
        ['demo', '--customers', '-3'],  # was taken as none
    ],
)
def test_a_number_or_date_out_of_range_is_a_usage_error(argv, capsys, monkeypatch, database_url):
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    with pytest.raises(SystemExit) as ended:
        main(argv, clock)
    assert ended.value.code == 2 and 'usage: kundenportal' in capsys.readouterr().err


@pytest.mark.parametrize(
    'argv',
    [
        ['export', 'reading-codes', '--since', '2026-11-01'],
        ['export', 'readings', '--since', '2026-11-01', '--valid-until', '2027-01-31'],
    ],
)
def test_an_export_option_that_does_not_apply_is_a_usage_error(argv, capsys, monkeypatch, database_url):
    """It was ignored: the export ran without the filter or the end the operator asked for."""
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    with pytest.raises(SystemExit) as ended:
        main(argv, clock)
    assert ended.value.code == 2 and 'takes no --' in capsys.readouterr().err


def test_reading_codes_valid_until_a_past_day_end_no_printed_code(engine, capsys, monkeypatch, database_url):
    """Typed in December for the coming January with last year's number (2026-01-26 for 2027-01-26): every code
    already printed in the letters was ended, and the new ones had expired before they were issued."""
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    make_customer(engine)
    assert main(['export', 'reading-codes'], clock) == 0
    capsys.readouterr()
    with Session(engine) as session:
        printed = {(code.id, code.expires_at) for code in session.exec(select(ReadingCode))}
    past = date(clock.today().year, 1, 26) if clock.today() > date(clock.today().year, 1, 26) else clock.today()
    for day in (past - timedelta(days=1), clock.today() + timedelta(days=367)):
        assert main(['export', 'reading-codes', '--valid-until', day.isoformat()], clock) == 1
        assert 'keine Codes ausgegeben' in capsys.readouterr().err
    with Session(engine) as session:
        assert {(code.id, code.expires_at) for code in session.exec(select(ReadingCode))} == printed
