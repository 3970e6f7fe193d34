"""When a reminder (a calendar alarm, in the .ics file and in the QR codes' events) rings.

Humane rules (PRODUCT.md, "Time rules"), all in the clinic's local time:

- no reminder rings in the night, 22:00 to 05:59;
- a cut-off ("stop eating by") rings `minutes` before it; when that falls in the night, it
  is announced the evening before instead, at the clinic's `evening_reminder` hour (default
  20:00), and the announcement says the time and day it announces;
- the end of a restriction ("you may drive again after", "an adult stays with you until")
  never rings before the restriction ends: it rings at the moment itself, or, when that is
  in the night, at 06:00 the following morning;
- other moments (the appointment) ring `minutes` before, moved like a cut-off.

"The evening before" is the evening of the day the night begins on: a reminder due at
01:00 on Tuesday is announced on Monday evening; one due at 23:00 on Monday, on Monday evening.
The evening hour is always before 22:00, so an announcement always comes before its event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

NIGHT_STARTS = dt.time(22, 0)
MORNING = dt.time(6, 0)
DEFAULT_EVENING = dt.time(20, 0)
EARLIEST_EVENING = dt.time(12, 0)


@dataclass(frozen=True)
class Reminder:
    """When to ring (an aware instant), and whether it was moved out of the night."""

    at: dt.datetime
    moved: bool


def in_night(moment: dt.datetime, zone: ZoneInfo) -> bool:
    """22:00 to 05:59 local time."""
    local = moment.astimezone(zone).time().replace(tzinfo=None)
    return local >= NIGHT_STARTS or local < MORNING


def _local(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """A wall-clock time on a day, as a real instant (a time in a DST gap moves forward)."""
    naive = dt.datetime.combine(day, time)
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(dt.UTC).astimezone(zone)


def reminder(at: dt.datetime, kind: str, minutes: int, zone: ZoneInfo, evening: dt.time = DEFAULT_EVENING) -> Reminder:
    """When the reminder for an event at `at` (of `kind`: cutoff, restriction or info) rings."""
    if not EARLIEST_EVENING <= evening < NIGHT_STARTS:
        raise ValueError(f"the evening reminder hour must be from 12:00 to 21:59, not {evening:%H:%M}")
    local = at.astimezone(zone)
    if kind == "restriction":
        if not in_night(local, zone):
            return Reminder(local, False)
        morning_day = local.date() + dt.timedelta(days=1) if local.time() >= NIGHT_STARTS else local.date()
        return Reminder(_local(morning_day, MORNING, zone), True)
    due = (at.astimezone(dt.UTC) - dt.timedelta(minutes=minutes)).astimezone(zone)
    if not in_night(due, zone):
        return Reminder(due, False)
    evening_day = due.date() if due.time() >= NIGHT_STARTS else due.date() - dt.timedelta(days=1)
    return Reminder(_local(evening_day, evening, zone), True)
