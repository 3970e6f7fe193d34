"""Finding the columns of a table (a CSV or a spreadsheet sheet) by name, and its rows.

Column names compare without case, spaces or punctuation; a title line or two above the
header row is passed over; `--column FIELD=NAME` names a column the aliases do not know.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ketaprep.errors import UsageError
from ketaprep.lists.row import FIELDS, MAX_ROWS, Field, ListRow
from ketaprep.lists.status import skip_reason
from ketaprep.parsing import parse_clock_time, parse_date

ALIASES: dict[Field, tuple[str, ...]] = {
    "patient": ("patient", "name", "patientname", "nom", "nomdupatient", "client", "lastname", "surname",
                "familyname", "nomdefamille"),
    "first": ("firstname", "givenname", "prenom", "prénom"),
    "date": ("date", "appointmentdate", "apptdate", "daterendezvous", "datedurendezvous", "datederendezvous"),
    "start": ("start", "time", "appointmenttime", "appttime", "starttime", "apptstart", "heure", "heurederendezvous",
              "heuredurendezvous", "heurerdv", "debut", "début"),
    "set": ("set", "protocol", "setid", "protocole", "type", "appointmenttype", "appttype", "apptcategory",
            "category", "categorie", "catégorie", "typederendezvous", "typerdv"),
    "lang": ("lang", "language", "langue", "preferredlanguage", "languepreferee", "languepréférée"),
    "duration": ("duration", "durée", "duree", "length", "minutes", "apptduration"),
    "status": ("status", "statut", "apptstatus", "appointmentstatus", "etat", "état"),
}
"""Column names as exports write them, normalised (`Appt Time` -> `appttime`): OpenEMR
(`Provider,Date,Time,Patient,DOB,Type,Status`), OSCAR's Report by Template (whatever its
query's aliases say, e.g. `Date,Appt Time,Patient,Duration,Type,Reason,Language,Status`),
French-Canadian Excel (`Nom;Heure;Langue;Protocole;Durée;Statut`)."""
FIELD_WORDS: dict[Field, str] = {
    "patient": "the patient's name",
    "first": "the given name",
    "date": "the date",
    "start": "the start time",
    "set": "the instruction set or appointment type",
    "lang": "the language",
    "duration": "the treatment length",
    "status": "the appointment's status",
}
HEADER_SEARCH = 20  # non-blank lines a title may take before the header row


def normalize(name: str) -> str:
    """Column names compare without case, spaces or punctuation: `Appt. Time` -> `appttime`."""
    return re.sub(r"[\W_]+", "", name.casefold())


POSITION_MARK = "#"
"""A mapped column given by position is kept as `#5` (or `#1,2` for a name in two columns)."""


def parse_column_options(options: list[str]) -> dict[Field, str | None]:
    """`start=Appt Time` -> {"start": "appttime"}; `duration=` ignores the list's duration column.

    A number names a column by its position, for a list without a header row (OSCAR's
    "patient list by appointment"): `start=5`; `patient=1,2` joins the family name in column 1
    and the given name in column 2. Every field is then given by position, and every row is
    an appointment."""
    mapping: dict[Field, str | None] = {}
    for option in options:
        key, sep, header = option.partition("=")
        key = key.strip().lower()
        if not sep or key not in FIELDS:
            raise UsageError(
                f'--column "{option}": write it as FIELD="Column name" or FIELD=POSITION, where FIELD is one of '
                f'{", ".join(FIELDS)} (e.g. --column start="Appt Time", or --column start=5)'
            )
        positions = re.fullmatch(r"\s*(\d{1,3})(?:\s*,\s*(\d{1,3}))?\s*", header)
        if positions:
            numbers = [int(n) for n in positions.groups() if n is not None]
            if any(n < 1 for n in numbers):
                raise UsageError(f'--column "{option}": columns are counted from 1')
            mapping[key] = POSITION_MARK + ",".join(str(n) for n in numbers)  # type: ignore[index, unused-ignore]
        else:
            mapping[key] = normalize(header) or None  # type: ignore[index, unused-ignore]
    by_position = [k for k, v in mapping.items() if v and v.startswith(POSITION_MARK)]
    if by_position and len(by_position) != len([v for v in mapping.values() if v]):
        raise UsageError("--column: give every column by its name or every column by its position, not both")
    if by_position and not {"patient", "start"} <= set(by_position):
        raise UsageError("--column: a list read by position needs at least patient=N and start=N "
                         "(e.g. --column patient=1,2 --column start=5 --column date=6)")
    return mapping


def by_position(mapping: dict[Field, str | None]) -> Columns | None:
    """The columns of a headerless list, when `--column` gave them by position."""
    index: dict[Field, int] = {}
    joined: dict[Field, tuple[int, ...]] = {}
    for name, wanted in mapping.items():
        if wanted and wanted.startswith(POSITION_MARK):
            numbers = tuple(int(n) - 1 for n in wanted[1:].split(","))
            index[name] = numbers[0]
            if len(numbers) > 1:
                joined[name] = numbers
    return Columns(index, 0, joined) if index else None



@dataclass(frozen=True)
class Columns:
    """Where each field is in the header row: field -> column index (header_row 0: no header).

    `joined` holds a field read from several columns (a family and a given name), joined
    as "Family, Given"."""

    index: dict[Field, int]
    header_row: int
    joined: dict[Field, tuple[int, ...]] = field(default_factory=dict)
    width: int = 0
    """How many cells the header row has (0: no header row)."""

    def values(self, cells: tuple[Any, ...] | list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, i in self.index.items():
            if name in self.joined:
                parts = [_cell(cells, j) for j in self.joined[name]]
                texts = [str(p) for p in parts if p is not None]
                out[name] = ", ".join(texts) if texts else None
            else:
                out[name] = _cell(cells, i)
        given = out.pop("first", None)
        if given is not None:  # a given name in its own column: the patient column holds the family name
            family = out.get("patient")
            out["patient"] = f"{family}, {given}" if family is not None else str(given)
        return out


def _cell(cells: tuple[Any, ...] | list[Any], i: int) -> Any:
    value = cells[i] if i < len(cells) else None
    if isinstance(value, str):
        value = " ".join(value.split()) or None
        if value is not None and len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
            value = value[1:]  # the quote an export puts before = + - @ so a spreadsheet never runs it
    return value


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
        if name == "patient" and len(hits) > 1:  # "Patient" and "Last Name": the one that is the patient
            hits = [i for i in hits if names[i] in ALIASES["patient"][:5]] or hits
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

    A title line or two above it (some EMR exports have one) is passed over. With the
    columns given by position there is no header: every row is an appointment.
    """
    positional = by_position(mapping)
    if positional is not None:
        return positional
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
            while headers and not headers[-1]:
                headers.pop()
            return Columns(found, number, width=len(headers))
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


Repair = Callable[[list[Any], Columns], tuple[list[Any], str | None]]
"""A reader's own fix for a row as its system writes it: the cells, and a note if it changed them."""


def rows_after_header(
    records: Iterator[tuple[int, list[Any]]], columns: Columns, source: str, repair: Repair | None = None
) -> Iterator[ListRow]:
    count = 0
    for number, cells in records:
        if _blank(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise UsageError(f"{source}: more than {MAX_ROWS} rows; split the list by day")
        note = None
        if repair is not None:
            cells, note = repair(list(cells), columns)
        values = columns.values(cells)
        reason = skip_reason(values.pop("status", None))
        if reason:
            yield ListRow(number, values, skip=f"the appointment is {reason}")
            continue
        if all(v is None for v in values.values()):  # only other columns filled in: not an appointment
            yield ListRow(number, values, problem="has no patient, date or start time")
            continue
        yield ListRow(number, values, note=note)
