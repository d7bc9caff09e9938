"""CSV exchange with the billing system: idempotent import, all-or-nothing files, file:line errors, export."""

import csv
import gc
import io
import os
import re
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlmodel import Session, col, select

from domain.clock import SystemClock
from domain.model import AuditEntry, Bill, Contract, Customer, Meter, MeterReading, Price
from domain.stored import IMPORT_FOLDER_PREFIX
from storage import import_reading
from storage.documents import remove_stale_import_folders
from storage.exporter import export
from storage.import_reading import count_lines
from storage.importer import import_folder

FILES = {
    'customers.csv': [
        'customer_number;salutation;first_name;last_name;company;street;house_number;postal_code;city;'
        'email;phone;paperless',
        '41234567;Frau;Erika;Müller;;Hauptstraße;3;27749;Aue-Süd;erika@example.org;04221 1;1',
        '41234568;Herr;Ömer;Şahin;;Gartenweg;1a;27749;Aue-Süd;;;0',
    ],
    # columns in another order than the documentation: allowed
    'contracts.csv': [
        'customer_number;contract_number;commodity;tariff_code;start_date;end_date;malo_id;'
        'notice_period_weeks;billing_month',
        '41234567;V1;electricity;STROM-BASIS;2020-01-01;;41373559241;4;12',
        '41234568;V2;gas;GAS-KOMFORT;2021-05-01;;;6;12',
    ],
    'meters.csv': [
        'meter_number;contract_number;kind;registers;pre_decimal_digits;installed_on;removed_on;'
        'z_number;calorific_value',
        '1 EBZ 01 0000 0619;V1;manual;1.8.1,1.8.2;6;2018-01-01;;;',
        '7ELS0100000001;V2;radio;1.8.0;5;2018-01-01;;0.9640;11.250',
    ],
    'readings.csv': [
        'meter_number;register;reading_date;value;source',
        '1EBZ0100000619;1.8.1;2025-12-31;45210;customer',
        '1EBZ0100000619;1.8.2;2025-12-31;12000.5;utility',
    ],
    'prices.csv': [
        'tariff_code;valid_from;unit;working_price_net;base_price_net_per_year;vat_rate',
        'STROM-BASIS;2026-01-01;kWh;0.2500;120.00;0.19',
        'STROM-BASIS;2026-07-01;kWh;0.2650;120.00;0.19',
    ],
    'installments.csv': ['contract_number;valid_from;amount;due_day;per_year', 'V1;2026-01-01;92.00;15;12'],
    'payments.csv': ['contract_number;paid_on;amount', 'V1;2026-01-15;92.00', 'V1;2026-02-15;92.00'],
    'bills.csv': [
        'bill_number;contract_number;bill_date;period_start;period_end;kind;amount_gross;pdf_file',
        'RE-2025-0001;V1;2026-01-20;2025-01-01;2025-12-31;annual;1123.60;RE-2025-0001.pdf',
    ],
}


def write(folder, files=FILES, **replace):
    folder.mkdir(exist_ok=True)
    for name, lines in {**files, **replace}.items():
        (folder / name).write_text('\ufeff' + '\n'.join(lines) + '\n', encoding='utf-8')
    (folder / 'RE-2025-0001.pdf').write_bytes(b'%PDF-1.4 test')
    return folder


def count(engine, table) -> int:
    with Session(engine) as session:
        return len(session.exec(select(table)).all())


def test_a_full_import_creates_every_record_with_normalised_numbers(engine, tmp_path):
    result = import_folder(engine, write(tmp_path / 'in'), tmp_path / 'documents', SystemClock())
    assert result.ok, [f.errors for f in result.files]
    assert [(f.name, f.created) for f in result.files][:3] == [
        ('customers.csv', 2),
        ('contracts.csv', 2),
        ('meters.csv', 2),
    ]
    with Session(engine) as session:
        meter = session.exec(select(Meter).where(Meter.meter_number == '1EBZ0100000619')).one()
        assert meter.registers == '1.8.1,1.8.2'
        assert session.exec(select(Customer).where(Customer.customer_number == '41234567')).one().paperless
        assert session.exec(select(MeterReading).where(MeterReading.obis == '1.8.2')).one().value == Decimal(
            '12000.500'
        )
        assert session.exec(
            select(Price).where(Price.valid_from == date(2026, 7, 1))
        ).one().working_price_net == Decimal('0.265')
        bill = session.exec(select(Bill)).one()
    assert (tmp_path / 'documents' / bill.pdf_path).read_bytes() == b'%PDF-1.4 test'


