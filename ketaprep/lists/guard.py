"""Checks on a day list before any reader parses it, whatever reader that is.

The file: a regular file within `MAX_LIST_BYTES`, checked on the open file (a FIFO or a
device never hangs). A workbook (.xlsx, .ods): a zip that is not encrypted, uses stored or
deflated members only, unpacks to at most `MAX_UNCOMPRESSED_BYTES`, has a sheet, and whose
XML has no DOCTYPE or entity (no entity bomb, no external file), is well formed, and
declares no row, column or cell count beyond the limits. JSON: nesting depth and number size.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from ketaprep.errors import UsageError
from ketaprep.limits import (
    MAX_JSON_DEPTH,
    MAX_LIST_BYTES,
    MAX_NUMBER_DIGITS,
    MAX_SHEET_CELLS,
    MAX_SHEET_COLUMNS,
    MAX_SHEET_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    open_bounded,
)

MAX_MEMBERS = 10_000
_REF = re.compile(r"^\$?([A-Za-z]{1,16})\$?(\d{1,20})$")


def check_list_file(path: Path) -> None:
    """A regular file of at most MAX_LIST_BYTES (checked on the open file), else a message naming it."""
    os.close(open_bounded(path, MAX_LIST_BYTES, "list", UsageError, too_large="split it by day"))


def is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


# --- workbooks --------------------------------------------------------------------------------


def check_workbook(path: Path, kind: str = "xlsx") -> None:
    """The zip and its sheets' XML, checked before calamine (or any reader) opens the workbook."""
    from ketaprep.lists.spreadsheet import LABELS

    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise UsageError(f"{path}: not a readable {LABELS.get(kind, kind)} workbook (a damaged zip); "
                         "save it again as .xlsx or .csv") from None
    with book:
        members = book.infolist()
        if len(members) > MAX_MEMBERS:
            raise UsageError(f"{path}: the workbook holds more than {MAX_MEMBERS:,} parts (the limit)")
        total = 0
        for member in members:
            if member.flag_bits & 0x1:
                raise UsageError(f"{path}: the workbook is encrypted (password-protected); save a copy without a password")
            if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise UsageError(f"{path}: the workbook uses a compression ketaprep does not read; save it again as .xlsx")
            total += member.file_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise UsageError(f"{path}: the workbook unpacks to more than {MAX_UNCOMPRESSED_BYTES:,} bytes (the limit); "
                             "is it the day's list?")
        names = [m.filename for m in members]
        if "content.xml" in names:  # OpenDocument (.ods)
            sheets = ["content.xml"]
        else:
            sheets = sorted(n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n))
            if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
                if not sheets:
                    raise UsageError(f"{path}: the workbook has no sheet; save it again with the day's list on a sheet")
            else:
                raise UsageError(f"{path}: not a workbook (a zip without sheets); give a CSV, an XLSX workbook or a "
                                 "FHIR JSON Bundle")
        for name in names:
            if name.endswith((".xml", ".rels")):
                _check_xml(path, book, name, sheet=name in sheets)


