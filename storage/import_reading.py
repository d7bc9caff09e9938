"""Reading an import's CSV file: its rows with their line numbers in chunks, and the operator's progress bar."""

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from storage.csv_kinds import Kind, Row
from storage.import_problems import Problem, RowProblem


@dataclass
class FileResult:
    name: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[Problem] = field(default_factory=list)  # `file:line: reason`, in English and said in others

    def describe(self) -> str:
        if self.errors:
            return f'{self.name}: NOT imported, {len(self.errors)} error(s):\n  ' + '\n  '.join(self.errors[:50])
        return (
            f'{self.name}: {self.rows} rows, {self.created} created, {self.updated} updated, {self.unchanged} unchanged'
        )


CHUNK = 5000


def count_lines(path: Path) -> int:
    """For the progress bar: the file's lines, counted as bytes rather than decoded (a twentieth of an import)."""
    newlines, returns, last = 0, 0, b'\n'
    with path.open('rb') as raw:
        for block in iter(lambda: raw.read(1 << 20), b''):
            newlines, returns, last = newlines + block.count(b'\n'), returns + block.count(b'\r'), block[-1:]
    if not newlines:  # lines ended by a carriage return alone (old Mac files), as the CSV reader takes them
        return returns + (last not in b'\r\n')
    return newlines + (last != b'\n')


def not_utf8(path: Path) -> int | None:
    """The line of the file's first byte that is not UTF-8 (a billing system's export in Windows-1252), if any."""
    decoder, lines = codecs.getincrementaldecoder('utf-8')(), 1
    with path.open('rb') as raw:
        for block in iter(lambda: raw.read(1 << 20), b''):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                return lines + block.count(b'\n', 0, error.start)
            lines += block.count(b'\n')
        try:
            decoder.decode(b'', final=True)
        except UnicodeDecodeError:
            return lines
    return None


def chunks(kind: Kind, path: Path, result: FileResult, progress: TextIO | None) -> Iterator[list[tuple[int, Row]]]:
    """The file's rows with their line numbers, `CHUNK` at a time (a wrong header or a file not in UTF-8 is the
    file's only error)."""
    bad = not_utf8(path)
    if bad is not None:
        result.errors.append(Problem(f'{kind.file}:{bad}', RowProblem('not_utf8')))
        return
    total = max(count_lines(path) - 1, 0)
    with path.open(encoding='utf-8-sig', newline='') as handle:
        reader = csv.reader(handle, delimiter=';')  # rows made into dicts below: csv.DictReader's, without its
        try:
            header = next(reader, [])  # per-row method (a twentieth of an import)
        except csv.Error:
            result.errors.append(Problem(f'{kind.file}:1', _unclosed()))
            return
        missing = [c for c in kind.columns if c not in header and c not in kind.optional]
        if missing:
            result.errors.append(Problem(f'{kind.file}:1', RowProblem('columns_missing', columns=', '.join(missing))))
            return
        bar = ProgressBar(progress, kind.file, total)
        chunk: list[tuple[int, Row]] = []
        width = len(header)
        ended = reader.line_num  # the file's line each row ends on: a quoted field may hold line breaks
        try:  # around the loop: the rows still go by `for`, with nothing added per row
            for fields in reader:
                number, ended = ended + 1, reader.line_num  # the line the row starts on, as an editor counts
                if not (fields and fields[0].strip()) and not any(field.strip() for field in fields):
                    continue  # blank lines skipped, as DictReader does, and a spreadsheet's rows of `;` only
                result.rows += 1
                if len(fields) < width:  # a short row's last columns are empty, as with DictReader
                    fields += [''] * (width - len(fields))
                elif len(fields) > width and any(field.strip() for field in fields[width:]):
                    # a value beyond the header's columns (an unquoted `;` in a text): not cut off without a word
                    given = max(at for at, field in enumerate(fields, 1) if field.strip())
                    result.errors.append(
                        Problem(f'{kind.file}:{number}', RowProblem('extra', fields=given, width=width))
                    )
                    continue
                chunk.append((number, dict(zip(header, fields, strict=False))))
                if len(chunk) == CHUNK:
                    bar.step(len(chunk))
                    yield chunk
                    chunk = []
        except csv.Error:  # e.g. a quote never closed: the rest of the file became one huge field
            result.errors.append(Problem(f'{kind.file}:{ended + 1}', _unclosed()))
        if chunk:
            bar.step(len(chunk))
            yield chunk
        bar.done()


def _unclosed() -> RowProblem:
    """The CSV reader's only complaint (it is not strict): a field past its limit, as a quote never closed makes one
    of the rest of the file; its own text is English, the catalogue's says it in the staff member's language."""
    return RowProblem('unclosed', limit=csv.field_size_limit())


class ProgressBar:
    """A text progress bar on the operator's terminal for files of a thousand rows or more."""

    def __init__(self, stream: TextIO | None, label: str, total: int) -> None:
        self.stream = stream if total >= 1000 else None
        self.label, self.total, self.count, self.shown = label, total, 0, -1

    def step(self, rows: int = 1) -> None:
        self.count += rows
        percent = self.count * 100 // max(self.total, 1)
        if self.stream is not None and percent != self.shown:
            self.shown = percent
            filled = percent // 5
            print(
                f'\r{self.label:<18} [{"#" * filled}{"." * (20 - filled)}] {percent:3d}% {self.count:,}/{self.total:,}',
                end='',
                file=self.stream,
                flush=True,
            )

    def done(self) -> None:
        if self.stream is not None:
            print(file=self.stream, flush=True)
