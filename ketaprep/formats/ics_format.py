"""The calendar file (`--format ics`): the appointment and each moment the patient must act.

What goes in (RFC 5545, written with the icalendar library):

- one event for the appointment, from the treatment start to discharge, at the clinic's
  address, its description carrying the whole schedule;
- one event for each moment the patient must act: every `cutoff` of the timeline (last
  meal, last clear liquid, last medicines, no caffeine, arrive, and a set's own cut-offs)
  and every `restriction` end (companion, may drive again). `info` events (treatment
  start/end, discharge) are inside the appointment event;
- each event has a display alarm `Options.alarm_minutes` ahead (the clinic profile's
  `alarm_minutes`, default 30), rung as `ketaprep.reminders` says: never between 22:00 and
  05:59 (a night cut-off is announced the evening before, at the profile's
  `evening_reminder`, by an absolute trigger whose text names the time and day it
  announces), and the end of a restriction ("may drive again") at the moment itself,
  never before.

Times carry `TZID` with a `VTIMEZONE` for each zone used, or are true UTC (a UTC zone, or a
wall-clock time that happens twice when the clocks go back, which a TZID cannot tell apart):
never floating, never local time labelled as UTC. The VTIMEZONE is built here from the
zoneinfo zone, one observance per transition over the calendar years the events span,
each onset written as RFC 5545 asks (the local time in the offset in force *before* the
change). icalendar's `Timezone.from_tzinfo` writes a spring-forward onset an hour late
(03:00 instead of 02:00 for America/Toronto), so it is not used.

Identity and time stamps, so that importing a corrected file updates instead of
duplicating:

- UID = a hash of (set id, appointment date, zone, patient name normalised, event key)
  + "@ketaprep": stable across runs and across a corrected start time; no name in clear.
  The start time is left out on purpose so that correcting it updates the same events.
- DTSTAMP and LAST-MODIFIED = the SOURCE_DATE_EPOCH instant when set (reproducible
  output), otherwise the time of writing (UTC, whole seconds); SEQUENCE = whole minutes
  from 2020-01-01 UTC to that instant, so a later file is a higher revision.

Summaries are the handout's own labels (`Handout.schedule`), in its language; `en+fr`
gives "English / Français". A combined file (batch) is one calendar with every patient's
events, each summary prefixed with the patient's name so a nurse can tell them apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from ketaprep import __version__
from ketaprep.dst import is_repeated
from ketaprep.errors import SetError
from ketaprep.handout import Handout
from ketaprep.sheet import Options, Sheet
from ketaprep.timeline import Event as TimelineEvent

UTC = dt.UTC
PRODID = f"-//ketaprep//ketaprep {__version__}//EN"
ACT_KINDS = ("cutoff", "restriction")
SEQUENCE_EPOCH = dt.datetime(2020, 1, 1, tzinfo=UTC)
_SEP = "\x1f"


def write(sheets: list[Sheet], options: Options) -> bytes:
    if options.alarm_minutes < 0:
        raise SetError(f"alarm_minutes is {options.alarm_minutes}; it must be 0 or more (minutes before each event)")
    stamp = _stamp()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    events: list[Event] = []
    seen: set[str] = set()
    for sheet in sheets:
        events.extend(_sheet_events(sheet, options, stamp, seen, combined=len(sheets) > 1))
    for timezone in _timezones(events):
        calendar.add_component(timezone)
    for event in events:
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def _stamp() -> dt.datetime:
    """SOURCE_DATE_EPOCH when set (reproducible bytes), otherwise now: see the module docstring."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), UTC)
    return dt.datetime.now(UTC).replace(microsecond=0)


def uid(sheet: Sheet, key: str, salt: str = "") -> str:
    """A stable UID: the same appointment and event give the same UID, even after a corrected start."""
    appointment = sheet.timeline.appointment
    patient = " ".join(appointment.patient.split()).casefold()
    parts = ["ketaprep-uid-1", sheet.loaded.model.id, appointment.date.isoformat(), appointment.timezone, patient, key, salt]
    return hashlib.sha256(_SEP.join(parts).encode("utf-8")).hexdigest()[:32] + "@ketaprep"


def _joined(values: Iterable[str]) -> str:
    """`en+fr`: "English / Français" (the same text twice is written once)."""
    unique: list[str] = []
    for value in values:
        if value not in unique:
            unique.append(value)
    return " / ".join(unique)


def _clinic_line(h: Handout) -> str:
    _ = h.gettext
    return h.clinic_name + (f" | {h.colon(_('Phone'))} {h.clinic_phone}" if h.clinic_phone else "")


