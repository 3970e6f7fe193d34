"""Reading a clinic's day list (CSV or XLSX as clinics export it) into numbered rows.

A row keeps its raw cell values; `batch.py` turns them into appointments. Row numbers
are the ones the clinic sees in its spreadsheet: the header is row 1 (when it is the
first line), blank lines are not rows but still count. Nothing here ever puts a cell's
content in a message unless it is plainly a time, a date or a code (see `shown`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from ketaprep.errors import UsageError
from ketaprep.parsing import parse_clock_time, parse_date

Field = Literal["patient", "date", "start", "set", "lang", "duration"]
FIELDS: tuple[Field, ...] = ("patient", "date", "start", "set", "lang", "duration")
ALIASES: dict[Field, tuple[str, ...]] = {
    "patient": ("patient", "name", "patientname"),
    "date": ("date", "appointmentdate"),
    "start": ("start", "time", "appointmenttime", "starttime"),
    "set": ("set", "protocol", "setid"),
    "lang": ("lang", "language"),
    "duration": ("duration",),
}
FIELD_WORDS: dict[Field, str] = {
    "patient": "the patient's name",
    "date": "the date",
    "start": "the start time",
    "set": "the instruction set",
    "lang": "the language",
    "duration": "the treatment length",
}
DATE_EXAMPLES = "2026-11-24, 24 Nov 2026, Nov 24 2026"
MAX_LIST_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
HEADER_SEARCH = 20  # non-blank lines a title may take before the header row
MAX_CELL = 1000

Kind = Literal["csv", "xlsx", "fhir"]
DateOrder = Literal["dmy", "mdy"]


@dataclass(frozen=True)
class ListRow:
    """One appointment row: its number as the clinic sees it and its raw cell values.

    `problem` is set when the reader itself could not make sense of the row; `skip` when
    it is not an appointment to print (a cancelled one), with the reason.
    """

    number: int
    values: dict[str, Any]
    where: str = ""
    problem: str | None = None
    skip: str | None = None

    @property
    def label(self) -> str:
        return self.where or f"row {self.number}"


def normalize(name: str) -> str:
    """Column names compare without case, spaces or punctuation: `Appt. Time` -> `appttime`."""
    return re.sub(r"[\W_]+", "", name.casefold())


def parse_column_options(options: list[str]) -> dict[Field, str | None]:
    """`start=Appt Time` -> {"start": "appttime"}; `duration=` ignores the list's duration column."""
    mapping: dict[Field, str | None] = {}
    for option in options:
        key, sep, header = option.partition("=")
        key = key.strip().lower()
        if not sep or key not in FIELDS:
            raise UsageError(
                f'--column "{option}": write it as FIELD="Column name", where FIELD is one of '
                f'{", ".join(FIELDS)} (e.g. --column start="Appt Time")'
            )
        mapping[key] = normalize(header) or None  # type: ignore[index, unused-ignore]
    return mapping


