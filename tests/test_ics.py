"""The calendar file: the same instants as the JSON timeline, alarms, zones, stable UIDs.

Golden files: tests/golden/ics/*.ics (regenerate with KETAPREP_REGEN=1 and review the diff).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import assert_golden
from icalendar import Calendar

DAYS = {
    "normal": "2026-11-24",
    "spring_forward": "2027-03-14",  # the last meal (midnight EST) is before the 2:00 change
    "fall_back": "2026-11-01",  # the last meal (1:00 a.m. EST) is in the repeated hour
}
MOMENT_KINDS_EXCLUDED = {"treatment_start", "treatment_end", "discharge"}  # inside the appointment event


def _render(cli: Any, *args: str) -> tuple[bytes, dict[str, Any]]:
    """The .ics bytes and the JSON timeline for the same arguments."""
    ics = cli("render", *args, "--format", "ics")
    assert ics.code == 0, ics.err
    timeline = cli("render", *args, "--format", "json")
    assert timeline.code == 0, timeline.err
    return ics.raw, json.loads(timeline.out)


def _events(raw: bytes) -> list[Any]:
    return list(Calendar.from_ical(raw).walk("VEVENT"))


def _instant(value: dt.datetime) -> dt.datetime:
    assert value.tzinfo is not None, f"floating time {value}"
    return value.astimezone(dt.UTC)


def _label(summary: str) -> str:
    """A moment's summary is its schedule label and time ("Stop clear liquids (water, clear juice): 7:00 a.m."): the label."""
    return re.split(r"\u00a0?: ", summary, maxsplit=1)[0]


def _by_summary(raw: bytes) -> dict[str, Any]:
    """label (the title for the appointment) -> event."""
    events = _events(raw)
    found = {_label(str(e["SUMMARY"])): e for e in events}
    assert len(found) == len(events), "two events share a summary"
    return found


def _timeline(data: dict[str, Any]) -> dict[str, dt.datetime]:
    return {e["key"]: dt.datetime.fromisoformat(e["at"]).astimezone(dt.UTC) for e in data["events"]}


@pytest.mark.parametrize("day", list(DAYS.values()), ids=list(DAYS))
def test_every_ics_instant_is_the_json_timeline_instant(cli: Any, day: str) -> None:
    raw, data = _render(cli, "--start", "09:00", "--date", day, "--patient", "Ada Test")
    at = _timeline(data)
    events = _by_summary(raw)
    title = next(s for s in events if s.startswith("Ketamine"))
    appointment = events.pop(title)
    assert _instant(appointment.decoded("DTSTART")) == at["treatment_start"]
    assert _instant(appointment.decoded("DTEND")) == at["discharge"]
    expected = {e["label"]: e["key"] for e in data["events"] if e["key"] not in MOMENT_KINDS_EXCLUDED}
    assert set(events) == set(expected)
    for summary, event in events.items():
        assert _instant(event.decoded("DTSTART")) == at[expected[summary]], summary
        assert "DTEND" not in event and "DURATION" not in event, "a moment has no length"


def _observances(raw: bytes) -> dict[str, list[tuple[dt.datetime, dt.timedelta]]]:
    """Each VTIMEZONE read the RFC 5545 way: (onset in UTC, offset from then on), sorted."""
    zones: dict[str, list[tuple[dt.datetime, dt.timedelta]]] = {}
    for timezone in Calendar.from_ical(raw).walk("VTIMEZONE"):
        parts = []
        for part in timezone.subcomponents:
            onset = part.decoded("DTSTART")
            assert onset.tzinfo is None, "an observance onset is a local time"
            offset_from, offset_to = part.decoded("TZOFFSETFROM"), part.decoded("TZOFFSETTO")
            assert "RDATE" not in part and "RRULE" not in part
            parts.append(((onset - offset_from).replace(tzinfo=dt.UTC), offset_to))
        zones[str(timezone["TZID"])] = sorted(parts)
    return zones


def _utc_from_vtimezone(local: dt.datetime, observances: list[tuple[dt.datetime, dt.timedelta]]) -> dt.datetime:
    """The one instant the VTIMEZONE gives a local time (failing if none or two)."""
    found = []
    for _, offset in observances:
        instant = local.replace(tzinfo=dt.UTC) - offset
        in_force = [o for onset, o in observances if onset <= instant]
        if in_force and in_force[-1] == offset and instant not in found:
            found.append(instant)
    assert len(found) == 1, f"{local} is {'ambiguous' if found else 'impossible'} in the VTIMEZONE"
    return found[0]


@pytest.mark.parametrize("day", list(DAYS.values()), ids=list(DAYS))
def test_the_vtimezone_itself_gives_the_json_instants(cli: Any, day: str) -> None:
    """Read with the file's own VTIMEZONE (not the reader's tz database), every time is right."""
    raw, data = _render(cli, "--start", "09:00", "--date", day)
    zones = _observances(raw)
    assert list(zones) == ["America/Toronto"]
    instants = set(_timeline(data).values())
    for event in _events(raw):
        for name in ("DTSTART", "DTEND"):
            if name not in event:
                continue
            prop = event[name]
            tzid = prop.params.get("TZID")
            if tzid is None:
                continue  # true UTC, checked in test_no_time_is_floating
            local = event.decoded(name).replace(tzinfo=None)
            assert _utc_from_vtimezone(local, zones[tzid]) in instants


