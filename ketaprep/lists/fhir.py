"""The day's list from an EHR: a FHIR R4 Bundle (or searchset) of Appointment resources.

Each Appointment is one row, numbered by its place in the Bundle (`entry 3`). From it:
the start instant (shown in the clinic's zone), the patient's display name (or the
name of an included Patient resource), and the instruction set, found by the
appointment type or service type code in the clinic profile's `appointment_types`
(`code: set-id` or `system|code: set-id`). Cancelled appointments are not rows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ketaprep.errors import KetaprepError, UsageError
from ketaprep.lists.row import MAX_ROWS, ListRow

NOT_ROWS = {"cancelled": "cancelled", "entered-in-error": "entered in error", "noshow": "a no-show"}
FIELDS = {"patient", "date", "start", "set", "lang", "duration"}
_CODE = re.compile(r"^[\w.:/|#@+-]{1,128}$", re.ASCII)


def _code_text(code: str) -> str:
    """A code for a message: codes are the EHR's vocabulary, not patient data, but stay bounded."""
    return f'"{code}"' if _CODE.match(code) else "(a code with unusual characters)"


def read_fhir(path: Path, appointment_types: dict[str, str], zone: str) -> tuple[set[str], Iterator[ListRow]]:
    try:
        from ketaprep.lists.guard import load_json

        data = load_json(path, path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UsageError(f"{path}: a FHIR file must be UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a FHIR Bundle of Appointment resources")
    kind = data.get("resourceType")
    if kind == "Appointment":
        entries: list[Any] = [{"resource": data}]
    elif kind == "Bundle":
        entries = data.get("entry") or []
        if not isinstance(entries, list):
            raise UsageError(f"{path}: Bundle.entry is not a list")
    else:
        raise UsageError(
            f"{path}: expected a FHIR Bundle of Appointment resources, found resourceType {json.dumps(kind)[:40]}"
        )
    if len(entries) > MAX_ROWS:
        raise UsageError(f"{path}: more than {MAX_ROWS} entries; split the list by day")
    if kind == "Bundle":
        _refuse_a_partial_page(path, data, entries)
    patients: dict[str, dict[str, Any]] = {}
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            if isinstance(resource.get("id"), str):
                patients[f"Patient/{resource['id']}"] = resource
            if isinstance(entry.get("fullUrl"), str):
                patients[entry["fullUrl"]] = resource
    return set(FIELDS), _rows(entries, patients, appointment_types, ZoneInfo(zone))


def _refuse_a_partial_page(path: Path, bundle: dict[str, Any], entries: list[Any]) -> None:
    """A search result split into pages: this file holds one page, so patients would be missing."""
    found = bundle.get("link")
    links: list[Any] = found if isinstance(found, list) else []
    if any(isinstance(link, dict) and link.get("relation") == "next" for link in links):
        raise KetaprepError(
            f"{path}: this Bundle is one page of a longer search (it has a \"next\" link); "
            "export the whole day in one file (e.g. a larger _count), or no patient on the other pages gets a handout"
        )
    total = bundle.get("total")
    appointments = sum(
        1 for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
        and entry["resource"].get("resourceType") == "Appointment"
    )
    if isinstance(total, int) and not isinstance(total, bool) and total > appointments:
        raise KetaprepError(
            f"{path}: the Bundle says total {total} but holds {appointments} appointment(s); "
            "export the whole day in one file, or the missing patients get no handout"
        )


def _rows(
    entries: list[Any], patients: dict[str, dict[str, Any]], types: dict[str, str], zone: ZoneInfo
) -> Iterator[ListRow]:
    for index, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
            continue  # included Patients, OperationOutcomes: not appointments
        where = f"entry {index}"
        status = resource.get("status")
        if not isinstance(status, (str, type(None))):  # `"status": ["booked"]`: this entry's problem only
            yield ListRow(index, {}, where=where, problem="status is not a FHIR code (e.g. \"booked\")")
            continue
        if status in NOT_ROWS:
            yield ListRow(index, {}, where=where, skip=f"the appointment is {NOT_ROWS[status]}")
            continue
        values: dict[str, Any] = {"patient": None, "start": None, "set": None, "lang": None}
        problem = None
        try:
            values["start"] = _start(resource, zone)
            name, patient = _patient(resource, patients)
            values["patient"] = name
            values["lang"] = _language(patient) if patient else None
            values["set"] = _set_id(resource, types)
            values["booked"] = _booked(resource)
        except ValueError as exc:
            problem = str(exc)
        except (TypeError, AttributeError, KeyError, OverflowError, RecursionError):  # a field of the wrong JSON type
            problem = "a field has the wrong JSON type (a list, text or number where FHIR puts another); fix the export"
        yield ListRow(index, values, where=where, problem=problem)


def _start(resource: dict[str, Any], zone: ZoneInfo) -> dt.datetime | None:
    start = resource.get("start")
    if start is None:
        raise ValueError("the appointment has no start time")
    if not isinstance(start, str):
        raise ValueError("start is not a FHIR instant (e.g. 2026-11-24T09:00:00-05:00)")
    try:
        instant = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("start is not a FHIR instant (e.g. 2026-11-24T09:00:00-05:00)") from None
    if instant.tzinfo is None:
        raise ValueError("start has no UTC offset; a FHIR instant needs one (e.g. 2026-11-24T09:00:00-05:00)")
    return instant.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _patient(resource: dict[str, Any], patients: dict[str, dict[str, Any]]) -> tuple[str | None, dict[str, Any] | None]:
    found: list[tuple[str | None, dict[str, Any] | None]] = []
    participants = resource.get("participant") or []
    if not isinstance(participants, list):
        raise TypeError("participant")
    for participant in participants:
        actor = participant.get("actor") if isinstance(participant, dict) else None
        if not isinstance(actor, dict):
            continue
        reference = str(actor["reference"]) if isinstance(actor.get("reference"), str) else ""
        included = patients.get(reference)
        if not (reference.startswith("Patient/") or actor.get("type") == "Patient" or included):
            continue
        display = actor.get("display") if isinstance(actor.get("display"), str) else None
        found.append((display or (_human_name(included) if included else None), included))
    if not found:
        raise ValueError("the appointment has no patient participant")
    if len(found) > 1:
        raise ValueError("the appointment has more than one patient participant")
    return found[0]


def _human_name(patient: dict[str, Any]) -> str | None:
    names = [n for n in patient.get("name") or [] if isinstance(n, dict)]
    names.sort(key=lambda n: {"usual": 0, "official": 1}.get(str(n.get("use")), 2))
    for name in names:
        if isinstance(name.get("text"), str) and name["text"].strip():
            return str(name["text"])
        given_names = name.get("given") or []
        if isinstance(given_names, str):  # `"given": "Zoé"`: one name, never spelled out letter by letter
            given_names = [given_names]
        given = " ".join(g for g in given_names if isinstance(g, str))
        family = name.get("family") if isinstance(name.get("family"), str) else ""
        full = f"{given} {family}".strip()
        if full:
            return full
    return None


def _language(patient: dict[str, Any]) -> str | None:
    """The patient's preferred language (`fr-CA` -> `fr`), if the Patient resource says."""
    options = [c for c in patient.get("communication") or [] if isinstance(c, dict)]
    options.sort(key=lambda c: 0 if c.get("preferred") else 1)
    for communication in options:
        language = communication.get("language")
        codings = language.get("coding") if isinstance(language, dict) else None
        for coding in codings or []:
            code = coding.get("code") if isinstance(coding, dict) else None
            if isinstance(code, str) and code:
                return code.split("-")[0].lower()
    return None


def _codes(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """(system, code) of the appointment type, then of each service type."""
    services = resource.get("serviceType") or []
    if not isinstance(services, list):
        raise TypeError("serviceType")  # the entry's problem: a field of the wrong JSON type
    concepts = [resource.get("appointmentType"), *services]
    out: list[tuple[str, str]] = []
    for concept in concepts:
        if not isinstance(concept, dict):
            continue
        codings = concept.get("coding") or []
        if not isinstance(codings, list):
            raise TypeError("coding")
        for coding in codings:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                out.append((str(coding.get("system") or ""), coding["code"]))
    return out


def _set_id(resource: dict[str, Any], types: dict[str, str]) -> str | None:
    codes = _codes(resource)
    if not codes:
        return None  # the default set
    for system, code in codes:
        for key in (f"{system}|{code}", code):
            if key in types:
                return types[key]
    listed = ", ".join(_code_text(code) for _system, code in codes[:3])
    example = json.dumps(codes[0][1]) if _CODE.match(codes[0][1]) else '"CODE"'
    raise ValueError(
        f"appointment type {listed} has no instruction set; map it in the clinic profile, "
        f"e.g. appointment_types: {{{example}: iv-pain-4h}}"
    )


def _booked(resource: dict[str, Any]) -> dt.timedelta | None:
    """The booked length (minutesDuration, else end - start): used only for sets whose length varies."""
    minutes = resource.get("minutesDuration")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
        if minutes > 7 * 24 * 60:
            raise ValueError("minutesDuration is longer than a week; check the export")
        return dt.timedelta(minutes=minutes)
    start, end = resource.get("start"), resource.get("end")
    if isinstance(start, str) and isinstance(end, str):
        try:
            begin = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
            finish = dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
            if begin.tzinfo and finish.tzinfo and finish > begin:
                return finish - begin
        except ValueError:
            return None
    return None