def detect_kind(path: Path) -> Kind:
    """CSV, XLSX or a FHIR JSON Bundle, by content first and then by name."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder; give the list file (CSV, XLSX or FHIR JSON)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    if size > MAX_LIST_BYTES:
        raise UsageError(f"{path}: the list is larger than {MAX_LIST_BYTES // (1024 * 1024)} MB; split it by day")
    if head.startswith(b"PK\x03\x04"):
        if path.suffix.lower() in (".ods", ".numbers"):
            raise UsageError(f"{path}: only .xlsx workbooks can be read; save it as .xlsx or .csv")
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UsageError(f"{path}: an old Excel (.xls) file; save it as .xlsx or .csv (UTF-8)")
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"{"):
        return "fhir"
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UsageError(f"{path}: not a list ketaprep can read; give a CSV, an XLSX workbook or a FHIR JSON Bundle")
    if path.suffix.lower() in (".pdf", ".docx", ".doc", ".xls", ".ods", ".zip"):
        raise UsageError(f"{path}: not a list ketaprep can read; give a CSV, an XLSX workbook or a FHIR JSON Bundle")
    return "csv"


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """Where each field is in the header row: field -> column index."""

    index: dict[Field, int]
    header_row: int

    def values(self, cells: tuple[Any, ...] | list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, i in self.index.items():
            value = cells[i] if i < len(cells) else None
            if isinstance(value, str):
                value = " ".join(value.split()) or None
            out[name] = value
        return out


def match_columns(headers: list[str], mapping: dict[Field, str | None]) -> tuple[dict[Field, int], list[str]]:
    """Field -> column index for one candidate header row, and any ambiguity found."""
    names = [normalize(h) for h in headers]
    found: dict[Field, int] = {}
    problems: list[str] = []
    for name in FIELDS:
        if name in mapping:
            wanted = mapping[name]
            if wanted is not None and wanted in names:
                found[name] = names.index(wanted)
            continue
        hits = [i for i, n in enumerate(names) if n in ALIASES[name] and n not in mapping.values()]
        if len(hits) > 1:
            quoted = " and ".join(f'"{headers[i]}"' for i in hits)
            problems.append(
                f"columns {quoted} could both be {FIELD_WORDS[name]}; "
                f'choose one with --column {name}="{headers[hits[0]]}"'
            )
        elif hits:
            found[name] = hits[0]
    return found, problems


def find_header(
    records: Iterator[tuple[int, list[Any]]], mapping: dict[Field, str | None], source: str
) -> Columns:
    """The header is the first non-blank row naming a patient and a start column.

    A title line or two above it (some EMR exports have one) is passed over.
    """
    first: list[Any] | None = None
    seen = 0
    for number, cells in records:
        if _blank(cells):
            continue
        seen += 1
        headers = ["" if c is None else str(c).strip() for c in cells]
        if first is None:
            first = headers
        found, problems = match_columns(headers, mapping)
        if "start" in found and "patient" in found:
            if problems:
                raise UsageError(f"{source}: " + problems[0])
            return Columns(found, number)
        if seen >= HEADER_SEARCH:
            break
    if first is None:
        raise UsageError(f"{source}: the list is empty; it needs a header row (Patient, Date, Start, ...)")
    found, problems = match_columns(first, mapping)
    if problems:
        raise UsageError(f"{source}: " + problems[0])
    if any(parse_clock_time(h) or parse_date(h) for h in first if h):
        raise UsageError(
            f"{source}: the first row looks like an appointment, not column names; "
            "add a header row (e.g. Patient, Date, Start, Set)"
        )
    missing: list[Field] = [name for name in ("patient", "start") if name not in found]
    listed = ", ".join(f'"{h}"' for h in first if h)
    named = [name for name in missing if mapping.get(name)]
    if named:
        raise UsageError(
            f"{source}: --column {named[0]}=...: the header row has no such column; it has {listed or 'no names'}"
        )
    hints = " ".join(f'--column {name}="..."' for name in missing)
    words = " and ".join(FIELD_WORDS[name] for name in missing)
    raise UsageError(
        f"{source}: no column for {words}; the header row has {listed or 'no names'}\n"
        f"  name the columns with {hints}, or call them "
        + " and ".join(f'"{ALIASES[name][0].title()}"' for name in missing)
    )


def _blank(cells: list[Any] | tuple[Any, ...]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def rows_after_header(
    records: Iterator[tuple[int, list[Any]]], columns: Columns, source: str
) -> Iterator[ListRow]:
    count = 0
    for number, cells in records:
        if _blank(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise UsageError(f"{source}: more than {MAX_ROWS} rows; split the list by day")
        values = columns.values(cells)
        if all(v is None for v in values.values()):  # only other columns filled in: not an appointment
            yield ListRow(number, values, problem="has no patient, date or start time")
            continue
        yield ListRow(number, values)


# --- CSV ---------------------------------------------------------------------------------------


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


# --- XLSX --------------------------------------------------------------------------------------


def read_xlsx(path: Path, mapping: dict[Field, str | None], sheet: str | None) -> tuple[Columns, Iterator[ListRow]]:
    import warnings
    import zipfile

    import openpyxl  # type: ignore[import-untyped, unused-ignore]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UsageError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        names = book.sheetnames
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in names:
            ws = book[sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            ws = book.worksheets[int(sheet) - 1]
        else:
            listed = ", ".join(f'"{n}"' for n in names)
            raise UsageError(f'{path}: no sheet "{sheet}"; the workbook has {listed}')
        if not hasattr(ws, "iter_rows"):
            raise UsageError(f"{path}: the sheet is a chart, not a table")
        ws.reset_dimensions()  # some writers record a wrong size; read every row there is

        def records() -> Iterator[tuple[int, list[Any]]]:
            for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                yield number, list(cells)

        stream = records()
        try:
            columns = find_header(stream, mapping, str(path))
        except UsageError as exc:
            if len(names) > 1 and sheet is None:  # the table may be on another sheet
                listed = ", ".join(f'"{n}"' for n in names)
                first_line = exc.message.splitlines()[0]
                raise UsageError(f"{first_line} (on the first sheet)\n  the workbook has {listed}: choose the "
                                 "sheet with --sheet, or name the columns with --column") from None
            raise
    except BaseException:
        book.close()
        raise

    def rows() -> Iterator[ListRow]:
        try:
            yield from rows_after_header(stream, columns, str(path))
        finally:
            book.close()

    return columns, rows()


def read_list(
    path: Path,
    mapping: dict[Field, str | None],
    sheet: str | None = None,
    appointment_types: dict[str, str] | None = None,
    zone: str = "America/Toronto",
) -> tuple[Kind, set[str], Iterator[ListRow]]:
    """The list's kind, the fields it has, and its rows (a stream)."""
    kind = detect_kind(path)
    if sheet is not None and kind != "xlsx":
        raise UsageError("--sheet is for .xlsx workbooks only")
    if kind == "fhir":
        from ketaprep.fhir import read_fhir

        fields, rows = read_fhir(path, appointment_types or {}, zone)
        return kind, fields, rows
    columns, stream = read_csv(path, mapping) if kind == "csv" else read_xlsx(path, mapping, sheet)
    return kind, set(columns.index), stream