def _check_xml(path: Path, book: zipfile.ZipFile, member: str, sheet: bool) -> None:
    """Expat over one member: no DOCTYPE or entity, well formed, and (a sheet) within the limits."""
    import xml.parsers.expat

    parser = xml.parsers.expat.ParserCreate()
    where = f"{path} ({member})"

    def doctype(*_args: Any) -> Any:
        raise UsageError(f"{where}: the workbook's XML declares a DOCTYPE or entities, which ketaprep never reads "
                         "(a workbook saved by a spreadsheet program has none); save it again as .xlsx")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.ExternalEntityRefHandler = doctype
    cells = [0]

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(":", 1)[-1]
        if local == "dimension" and "ref" in attrs:
            for ref in attrs["ref"].split(":"):
                _check_ref(where, ref, "the sheet declares")
        elif local == "row" and "r" in attrs:
            _check_row(where, attrs["r"])
        elif local == "c":
            cells[0] += 1
            if cells[0] > MAX_SHEET_CELLS:
                raise UsageError(f"{where}: the sheet has more than {MAX_SHEET_CELLS:,} cells (the limit)")
            if "r" in attrs:
                _check_ref(where, attrs["r"], "a cell is at")
        elif local in ("table-row", "table-column", "table-cell", "covered-table-cell"):  # OpenDocument
            for key, value in attrs.items():
                if key.endswith(("number-rows-repeated", "number-columns-repeated")):
                    count = int(value) if value.isdigit() and len(value) < 12 else 10**12
                    limit = MAX_SHEET_ROWS if "rows" in key else MAX_SHEET_COLUMNS
                    if count > limit and local != "table-cell" or count > MAX_SHEET_CELLS:
                        raise UsageError(f"{where}: the sheet repeats a {'row' if 'rows' in key else 'column'} "
                                         f"{count:,} times; at most {limit:,} (the limit)")
            if local in ("table-cell", "covered-table-cell"):
                cells[0] += 1
                if cells[0] > MAX_SHEET_CELLS:
                    raise UsageError(f"{where}: the sheet has more than {MAX_SHEET_CELLS:,} cells (the limit)")

    if sheet:
        parser.StartElementHandler = start
    try:
        with book.open(member) as handle:
            while chunk := handle.read(1 << 20):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as exc:
        raise UsageError(f"{where}: broken XML at line {exc.lineno} ({xml.parsers.expat.ErrorString(exc.code)}); "
                         "open the workbook in a spreadsheet program and save it again") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError):  # RuntimeError: encrypted
        raise UsageError(f"{where}: a damaged part of the workbook; save it again as .xlsx") from None


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (ord(letter) - 64)
    return number


def _check_ref(where: str, ref: str, what: str) -> None:
    match = _REF.match(ref.strip())
    if not match:
        return  # a reader decides what to make of an odd reference; nothing large was declared
    column, row = _column_number(match.group(1)), int(match.group(2))
    if column > MAX_SHEET_COLUMNS:
        raise UsageError(f"{where}: {what} column {match.group(1).upper()[:8]} (number {column:,}); "
                         f"at most {MAX_SHEET_COLUMNS:,} columns (the limit)")
    if row > MAX_SHEET_ROWS:
        raise UsageError(f"{where}: {what} row {row:,}; at most {MAX_SHEET_ROWS:,} rows (the limit)")


def _check_row(where: str, value: str) -> None:
    if not value.isdigit() or len(value) > 12 or int(value) > MAX_SHEET_ROWS:
        raise UsageError(f"{where}: the sheet has a row numbered {value[:14]}; at most {MAX_SHEET_ROWS:,} rows (the limit)")


# --- JSON -------------------------------------------------------------------------------------


def bounded_loads(path: Path, text: str) -> Any:
    """json.loads with the depth and the size of numbers bounded (a named UsageError); a
    JSONDecodeError is left to the caller, which names the file and line."""

    def number(kind: type) -> Any:
        def parse(value: str) -> Any:
            if sum(c.isdigit() for c in value) > MAX_NUMBER_DIGITS:
                line = _line_of(text, value)
                raise UsageError(f"{path}{line}: a number with more than {MAX_NUMBER_DIGITS} digits (the limit)")
            return kind(value)

        return parse

    _check_depth(path, text)
    try:
        return json.loads(text, parse_int=number(int), parse_float=number(float))
    except RecursionError:
        raise UsageError(f"{path}: nested more than {MAX_JSON_DEPTH} levels deep (the limit)") from None


def load_json(path: Path, text: str) -> Any:
    """`bounded_loads`, with invalid JSON named by file and line too."""
    try:
        return bounded_loads(path, text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None


def _line_of(text: str, value: str) -> str:
    at = text.find(value)
    return f": line {text.count(chr(10), 0, at) + 1}" if at >= 0 else ""


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _check_depth(path: Path, text: str) -> None:
    """The deepest nesting, counted outside strings (a JSON parser recurses once per level)."""
    bare = _STRING.sub('""', text)
    depth = 0
    deepest = 0
    for match in re.finditer(r"[\[\]{}]", bare):
        if match.group(0) in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    line = bare.count("\n", 0, match.start()) + 1
                    raise UsageError(f"{path}: line {line}: nested more than {MAX_JSON_DEPTH} levels deep (the limit)")
        else:
            depth -= 1
