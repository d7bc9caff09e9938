"""CSV cells are made safe for spreadsheets (OWASP CSV injection): formulas become text, numbers stay numbers."""

import pytest

from domain.spreadsheet import csv_text, safe_cell


@pytest.mark.parametrize('cell', ['=1+1', '+49 170 1234567', '-foo', '@SUM(A1:A9)', '\t=1', '=HYPERLINK("x")'])
def test_a_cell_that_starts_like_a_formula_gets_an_apostrophe(cell):
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize('cell', ['-12.50', '-5', '12', 'Hauptstraße 1', '', None, 'a=b'])
def test_numbers_and_ordinary_text_stay_as_they_are(cell):
    assert safe_cell(cell) == ('' if cell is None else cell)


def test_the_csv_is_semicolon_separated_with_safe_cells():
    assert csv_text(('a', 'b'), [('=x', '-1'), ('y;z', 2)]) == 'a;b\n\'=x;-1\n"y;z";2\n'


def test_a_carriage_return_neither_starts_a_formula_nor_ends_the_row():
    assert safe_cell('\r=1') == "'\n=1"
    assert csv_text(('a', 'b'), [('x\ry', 'z')]) == 'a;b\n"x\ny";z\n'
