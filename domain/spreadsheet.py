"""CSV cells that a spreadsheet opens as text, never as a formula (OWASP "CSV injection").

Staff open the portal's exports in a spreadsheet; a customer's free text such as a reading's reason
`=HYPERLINK("http://…")` would otherwise become a live formula there. Every cell that begins with `=`, `+`, `-`,
`@`, a tab or a carriage return gets a leading apostrophe, unless it is a plain number (`-12.50` stays a number:
a number is never a formula, and the billing system reads amounts as numbers)."""

import csv
import io
import re
from collections.abc import Iterable
from typing import TextIO

FORMULA_START = ('=', '+', '-', '@', '\t', '\r')
PLAIN_NUMBER = re.compile(r'-?\d+(\.\d+)?')


def safe_cell(value: object) -> str:
    text = '' if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        text = "'" + text
    # A bare carriage return is no line break to the csv module (it quotes only what the line terminator holds),
    # but ends the row in a spreadsheet: written as a newline, the cell is quoted and stays one cell.
    return text.replace('\r\n', '\n').replace('\r', '\n')


def csv_text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """`;`-separated UTF-8 CSV (docs/domain.md §7) with every cell made safe."""
    out = io.StringIO()
    write_csv(out, header, rows)
    return out.getvalue()


def write_csv(out: TextIO, header: Iterable[str], rows: Iterable[Iterable[object]]) -> int:
    """Write header and rows to a text stream; returns the number of rows."""
    writer = csv.writer(out, delimiter=';', lineterminator='\n')
    writer.writerow([safe_cell(name) for name in header])
    count = 0
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        count += 1
    return count