def _moment_description(handouts: tuple[Handout, ...], key: str) -> str:
    blocks = []
    for h in handouts:
        row = next(r for r in h.schedule if r.key == key)
        lines = [f"{h.colon(row.label)} {row.when}", *(f"({note})" for note in row.notes), "", _clinic_line(h), h.contact]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _appointment_description(handouts: tuple[Handout, ...]) -> str:
    blocks = []
    for h in handouts:
        _ = h.gettext
        lines = [h.title, f"{h.colon(_('Appointment'))} {h.date_text}", h.arrival, ""]
        for row in h.schedule:
            lines.append(f"- {h.colon(row.label)} {row.when}")
            lines.extend(f"  ({note})" for note in row.notes)
        lines += ["", _clinic_line(h), h.contact]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def summary(handouts: tuple[Handout, ...], key: str) -> str:
    """The schedule's label with its time ("You may drive or use machines again after: 1:00 p.m."):
    a phone's reminder shows only the summary, and a label ending in "after" must never read as "now"."""
    rows = ((h, next(r for r in h.schedule if r.key == key)) for h in handouts)
    return _joined(f"{h.colon(row.label)} {row.when}" for h, row in rows)


def announced_when(h: Handout, key: str, at: dt.datetime, appointment_day: dt.date) -> str:
    """The row's time, with its day even on the appointment day ("1:00 a.m., Tuesday 24 November")."""
    from ketaprep.timefmt import day_text

    when = next(r for r in h.schedule if r.key == key).when
    if at.date() == appointment_day and at.time().replace(tzinfo=None) != dt.time(0, 0):  # no day in it yet
        when = str(h.gettext("{time}, {day}")).format(time=when, day=day_text(at.date(), h.lang))
    return when


def announcement(handouts: tuple[Handout, ...], key: str, at: dt.datetime, appointment_day: dt.date) -> str:
    """A reminder rung at another time than usual (the evening before, the next morning) says
    the time and the day it announces: "Stop eating solid food: 1:00 a.m., Tuesday 24 November"."""
    texts = []
    for h in handouts:
        row = next(r for r in h.schedule if r.key == key)
        texts.append(f"{h.colon(row.label)} {announced_when(h, key, at, appointment_day)}")
    return _joined(texts)


def alarm(summary_text: str, event: TimelineEvent, sheet: Sheet, options: Options, key: str | None = None) -> Alarm:
    """The event's display alarm, rung as `ketaprep.reminders` says: never in the night, never
    before a restriction ends; a moved alarm rings at an absolute time and says what it announces."""
    from ketaprep.reminders import reminder

    zone = ZoneInfo(sheet.timeline.appointment.timezone)
    when = reminder(event.at, event.kind, options.alarm_minutes, zone, options.evening_reminder)
    part = Alarm()
    part.add("action", "DISPLAY")
    if when.moved:
        part.add("trigger", when.at.astimezone(UTC))
        text = announcement(sheet.handouts, key or event.key, event.at, sheet.timeline.appointment.date)
        part.add("description", text)
    else:
        offset = when.at.astimezone(UTC) - event.at.astimezone(UTC)
        part.add("trigger", offset)
        part.add("description", summary_text)
    return part


def _sheet_events(sheet: Sheet, options: Options, stamp: dt.datetime, seen: set[str], combined: bool) -> list[Event]:
    timeline = sheet.timeline
    handouts = sheet.handouts
    patient = timeline.appointment.patient
    prefix = f"{patient}: " if combined and patient else ""

    def label(key: str) -> str:
        return summary(handouts, key)

    def new_uid(key: str) -> str:
        value = uid(sheet, key)
        if value in seen:  # the same patient twice on one day in one file: keep both, distinct
            start = timeline.appointment.start.isoformat()
            value = next(uid(sheet, key, f"{start}#{n}") for n in range(1, 10_000) if uid(sheet, key, f"{start}#{n}") not in seen)
        seen.add(value)
        return value

    out: list[Event] = []
    start, discharge = timeline["treatment_start"], timeline["discharge"]
    title = prefix + _joined(h.title for h in handouts)
    appointment = _event(
        new_uid("appointment"),
        title,
        _appointment_description(handouts),
        start,
        stamp,
        alarm(title, start, sheet, options),
        end=discharge,
    )
    location = handouts[0].clinic_address or (sheet.clinic.name if sheet.clinic else None)
    if location:
        appointment.add("location", location)
    out.append(appointment)
    for event in timeline.events:
        if event.kind not in ACT_KINDS:
            continue
        text = prefix + label(event.key)
        out.append(
            _event(
                new_uid(event.key),
                text,
                _moment_description(handouts, event.key),
                event,
                stamp,
                alarm(text, event, sheet, options),
            )
        )
    return out


