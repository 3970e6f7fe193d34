"""The timeline: every clock time of a treatment day, from a set and an appointment.

All arithmetic is on real elapsed time: instants are computed in UTC and only then
shown in the clinic's zone (in zoneinfo, `aware + timedelta` is wall-clock arithmetic,
which is wrong across a daylight-saving change). Rounding only ever makes a rule
stricter: cut-offs move earlier, restrictions' ends move later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ketaprep.errors import AppointmentError
from ketaprep.models import EventKind, ExtraEvent, InstructionSet, Text
from ketaprep.parsing import format_duration

UTC = dt.UTC
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)

ORDER = (
    "no_caffeine_from",
    "last_meal",
    "last_clear_liquid",
    "last_medication",
    "arrive",
    "treatment_start",
    "treatment_end",
    "discharge",
    "companion_until",
    "drive_again",
)
KINDS: dict[str, EventKind] = {
    "no_caffeine_from": "cutoff",
    "last_meal": "cutoff",
    "last_clear_liquid": "cutoff",
    "last_medication": "cutoff",
    "arrive": "cutoff",
    "treatment_start": "info",
    "treatment_end": "info",
    "discharge": "info",
    "companion_until": "restriction",
    "drive_again": "restriction",
}


@dataclass(frozen=True)
class Appointment:
    """When the treatment starts: a local date and time in an IANA zone."""

    date: dt.date
    start: dt.time
    timezone: str = "America/Toronto"
    patient: str = ""
    duration: dt.timedelta | None = None


@dataclass(frozen=True)
class Event:
    """One moment of the day. `exact` is the rule's instant before rounding."""

    key: str
    at: dt.datetime
    exact: dt.datetime
    kind: EventKind
    label: Text | None = None

    @property
    def utc(self) -> dt.datetime:
        return self.at.astimezone(UTC)


@dataclass(frozen=True)
class Timeline:
    appointment: Appointment
    zone: ZoneInfo
    treatment_length: dt.timedelta
    events: tuple[Event, ...]

    def get(self, key: str) -> Event | None:
        return next((e for e in self.events if e.key == key), None)

    def __getitem__(self, key: str) -> Event:
        event = self.get(key)
        if event is None:
            raise KeyError(key)
        return event


def local_instants(day: dt.date, time: dt.time, zone: ZoneInfo) -> list[dt.datetime]:
    """The real instants (in UTC) at which the wall clock reads `time` on `day`.

    None in a spring-forward gap, two in a fall-back fold, otherwise one.
    """
    found: list[dt.datetime] = []
    for fold in (0, 1):
        candidate = dt.datetime.combine(day, time, tzinfo=zone).replace(fold=fold)
        instant = candidate.astimezone(UTC)
        back = instant.astimezone(zone)
        if back.replace(tzinfo=None) == candidate.replace(tzinfo=None) and instant not in found:
            found.append(instant)
    return sorted(found)


