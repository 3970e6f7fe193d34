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
            handle.seek(0)
            data = handle.read()
            try:
                data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:  # the BOM says UTF-8: a bad byte is refused, never guessed at
                line = data[: exc.start].count(b"\n") + 1
                raise UsageError(f"{path}: line {line}: a byte that is not UTF-8 in a file marked as UTF-8; "
                                 "save the list again as \"CSV UTF-8\"") from None
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            handle.seek(0)
            data = handle.read()
            try:
                data.decode("utf-16")
            except UnicodeDecodeError as exc:
                line = data[: exc.start].decode("utf-16", "replace").count("\n") + 1
                raise UsageError(f"{path}: line {line}: not readable as UTF-16 text (a damaged or mixed file); "
                                 "save the list again as \"CSV UTF-8\"") from None
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
        data = handle.read()
        if _UTF8_MULTIBYTE.search(data):  # mostly UTF-8 with a bad byte: decoding as 1252 would garble every é
            bad = _first_bad_utf8(data)
            line = data[:bad].count(b"\n") + 1
            raise UsageError(
                f"{path}: line {line}: a byte that is not UTF-8 in a file that is otherwise UTF-8 (was it edited "
                "in two programs?); save the list again as \"CSV UTF-8\""
            )
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


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
"""A valid UTF-8 sequence of two bytes or more: a file holding one was written as UTF-8."""


def _first_bad_utf8(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


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


def _refuse_a_swallowing_quote(path: Path, line: int, cells: list[str], delimiter: str, widest: int) -> None:
    """A record that spans lines is fine (a note with a line break) unless the lines inside one cell
    are rows themselves: a quote that opens and is never closed swallows the appointments after it."""
    for cell in cells:
        inside = [part for part in cell.split("\n")[1:] if part.strip()]
        rows = [part for part in inside if widest > 1 and part.count(delimiter) >= widest - 1]
        if rows:
            raise UsageError(
                f"{path}: line {line}: a quote (\") opens in this row and does not close, so the "
                f"{len(inside)} line(s) after it would be read as one cell and their appointments lost; "
                "close the quote (or remove it) and run again"
            )


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
        try:
            sample = handle.read(1 << 16)
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not readable as {encoding} text; save the list again as \"CSV UTF-8\"") from None
        dialect = _dialect(sample)
        handle.seek(0)
        csv.field_size_limit(MAX_CELL * 10)
        reader = csv.reader(handle, dialect)

        def records() -> Iterator[tuple[int, list[Any]]]:
            widest = 0
            line = 0
            try:
                for number, cells in enumerate(reader, start=1):
                    if reader.line_num - line > 1:
                        _refuse_a_swallowing_quote(path, line + 1, cells, dialect.delimiter, widest)
                    line = reader.line_num
                    widest = max(widest, len(cells))
                    yield number, cells
            except csv.Error as exc:
                raise UsageError(f"{path}: line {reader.line_num}: not readable as CSV ({exc})") from None
            except UnicodeDecodeError:
                raise UsageError(f"{path}: line {reader.line_num + 1}: not readable as {encoding} text; "
                                 "save the list again as \"CSV UTF-8\"") from None

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
    best, misfits = _fit(cells, columns)
    if not misfits:  # every cell read fits its column: nothing was left out (most rows: no work)
        return cells, None
    found = None
    for place in range(width - 1):
        candidate = cells[:place] + [""] + cells[place:-1]
        score, _misfits = _fit(candidate, columns)
        if score > best:
            best, found = score, candidate
    return (found, LEFT_OUT) if found is not None else (cells, None)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fit(cells: list[Any], columns: Columns) -> tuple[int, int]:
    """How well the cells fit their columns: +1 for each read cell of the right kind, -1 for a
    wrong one; and how many are wrong."""
    score = misfits = 0
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
            fits = 1 if is_date else -1
        elif name == "start":
            fits = 1 if is_time else -1
        elif name == "duration":
            fits = 1 if cell_duration(value) is not None else -1
        elif name == "status":
            fits = 1 if looks_like_a_status(value) else 0
        elif name in ("patient", "first", "set", "lang"):
            wrong = is_time or is_date or looks_like_a_status(value) or not any(c.isalpha() for c in text)
            fits = -1 if wrong else 1
        else:
            continue
        score += fits
        misfits += fits < 0
    return score, misfits