def _event(
    uid_value: str,
    summary: str,
    description: str,
    at: TimelineEvent,
    stamp: dt.datetime,
    reminder: Alarm,
    end: TimelineEvent | None = None,
) -> Event:
    event = Event()
    event.add("uid", uid_value)
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("sequence", max(0, int((stamp - SEQUENCE_EPOCH).total_seconds()) // 60))
    event.add("dtstart", _instant(at))
    if end is not None:
        event.add("dtend", _instant(end))
    else:
        event.add("transp", "TRANSPARENT")  # a moment, not busy time
    event.add("summary", summary)
    event.add("description", description)
    event.add("class", "PRIVATE")
    event.add_component(reminder)
    return event


def _instant(event: TimelineEvent) -> dt.datetime:
    """The event's time with its zone, or in UTC when its wall-clock time happens twice.

    A TZID time in a fall-back fold means the *first* occurrence (RFC 5545, 3.3.5), so a
    time in the second one (e.g. 1:00 a.m. EST on 1 November 2026) is written in UTC.
    """
    zone = event.at.tzinfo
    if isinstance(zone, ZoneInfo) and is_repeated(event.at, zone):
        return event.at.astimezone(UTC)
    return event.at


def _timezones(events: list[Event]) -> list[Timezone]:
    """One VTIMEZONE per TZID the events use, covering the calendar years they span."""
    years: dict[str, list[int]] = {}
    for event in events:
        for name in ("DTSTART", "DTEND"):
            prop: Any = event.get(name)
            tzid = prop.params.get("TZID") if prop is not None else None
            if tzid:
                years.setdefault(str(tzid), []).append(event.decoded(name).year)
    return [vtimezone(tzid, min(found), max(found)) for tzid, found in sorted(years.items())]


def _state(zone: ZoneInfo, instant: dt.datetime) -> tuple[dt.timedelta, dt.timedelta, str]:
    local = instant.astimezone(zone)
    return local.utcoffset() or dt.timedelta(0), local.dst() or dt.timedelta(0), local.tzname() or ""


def transitions(zone: ZoneInfo, begin: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The UTC instants in [begin, end) at which the zone's offset, DST flag or name changes."""
    step = dt.timedelta(hours=6)
    found = []
    here, state = begin, _state(zone, begin)
    while here < end:
        there = min(here + step, end)
        if _state(zone, there) != state:
            low, high = here, there  # state(low) == state, state(high) differs: bisect to the second
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    middle = low + dt.timedelta(seconds=1)
                if _state(zone, middle) == state:
                    low = middle
                else:
                    high = middle
            found.append(high)
            state = _state(zone, high)
        here = there
    return found


def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for `tzid` valid from 1 January of first_year to the end of last_year."""
    zone = ZoneInfo(tzid)
    begin_local = dt.datetime(first_year, 1, 1)
    offset, dst, name = _state(zone, begin_local.replace(tzinfo=zone))
    begin = (begin_local - offset).replace(tzinfo=UTC)
    end = dt.datetime(last_year + 1, 1, 1, tzinfo=UTC) + dt.timedelta(days=1)
    timezone = Timezone()
    timezone.add("tzid", tzid)
    timezone.add("comment", f"Valid from {first_year}-01-01 to {last_year}-12-31.")
    timezone.add_component(_observance(begin_local, offset, offset, dst, name))
    for instant in transitions(zone, begin, end):
        before = _state(zone, instant - dt.timedelta(seconds=1))[0]
        after, after_dst, after_name = _state(zone, instant)
        onset = (instant + before).replace(tzinfo=None)  # RFC 5545: local time in TZOFFSETFROM
        timezone.add_component(_observance(onset, before, after, after_dst, after_name))
    return timezone


def _observance(
    onset: dt.datetime, offset_from: dt.timedelta, offset_to: dt.timedelta, dst: dt.timedelta, name: str
) -> TimezoneStandard | TimezoneDaylight:
    part = TimezoneDaylight() if dst else TimezoneStandard()
    part.add("dtstart", onset)
    part.add("tzoffsetfrom", offset_from)
    part.add("tzoffsetto", offset_to)
    if name:
        part.add("tzname", name)
    return part