def test_importing_the_same_files_again_changes_nothing(engine, tmp_path):
    folder = write(tmp_path / 'in')
    import_folder(engine, folder, tmp_path / 'documents', SystemClock())
    again = import_folder(engine, folder, tmp_path / 'documents', SystemClock())
    assert again.ok
    assert all((f.created, f.updated) == (0, 0) for f in again.files), [f.describe() for f in again.files]
    assert count(engine, Customer) == 2 and count(engine, MeterReading) == 2


def test_a_changed_row_updates_its_record_instead_of_duplicating_it(engine, tmp_path):
    import_folder(engine, write(tmp_path / 'in'), tmp_path / 'documents', SystemClock())
    changed = FILES['customers.csv'][:2] + ['41234568;Herr;Ömer;Şahin;;Lindenallee;7;27749;Aue-Süd;;;1']
    result = import_folder(
        engine, write(tmp_path / 'in2', {'customers.csv': changed}), tmp_path / 'documents', SystemClock()
    )
    assert (result.files[0].created, result.files[0].updated, result.files[0].unchanged) == (0, 1, 1)
    with Session(engine) as session:
        customer = session.exec(select(Customer).where(Customer.customer_number == '41234568')).one()
    assert (customer.street, customer.paperless) == ('Lindenallee', True)


def test_a_file_with_errors_is_left_out_whole_and_each_error_names_file_and_line(engine, tmp_path):
    bad = FILES['contracts.csv'][:2] + [
        '49999999;V3;electricity;X;2020-01-01;;;4;12',
        '41234568;V4;strom;X;2020-01-01;;;4;12',
        '41234568;V5;gas;X;2020-01-01;;41373559242;4;12',
        '41234568;V6;gas;X;2020-13-01;;;4;12',
    ]
    result = import_folder(
        engine, write(tmp_path / 'in', **{'contracts.csv': bad}), tmp_path / 'documents', SystemClock()
    )
    contracts = next(f for f in result.files if f.name == 'contracts.csv')
    assert not result.ok
    assert contracts.errors == [
        "contracts.csv:3: customer_number '49999999' is unknown (import its file first)",
        "contracts.csv:4: commodity 'strom' is not one of electricity, gas, water, heat",
        "contracts.csv:5: malo_id '41373559242' fails the MaLo-ID check digit",
        "contracts.csv:6: start_date '2020-13-01' is not an ISO date like 2026-11-22",
    ]
    assert count(engine, Contract) == 0  # not even the good line 2
    assert count(engine, Customer) == 2  # other files are imported


def test_a_missing_column_and_a_comma_decimal_are_explained(engine, tmp_path):
    folder = write(
        tmp_path / 'in',
        **{
            'customers.csv': ['customer_number;first_name', '41234567;Erika'],
            'prices.csv': FILES['prices.csv'][:1] + ['STROM-BASIS;2026-01-01;kWh;0,25;120.00;0.19'],
        },
    )
    result = import_folder(engine, folder, tmp_path / 'documents', SystemClock())
    errors = [e for f in result.files for e in f.errors]
    assert errors[0].startswith('customers.csv:1: missing column(s) salutation, last_name')
    assert "prices.csv:2: working_price_net '0,25': use a decimal point, not a comma" in errors


def test_a_duplicate_key_within_a_file_is_an_error(engine, tmp_path):
    lines = FILES['customers.csv'] + [FILES['customers.csv'][1]]
    result = import_folder(
        engine, write(tmp_path / 'in', **{'customers.csv': lines}), tmp_path / 'documents', SystemClock()
    )
    assert 'customers.csv:4: same key as line 2' in result.files[0].errors


