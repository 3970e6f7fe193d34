"""The day's list from an EHR: a FHIR R4 Bundle (or searchset) of Appointment resources, one
Appointment, or NDJSON (one resource a line, as a bulk export writes it).

Each Appointment is one row, numbered by its place in the Bundle (`entry 3`) or its line
(`line 3`). From it:
- the start instant, in `Z`, with milliseconds or with an offset, shown in the clinic's zone;
  an offset that is not the clinic zone's on that date is refused (an export that stamps
  today's offset on a January date would put every time an hour off);
- the patient, by a reference relative (`Patient/1`), absolute (`https://host/fhir/Patient/1`),
  versioned (`Patient/1/_history/4`), `urn:uuid:` or contained (`#p1`): the name from the
  participant's display (`GAGNON, JEAN`, `Smart II, Nancy`) or the Patient resource (`name`:
  given/family or text), the language from its `communication` (preferred first);
  practitioners (`Practitioner/`, `PractitionerRole/`, `Person/`) are never the patient;
- the instruction set, by the appointment type or service type code in the clinic profile's
  `appointment_types` (`code: set-id`, or `system|code: set-id` for a tenant's own code
  system), or by the type's text;
- statuses: cancelled, no-show and entered-in-error appointments, and proposed ones with no
  start yet, are skipped and counted.
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
from ketaprep.lists.status import CANCELLED, IN_ERROR, NO_SHOW
from ketaprep.lists.values import type_text

NOT_ROWS = {"cancelled": CANCELLED, "entered-in-error": IN_ERROR, "noshow": NO_SHOW}
NOT_YET = {"proposed", "pending", "waitlist"}
FIELDS = {"patient", "date", "start", "set", "lang", "duration"}
NOT_PATIENTS = ("Practitioner", "PractitionerRole", "Person", "RelatedPerson", "Location", "Device",
                "HealthcareService", "Group")
_CODE = re.compile(r"^[\w.:/|#@+-]{1,128}$", re.ASCII)


def _code_text(code: str) -> str:
    """A code for a message: codes are the EHR's vocabulary, not patient data, but stay bounded."""
    return f'"{code}"' if _CODE.match(code) else "(a code with unusual characters)"


def read_fhir(path: Path, appointment_types: dict[str, str], zone: str) -> tuple[set[str], Iterator[ListRow]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: a FHIR file must be UTF-8 JSON") from None
    lines = False
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise UsageError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
        data, lines = _ndjson(path, text), True
    kind: Any = "NDJSON"
    if lines:
        entries: list[Any] = data
    elif not isinstance(data, dict):
        raise UsageError(f"{path}: expected a FHIR Bundle of Appointment resources")
    else:
        kind = data.get("resourceType")
        if kind == "Appointment":
            entries = [{"resource": data}]
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
                patients.setdefault(_local(entry["fullUrl"]), resource)
    if lines and not any(
        isinstance(e.get("resource"), dict) and e["resource"].get("resourceType") == "Appointment" for e in entries
    ):
        raise UsageError(f"{path}: an NDJSON file with no Appointment resources; export the Appointments "
                         "(one resource a line), with their Patients if the appointments do not name them")
    return set(FIELDS), _rows(entries, patients, appointment_types, ZoneInfo(zone), "line" if lines else "entry")


def _ndjson(path: Path, text: str) -> list[Any]:
    """One resource a line (a bulk export): every line must be a JSON object."""
    entries: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            entries.append(None)  # keeps the numbering: entry N is line N
            continue
        try:
            resource = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: line {number}: not valid JSON ({exc.msg}); NDJSON holds one "
                             "resource a line") from None
        if not isinstance(resource, dict) or "resourceType" not in resource:
            raise UsageError(f"{path}: line {number}: not a FHIR resource; NDJSON holds one resource a line")
        entries.append({"resource": resource})
    return entries