# --- cell values -------------------------------------------------------------------------------

MONTHS = {
    **{m: i for i, m in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august", "september",
         "october", "november", "december"), start=1)},
    **{m: i for i, m in enumerate(
        ("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre",
         "octobre", "novembre", "decembre"), start=1)},
    **{m: i for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)},
    **{"sept": 9, "janv": 1, "fev": 2, "fevr": 2, "avr": 4, "juil": 7},
}
WEEKDAYS = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "lun", "mer", "jeu", "ven", "sam", "dim",
}
_SAFE_WORDS = set(MONTHS) | WEEKDAYS | {
    "am", "pm", "a", "p", "m", "h", "t", "min", "mins", "minutes", "hr", "hrs", "hour", "hours",
}


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def shown(value: Any) -> str | None:
    """The cell's text for a message, or None when it might be part of a name.

    Times, dates and durations are shown (`"25:00"`); anything with other words is not,
    so a name typed into the wrong column never reaches the screen or a log.
    """
    text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)
    if len(text) > 32 or not any(c.isdigit() for c in text):  # "Sam", "April May": could be a name
        return None
    words = re.findall(r"[^\W\d_]+", _fold(text))
    if any(word not in _SAFE_WORDS for word in words):
        return None
    return text


def quoted(value: Any) -> str:
    text = shown(value)
    return f'"{text}"' if text is not None else "(text not shown)"


def clean_name(raw: Any) -> str:
    """`Test, Ada` -> `Ada Test`; whitespace collapsed, control characters removed."""
    text = "".join(c if c.isprintable() else " " for c in str(raw))
    text = " ".join(text.split())
    if "," in text:
        parts = [p.strip() for p in text.split(",")]
        last, first, rest = parts[0], parts[1], [p for p in parts[2:] if p]
        text = " ".join(p for p in (first, last, *rest) if p)
    return text


