"""What the billing system's files are checked for beyond each value: the lines errors name (blank lines and quoted
line breaks counted), dates in order, readings only on the meter's registers."""

from sqlalchemy import create_engine
from sqlmodel import Session, select

from domain.clock import SystemClock
from domain.model import Contract, Customer, MeterReading
from storage.importer import import_folder
from tests.storage.test_import_export import FILES, write


def test_error_line_numbers_count_blank_lines(engine, tmp_path):
    """A blank line in the file: the report must still name the file's real line (docs: `file:line: reason`)."""
    lines = [
        FILES['customers.csv'][0],
        FILES['customers.csv'][1],
        '',  # line 3: blank
        '41234569;Frau;X;Y;;Weg;1;27749;Aue;kein-at-zeichen;;1',  # line 4: bad email
    ]
    folder = write(tmp_path / 'in', {'customers.csv': lines})
    result = import_folder(engine, folder, tmp_path / 'documents', SystemClock())
    errors = result.files[0].errors
    assert errors and errors[0].startswith('customers.csv:4:'), errors


def test_error_line_numbers_count_quoted_line_breaks(engine, tmp_path):
    lines = [
        FILES['customers.csv'][0],
        '41234567;Frau;Erika;Müller;"Firma\nZweite Zeile";Hauptstraße;3;27749;Aue;;;1',  # lines 2-3
        '41234569;Frau;X;Y;;Weg;1;27749;Aue;kein-at-zeichen;;1',  # line 4: bad email
    ]
    folder = write(tmp_path / 'in', {'customers.csv': lines})
    result = import_folder(engine, folder, tmp_path / 'documents', SystemClock())
    errors = [e for e in result.files[0].errors if 'email' in e]
    assert errors and errors[0].startswith('customers.csv:4:'), errors


def test_a_contract_ending_before_it_starts_is_refused(engine, tmp_path):
    files = {k: v for k, v in FILES.items() if k in ('customers.csv', 'contracts.csv')}
    files['contracts.csv'] = [
        FILES['contracts.csv'][0],
        '41234567;V1;electricity;STROM-BASIS;2026-01-01;2025-01-01;41373559241;4;12',
    ]
    result = import_folder(engine, write(tmp_path / 'in', files), tmp_path / 'documents', SystemClock())
    contracts = next(f for f in result.files if f.name == 'contracts.csv')
    assert contracts.errors, 'end_date before start_date was imported'


def test_a_meter_removed_before_it_was_installed_is_refused(engine, tmp_path):
    files = {k: v for k, v in FILES.items() if k in ('customers.csv', 'contracts.csv', 'meters.csv')}
    files['meters.csv'] = [FILES['meters.csv'][0], '7ELS0100000001;V2;radio;1.8.0;5;2020-01-01;2019-01-01;;']
    result = import_folder(engine, write(tmp_path / 'in', files), tmp_path / 'documents', SystemClock())
    meters = next(f for f in result.files if f.name == 'meters.csv')
    assert meters.errors, 'removed_on before installed_on was imported'


def test_a_two_rate_meter_s_reading_without_register_is_refused_but_a_named_one_taken(engine, tmp_path):
    """Meter 1EBZ0100000619 has 1.8.1,1.8.2 (HT/NT): a row without register was stored silently as 1.8.0, on no
    register the meter has. A row naming 1.8.0 is history (the meter before it counted two rates) and is taken."""
    files = {k: v for k, v in FILES.items() if k in ('customers.csv', 'contracts.csv', 'meters.csv')}
    header = 'meter_number;register;reading_date;value;source'
    files['readings.csv'] = [header, '1EBZ0100000619;;2025-12-31;45210;utility']
    result = import_folder(engine, write(tmp_path / 'a', files), tmp_path / 'documents', SystemClock())
    readings = next(f for f in result.files if f.name == 'readings.csv')
    assert readings.errors and 'name the register' in readings.errors[0]
    files['readings.csv'] = [header, '1EBZ0100000619;1.8.0;2019-12-31;30000;utility']
    assert import_folder(engine, write(tmp_path / 'b', files), tmp_path / 'documents', SystemClock()).ok
    with Session(engine) as session:
        assert [(r.obis, r.value) for r in session.exec(select(MeterReading))] == [('1.8.0', 30000)]


def test_a_contract_s_supply_address_is_imported_where_the_file_has_it(engine, tmp_path):
    files = {k: v for k, v in FILES.items() if k in ('customers.csv', 'contracts.csv')}
    row = '41234567;V1;electricity;STROM-BASIS;2020-01-01;;41373559241;4;12'
    files['contracts.csv'] = [FILES['contracts.csv'][0] + ';supply_address', row + ';Alte Gasse 5']
    assert import_folder(engine, write(tmp_path / 'a', files), tmp_path / 'documents', SystemClock()).ok
    with Session(engine) as session:
        assert session.exec(select(Contract.supply_address)).one() == 'Alte Gasse 5'
    files['contracts.csv'] = [
        FILES['contracts.csv'][0],
        '41234567;V1;electricity;STROM-BASIS;2020-01-01;;41373559241;4;12',
    ]
    assert import_folder(engine, write(tmp_path / 'b', files), tmp_path / 'documents', SystemClock()).ok
    with Session(engine) as session:  # a file without the column: none (the bill names the postal address)
        assert session.exec(select(Contract.supply_address)).one() == ''


