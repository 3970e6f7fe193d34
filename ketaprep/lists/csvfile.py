"""A day list exported as CSV: the encoding and delimiter as Excel and EMRs write them."""

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
            yield from rows_after_header(stream, columns, str(path))

    return columns, rows()
