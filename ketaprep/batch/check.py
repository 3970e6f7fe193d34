"""Pass 1 of a batch: every row is checked (name, date, time, set, language, the whole
timeline) and nothing is written; bad rows are reported by number, never by name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ketaprep.batch.request import Entry, Failure, Reporter, Request
from ketaprep.batch.sets import SetCache
from ketaprep.batch.signals import checkpoint
from ketaprep.errors import AppointmentError, KetaprepError, SetError
from ketaprep.hours import check_start
from ketaprep.lists import ListRow, read_list
from ketaprep.lists.values import DATE_EXAMPLES, DateProblem, cell_date, cell_duration, cell_time, clean_name, quoted
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
    if set_raw is None:
        set_key = request.default_set
    else:
        set_key = str(set_raw).strip().lower()
        if not _SET_ID.match(set_key):
            raise AppointmentError(
                f"set {quoted(set_raw)} is not a set id (lower-case letters, digits and hyphens; see ketaprep sets)"
            )
    loaded = _row_set(sets, set_key)
    model = loaded.model

    lang = request.default_lang
    lang_raw = values.get("lang")
    if lang_raw is not None:
        if row.where.startswith("entry"):  # FHIR: the patient's preferred language is a wish, not an order
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

    fixed = model.treatment.duration.delta if model.treatment.duration else None
    duration: dt.timedelta | None = None
    duration_raw = values.get("duration")
    if duration_raw is not None:
        duration = cell_duration(duration_raw)
        if duration is None:
            raise AppointmentError(f"duration {quoted(duration_raw)} is not a duration (examples: {DURATION_EXAMPLES})")
        if fixed is not None:
            if duration != fixed:
                raise AppointmentError(
                    f"duration {format_duration(duration)} does not match set \"{model.id}\"'s fixed length of "
                    f"{format_duration(fixed)}; leave it empty for this set"
                )
            duration = None
    elif fixed is None:
        booked = values.get("booked")
        duration = (booked if isinstance(booked, dt.timedelta) else None) or request.duration
    treatment_length(model, duration)  # a clear message before anything else about the length

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
    return Entry(row.number, row.label, patient, appointment, set_key, lang, timeline["treatment_start"].utc)


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


def check_list(request: Request, reporter: Reporter) -> Checked:
    """Pass 1: read and check every row; report each bad row; write nothing."""
    from ketaprep.safety import passed_cutoffs

    kind, fields, rows = read_list(
        request.list_path,
        request.columns,
        request.sheet,
        request.clinic.appointment_types if request.clinic else None,
        request.zone,
    )
    sets = SetCache(request.library)
    if "set" not in fields or "/" in request.default_set or request.default_set.endswith((".yaml", ".yml")):
        sets.get(request.default_set)  # the set every row uses must load, or nothing is done
    entries: list[Entry] = []
    failures: list[Failure] = []
    seen: dict[tuple[str, dt.date, dt.time], str] = {}
    count = 0
    late: list[str] = []
    over: list[str] = []
    for row in rows:
        checkpoint()
        if row.skip:
            reporter.note(f"{row.label} is not printed: {row.skip}")
            continue
        count += 1
        try:
            entry = check_row(row, request, sets)
        except KetaprepError as exc:
            failure = Failure(row.number, row.label, exc.message)
            failures.append(failure)
            reporter.problem(str(failure))
            continue
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
    if over:
        reporter.note(f"the appointment has already started or is over for {_some(over)}; check the list's date")
    if late:
        reporter.note(f"a cut-off time has already passed for {_some(late)}; phone these patients")
    return Checked(count, entries, failures, sets, kind == "fhir")


def _some(rows: list[str]) -> str:
    return ", ".join(rows[:12]) + (f" and {len(rows) - 12} more" if len(rows) > 12 else "")
