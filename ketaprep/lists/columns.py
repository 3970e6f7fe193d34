"""Finding the columns of a table (a CSV or a spreadsheet sheet) by name, and its rows.

Column names compare without case, spaces or punctuation; a title line or two above the
header row is passed over; `--column FIELD=NAME` names a column the aliases do not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ketaprep.errors import UsageError
from ketaprep.lists.row import FIELDS, MAX_ROWS, Field, ListRow
from ketaprep.parsing import parse_clock_time, parse_date

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
HEADER_SEARCH = 20  # non-blank lines a title may take before the header row


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
    listed = _column_names(first)
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


KNOWN_COLUMNS = frozenset({
    *(alias for aliases in ALIASES.values() for alias in aliases),
    "status", "type", "appointmenttype", "provider", "doctor", "physician", "room", "location", "notes", "note",
    "comment", "comments", "id", "mrn", "chart", "chartno", "healthcard", "dob", "birthdate", "dateofbirth", "phone",
    "email", "reason", "visittype", "service", "end", "endtime", "length", "minutes", "first", "firstname", "last",
    "lastname", "surname", "givenname", "familyname", "given", "family", "clinic", "resource", "booked",
    "client", "clientname", "appt", "appttime", "apptdate", "apptstart", "appointment", "appointmentstart", "visit",
    "visitdate", "visittime", "when", "hour", "slot", "nom", "prenom", "patiente", "heure", "rendezvous", "protocole",
    "langue", "duree", "statut", "patientid", "age", "sex", "gender", "insurance", "referral", "arrival",
})


def _column_names(cells: list[str]) -> str:
    """The header row's names as a message may show them: only words known as column names; any other
    cell is counted, never quoted (a list without a header row has a patient's name there)."""
    shown = [f'"{h}"' for h in cells if h and normalize(h) in KNOWN_COLUMNS]
    hidden = sum(1 for h in cells if h and normalize(h) not in KNOWN_COLUMNS)
    if hidden:
        shown.append(f"{hidden} other column(s) (not shown: the row may be a patient's)")
    return ", ".join(shown)


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