def _local(reference: str) -> str:
    """`https://host/fhir/Patient/1/_history/4` -> `Patient/1`; `Patient/1` stays; others as they are."""
    found = re.search(r"(?:^|/)([A-Z][A-Za-z]+/[A-Za-z0-9.\-]{1,64})(?:/_history/[A-Za-z0-9.\-]{1,64})?/?$", reference)
    return found.group(1) if found else reference


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
    entries: list[Any], patients: dict[str, dict[str, Any]], types: dict[str, str], zone: ZoneInfo, word: str
) -> Iterator[ListRow]:
    for index, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
            continue  # included Patients, OperationOutcomes: not appointments
        where = f"{word} {index}"
        status = resource.get("status")
        if status in NOT_ROWS:
            yield ListRow(index, {}, where=where, skip=f"the appointment is {NOT_ROWS[status]}")
            continue
        if status in NOT_YET and resource.get("start") is None:
            yield ListRow(index, {}, where=where, skip=f"the appointment is {status} and has no start yet")
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
    found = instant.utcoffset()
    local = instant.astimezone(zone)
    expected = local.utcoffset()
    if found and expected is not None and found != expected:  # Z and +00:00 are UTC itself: always right
        raise ValueError(
            f"start {_instant_text(start)} has the UTC offset {_offset(found)}, but {zone.key} is at "
            f"{_offset(expected)} on {local.date().isoformat()}; the export's offset is wrong (every time would be "
            "off by the difference): correct it in the EHR's export"
        )
    return local.replace(tzinfo=None, microsecond=0)


def _offset(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _instant_text(start: str) -> str:
    return start if re.fullmatch(r"[0-9T:.+\-Z]{10,40}", start) else "(text not shown)"


def _patient(resource: dict[str, Any], patients: dict[str, dict[str, Any]]) -> tuple[str | None, dict[str, Any] | None]:
    contained = {
        f"#{c['id']}": c for c in resource.get("contained") or []
        if isinstance(c, dict) and c.get("resourceType") == "Patient" and isinstance(c.get("id"), str)
    }
    found: list[tuple[str | None, dict[str, Any] | None]] = []
    for participant in resource.get("participant") or []:
        actor = participant.get("actor") if isinstance(participant, dict) else None
        if not isinstance(actor, dict):
            continue
        reference = str(actor["reference"]) if isinstance(actor.get("reference"), str) else ""
        local = _local(reference)
        included = contained.get(reference) or patients.get(reference) or patients.get(local)
        kind = local.split("/")[0] if "/" in local else actor.get("type")
        if kind in NOT_PATIENTS:
            continue
        if not (kind == "Patient" or actor.get("type") == "Patient" or included):
            continue
        display = actor.get("display") if isinstance(actor.get("display"), str) and actor["display"].strip() else None
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
        if isinstance(given_names, str):  # not FHIR, but some exports write one given name as a string
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
    """(system, code) of the appointment type, then of each service type and category."""
    out: list[tuple[str, str]] = []
    for concept in _concepts(resource):
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                out.append((str(coding.get("system") or ""), coding["code"]))
    return out


def _concepts(resource: dict[str, Any]) -> list[dict[str, Any]]:
    concepts = [resource.get("appointmentType")]
    for key in ("serviceType", "serviceCategory"):
        found = resource.get(key)
        concepts += list(found) if isinstance(found, list) else []
    return [c for c in concepts if isinstance(c, dict)]


def _texts(resource: dict[str, Any]) -> list[str]:
    """The type's words, as a clinic may map them: the concept's text, then each coding's display."""
    out: list[str] = []
    for concept in _concepts(resource):
        if isinstance(concept.get("text"), str):
            out.append(concept["text"])
        out += [c["display"] for c in concept.get("coding") or [] if isinstance(c, dict) and isinstance(c.get("display"), str)]
    return out


def _set_id(resource: dict[str, Any], types: dict[str, str]) -> str | None:
    codes = _codes(resource)
    texts = _texts(resource)
    if not codes and not texts:
        return None  # the default set
    for system, code in codes:
        for key in (f"{system}|{code}", code):
            if key in types:
                return types[key]
    folded = {" ".join(k.split()).casefold(): v for k, v in types.items()}
    for text in texts:
        if " ".join(text.split()).casefold() in folded:
            return folded[" ".join(text.split()).casefold()]
    if not codes:
        raise ValueError(
            f"appointment type {type_text(texts[0])} has no instruction set; map its text in the clinic profile, "
            'appointment_types: {"TYPE": SET-ID} with the set its patients get (ketaprep sets lists them)'
        )
    listed = ", ".join(_code_text(code) for _system, code in codes[:3])
    example = json.dumps(codes[0][1]) if _CODE.match(codes[0][1]) else '"CODE"'
    raise ValueError(
        f"appointment type {listed} has no instruction set; map it in the clinic profile, "
        f"appointment_types: {{{example}: SET-ID}} with the set its patients get (ketaprep sets lists them)"
    )


def _booked(resource: dict[str, Any]) -> dt.timedelta | None:
    """The booked length (minutesDuration, else end - start): used only for sets whose length varies."""
    minutes = resource.get("minutesDuration")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
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
