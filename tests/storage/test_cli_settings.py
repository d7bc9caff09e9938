"""The command line works with the settings an admin saved in the back office, as the portal does (it read the
profile file alone: reading codes ended with the file's reading period, bills named the file's seller)."""

from datetime import date, timedelta

from domain import profile_admin, staff
from service.cli import main
from tests import clock
from tests.factories import make_customer
from tests.storage.conftest import run


def test_reading_codes_end_with_the_reading_period_saved_in_the_back_office(
    engine, uow, context, capsys, monkeypatch, database_url
):
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    make_customer(engine)
    run(uow, staff.create_staff, context(), 'cli', 'admin@stadtwerke.example', 'Ada Admin', 'admin')
    with uow() as u:
        admin = u.staff.by_email('admin@stadtwerke.example').id
    today = clock.today()
    start, end = today - timedelta(days=1), today + timedelta(days=10)
    base = context().profile
    period = {'readings.period_start': f'{start:%m-%d}', 'readings.period_end': f'{end:%m-%d}'}
    run(uow, profile_admin.save_profile, context(), admin, base, {**profile_admin.current_values(base), **period})
    capsys.readouterr()
    assert main(['export', 'reading-codes'], clock) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert rows and {date.fromisoformat(row.split(';')[3]) for row in rows} == {end}