def test_the_spring_forward_onset_is_written_in_the_offset_before_the_change(cli: Any) -> None:
    raw, _ = _render(cli, "--start", "09:00", "--date", DAYS["spring_forward"])
    text = raw.decode()
    assert "BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZNAME:EDT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400" in text


def test_a_time_in_the_repeated_hour_is_written_in_utc(cli: Any) -> None:
    """1:00 a.m. EST on 1 November 2026 would read as 1:00 a.m. EDT with a TZID: one hour early."""
    raw, _ = _render(cli, "--start", "09:00", "--date", DAYS["fall_back"])
    unfolded = raw.replace(b"\r\n ", b"")
    assert (b"SUMMARY:Stop eating (this includes milk\\, gum and candy): 1:00 a.m. (the night of Saturday to Sunday)"
            b"\r\nDTSTART:20261101T060000Z\r\n") in unfolded


def test_no_time_is_floating(cli: Any) -> None:
    for day in DAYS.values():
        raw, _ = _render(cli, "--start", "09:00", "--date", day)
        text = raw.decode()
        body = text[text.index("BEGIN:VEVENT") :]
        lines = re.findall(r"^(DTSTART|DTEND|DTSTAMP|LAST-MODIFIED)([;:][^\r\n]*)\r?$", body, flags=re.M)
        assert lines
        tzids = set(re.findall(r"^TZID:(.*)\r$", text, flags=re.M))
        for name, rest in lines:
            if rest.startswith(";TZID="):
                assert rest[len(";TZID=") :].split(":")[0] in tzids, f"{name}{rest}: no VTIMEZONE"
                assert not rest.endswith("Z")
            else:
                assert rest.endswith("Z"), f"{name}{rest} is floating"


def test_a_utc_clinic_writes_true_utc_and_no_vtimezone(cli: Any) -> None:
    raw, data = _render(cli, "--start", "09:00", "--date", DAYS["normal"], "--tz", "UTC")
    assert b"TZID" not in raw and b"BEGIN:VTIMEZONE" not in raw
    assert b"DTSTART:20261124T090000Z" in raw
    instants = set(_timeline(data).values())
    assert all(_instant(e.decoded("DTSTART")) in instants for e in _events(raw))


def test_every_event_has_a_display_alarm_30_minutes_ahead(cli: Any) -> None:
    raw, _ = _render(cli, "--start", "09:00", "--date", DAYS["normal"])
    events = _events(raw)
    assert len(events) == 8  # the appointment and 7 moments of iv-pain-4h
    for event in events:
        alarms = event.walk("VALARM")
        assert len(alarms) == 1
        assert str(alarms[0]["ACTION"]) == "DISPLAY"
        trigger = alarms[0].decoded("TRIGGER")
        summary = str(event["SUMMARY"])
        if isinstance(trigger, dt.datetime):  # a night cut-off (midnight, 1:00 a.m.): the evening before, at 20:00
            assert trigger.astimezone(ZoneInfo("America/Toronto")).time() == dt.time(20, 0)
        elif summary.startswith(("You may drive", "The adult staying")):  # never before the restriction ends
            assert trigger == dt.timedelta(0)
        else:
            assert trigger == dt.timedelta(minutes=-30)
            assert str(alarms[0]["DESCRIPTION"]) == summary
        assert "RELATED" not in alarms[0]["TRIGGER"].params  # relative to the start


def test_the_clinic_profile_sets_the_alarm_and_the_location(cli: Any, tmp_path: Any) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        "name: Test Clinic\nphone: 555-0100\naddress: 1 Test Street, Toronto\nalarm_minutes: 45\n", encoding="utf-8"
    )
    raw, _ = _render(cli, "--start", "09:00", "--date", DAYS["normal"], "--clinic", str(clinic))
    events = _events(raw)
    relative = {e.walk("VALARM")[0].decoded("TRIGGER") for e in events} - {dt.timedelta(0)}
    assert {t for t in relative if isinstance(t, dt.timedelta)} == {dt.timedelta(minutes=-45)}
    appointment = next(e for e in events if "DTEND" in e)
    assert str(appointment["LOCATION"]) == "1 Test Street, Toronto"
    assert all("555-0100" in str(e["DESCRIPTION"]) for e in events)


def test_a_negative_alarm_is_refused() -> None:
    from ketaprep.errors import SetError
    from ketaprep.sheet import Options, write

    with pytest.raises(SetError, match="alarm_minutes"):
        write("ics", [_sheet("Ada Test", dt.time(9))], Options(alarm_minutes=-5))


def _uids(raw: bytes) -> dict[str, str]:
    """summary -> UID (the appointment as "appointment")."""
    return {("appointment" if "DTEND" in e else _label(str(e["SUMMARY"]))): str(e["UID"]) for e in _events(raw)}