def test_a_file_is_streamed_in_chunks_and_still_imports_whole_or_not_at_all(engine, tmp_path, monkeypatch):
    """Rows are written a chunk at a time (memory stays flat for a 150,000-customer file, bench/import_run.py);
    a key repeated in a later chunk, or a wrong line in the last one, still leaves the whole file out."""
    monkeypatch.setattr(import_reading, 'CHUNK', 2)
    customers = [f'4{n:07d};Frau;A;B;;S;1;27749;Aue;;;0' for n in range(7)]
    header = FILES['customers.csv'][:1]
    repeated = header + customers + [customers[0]]  # line 9 repeats line 2, three chunks later
    result = import_folder(engine, write(tmp_path / 'a', {'customers.csv': repeated}), tmp_path / 'd', SystemClock())
    assert result.files[0].errors == ['customers.csv:9: same key as line 2']
    wrong_at_the_end = header + customers + ['49999999;Frau;A;B;;S;1;27749;Aue;kein-at;;0']
    result = import_folder(
        engine, write(tmp_path / 'b', {'customers.csv': wrong_at_the_end}), tmp_path / 'd', SystemClock()
    )
    assert result.files[0].errors == ["customers.csv:9: email 'kein-at' is not an email address"]
    assert count(engine, Customer) == 0  # the first three chunks were rolled back with the file
    result = import_folder(
        engine, write(tmp_path / 'c', {'customers.csv': header + customers}), tmp_path / 'd', SystemClock()
    )
    assert result.ok and (result.files[0].rows, result.files[0].created) == (7, 7)
    assert count(engine, Customer) == 7