def _floor(instant: dt.datetime, step: dt.timedelta, zone: ZoneInfo) -> dt.datetime:
    """Round down on the local clock; never later than `instant`."""
    offset = instant.astimezone(zone).utcoffset() or dt.timedelta(0)
    local = instant.replace(tzinfo=None) + offset
    base = dt.datetime(local.year, local.month, local.day)
    floored = base + step * ((local - base) // step)
    return (floored - offset).replace(tzinfo=UTC)


def _ceil(instant: dt.datetime, step: dt.timedelta, zone: ZoneInfo) -> dt.datetime:
    """Round up on the local clock; never earlier than `instant`."""
    floored = _floor(instant, step, zone)
    if floored == instant:
        return instant
    up = floored + step
    return up if up >= instant else instant


def _describe_day(day: dt.date, time: dt.time) -> str:
    return f"{time.strftime('%H:%M')} on {day.isoformat()}"


def resolve_start(appointment: AppointmentLike) -> dt.datetime:
    """The treatment start as a UTC instant, refusing times that do not exist or repeat."""
    zone = ZoneInfo(appointment.timezone)
    instants = local_instants(appointment.date, appointment.start, zone)
    when = _describe_day(appointment.date, appointment.start)
    if not instants:
        raise AppointmentError(
            f"start {when} does not exist in {appointment.timezone}: the clocks spring forward "
            "that night; choose a time outside the change"
        )
    if len(instants) > 1:
        raise AppointmentError(
            f"start {when} happens twice in {appointment.timezone}: the clocks go back "
            "that night; choose a time outside the change"
        )
    return instants[0]


AppointmentLike = Appointment


def treatment_length(iset: InstructionSet, requested: dt.timedelta | None) -> dt.timedelta:
    """The treatment's length: the set's fixed one, or the appointment's within the set's range."""
    treatment = iset.treatment
    if treatment.duration is not None:
        if requested is not None:
            raise AppointmentError(
                f'set "{iset.id}" has a fixed length of {format_duration(treatment.duration.delta)}; '
                "--duration is only for sets whose length varies (e.g. iv-variable)"
            )
        return treatment.duration.delta
    low = treatment.min_duration.delta if treatment.min_duration else None
    high = treatment.max_duration.delta if treatment.max_duration else None
    span = f"{format_duration(low) if low else '?'} to {format_duration(high) if high else '?'}"
    if requested is None:
        raise AppointmentError(
            f'set "{iset.id}" needs the treatment length for this appointment: '
            f"give --duration (from {span}, e.g. 90m)"
        )
    if (low and requested < low) or (high and requested > high):
        raise AppointmentError(
            f'duration {format_duration(requested)} is outside set "{iset.id}"\'s range ({span})'
        )
    return requested


def compute(iset: InstructionSet, appointment: Appointment) -> Timeline:
    """Every event of the treatment day for this set and appointment."""
    zone = ZoneInfo(appointment.timezone)
    if not FIRST_DAY <= appointment.date <= LAST_DAY:
        raise AppointmentError(
            f"date {appointment.date.isoformat()} is outside the calendar ketaprep works with "
            f"({FIRST_DAY.year} to {LAST_DAY.year}); check the year"
        )
    start = resolve_start(appointment)
    length = treatment_length(iset, appointment.duration)
    step = iset.rounding.delta if iset.rounding else None

    def cutoff(exact: dt.datetime) -> dt.datetime:
        return _floor(exact, step, zone) if step else exact

    def restriction(exact: dt.datetime) -> dt.datetime:
        return _ceil(exact, step, zone) if step else exact

    end = start + length
    discharge = end + iset.monitoring.delta
    anchors = {"treatment_start": start, "treatment_end": end, "discharge": discharge}
    exact: dict[str, dt.datetime] = {
        "arrive": start - iset.arrive_before.delta,
        "treatment_start": start,
        "treatment_end": end,
        "discharge": discharge,
    }
    if iset.fasting:
        for key, window in (
            ("last_meal", iset.fasting.solids),
            ("last_clear_liquid", iset.fasting.clear_liquids),
            ("last_medication", iset.fasting.medications),
        ):
            if window is not None:
                exact[key] = start - window.delta
    if iset.caffeine:
        if iset.caffeine.stop == "start_of_day":
            # the first midnight (a fold: the earlier one); where the clocks skip midnight, the first real minute
            midnights = local_instants(appointment.date, dt.time(0), zone)
            exact["no_caffeine_from"] = midnights[0] if midnights else _first_after_gap(appointment.date, dt.time(0), zone)
        else:
            from ketaprep.parsing import parse_duration

            before = parse_duration(iset.caffeine.stop)
            assert before is not None  # checked by safety.require_safe
            exact["no_caffeine_from"] = start - before
        # never after arrival (a start just after midnight has the patient arrive the evening before)
        exact["no_caffeine_from"] = min(exact["no_caffeine_from"], exact["arrive"])
    if iset.companion:
        exact["companion_until"] = anchors[iset.companion.from_] + iset.companion.duration.delta
    if iset.no_driving:
        rule = iset.no_driving
        base = anchors[rule.from_]
        candidates = [base + rule.duration.delta] if rule.duration else []
        if rule.next_day_at is not None:
            next_day = base.astimezone(zone).date() + dt.timedelta(days=1)
            instants = local_instants(next_day, rule.next_day_at.time, zone)
            if not instants:  # the wall time is skipped that night: the first real minute after
                instants = [_first_after_gap(next_day, rule.next_day_at.time, zone)]
            candidates.append(max(instants))
        if candidates:
            exact["drive_again"] = max(candidates)
    for key in ("companion_until", "drive_again"):  # safety.problems refuses such a set; never print one
        if key in exact and exact[key] < discharge:
            raise AppointmentError(f'set "{iset.id}": {key} would end before the patient leaves the clinic; '
                                   "run: ketaprep check on the set")
    rounded: dict[str, dt.datetime] = {}
    for key, instant in exact.items():
        kind = KINDS[key]
        rounded[key] = cutoff(instant) if kind == "cutoff" else restriction(instant) if kind == "restriction" else instant
    events = [
        Event(key, rounded[key].astimezone(zone), exact[key].astimezone(zone), KINDS[key])
        for key in ORDER
        if key in exact
    ]
    events.extend(_extra_events(iset.events, {e.key: e for e in events}, cutoff, restriction, zone))
    rank = {key: index for index, key in enumerate(ORDER)}
    events.sort(key=lambda e: (e.utc, rank.get(e.key, len(ORDER))))
    return Timeline(appointment, zone, length, tuple(events))


def _first_after_gap(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    naive = dt.datetime.combine(day, time)
    for minutes in range(1, 24 * 60):
        instants = local_instants(naive.date(), (naive + dt.timedelta(minutes=minutes)).time(), zone)
        if instants:
            return instants[0]
    raise AppointmentError(f"no valid local time after {naive.isoformat()}")  # pragma: no cover


def _extra_events(
    extras: list[ExtraEvent],
    known: dict[str, Event],
    cutoff: object,
    restriction: object,
    zone: ZoneInfo,
) -> list[Event]:
    out: list[Event] = []
    for extra in extras:
        anchor = known.get(extra.anchor)
        if anchor is None:
            continue
        base = anchor.exact.astimezone(UTC)
        if extra.before:
            instant = base - extra.before.delta
        else:
            instant = base + (extra.after.delta if extra.after else dt.timedelta(0))
        if extra.kind == "cutoff":
            at = cutoff(instant)  # type: ignore[operator]
        elif extra.kind == "restriction":
            at = restriction(instant)  # type: ignore[operator]
        else:
            at = instant
        out.append(Event(extra.key, at.astimezone(zone), instant.astimezone(zone), extra.kind, extra.label))
    return out
