"""QR codes on the printed handout: a phone's camera turns each into one calendar event.

One code for each cut-off the patient acts on at home (last meal, last clear liquid, and
caffeine and medicines when their time differs) and one for the arrival; moments at the same
instant share a code, their labels joined. Each code holds one VCALENDAR with exactly one
VEVENT (phones add one event per code): the event's exact instant in UTC, its label (without
its aside in brackets) with its time in the handout's language, and a display alarm rung as
`ketaprep.reminders` says (never in the night). No patient name is in a code: a lost sheet's
codes say nothing of who it was for.

The codes are made by segno (error correction L, the smallest symbol: at 1.1 inch it still
decodes from a 150 dpi scan): as SVG for the HTML (inline, vectors), and as a PNG of three
pixels per module for the Typst template, placed with `scaling: "pixelated"` (sharp edges,
and a quarter of the compile time an SVG image took). Identical content (the same set, moment
and language) gives the same code, made once per process (segno is pure Python: about 35 ms a
code, most of it choosing the mask as the standard says, and 6 ms for its PNG).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ketaprep.formats.typst_escape import TypstCode
from ketaprep.handout import Handout
from ketaprep.sheet import Options, Sheet

if TYPE_CHECKING:
    import segno

HOME_CUTOFFS = ("last_meal", "last_clear_liquid", "last_medication", "no_caffeine_from")
"""Which of the home cut-offs keeps its own code when several fall at the same instant."""
PRODID = "-//ketaprep//EN"
PNG_SCALE = 3
"""Pixels a module in the PDF's PNG: 3 decoded at 150 dpi in every case tried; 4 and 5 failed
for some codes (poppler's resampling of a 1.1 in image), and 1 never decoded."""
_ASIDE = re.compile(r" ?\([^()]*\)")
"""A label's aside ("(coffee, tea, cola, energy drinks)"): left out of a code to keep it small
enough to scan off paper at 1 inch; the printed schedule keeps it."""


@dataclass(frozen=True)
class QrCode:
    """One code: what its caption says, the calendar text it holds, and its SVG."""

    keys: tuple[str, ...]
    caption: str
    """What the code adds, with its time ("Stop eating solid food: 1:00 a.m."): the image's alt text."""
    when: str
    """The time printed under the code, as in the schedule's "When" column."""
    at: dt.datetime
    calendar: str
    svg: str
    """Inline SVG for HTML (no namespace, no URL in it)."""
    image_file: str | None = None
    """The PNG's file name in `Options.image_folder` (the Typst root), when there is one."""

    @property
    def typst_png(self) -> TypstCode:
        """The code as a PNG for Typst: a `read(...)` of its file in the image folder, or a
        `bytes((...))` expression (numbers and a file name of hex digits only, no text)."""
        if self.image_file is not None:
            return TypstCode(f'read("/{self.image_file}", encoding: none)')
        return TypstCode(png_bytes_expression(self.calendar))


def _moments(sheet: Sheet) -> list[tuple[tuple[str, ...], dt.datetime]]:
    """(event keys, instant) for each code, in time order: the home cut-offs and the arrival, those
    at the same instant sharing one code (one reminder, and each time under one code only)."""
    events = [e for e in sheet.timeline.events if e.kind == "cutoff"]
    rank = {key: index for index, key in enumerate(HOME_CUTOFFS)}
    events.sort(key=lambda e: (e.at, e.key == "arrive", rank.get(e.key, len(rank))))
    groups: dict[dt.datetime, list[str]] = {}
    for event in events:
        groups.setdefault(event.at, []).append(event.key)
    return [(tuple(keys), at) for at, keys in groups.items()]


def codes(sheet: Sheet, handout: Handout, options: Options) -> list[QrCode]:
    """The handout's codes ([] when the clinic turned them off)."""
    if not options.qr_codes:
        return []
    rows = {row.key: row for row in handout.schedule}
    out = []
    for keys, at in _moments(sheet):
        label = " / ".join(rows[key].label for key in keys)
        caption = f"{handout.colon(label)} {rows[keys[0]].when}"
        short = " / ".join(_ASIDE.sub("", rows[key].label) for key in keys)
        text = calendar_text(sheet, handout, keys, at, f"{handout.colon(short)} {rows[keys[0]].when}", options)
        image = png_file(options.image_folder, text) if options.image_folder is not None else None
        drawn = svg(text) if image is None else ""  # a batch PDF reads the PNG: no SVG needed
        out.append(QrCode(keys, caption, rows[keys[0]].when, at, text, drawn, image))
    return out


def png_file(folder: Path, text: str) -> str:
    """The code of `text` written once as a PNG in `folder`; its file name (hex digits)."""
    name = "qr-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24] + ".png"
    path = folder / name
    if not path.exists():
        path.write_bytes(_png(text))
    return name


def calendar_text(sheet: Sheet, handout: Handout, keys: tuple[str, ...], at: dt.datetime, summary: str,
                  options: Options) -> str:
    """One VCALENDAR with one VEVENT at the exact instant (UTC), with its reminder; no patient name."""
    from ketaprep.formats.ics_format import announced_when
    from ketaprep.reminders import reminder

    patient = sheet.timeline.appointment.patient.strip()
    if patient and patient.casefold() in summary.casefold():  # a clinic's own label could name the patient
        summary = summary.replace(patient, "").strip()
    zone = sheet.timeline.zone
    kind = next(e.kind for e in sheet.timeline.events if e.key == keys[0])
    when = reminder(at, kind, options.alarm_minutes, zone, options.evening_reminder)
    # The UID names no patient: it is the moment's own (set, event, instant), so two patients at
    # the same time share a code (one rendering) and a phone that scans it twice updates one event.
    moment = "\x1f".join(["ketaprep-qr-1", sheet.loaded.model.id, ",".join(keys), at.astimezone(dt.UTC).isoformat()])
    uid = hashlib.sha256(moment.encode("utf-8")).hexdigest()[:12] + "@ketaprep"
    stamp = dt.datetime.combine(dt.date.fromisoformat(handout.generated), dt.time(0), dt.UTC)
    # The alarm's text is the time it is for (the summary already says what): kept short, so the
    # code stays small enough to scan off paper. Moved out of the night, it names the day too.
    if when.moved:
        trigger: dt.datetime | dt.timedelta = when.at.astimezone(dt.UTC)
        description = announced_when(handout, keys[0], at, sheet.timeline.appointment.date)
    else:
        trigger = when.at.astimezone(dt.UTC) - at.astimezone(dt.UTC)
        description = rows_when(handout, keys[0])
    return _vcalendar(uid, stamp, at.astimezone(dt.UTC), summary, trigger, description)


@lru_cache(maxsize=4096)
def _vcalendar(uid: str, stamp: dt.datetime, start: dt.datetime, summary: str, trigger: dt.datetime | dt.timedelta,
               description: str) -> str:
    """The VCALENDAR text (icalendar); the same moment on a day's list is written once."""
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("summary", summary)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", trigger)
    alarm.add("description", description)
    event.add_component(alarm)
    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data.decode("utf-8")


def rows_when(handout: Handout, key: str) -> str:
    return next(row.when for row in handout.schedule if row.key == key)


@lru_cache(maxsize=1024)
def _symbol(text: str) -> segno.QRCode:
    import segno

    return segno.make(text, error="l", micro=False, encoding="utf-8", eci=True)


def _png(text: str) -> bytes:
    """The QR code of `text` as a PNG (PNG_SCALE pixels a module, a 4-module quiet zone)."""
    buffer = io.BytesIO()
    _symbol(text).save(buffer, kind="png", scale=PNG_SCALE, border=4)
    return buffer.getvalue()


@lru_cache(maxsize=1024)
def png_bytes_expression(text: str) -> str:
    """The QR code of `text` as a PNG, as Typst code (`bytes((...))`)."""
    return "bytes((" + ",".join(map(str, _png(text))) + ",))"


@lru_cache(maxsize=4096)
def svg(text: str) -> str:
    """The QR code of `text` as inline SVG: a viewBox and one path (the template sizes it)."""
    code = _symbol(text)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", xmldecl=False, svgns=False, omitsize=True, border=4, nl=False, svgclass=None,
              lineclass=None)
    return buffer.getvalue().decode("utf-8")
