"""A day list exported as CSV: the encoding and delimiter as Excel and EMRs write them."""

from __future__ import annotations

import codecs
import csv
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
    return Dialect


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
            yield from rows_after_header(stream, columns, str(path))

    return columns, rows()
