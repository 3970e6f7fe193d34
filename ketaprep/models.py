"""The instruction-set and clinic-profile schema (v1), as typed msgspec models.

Field names here are the YAML keys a clinic writes. Validation of types happens in
msgspec; the rules that need the whole set (required safety content) live in
`safety.py`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from ketaprep.parsing import DURATION_EXAMPLES, TIME_EXAMPLES, parse_clock_time, parse_duration

Text = dict[str, str]
"""A text in each declared language: {"en": "...", "fr": "..."}."""

Anchor = Literal["treatment_start", "treatment_end", "discharge"]
Route = Literal["iv", "im", "intranasal", "subcutaneous", "oral", "sublingual"]
EventKind = Literal["cutoff", "restriction", "info"]
EventAnchor = Literal[
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
]


class Duration:
    """A length of time written `8h`, `30m`, `1h30m` or `2d` in a set."""

    __slots__ = ("delta",)

    def __init__(self, delta: dt.timedelta) -> None:
        self.delta = delta

    @classmethod
    def parse(cls, value: object) -> Duration:
        delta = parse_duration(value) if isinstance(value, str) else None
        if delta is None or delta <= dt.timedelta(0):
            raise ValueError(f"{value!r} is not a duration (examples: {DURATION_EXAMPLES})")
        return cls(delta)

    @property
    def minutes(self) -> int:
        return int(self.delta.total_seconds() // 60)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and other.delta == self.delta

    def __hash__(self) -> int:
        return hash(self.delta)

    def __repr__(self) -> str:
        return f"Duration({self.delta!r})"


class ClockTime:
    """A wall-clock time in a set, written `07:00` or `7am`."""

    __slots__ = ("time",)

    def __init__(self, time: dt.time) -> None:
        self.time = time

    @classmethod
    def parse(cls, value: object) -> ClockTime:
        parsed = parse_clock_time(value) if isinstance(value, str) else None
        if parsed is None:
            raise ValueError(f"{value!r} is not a time (examples: {TIME_EXAMPLES})")
        return cls(parsed)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClockTime) and other.time == self.time

    def __hash__(self) -> int:
        return hash(self.time)

    def __repr__(self) -> str:
        return f"ClockTime({self.time!r})"


def dec_hook(type_: type, value: object) -> object:
    """msgspec hook: build Duration and ClockTime from their written forms."""
    if type_ is Duration:
        return Duration.parse(value)
    if type_ is ClockTime:
        return ClockTime.parse(value)
    raise NotImplementedError(type_)


class _Model(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Treatment(_Model):
    """How long the treatment lasts: fixed (`duration`) or set per appointment."""

    duration: Duration | None = None
    min_duration: Duration | None = None
    max_duration: Duration | None = None


class Hours(_Model):
    """The earliest and latest treatment start the clinic accepts (in its profile, or a set's own)."""

    earliest: ClockTime
    latest: ClockTime


class Fasting(_Model):
    """How long before the treatment starts each intake must stop."""

    solids: Duration | None = None
    clear_liquids: Duration | None = None
    medications: Duration | None = None
    below_guidance_reason: str | None = None
    """Why windows shorter than the anaesthesia fasting guidance suit this protocol (for example
    a treatment given awake, without sedation); `check` then shows a note instead of a warning."""


class Caffeine(_Model):
    """`stop: start_of_day` (midnight before the appointment) or a duration before."""

    stop: str


class Driver(_Model):
    """A responsible adult must take the patient home at discharge."""

    required: bool


class Companion(_Model):
    """A responsible adult stays with the patient for `duration` from `from`."""

    duration: Duration
    from_: Anchor = msgspec.field(name="from", default="treatment_end")


class NoDriving(_Model):
    """No driving or machinery for `duration` from `from`, and/or until `next_day_at`."""

    duration: Duration | None = None
    from_: Anchor = msgspec.field(name="from", default="treatment_end")
    next_day_at: ClockTime | None = None


class ExtraEvent(_Model):
    """A set's own timeline event, placed `before` or `after` another event."""

    key: str
    label: Text
    anchor: EventAnchor
    before: Duration | None = None
    after: Duration | None = None
    kind: EventKind = "info"


class Sections(_Model):
    """Bullet lists, each bullet a text in every declared language."""

    about: list[Text] = msgspec.field(default_factory=list)
    before: list[Text] = msgspec.field(default_factory=list)
    day_of: list[Text] = msgspec.field(default_factory=list)
    after: list[Text] = msgspec.field(default_factory=list)
    side_effects: list[Text] = msgspec.field(default_factory=list)
    emergency: list[Text] = msgspec.field(default_factory=list)


class InstructionSet(_Model):
    """One protocol's instructions, as reviewed by the clinic's medical staff."""

    id: str
    version: str
    languages: list[str]
    title: Text
    route: Route
    treatment: Treatment
    arrive_before: Duration
    monitoring: Duration
    contact: Text
    sections: Sections
    extends: str | None = None
    rounding: Duration | None = None
    hours: Hours | None = None
    fasting: Fasting | None = None
    caffeine: Caffeine | None = None
    driver: Driver | None = None
    companion: Companion | None = None
    no_driving: NoDriving | None = None
    events: list[ExtraEvent] = msgspec.field(default_factory=list)


Clock = Literal[12, 24]
Lang = str
"""`en`, `fr`, `en+fr`, or any language with a catalog in ketaprep/locale (checked when loaded)."""


MAX_ALARM_MINUTES = 7 * 24 * 60
"""A reminder at most a week before its cut-off."""


class Clinic(_Model):
    """A clinic profile: who the handout comes from and the clinic's defaults."""

    name: str
    phone: str | None = None
    address: str | None = None
    timezone: str = "America/Toronto"
    default_set: str = "iv-pain-4h"
    lang: Lang = "en"
    clock: Clock | None = None
    sets_dir: str | None = None
    templates_dir: str | None = None
    alarm_minutes: Annotated[int, msgspec.Meta(ge=0, le=MAX_ALARM_MINUTES)] = 30
    printer: str | None = None
    """The CUPS queue `--print` uses when no --printer is given (else the computer's default)."""
    evening_reminder: ClockTime = msgspec.field(default_factory=lambda: ClockTime(dt.time(20, 0)))
    """When a reminder due in the night (22:00 to 05:59) rings instead, the evening before (12:00 to 21:59)."""
    qr_codes: bool = True
    """The printed handout carries QR codes a phone turns into calendar events."""
    appointment_types: dict[str, str] = msgspec.field(default_factory=dict)
    hours: Hours | None = None
    """The clinic's hours: the earliest and latest treatment start, for every set."""
