"""Pass 1 of a batch: every row is checked (name, date, time, set, language, the whole
timeline) and nothing is written; bad rows are reported by number, never by name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ketaprep.batch.request import Entry, Failure, Reporter, Request, Skipped
from ketaprep.batch.sets import SetCache
from ketaprep.batch.signals import checkpoint
from ketaprep.errors import AppointmentError, KetaprepError, SetError
from ketaprep.hours import check_start
from ketaprep.lists import ListRow, read_list
from ketaprep.lists.values import (
    DATE_EXAMPLES,
    DateProblem,
    cell_date,
    cell_duration,
    cell_time,
    clean_name,
    quoted,
    slashed_order,
    type_text,
)
from ketaprep.loader import LoadedSet
from ketaprep.parsing import DURATION_EXAMPLES, TIME_EXAMPLES, format_duration
from ketaprep.timeline import Appointment

MAX_NAME_LENGTH = 200
_SET_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
def _lang(raw: Any, where_from: str) -> str:
    from ketaprep.parsing import parse_language

    try:
        return parse_language(str(raw))
    except ValueError:
        code = str(raw).strip()
        shown = f'"{code}"' if re.fullmatch(r"[a-z]{2,3}([-_+][A-Za-z]{2,3})*", code) else "(text not shown)"
        raise AppointmentError(f"{where_from} {shown} is not a language ketaprep has (examples: en, fr, en+fr)") from None


def check_row(row: ListRow, request: Request, sets: SetCache) -> Entry:
    """Turn one row into an appointment, or raise KetaprepError with a message naming no one."""
    from ketaprep.timeline import treatment_length

    if row.problem:
        raise AppointmentError(row.problem)
    values = row.values
    patient_raw = values.get("patient")
    patient = clean_name(patient_raw) if patient_raw is not None else ""
    if not patient:
        raise AppointmentError("patient name is empty")
    if len(patient) > MAX_NAME_LENGTH:
        raise AppointmentError(f"patient name is longer than {MAX_NAME_LENGTH} characters")

    start_raw = values.get("start")
    if start_raw is None:
        raise AppointmentError(f"start time is empty (examples: {TIME_EXAMPLES})")
    start, start_day = cell_time(start_raw)
    if start is None:
        raise AppointmentError(f"start {quoted(start_raw)} is not a time (examples: {TIME_EXAMPLES})")

    date_raw = values.get("date")
    day: dt.date | None
    if date_raw is not None:
        try:
            day = cell_date(date_raw, request.date_order)
        except DateProblem:
            raise AppointmentError(
                f"date {quoted(date_raw)} could be day/month or month/day; "
                "write it as YYYY-MM-DD, or give --date-order dmy (or mdy) for the whole list"
            ) from None
        if day is None:
            raise AppointmentError(f"date {quoted(date_raw)} is not a date (examples: {DATE_EXAMPLES})")
        if start_day is not None and start_day != day:
            raise AppointmentError(f"start {quoted(start_raw)} is on another day than date {quoted(date_raw)}")
    else:
        day = start_day or request.date
        if day is None:
            raise AppointmentError("date is empty; fill it in, or give --date YYYY-MM-DD for the whole list")
    if request.date is not None and day != request.date:
        raise AppointmentError(f"date {day.isoformat()} is not the --date given ({request.date.isoformat()})")

    set_raw = values.get("set")
    fhir = row.where.startswith(("entry", "line"))
    set_key = request.default_set if set_raw is None else _set_key(set_raw, request, sets, fhir)
    loaded = _row_set(sets, set_key)
    model = loaded.model

    lang = request.default_lang
    lang_raw = values.get("lang")
    if lang_raw is not None:
        if fhir:  # FHIR: the patient's preferred language is a wish, not an order
            try:
                wanted = _lang(lang_raw, "language")
                if all(code in model.languages for code in wanted.split("+")):
                    lang = wanted
            except AppointmentError:
                pass
        else:
            lang = _lang(lang_raw, "language")
    missing = [code for code in lang.split("+") if code not in model.languages]
    if missing:
        raise AppointmentError(
            f'set "{model.id}" has no {"+".join(missing)} text; it is written in: {", ".join(model.languages)}'
        )

    # A list's duration is the booking slot as often as the treatment's length: it sets the
    # length only for a set whose length varies; for a fixed-length set it never fails a row
    # (a slot shorter than treatment and watch is noted, see check_list).
    fixed = model.treatment.duration.delta if model.treatment.duration else None
    duration: dt.timedelta | None = None
    slot: dt.timedelta | None = None
    duration_raw = values.get("duration")
    booked = values.get("booked") if isinstance(values.get("booked"), dt.timedelta) else None
    if duration_raw is not None:
        read = cell_duration(duration_raw)
        if fixed is not None:
            slot = read
        elif read is None:
            raise AppointmentError(f"duration {quoted(duration_raw)} is not a duration (examples: {DURATION_EXAMPLES})")
        else:
            duration = read
    elif fixed is None:
        duration = booked or request.duration
    else:
        slot = booked
    treatment_length(model, duration)  # a clear message before anything else about the length
    short_slot = None
    if fixed is not None and slot is not None and slot < fixed + model.monitoring.delta:
        short_slot = (slot, fixed + model.monitoring.delta)

    if request.fmt == "pdf":
        from ketaprep.formats.pdf_format import unprintable

        boxes = unprintable(patient)
        if boxes:
            raise AppointmentError(
                f"patient name has {boxes} character(s) the PDF fonts cannot print; "
                "use --format html for this list, or write the name in Latin letters"
            )
    check_start(model, request.clinic, start)
    appointment = Appointment(day, start, request.zone, patient, duration)
    timeline = sets.timeline(set_key, appointment)
    return Entry(row.number, row.label, patient, appointment, set_key, lang, timeline["treatment_start"].utc,
                 short_slot=short_slot)


def _set_key(raw: Any, request: Request, sets: SetCache, fhir: bool) -> str:
    """The set for a row's set or type cell: the clinic profile's `appointment_types` by the cell's
    text (any case and spacing), else a set id; an appointment type nothing maps is a bad row."""
    if fhir:  # the FHIR reader has mapped the codes already
        return str(raw).strip()
    text = " ".join(str(raw).split())
    types = request.clinic.appointment_types if request.clinic else {}
    if types:
        folded = {" ".join(k.split()).casefold(): v for k, v in types.items()}
        mapped = types.get(text) or folded.get(text.casefold())
        if mapped:
            return mapped
    if _SET_ID.match(text) or (_SET_ID.match(text.lower()) and text.lower() in sets.library.files()):
        return text.lower()
    ids = ", ".join(sorted(sets.library.files()))
    shown = type_text(text)
    key = shown if shown.startswith('"') else '"TYPE"'
    raise AppointmentError(
        f"type {shown} has no instruction set; map it in the clinic profile: appointment_types: {{{key}: SET-ID}}, "
        f"with the set its patients get ({ids})"
    )


def _row_set(sets: SetCache, key: str) -> LoadedSet:
    """The row's set. An unknown one is named only when it looks like a set id (it shares its
    first part with a known set, or has a digit): a surname typed into the set column
    ("smith") never reaches the screen."""
    try:
        return sets.get(key)
    except SetError as exc:
        known = sorted(sets.library.files())
        looks_like_a_set = any(c.isdigit() for c in key) or key.split("-")[0] in {k.split("-")[0] for k in known}
        shown = f'"{key}"' if looks_like_a_set else "(text not shown)"
        if exc.message.startswith("unknown set"):
            raise SetError(f"unknown set {shown}; available sets: {', '.join(known)}") from None
        if exc.message == f'set "{key}" cannot be used (see above)':
            raise SetError(f"set {shown} cannot be used (see above)") from None
        raise


@dataclass
class Checked:
    rows: int
    entries: list[Entry]
    failures: list[Failure]
    sets: SetCache
    fhir: bool = False
    skipped: list[Skipped] = field(default_factory=list)


def check_list(request: Request, reporter: Reporter) -> Checked:
    """Pass 1: read and check every row; report each bad row; write nothing."""
    from ketaprep.safety import passed_cutoffs

    kind, fields, stream = read_list(
        request.list_path,
        request.columns,
        request.sheet,
        request.clinic.appointment_types if request.clinic else None,
        request.zone,
    )
    sets = SetCache(request.library)
    if "set" not in fields or "/" in request.default_set or request.default_set.endswith((".yaml", ".yml")):
        sets.get(request.default_set)  # the set every row uses must load, or nothing is done
    rows: list[ListRow] = []
    for row in stream:
        checkpoint()
        rows.append(row)
    row_request, order_note = _date_order(request, rows)
    entries: list[Entry] = []
    failures: list[Failure] = []
    skipped: list[Skipped] = []
    seen: dict[tuple[str, dt.date, dt.time], str] = {}
    late: list[str] = []
    over: list[str] = []
    repaired: dict[str, list[str]] = {}
    short: dict[tuple[str, dt.timedelta, dt.timedelta], list[str]] = {}
    for row in rows:
        checkpoint()
        if row.skip:
            skipped.append(Skipped(row.number, row.label, row.skip.removeprefix("the appointment is ")))
            continue
        try:
            entry = check_row(row, row_request, sets)
        except KetaprepError as exc:
            failure = Failure(row.number, row.label, exc.message)
            failures.append(failure)
            reporter.problem(str(failure))
            continue
        if row.note:
            repaired.setdefault(row.note, []).append(row.label)
        if entry.short_slot:
            short.setdefault((entry.set_key, *entry.short_slot), []).append(entry.where)
        key = (entry.patient.casefold(), entry.appointment.date, entry.appointment.start)
        if key in seen:
            reporter.note(f"{entry.where} is a likely duplicate of {seen[key]} (same patient, same time); both are written")
        else:
            seen[key] = entry.where
        if request.now is not None and entry.instant <= request.now:
            over.append(entry.where)
        elif request.now is not None and passed_cutoffs(sets.timeline(entry.set_key, entry.appointment), request.now):
            late.append(entry.where)
        entries.append(entry)
    if skipped:
        reporter.note(f"{len(skipped)} appointment(s) not printed, as the list marks them: "
                      + _some([str(s) for s in skipped]))
    if order_note:
        reporter.note(order_note)
    for note, where in repaired.items():
        reporter.note(f"{_some(where)}: {note}")
    for (set_key, slot, needed), where in short.items():
        reporter.note(
            f"{_some(where)}: the booked slot ({format_duration(slot)}) is shorter than set \"{set_key}\"'s treatment "
            f"and watch ({format_duration(needed)}); the handouts follow the set: check the booking, or the set "
            "its appointment type maps to"
        )
    if over:
        reporter.note(f"the appointment has already started or is over for {_some(over)}; check the list's date")
    if late:
        reporter.note(f"a cut-off time has already passed for {_some(late)}; phone these patients")
    return Checked(len(rows), entries, failures, sets, kind == "fhir", skipped)


def _date_order(request: Request, rows: list[ListRow]) -> tuple[Request, str | None]:
    """Dates like 03/04/2026 are never guessed: when the list's other dates show the order
    (11/24/2026 can only be month/day) and none contradicts it, the whole list is read that
    way, and a note says so; otherwise each such date is a bad row asking for --date-order."""
    if request.date_order is not None:
        return request, None
    orders: dict[str, str] = {}
    ambiguous: list[str] = []
    for row in rows:
        raw = row.values.get("date")
        if raw is None or row.skip:
            continue
        order = slashed_order(raw)
        if order == "ambiguous":
            ambiguous.append(row.label)
        elif order is not None:
            orders.setdefault(order, str(raw))
    if not ambiguous or len(orders) != 1:
        return request, None
    (order, example), = orders.items()
    words = "month/day" if order == "mdy" else "day/month"
    note = (f"{_some(ambiguous)}: dates like 03/04/2026 are read as {words}, as the list's other dates show "
            f"(e.g. {quoted(example)}); give --date-order to say otherwise")
    return dataclasses.replace(request, date_order=order), note  # type: ignore[arg-type]


def _some(rows: list[str]) -> str:
    return ", ".join(rows[:12]) + (f" and {len(rows) - 12} more" if len(rows) > 12 else "")