def test_every_wrong_line_is_reported_also_a_key_repeated_after_the_first_wrong_line(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(import_reading, 'CHUNK', 2)
    header, good = FILES['customers.csv'][:1], FILES['customers.csv'][1]
    lines = header + [good, '41234569;Frau;A;B;;S;1;27749;Aue;;;ja', good]  # line 4 repeats line 2
    result = import_folder(engine, write(tmp_path / 'in', {'customers.csv': lines}), tmp_path / 'd', SystemClock())
    assert result.files[0].errors == [
        "customers.csv:3: paperless 'ja' is not one of 0, 1",
        'customers.csv:4: same key as line 2',
    ]
    assert count(engine, Customer) == 0


def test_a_short_row_leaves_the_parents_of_the_other_rows_of_its_chunk_found(engine, tmp_path):
    contracts = [
        'contract_number;commodity;tariff_code;start_date;end_date;malo_id;notice_period_weeks;billing_month;'
        'customer_number',
        'V1;electricity;STROM-BASIS;2020-01-01;;;4;12',  # the last column, the customer, missing
        'V2;gas;GAS-KOMFORT;2021-05-01;;;6;12;41234568',
    ]
    folder = write(tmp_path / 'in', {'customers.csv': FILES['customers.csv'], 'contracts.csv': contracts})
    result = import_folder(engine, folder, tmp_path / 'd', SystemClock())
    assert result.files[1].errors == ["contracts.csv:2: customer_number '' is unknown (import its file first)"]


def test_a_preview_does_not_let_later_files_find_the_records_of_a_file_with_a_wrong_line(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(import_reading, 'CHUNK', 1)
    customers = FILES['customers.csv'] + ['41234569;Frau;A;B;;S;1;27749;Aue;;;ja']  # line 4 wrong
    folder = write(tmp_path / 'in', {'customers.csv': customers, 'contracts.csv': FILES['contracts.csv']})
    result = import_folder(engine, folder, tmp_path / 'd', SystemClock(), check_only=True)
    assert result.files[0].errors == ["customers.csv:4: paperless 'ja' is not one of 0, 1"]
    assert "contracts.csv:2: customer_number '41234567' is unknown (import its file first)" in result.files[1].errors
    real = import_folder(engine, folder, tmp_path / 'd', SystemClock())
    assert [f.errors for f in real.files] == [f.errors for f in result.files]  # the preview says what will happen


def test_a_preview_of_new_customers_and_their_contracts_writes_nothing(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(import_reading, 'CHUNK', 1)
    result = import_folder(engine, write(tmp_path / 'in'), tmp_path / 'documents', SystemClock(), check_only=True)
    assert result.ok, [f.errors for f in result.files]
    assert [(f.name, f.created) for f in result.files][:4] == [
        ('customers.csv', 2),
        ('contracts.csv', 2),  # naming customers that only the preview's customers.csv brings
        ('meters.csv', 2),
        ('readings.csv', 2),
    ]
    assert count(engine, Customer) == count(engine, Contract) == count(engine, AuditEntry) == 0


def test_large_files_show_a_progress_bar(engine, tmp_path):
    lines = FILES['customers.csv'][:1] + [f'4{n:07d};Frau;A;B;;S;1;27749;Aue;;;0' for n in range(1200)]
    progress = io.StringIO()
    result = import_folder(
        engine, write(tmp_path / 'in', {'customers.csv': lines}), tmp_path / 'd', SystemClock(), progress
    )
    assert result.ok and result.files[0].created == 1200
    assert '100% 1,200/1,200' in progress.getvalue() and '[####################]' in progress.getvalue()


@pytest.mark.parametrize('newline', [b'\n', b'\r\n', b'\r'])
@pytest.mark.parametrize('last', [True, False])
def test_the_progress_bar_counts_every_line_with_or_without_a_last_line_break(tmp_path, newline, last):
    path = tmp_path / 'customers.csv'
    path.write_bytes(newline.join([b'customer_number', b'1', b'2', b'3']) + (newline if last else b''))
    assert count_lines(path) == 4
    path.write_bytes(b'')
    assert count_lines(path) == 0


def test_each_imported_file_leaves_an_audit_entry(engine, tmp_path):
    import_folder(engine, write(tmp_path / 'in'), tmp_path / 'documents', SystemClock())
    with Session(engine) as session:
        actions = [a.action for a in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert actions[:3] == ['import_customers', 'import_contracts', 'import_meters']


def test_the_readings_export_lists_what_customers_submitted_since_a_date(engine, tmp_path):
    import_folder(engine, write(tmp_path / 'in'), tmp_path / 'documents', SystemClock())
    with Session(engine) as session:
        meter = session.exec(select(Meter).where(Meter.meter_number == '1EBZ0100000619')).one()
        session.add(
            MeterReading(
                meter_id=meter.id,
                obis='1.8.1',
                reading_date=date(2026, 11, 20),
                value=Decimal('48410'),
                source='customer',
                plausibility='plausible',
                submitted_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
            )
        )
        session.commit()
    out = io.StringIO()
    assert export(engine, 'readings', date(2026, 11, 1), out) == 1
    assert out.getvalue().splitlines() == [
        'meter_number;malo_id;register;reading_date;value;unit;source;plausibility;reason;submitted_at',
        '1EBZ0100000619;41373559241;1.8.1;2026-11-20;48410.000;kWh;customer;plausible;;2026-11-20T09:30:00+00:00',
    ]


def test_free_text_that_a_spreadsheet_would_run_as_a_formula_is_exported_as_text(engine, tmp_path):
    import_folder(engine, write(tmp_path / 'in'), tmp_path / 'documents', SystemClock())
    reasons = ['=HYPERLINK("http://evil.example","Beleg")', '+1+2', '-2+3', '@SUM(A1)', '\tTab', '\rCR', 'normal']
    with Session(engine) as session:
        meter = session.exec(select(Meter).where(Meter.meter_number == '1EBZ0100000619')).one()
        for day, reason in enumerate(reasons, start=1):
            session.add(
                MeterReading(
                    meter_id=meter.id,
                    obis='1.8.1',
                    reading_date=date(2026, 11, day),
                    value=Decimal('-5') if day == 1 else Decimal(48410 + day),  # a plain number is no formula
                    source='customer',
                    plausibility='implausible',
                    reason=reason,
                    submitted_at=datetime(2026, 11, day, 9, 30, tzinfo=UTC),
                )
            )
        session.commit()
    out = io.StringIO()
    assert export(engine, 'readings', date(2026, 11, 1), out) == len(reasons)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline=''), delimiter=';'))[1:]
    expected = [f"'{reason}".replace('\r', '\n') for reason in reasons[:-1]] + ['normal']
    assert [row[8] for row in rows] == expected  # the carriage return kept inside its cell, as a line break
    assert rows[0][4] == '-5.000'


@pytest.mark.parametrize(
    ('line', 'message'),
    [
        ('../../x;V1;2026-01-20;2025-01-01;2025-12-31;annual;1.00;', "bill_number '../../x' may hold only"),
        ('RE-1;V1;2026-01-20;2025-01-01;2025-12-31;annual;1.00;../secret.pdf', "pdf_file '../secret.pdf' must be"),
        ('RE-1;V1;2026-01-20;2025-01-01;2025-12-31;annual;1.00;/etc/x.pdf', "pdf_file '/etc/x.pdf' must be"),
        ('RE-1;V1;2026-01-20;2025-01-01;2025-12-31;annual;NaN;', "amount_gross 'NaN' is not a number"),
    ],
)
def test_a_bill_line_that_names_a_path_or_no_number_is_refused(engine, tmp_path, line, message):
    lines = [FILES['bills.csv'][0], line]
    result = import_folder(
        engine, write(tmp_path / 'in', **{'bills.csv': lines}), tmp_path / 'documents', SystemClock()
    )
    errors = [e for f in result.files for e in f.errors]
    assert any(message in e for e in errors), errors
    assert not (tmp_path / 'documents').exists() or not list((tmp_path / 'documents').rglob('*'))


def test_a_pdf_beside_the_csv_is_kept_under_a_name_of_the_portals(engine, tmp_path):
    result = import_folder(engine, write(tmp_path / 'in'), tmp_path / 'documents', SystemClock())
    assert result.ok
    with Session(engine) as session:
        bill = session.exec(select(Bill).where(Bill.bill_number == 'RE-2025-0001')).one()
    assert re.fullmatch(r'bills/[0-9a-f]{40}\.pdf', bill.pdf_path)


def test_business_customers_bring_their_vat_id_and_leitweg_id_in_optional_columns(engine, tmp_path):
    header = FILES['customers.csv'][0] + ';vat_id;leitweg_id'
    lines = [
        header,
        '41234567;;;;Bäckerei Beispiel GmbH;Hauptstraße;3;27749;Aue-Süd;;;1;de 131 234 568;',
        '41234568;;;;Gemeinde Aue-Süd;Markt;1;27749;Aue-Süd;;;0;;04011000-1234512345-06',
    ]
    result = import_folder(engine, write(tmp_path / 'in', {'customers.csv': lines}), tmp_path / 'd', SystemClock())
    assert result.files[0].errors == []
    with Session(engine) as session:
        rows = session.exec(select(Customer).order_by(col(Customer.customer_number))).all()
        assert [(c.vat_id, c.leitweg_id) for c in rows] == [('DE131234568', ''), ('', '04011000-1234512345-06')]
    wrong = [
        header,
        '41234569;;;;Firma;Weg;1;27749;Aue-Süd;;;0;DE131234567;',  # the check digit is wrong
        '41234570;;;;Amt;Weg;2;27749;Aue-Süd;;;0;;04011000-1234512345-07',
        '41234571;Frau;Erika;Muster;;Weg;3;27749;Aue-Süd;;;0;DE131234568;',  # no company
    ]
    result = import_folder(engine, write(tmp_path / 'bad', {'customers.csv': wrong}), tmp_path / 'd', SystemClock())
    assert result.files[0].errors == [
        "customers.csv:2: vat_id 'DE131234567' is not a VAT ID (e.g. DE123456789, with its check digit)",
        "customers.csv:3: leitweg_id '04011000-1234512345-07' is not a Leitweg-ID (e.g. 04011000-1234512345-06)",
        'customers.csv:4: company is empty: a VAT ID or Leitweg-ID belongs to a business customer',
    ]
    # a file without the two columns imports as before (FILES has neither)
    assert import_folder(engine, write(tmp_path / 'old'), tmp_path / 'd', SystemClock()).files[0].errors == []


def test_a_meter_that_counts_with_twelve_digits_keeps_its_largest_readings(engine, tmp_path):
    """A meter may count with 12 digits before the point, and an import takes values up to 10^12; PostgreSQL's
    column took 11 until migration 0014 and refused such a reading."""
    meters = [FILES['meters.csv'][0], '1 EBZ 01 0000 0619;V1;manual;1.8.1,1.8.2;12;2018-01-01;;;']
    readings = [
        FILES['readings.csv'][0],
        '1EBZ0100000619;1.8.1;2025-12-31;999999999999.999;customer',
        '1EBZ0100000619;1.8.2;2025-12-31;1000000000000;utility',
    ]
    folder = write(tmp_path / 'in', **{'meters.csv': meters, 'readings.csv': readings})
    result = import_folder(engine, folder, tmp_path / 'documents', SystemClock())
    assert result.ok, [f.errors for f in result.files]
    with Session(engine) as session:
        values = sorted(reading.value for reading in session.exec(select(MeterReading)))
    assert values == [Decimal('999999999999.999'), Decimal('1000000000000.000')]
    again = import_folder(engine, folder, tmp_path / 'documents', SystemClock())
    assert [f.unchanged for f in again.files if f.name == 'readings.csv'] == [2]


def test_the_import_command_imports_a_folder_and_fails_on_a_wrong_file(database_url, engine, tmp_path, monkeypatch):
    """`kundenportal import FOLDER`, as an operator runs it (its own process: it sets its start-up aside from the
    collector first): each file's summary on the terminal, exit status 1 when a file was left out."""
    from service.cli import main

    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    monkeypatch.setenv('KUNDENPORTAL_DATA_DIR', str(tmp_path / 'data'))
    monkeypatch.setenv('KUNDENPORTAL_TUNING_SKIP', '')  # the tests' own setting leaves the collector's tuning off
    monkeypatch.setattr('sys.stderr', io.StringIO())
    gc.unfreeze()
    try:
        assert main(['import', str(write(tmp_path / 'in'))]) == 0
        assert gc.get_freeze_count() > 0  # what the command had loaded was set aside before the files
    finally:
        gc.unfreeze()
    assert 'readings.csv: 2 rows, 2 created, 0 updated, 0 unchanged' in sys.stderr.getvalue()
    assert count(engine, MeterReading) == 2
    wrong = write(tmp_path / 'wrong', **{'payments.csv': ['contract_number;paid_on;amount', 'V9;2026-01-15;92.00']})
    assert main(['import', str(wrong)]) == 1
    assert "payments.csv: NOT imported, 1 error(s):\n  payments.csv:2: contract_number 'V9' is unknown" in (
        sys.stderr.getvalue()
    )


ODD_NUMBERS = ['4123"4567', '41\\2345', '41,23', '{41234567}', 'NULL', '41 234 567 "', 'Ä\\"', '41234567\\']


@pytest.mark.parametrize('number', ODD_NUMBERS)
def test_a_parent_number_with_quotes_backslashes_or_braces_is_reported_as_unknown(engine, tmp_path, number):
    """Parents are looked up by the numbers a file names, on PostgreSQL as one array literal: whatever a line holds
    is a value in it (reported as unknown), never a part of the query's syntax."""
    contracts = [FILES['contracts.csv'][0], f'{number};V9;water;WASSER;2021-05-01;;;6;12', FILES['contracts.csv'][1]]
    files = {name: FILES[name] for name in ('customers.csv',)}
    result = import_folder(engine, write(tmp_path / 'in', files, **{'contracts.csv': contracts}), None, SystemClock())
    (contract_file,) = [f for f in result.files if f.name == 'contracts.csv']
    assert len(contract_file.errors) == 1 and contract_file.errors[0].startswith('contracts.csv:2: customer_number')
    assert 'is unknown (import its file first)' in contract_file.errors[0]


def test_upload_folders_are_removed_by_their_age_on_disk_whatever_the_portal_clock_says(tmp_path, monkeypatch):
    """An import page's folder, open right now, survives a portal whose clock stands a month ahead (a test's, a
    demo's); one left behind seven hours ago is removed."""
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))  # this test's own temporary folder, not the machine's
    fresh, old = tmp_path / f'{IMPORT_FOLDER_PREFIX}fresh', tmp_path / f'{IMPORT_FOLDER_PREFIX}old'
    fresh.mkdir()
    old.mkdir()
    left = fresh.stat().st_mtime - 7 * 3600  # the file system's own time, whatever clock this process has
    os.utime(old, (left, left))
    with time_machine.travel(datetime.now(UTC) + timedelta(days=30), tick=False):
        assert remove_stale_import_folders(timedelta(hours=6)) == 1
    assert fresh.is_dir() and not old.exists()
    assert not list(tmp_path.glob('kp-now-*'))  # the probe of the file system's time is gone
