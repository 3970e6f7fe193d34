"""When a treatment may start: the clinic's hours, and without any, never at night.

A clinic states its hours in its profile (`hours: {earliest: "08:00", latest: "17:00"}`) or
in one of its own sets; a start outside any hours declared is refused, naming them. The
built-in sets declare none (no source states a clinic's hours). With no hours declared
anywhere, only a night start (22:00 to 05:59) is refused: it is most likely a slip of the
12-hour clock (2:30 for 14:30), and the message says how a clinic that does treat at night
allows it. The same rule for `render` and `batch`.
"""

from __future__ import annotations

import datetime as dt

from ketaprep.errors import AppointmentError
from ketaprep.models import Clinic, Hours, InstructionSet

NIGHT_FROM = dt.time(22, 0)
NIGHT_UNTIL = dt.time(6, 0)


def declared_hours(iset: InstructionSet, clinic: Clinic | None) -> list[tuple[str, Hours]]:
    """The hours that apply to a start: the clinic profile's, then the set's (a start must be in both)."""
    found: list[tuple[str, Hours]] = []
    if clinic is not None and clinic.hours is not None:
        found.append(("the clinic's", clinic.hours))
    if iset.hours is not None:
        found.append((f'set "{iset.id}"\'s', iset.hours))
    return found


def is_night(start: dt.time) -> bool:
    return start >= NIGHT_FROM or start < NIGHT_UNTIL


def check_start(iset: InstructionSet, clinic: Clinic | None, start: dt.time) -> None:
    """Raise AppointmentError for a start outside the declared hours, or at night when none are."""
    declared = declared_hours(iset, clinic)
    for whose, hours in declared:
        earliest, latest = hours.earliest.time, hours.latest.time
        if not earliest <= start <= latest:
            raise AppointmentError(
                f"start {start:%H:%M} is outside {whose} hours "
                f"(treatments start from {earliest:%H:%M} to {latest:%H:%M})"
            )
    if not declared and is_night(start):
        flipped = dt.time((start.hour + 12) % 24, start.minute)
        raise AppointmentError(
            f"start {start:%H:%M} is at night (22:00 to 05:59): did you mean {flipped:%H:%M}?\n"
            '  a clinic that treats at night states its hours in its profile, e.g. hours: {earliest: "06:00", '
            'latest: "23:30"}'
        )
