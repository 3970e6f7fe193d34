"""A day list exported as CSV: the encoding, delimiter and quoting as Excel and EMRs write them.

- Excel and its re-saves: UTF-8 (with or without a BOM), UTF-16, or Windows-1252 with CRLF;
  `,`, `;` (French-Canadian Excel), tab or `|`; a quote inside a field doubled (RFC 4180).
- OSCAR's Report by Template: a quote inside a field written `\\"` and a backslash `\\\\`.
- OpenEMR's appointments report: an empty cell is left out, so the cells after it shift left
  and the row ends with an extra empty cell; the row is put back, with a note.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ketaprep.errors import UsageError
from ketaprep.lists.columns import Columns, find_header, rows_after_header
from ketaprep.lists.row import MAX_CELL, Field, ListRow
from ketaprep.lists.status import looks_like_a_status
from ketaprep.lists.values import DateProblem, cell_date, cell_duration, cell_time


def csv_encoding(path: Path) -> str:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, else Windows-1252 as Excel writes it."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        utf8 = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 16):
                utf8.decode(chunk)
            utf8.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        handle.seek(0)
        cp1252 = codecs.getincrementaldecoder("cp1252")()
        try:
            while chunk := handle.read(1 << 16):
                cp1252.decode(chunk)
        except UnicodeDecodeError:
            raise UsageError(
                f"{path}: the text is neither UTF-8 nor Windows-1252; save the list as \"CSV UTF-8\""
            ) from None
        return "cp1252"


def _dialect(sample: str) -> type[csv.Dialect]:
    """The delimiter is sniffed (comma, semicolon, tab or bar); the quoting is always Excel's.

    Only `"` quotes a cell, as Excel and EMR exports write it: a sniffed `'` would join rows
    wherever a name has an apostrophe (O'Brien), and patients would silently go missing.
    """
    cut = sample.rfind("\n")
    sample = sample[: cut + 1] if cut > 0 else sample
    lines = [line for line in sample.splitlines() if line.strip()][:20]
    delimiter: str | None = None
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        pass
    if delimiter is None or not any(len(next(csv.reader([line], delimiter=delimiter))) > 1 for line in lines):
        # a title line above the header can mislead the sniffer: the delimiter used most wins
        counts = {d: sum(line.count(d) for line in lines) for d in (",", ";", "\t", "|")}
        best = max(counts, key=lambda d: counts[d])
        delimiter = best if counts[best] else ","

    class Dialect(csv.excel):
        skipinitialspace = True  # `9:00, "Doe, Jane"`: the quoted cell after ", " stays one cell

    Dialect.delimiter = delimiter
    if backslash_escaped(sample, delimiter):
        Dialect.doublequote = False
        Dialect.escapechar = "\\"
    return Dialect


def backslash_escaped(sample: str, delimiter: str) -> bool:
    """Does the file escape a quote as `\\"` (OSCAR) rather than doubling it (RFC 4180)?

    Only a `\\"` that cannot end a field (it is followed by more text, not by the delimiter
    or the end of the line), or an escaped backslash `\\\\`, says so: a field that merely ends
    with a backslash (`"C:\\"`) is read as RFC 4180 writes it."""
    ends = re.escape(delimiter) + "\r\n"
    return bool(re.search(r'\\"(?=[^' + ends + r"])", sample)) or "\\\\" in sample


def read_csv(path: Path, mapping: dict[Field, str | None]) -> tuple[Columns, Iterator[ListRow]]:
    encoding = csv_encoding(path)
    handle: IO[str] = path.open(encoding=encoding, newline="")
    try:
        dialect = _dialect(handle.read(1 << 16))
        handle.seek(0)
        csv.field_size_limit(MAX_CELL * 10)
        reader = csv.reader(handle, dialect)

        def records() -> Iterator[tuple[int, list[Any]]]:
            try:
                yield from enumerate(reader, start=1)
            except csv.Error as exc:
                raise UsageError(f"{path}: line {reader.line_num}: not readable as CSV ({exc})") from None

        stream = records()
        columns = find_header(stream, mapping, str(path))
    except BaseException:
        handle.close()
        raise

    def rows() -> Iterator[ListRow]:
        with handle:
            yield from rows_after_header(stream, columns, str(path), repair=put_back_a_left_out_cell)

    return columns, rows()


# --- OpenEMR's left-out empty cell ---------------------------------------------------------------

LEFT_OUT = "a cell was left out (as OpenEMR writes an empty one); the cells after it were read one column to the right"


def put_back_a_left_out_cell(cells: list[Any], columns: Columns) -> tuple[list[Any], str | None]:
    """A row that ends with an empty cell may be one whose empty cell was left out, the cells
    after it shifted left. Each place the empty cell could have been is tried; the row is put
    back only when a place makes the cells fit their columns strictly better (a date where the
    date goes, a time in the start column, a status in the status column), never on a tie."""
    width = columns.width
    if width < 2:
        return cells, None
    while len(cells) > width and _empty(cells[-1]):
        cells.pop()
    if len(cells) != width or not _empty(cells[-1]):
        return cells, None
    best, found = _fit(cells, columns), None
    for place in range(width - 1):
        candidate = cells[:place] + [""] + cells[place:-1]
        score = _fit(candidate, columns)
        if score > best:
            best, found = score, candidate
    return (found, LEFT_OUT) if found is not None else (cells, None)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fit(cells: list[Any], columns: Columns) -> int:
    """How well the cells fit their columns: +1 for each read cell of the right kind, -1 for a wrong one."""
    score = 0
    for name, i in columns.index.items():
        value = cells[i] if i < len(cells) else None
        if _empty(value):
            continue
        text = str(value)
        is_time = cell_time(value)[0] is not None
        try:
            is_date = cell_date(value, None) is not None
        except DateProblem:
            is_date = True
        if name == "date":
            score += 1 if is_date else -1
        elif name == "start":
            score += 1 if is_time else -1
        elif name == "duration":
            score += 1 if cell_duration(value) is not None else -1
        elif name == "status":
            score += 1 if looks_like_a_status(value) else 0
        elif name in ("patient", "first", "set", "lang"):
            wrong = is_time or is_date or looks_like_a_status(value) or not any(c.isalpha() for c in text)
            score += -1 if wrong else 1
    return score
