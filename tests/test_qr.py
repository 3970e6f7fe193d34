"""QR codes on the printed handout, read back with a real decoder (zbarimg) from the PDF
rasterised at 150 dpi and from Chromium's print of the HTML: each one VCALENDAR with one
VEVENT at the JSON timeline's instant, with a reminder, and no patient name."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import require_tool
from icalendar import Calendar

from ketaprep.reminders import in_night

PATIENT = "Ada Quillfeather"
DAY = "2026-11-24"
TORONTO = ZoneInfo("America/Toronto")
HOME = {"last_meal", "last_clear_liquid", "last_medication", "no_caffeine_from"}


def decode(png: Path) -> list[str]:
    """Every QR code zbarimg finds on the image, as text. `-Sbinary` gives the codes' bytes as
    they are (UTF-8, declared by an ECI); zbar's own character-set guess garbles accents."""
    zbarimg = require_tool("zbarimg")
    run = subprocess.run([zbarimg, "--raw", "-q", "-Sbinary", str(png)], capture_output=True, check=False)  # noqa: S603
    if run.returncode == 4:  # no symbol found
        return []
    assert run.returncode == 0, run.stderr
    return re.findall(r"BEGIN:VCALENDAR\r\n.*?END:VCALENDAR\r\n", run.stdout.decode("utf-8"), re.S)


def decode_pdf(pdf: Path, tmp_path: Path) -> list[str]:
    pdftoppm = require_tool("pdftoppm")
    prefix = tmp_path / pdf.stem
    subprocess.run([pdftoppm, "-r", "150", "-png", str(pdf), str(prefix)], check=True)  # noqa: S603
    found = []
    for png in sorted(tmp_path.glob(f"{pdf.stem}-*.png")):
        found.extend(decode(png))
    return found


def expected_instants(timeline: dict[str, Any]) -> set[dt.datetime]:
    events = timeline["events"]
    return {dt.datetime.fromisoformat(e["at"]) for e in events if e["key"] in HOME | {"arrive"}}


def check_codes(texts: list[str], timeline: dict[str, Any]) -> None:
    assert texts, "no QR code decoded"
    seen = set()
    for text in texts:
        assert PATIENT.split()[0] not in text and PATIENT.split()[1] not in text
        calendar = Calendar.from_ical(text)
        assert calendar.name == "VCALENDAR"
        [event] = calendar.walk("VEVENT")  # exactly one event per code
        assert len(calendar.subcomponents) == 1
        start = event.decoded("DTSTART")
        [alarm] = event.walk("VALARM")
        trigger = alarm.decoded("TRIGGER")
        rings = trigger if isinstance(trigger, dt.datetime) else start + trigger
        assert not in_night(rings, TORONTO) and rings <= start
        summary = str(event["SUMMARY"])
        assert any(c.isdigit() for c in summary) or "minuit" in summary or "midnight" in summary
        seen.add(start)
    assert len(texts) == len(seen)  # one code per moment
    assert seen == expected_instants(timeline)


@pytest.mark.parametrize("lang", ["en", "fr", "en+fr"])
def test_pdf_codes_decode_at_150_dpi_to_the_json_instants(cli: Any, tmp_path: Path, lang: str) -> None:
    pdf = tmp_path / "handout.pdf"
    args = ["render", "--start", "09:00", "--date", DAY, "--patient", PATIENT, "--lang", lang]
    assert cli(*args, "-o", str(pdf)).code == 0
    timeline = json.loads(cli(*args, "--format", "json").out)
    texts = decode_pdf(pdf, tmp_path)
    languages = lang.split("+")
    assert len(texts) == 4 * len(languages)  # caffeine, meal, liquids and medicines together (7:00), arrival
    for index in range(len(languages)):
        check_codes(texts[index * 4 : index * 4 + 4], timeline)


def test_clinic_turns_codes_off(cli: Any, tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("name: Test Clinic\nqr_codes: false\n", encoding="utf-8")
    pdf = tmp_path / "off.pdf"
    assert cli("render", "--start", "09:00", "--date", DAY, "--clinic", str(clinic), "-o", str(pdf)).code == 0
    assert decode_pdf(pdf, tmp_path) == []


def test_codes_follow_a_changed_start(cli: Any, tmp_path: Path) -> None:
    """Same day, other start: the codes move with it (nothing cached across sheets)."""
    pdf = tmp_path / "late.pdf"
    args = ["render", "--start", "11:15", "--date", "2026-03-08", "--patient", PATIENT]  # the day the clocks go forward
    assert cli(*args, "-o", str(pdf)).code == 0
    check_codes(decode_pdf(pdf, tmp_path), json.loads(cli(*args, "--format", "json").out))