def test_uids_are_stable_across_runs_and_a_corrected_start_time(cli: Any) -> None:
    args = ("--date", DAYS["normal"], "--patient", "Ada Test")
    first, _ = _render(cli, "--start", "09:00", *args)
    again, _ = _render(cli, "--start", "09:00", *args)
    assert first == again  # the same inputs give the same bytes
    corrected, _ = _render(cli, "--start", "10:30", *args)
    assert corrected != first
    assert _uids(corrected) == _uids(first)
    assert len(set(_uids(first).values())) == len(_uids(first))
    assert all(re.fullmatch(r"[0-9a-f]{32}@ketaprep", value) for value in _uids(first).values())


def test_uids_differ_per_patient_and_date_and_never_show_the_name(cli: Any) -> None:
    ada, _ = _render(cli, "--start", "09:00", "--date", DAYS["normal"], "--patient", "Ada Test")
    bob, _ = _render(cli, "--start", "09:00", "--date", DAYS["normal"], "--patient", "Bob Sample")
    later, _ = _render(cli, "--start", "09:00", "--date", "2026-12-01", "--patient", "Ada Test")
    assert not set(_uids(ada).values()) & set(_uids(bob).values())
    assert not set(_uids(ada).values()) & set(_uids(later).values())
    for line in re.findall(rb"^UID:.*$", ada, flags=re.M):
        assert b"ada" not in line.lower()


def _sheet(patient: str, start: dt.time, day: dt.date = dt.date(2026, 11, 24), lang: str = "en") -> Any:
    from ketaprep.loader import SetLibrary
    from ketaprep.sheet import make_sheet
    from ketaprep.timeline import Appointment

    loaded = SetLibrary().load("iv-pain-4h")
    return make_sheet(loaded, Appointment(day, start, patient=patient), None, lang, None, day)


def test_a_batch_is_one_calendar_with_every_patients_events() -> None:
    from ketaprep.sheet import Options, write

    sheets = [_sheet("Ada Test", dt.time(9)), _sheet("Bob Sample", dt.time(11)), _sheet("Ada Test", dt.time(13))]
    raw = write("ics", sheets, Options())
    calendar = Calendar.from_ical(raw)
    assert raw.count(b"BEGIN:VCALENDAR") == 1 and raw.count(b"BEGIN:VTIMEZONE") == 1
    events = calendar.walk("VEVENT")
    assert len(events) == 3 * 8
    assert len({str(e["UID"]) for e in events}) == len(events), "UIDs are unique within a file"
    summaries = [str(e["SUMMARY"]) for e in events]
    assert sum(s.startswith("Bob Sample: ") for s in summaries) == 8
    assert "Ada Test: Stop eating (this includes milk, gum and candy): 1:00 a.m. (the night of Monday to Tuesday)" in summaries


def test_en_fr_summaries_carry_both_languages(cli: Any, tmp_path: Any) -> None:
    raw, data = _render(cli, "--start", "09:00", "--date", DAYS["normal"], "--set", "iv-pain-4h", "--lang", "en+fr")
    summaries = {str(e["SUMMARY"]) for e in _events(raw)}
    english = "Ketamine IV infusion for chronic pain (about 4 hours)"
    french = "Perfusion intraveineuse de kétamine pour la douleur chronique (environ 4\u00a0heures)"
    assert f"{english} / {french}" in summaries
    for event in data["events"]:
        if event["key"] in MOMENT_KINDS_EXCLUDED:
            continue
        english_label, french_label = event["labels"]["en"], event["labels"]["fr"]
        assert any(
            s.startswith(f"{english_label}: ") and f" / {french_label}" in s for s in summaries
        ), english_label


def test_a_reminder_shows_the_time_so_may_drive_after_never_reads_as_now(cli: Any) -> None:
    """A phone shows only the summary: "You may drive ... again after" must carry its time."""
    raw, _ = _render(cli, "--start", "09:00", "--date", DAYS["normal"], "--patient", "Ada Test")
    events = _by_summary(raw)
    drive = events["You may drive or use machines again"]
    assert str(drive["SUMMARY"]) == "You may drive or use machines again: 1:00 p.m., Wednesday 25 November"
    assert str(drive.walk("VALARM")[0]["DESCRIPTION"]) == str(drive["SUMMARY"])


def _builtin_sets() -> list[str]:
    from ketaprep.loader import SetLibrary

    return sorted(SetLibrary().files())


@pytest.mark.parametrize("set_id", _builtin_sets())
def test_golden_ics_for_every_builtin_set(cli: Any, set_id: str) -> None:
    extra = ("--duration", "90m") if set_id == "iv-variable" else ()
    result = cli("render", "--start", "09:00", "--date", DAYS["normal"], "--patient", "Ada Test", "--set", set_id,
                 *extra, "--format", "ics")
    assert result.code == 0, result.err
    assert_golden(f"ics/{set_id}.ics", result.raw)


def test_golden_ics_on_the_spring_forward_day(cli: Any) -> None:
    result = cli("render", "--start", "09:00", "--date", DAYS["spring_forward"], "--patient", "Ada Test", "--format", "ics")
    assert result.code == 0, result.err
    assert_golden("ics/iv-pain-4h-spring-forward.ics", result.raw)