def test_a_file_not_in_utf_8_is_reported_at_its_line_not_a_traceback(tmp_path, capsys, monkeypatch, database_url):
    """A customers.csv in Windows-1252, as many billing systems write it: `kundenportal import` printed a traceback."""
    from service.cli import main
    from tests import clock

    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    lines = [FILES['customers.csv'][0], '', '40007777;Herr;Jürgen;Import;;Weg;2;27749;Aue;;;0']
    folder = write(tmp_path / 'in', {'customers.csv': lines})
    (folder / 'customers.csv').write_bytes((folder / 'customers.csv').read_text(encoding='utf-8-sig').encode('cp1252'))
    assert main(['import', str(folder)], clock) == 1
    assert 'customers.csv:3: not UTF-8' in capsys.readouterr().err


def test_a_stray_quote_that_runs_past_the_field_limit_is_reported_not_a_traceback(
    tmp_path, capsys, monkeypatch, database_url
):
    """An opening quote in one street name ("Am Markt) makes the rest of a large file one field: the CSV reader's
    field limit (128 KiB) ended `kundenportal import` with a traceback, and the files after it were not imported."""
    from domain.model import Price
    from service.cli import main
    from tests import clock

    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    rows = [f'4100{n:04d};Frau;Erika;Muster;;Hauptstraße;3;27749;Aue;;;0' for n in range(4000)]
    broken = '40007777;Herr;Max;Muster;;"Am Markt;2;27749;Aue;;;0'
    files = {'customers.csv': [FILES['customers.csv'][0], broken, *rows], 'prices.csv': FILES['prices.csv']}
    folder = write(tmp_path / 'in', files)
    assert main(['import', str(folder)], clock) == 1
    err = capsys.readouterr().err
    assert 'customers.csv:2:' in err and 'NOT imported' in err and 'Traceback' not in err
    with Session(create_engine(database_url)) as session:
        assert len(session.exec(select(Price)).all()) == 2  # the other files are still imported


def test_a_row_with_more_fields_than_the_header_is_refused_not_cut_off(engine, tmp_path):
    """A supply address with an unquoted semicolon (`Alte Gasse 5; 27749 Aue`) is one field more than the header
    names: the extra field was dropped without a word, and every bill named the Lieferstelle `Alte Gasse 5`."""
    files = {k: v for k, v in FILES.items() if k in ('customers.csv', 'contracts.csv')}
    row = '41234567;V1;electricity;STROM-BASIS;2020-01-01;;41373559241;4;12'
    files['contracts.csv'] = [FILES['contracts.csv'][0] + ';supply_address', row + ';Alte Gasse 5; 27749 Aue']
    result = import_folder(engine, write(tmp_path / 'in', files), tmp_path / 'documents', SystemClock())
    contracts = next(f for f in result.files if f.name == 'contracts.csv')
    assert [e.said('de') for e in contracts.errors] == [
        'contracts.csv:2: die Zeile hat 11 Felder, die Kopfzeile nur 10 (ein Semikolon in einem Wert ohne '
        'Anführungszeichen?)'
    ]
    with Session(engine) as session:
        assert session.exec(select(Contract)).all() == []


def test_rows_of_empty_fields_only_are_skipped_as_blank_lines(engine, tmp_path):
    """A file saved by a spreadsheet ends with rows of separators only (`;;;;`): they were taken for rows, and the
    whole file was refused for `customer_number ist leer`. An empty field after a row's last column is no field more."""
    lines = [FILES['customers.csv'][0], FILES['customers.csv'][1] + ';', ';;;;;;;;;;;', ';;;;;;;;;;;;']
    result = import_folder(engine, write(tmp_path / 'in', {'customers.csv': lines}), tmp_path / 'docs', SystemClock())
    customers = next(f for f in result.files if f.name == 'customers.csv')
    assert (customers.errors, customers.rows, customers.created) == ([], 1, 1)


def test_a_non_breaking_space_in_a_text_is_taken_as_a_space(engine, tmp_path):
    """`Am Markt` with a non-breaking space (as many billing systems and spreadsheets write it) was refused for
    `street enthält Steuerzeichen`, though staff could see none, and with it the whole file."""
    lines = [FILES['customers.csv'][0], '41234567;Frau;Erika;Müller;;Am\xa0Markt;3;27749;Aue\u202fSüd;;;1']
    result = import_folder(engine, write(tmp_path / 'in', {'customers.csv': lines}), tmp_path / 'docs', SystemClock())
    assert result.ok, [f.errors for f in result.files]
    with Session(engine) as session:
        customer = session.exec(select(Customer)).one()
    assert (customer.street, customer.city) == ('Am Markt', 'Aue Süd')


def test_a_stray_quote_is_explained_to_german_staff_in_german(engine, tmp_path):
    """The back office showed the CSV reader's own English (`field larger than field limit (131072)`) inside the
    German line."""
    rows = [f'4100{n:04d};Frau;Erika;Muster;;Hauptstraße;3;27749;Aue;;;0' for n in range(4000)]
    lines = [FILES['customers.csv'][0], '40007777;Herr;Max;Muster;;"Am Markt;2;27749;Aue;;;0', *rows]
    result = import_folder(engine, write(tmp_path / 'in', {'customers.csv': lines}), tmp_path / 'docs', SystemClock())
    assert [e.said('de') for e in result.files[0].errors] == [
        'customers.csv:2: ein Feld ist länger als 131072 Zeichen (ein Anführungszeichen ohne schließendes?)'
    ]
