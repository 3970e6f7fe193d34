"""Humane reminders: never between 22:00 and 05:59, a night cut-off announced the evening before
(saying what it announces), and "may drive again" never before driving is allowed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from ketaprep.reminders import in_night, reminder

TORONTO = ZoneInfo("America/Toronto")


@settings(max_examples=400, deadline=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)),
    minutes=st.integers(0, 240),
    kind=st.sampled_from(["cutoff", "restriction", "info"]),
    evening=st.times(min_value=dt.time(12, 0), max_value=dt.time(21, 59)).map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_no_reminder_rings_at_night_and_restrictions_never_ring_early(
    moment: dt.datetime, minutes: int, kind: str, evening: dt.time
) -> None:
    at = moment.replace(tzinfo=dt.UTC).astimezone(TORONTO)
    rung = reminder(at, kind, minutes, TORONTO, evening)
    assert not in_night(rung.at, TORONTO)
    if kind == "restriction":
        assert rung.at >= at  # never before driving is allowed
        assert rung.at - at < dt.timedelta(hours=8, minutes=1)
    else:
        assert rung.at <= at - dt.timedelta(minutes=minutes) or rung.at <= at
        assert rung.at <= at
        assert at - rung.at < dt.timedelta(days=1)
        if rung.moved:
            assert rung.at.astimezone(TORONTO).time() == evening
        else:
            assert rung.at == at - dt.timedelta(minutes=minutes)


def test_evening_is_the_evening_before_the_night() -> None:
    one_am = dt.datetime(2026, 11, 24, 1, 0, tzinfo=TORONTO)
    assert reminder(one_am, "cutoff", 30, TORONTO).at == dt.datetime(2026, 11, 23, 20, 0, tzinfo=TORONTO)
    late = dt.datetime(2026, 11, 23, 22, 45, tzinfo=TORONTO)
    assert reminder(late, "cutoff", 30, TORONTO).at == dt.datetime(2026, 11, 23, 20, 0, tzinfo=TORONTO)
    assert reminder(dt.datetime(2026, 11, 24, 6, 20, tzinfo=TORONTO), "cutoff", 30, TORONTO).at == dt.datetime(
        2026, 11, 23, 20, 0, tzinfo=TORONTO)
    drive = dt.datetime(2026, 11, 25, 1, 0, tzinfo=TORONTO)
    assert reminder(drive, "restriction", 30, TORONTO).at == dt.datetime(2026, 11, 25, 6, 0, tzinfo=TORONTO)
    drive_late = dt.datetime(2026, 11, 24, 23, 0, tzinfo=TORONTO)
    assert reminder(drive_late, "restriction", 30, TORONTO).at == dt.datetime(2026, 11, 25, 6, 0, tzinfo=TORONTO)
    with pytest.raises(ValueError, match="12:00 to 21:59"):
        reminder(one_am, "cutoff", 30, TORONTO, dt.time(22, 30))


def alarms(ics: bytes) -> dict[str, tuple[dt.datetime, str, str]]:
    """summary -> (when the alarm rings, its description, the event's own summary)."""
    out = {}
    for event in Calendar.from_ical(ics).walk("VEVENT"):
        start = event.decoded("DTSTART")
        [alarm] = event.walk("VALARM")
        trigger = alarm.decoded("TRIGGER")
        rings = trigger if isinstance(trigger, dt.datetime) else start + trigger
        out[str(event["SUMMARY"])] = (rings.astimezone(TORONTO), str(alarm["DESCRIPTION"]), str(event["SUMMARY"]))
    return out


def test_ics_announces_night_cutoffs_the_evening_before(cli: Any) -> None:
    result = cli("render", "--start", "09:00", "--date", "2026-11-24", "--format", "ics")
    found = alarms(result.raw)
    meal = next(v for k, v in found.items() if k.startswith("Stop eating"))
    assert meal[0] == dt.datetime(2026, 11, 23, 20, 0, tzinfo=TORONTO)
    assert meal[1].startswith("Stop eating") and "1:00 a.m." in meal[1] and "Tuesday 24 November" in meal[1]
    caffeine = next(v for k, v in found.items() if k.startswith("No more caffeine"))
    assert caffeine[0] == dt.datetime(2026, 11, 23, 20, 0, tzinfo=TORONTO)
    assert caffeine[1].endswith("midnight at the end of Monday 23 November")
    liquids = next(v for k, v in found.items() if k.startswith("Stop clear liquids"))
    assert liquids[0] == dt.datetime(2026, 11, 24, 6, 30, tzinfo=TORONTO) and liquids[1] == liquids[2]
    drive = next(v for k, v in found.items() if k.startswith("You may drive"))
    assert drive[0] == dt.datetime(2026, 11, 25, 13, 0, tzinfo=TORONTO)  # at the moment, never 30 minutes early
    assert drive[2].endswith("1:00 p.m., Wednesday 25 November")  # the title keeps its time
    for rings, _text, _summary in found.values():
        assert not in_night(rings, TORONTO)


LATE_SET = """\
extends: iv-pain-4h
id: late-test
version: "1"
hours:
  earliest: "07:00"
  latest: "21:30"
"""


def test_drive_again_in_the_night_rings_the_next_morning(cli: Any, tmp_path: Path) -> None:
    """A 21:30 start: driving is allowed from 1:30 a.m. two nights later; the alarm waits for 6:00, never earlier."""
    path = tmp_path / "late-test.yaml"
    path.write_text(LATE_SET, encoding="utf-8")
    args = ("render", "--start", "21:30", "--date", "2026-11-24", "--set", str(path))
    result = cli(*args, "--format", "ics")
    assert result.code == 0, result.err
    timeline = json.loads(cli(*args, "--format", "json").out)
    drive_at = dt.datetime.fromisoformat(next(e["at"] for e in timeline["events"] if e["key"] == "drive_again"))
    assert in_night(drive_at, TORONTO)
    drive = next(v for k, v in alarms(result.raw).items() if k.startswith("You may drive"))
    assert drive[0] >= drive_at and drive[0].time() == dt.time(6, 0)
    assert drive[1].startswith("You may drive") and drive[1].endswith("1:30 a.m., Thursday 26 November")


def test_clinic_sets_the_evening_hour(cli: Any, tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text('name: Test Clinic\nevening_reminder: "7:30 pm"\n', encoding="utf-8")
    result = cli("render", "--start", "09:00", "--date", "2026-11-24", "--format", "ics", "--clinic", str(clinic))
    meal = next(v for k, v in alarms(result.raw).items() if k.startswith("Stop eating"))
    assert meal[0] == dt.datetime(2026, 11, 23, 19, 30, tzinfo=TORONTO)


def test_a_night_evening_hour_is_refused(cli: Any, tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text('name: Test Clinic\nevening_reminder: "23:00"\n', encoding="utf-8")
    result = cli("render", "--start", "09:00", "--date", "2026-11-24", "--clinic", str(clinic))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"error: {clinic}, line 2: evening_reminder: 23:00 is not in the evening; reminders never ring from 22:00 "
        "to 05:59,",
        "  so give a time from 12:00 to 21:59 (e.g. 20:00)",
    ]
