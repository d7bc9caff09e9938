"""Bills in a real Chromium: a paperless customer gets the mail, finds the bill in the inbox and downloads it."""

import subprocess

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from domain.model import Bill
from storage.bill_run import RunConfig, run
from storage.settings import Settings
from tests import clock
from tests.browser.test_self_service_journeys import log_in
from tests.factories import add_readings, add_tariff, annual_bill_date, last_year, make_customer, make_login, year_end

# The storage paths run on both databases in tests/storage; the journeys run once, on PostgreSQL, to keep the
# suite under ten minutes.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize('database_url', ['postgresql'], indirect=True)]


def test_a_paperless_customer_downloads_the_new_bill(engine, database_url, start_portal, mail, browser: Page, tmp_path):
    customer = make_customer(engine, last_name='Online', paperless=True)
    add_readings(engine, customer['meter_number'], (year_end(2), 10000), (year_end(), 13200))
    add_tariff(engine, customer['id'], amount='92')
    make_login(engine, [customer['id']], email='online@example.org')
    config = RunConfig(
        database_url,
        Settings(profile='stadtwerke-a', demo=True).load_profile(),
        'secret',
        'http://portal.test',
        tmp_path / 'data' / 'documents',
        last_year(),
        annual_bill_date(),
        clock.now(),
    )
    assert run(config, workers=1, progress=None).bills == 1
    with Session(engine) as session:
        bill = session.exec(select(Bill).where(col(Bill.details) != '')).one()
    base, page = start_portal('stadtwerke-a'), browser
    notice = mail.wait_for('online@example.org', bill.bill_number)  # queued by the run, sent by the portal
    assert '/rechnungen' in notice and 'Anhang' not in notice
    log_in(page, base, 'online@example.org')
    page.get_by_role('link', name='Posteingang').first.click()
    expect(page.get_by_text(bill.bill_number).first).to_be_visible()
    page.get_by_role('link', name='Rechnungen').first.click()
    expect(page.get_by_text(f'Rechnungsnummer {bill.bill_number}')).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role('button', name='PDF herunterladen').first.click()
    assert download.value.suggested_filename == f'Rechnung-{bill.bill_number}.pdf'
    path = tmp_path / 'downloaded.pdf'
    download.value.save_as(path)
    text = subprocess.run(['pdftotext', '-layout', str(path), '-'], capture_output=True, text=True, check=True).stdout
    assert bill.bill_number in text and 'Jahresverbrauchsabrechnung Strom' in text
    assert page.url.endswith('/rechnungen')  # a download, no pop-up and no navigation away