_SECONDS = re.compile(r"^(\d{1,2}:\d{2}):00(\s*[ap]\.?\s*m\.?)?$", re.IGNORECASE)
_FRENCH_TIME = re.compile(r"^(\d{1,2})\s*h\s*(\d{2})?$", re.IGNORECASE)
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2})(?::00(?:\.0+)?)?$")


def cell_time(value: Any) -> tuple[dt.time | None, dt.date | None]:
    """A start cell: `9:00`, `9am`, `9:30 pm`, `21:30`, `9:00:00 AM`, `9 h 30`, an Excel time,
    or a date and time together (`2026-11-24 09:00`, an Excel date-time). None if it is not one."""
    if isinstance(value, dt.datetime):
        day = value.date()
        # Excel stores a bare time as a date-time on its epoch day
        return value.time().replace(microsecond=0), (None if day <= dt.date(1900, 1, 1) else day)
    if isinstance(value, dt.time):
        return value.replace(microsecond=0, tzinfo=None), None
    if isinstance(value, dt.timedelta) and dt.timedelta(0) <= value < dt.timedelta(days=1):
        seconds = int(value.total_seconds())
        return dt.time(seconds // 3600, seconds % 3600 // 60), None
    if not isinstance(value, str):
        return None, None
    text = value.strip()
    iso = _ISO_DATETIME.match(text)
    if iso:
        return parse_clock_time(iso.group(2)), parse_date(iso.group(1))
    seconds_match = _SECONDS.match(text)
    if seconds_match:
        text = seconds_match.group(1) + (seconds_match.group(2) or "")
    french = _FRENCH_TIME.match(text)
    if french:
        text = f"{french.group(1)}:{french.group(2) or '00'}"
    return parse_clock_time(text), None


class DateProblem(ValueError):
    pass


def cell_date(value: Any, order: DateOrder | None) -> dt.date | None:
    """A date cell: `2026-11-24`, `2026/11/24`, `24 Nov 2026`, `Nov 24, 2026`, `24/11/2026`
    (day and month told apart by a number above 12, or by `order`), an Excel date.

    Raises DateProblem when the day and month cannot be told apart.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ]00:00(?::00)?)?", text):
        return parse_date(text[:10])
    match = re.fullmatch(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})", text)
    if match:
        return _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if match:
        a, b, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if order == "dmy":
            return _date(year, b, a)
        if order == "mdy":
            return _date(year, a, b)
        if a > 12 >= b:
            return _date(year, b, a)
        if b > 12 >= a:
            return _date(year, a, b)
        if a == b:
            return _date(year, a, b)
        raise DateProblem(text)
    tokens = re.findall(r"[^\W\d_]+|\d+", _fold(text))
    words = [t for t in tokens if not t.isdigit() and t not in WEEKDAYS and t not in ("de", "le", "the", "of")]
    numbers = [t for t in tokens if t.isdigit()]
    if len(words) != 1 or words[0] not in MONTHS or len(numbers) != 2:
        return None
    years = [n for n in numbers if len(n) == 4]
    days = [n for n in numbers if len(n) <= 2]
    if len(years) != 1 or len(days) != 1:
        return None
    return _date(int(years[0]), MONTHS[words[0]], int(days[0]))


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def cell_duration(value: Any) -> dt.timedelta | None:
    """A duration cell: `90m`, `1h30m`, `90` (minutes), `1:30`, or an Excel duration."""
    from ketaprep.parsing import parse_duration

    if isinstance(value, dt.timedelta):
        return value if value > dt.timedelta(0) else None
    if isinstance(value, dt.time):
        return dt.timedelta(hours=value.hour, minutes=value.minute) or None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return dt.timedelta(minutes=value) if 0 < value <= 24 * 60 and float(value).is_integer() else None
    if not isinstance(value, str):
        return None
    text = _fold(value).replace(" ", "")
    text = re.sub(r"(?:minutes|minute|mins|min)$", "m", text)
    text = re.sub(r"(?:hours|hour|hrs|hr)", "h", text)
    if text.isdigit():
        text += "m"
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if match:
        text = f"{match.group(1)}h{match.group(2)}m"
    return parse_duration(text)
