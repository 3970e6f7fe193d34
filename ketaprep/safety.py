"""Required safety content: what every instruction set must say before it can be printed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from ketaprep.errors import SetError
from ketaprep.parsing import format_duration, parse_duration
from ketaprep.timeline import ORDER
from ketaprep.yamlsource import PathKey, where

if TYPE_CHECKING:
    import datetime as dt

    from ketaprep.loader import LoadedSet
    from ketaprep.models import Anchor, Duration, InstructionSet
    from ketaprep.timefmt import Clock
    from ketaprep.timeline import Timeline

ROUTES_NEEDING_FASTING = {"iv", "im", "intranasal", "subcutaneous", "oral", "sublingual"}
SECTION_NAMES = ("about", "before", "day_of", "after", "side_effects", "emergency")


@dataclass(frozen=True)
class Problem:
    """One finding about a set: where, what, and whether it blocks printing."""

    level: Literal["error", "warning", "note"]
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def texts_of(loaded: LoadedSet) -> Iterator[tuple[PathKey, dict[str, str]]]:
    """Every translatable text in the set, with its path for error messages."""
    model = loaded.model
    yield ("title",), model.title
    yield ("contact",), model.contact
    for name in SECTION_NAMES:
        for index, item in enumerate(getattr(model.sections, name)):
            yield ("sections", name, index), item
    for index, extra in enumerate(model.events):
        yield ("events", index, "label"), extra.label


def event_keys(loaded: LoadedSet) -> list[str]:
    """The events this set's timeline will have."""
    model = loaded.model
    keys = ["arrive", "treatment_start", "treatment_end", "discharge"]
    if model.fasting:
        for key, value in (
            ("last_meal", model.fasting.solids),
            ("last_clear_liquid", model.fasting.clear_liquids),
            ("last_medication", model.fasting.medications),
        ):
            if value is not None:
                keys.append(key)
    if model.caffeine:
        keys.append("no_caffeine_from")
    if model.companion:
        keys.append("companion_until")
    if model.no_driving and (model.no_driving.duration or model.no_driving.next_day_at):
        keys.append("drive_again")
    keys.extend(extra.key for extra in model.events)
    return keys


def problems(loaded: LoadedSet) -> list[Problem]:
    """Every error that stops this set from being printed."""
    model = loaded.model
    name = str(loaded.path)
    out: list[Problem] = []

    def error(path: PathKey, message: str) -> None:
        out.append(Problem("error", where(loaded.lines, path, name), message))

    if not model.languages:
        error(("languages",), "languages: list at least one language, e.g. [en, fr]")
    for lang in model.languages:
        if not re.fullmatch(r"[a-z]{2}", lang):
            error(("languages",), f'languages: "{lang}" is not a two-letter language code (e.g. en, fr)')
    treatment = model.treatment
    if treatment.duration is None and (treatment.min_duration is None or treatment.max_duration is None):
        error(("treatment",), "treatment: give duration (e.g. 4h), or min_duration and max_duration")
    if treatment.duration is not None and (treatment.min_duration or treatment.max_duration):
        error(("treatment",), "treatment: give either duration or min_duration/max_duration, not both")
    if treatment.min_duration and treatment.max_duration and treatment.min_duration.delta > treatment.max_duration.delta:
        error(("treatment", "min_duration"), "treatment: min_duration is longer than max_duration")
    if model.hours and model.hours.earliest.time > model.hours.latest.time:
        error(("hours",), "hours: earliest is after latest")
    if model.caffeine and model.caffeine.stop != "start_of_day" and parse_duration(model.caffeine.stop) is None:
        error(
            ("caffeine", "stop"),
            f'caffeine.stop: "{model.caffeine.stop}" is not allowed; use start_of_day or a duration (e.g. 12h)',
        )
    if not model.sections.emergency:
        error(("sections",), "sections.emergency: every set must list the warning signs that mean going to the emergency room")
    if model.driver is None:
        error((), "driver: every set must have a driver rule (driver: {required: true})")
    elif not model.driver.required:
        error(("driver", "required"), "driver.required: must be true; every ketamine treatment needs a driver home")
    if model.companion is None:
        error((), "companion: every set must say how long a responsible adult stays (e.g. companion: {duration: 24h})")
    if model.no_driving is None or model.no_driving.duration is None:
        error(("no_driving",), "no_driving.duration: every set must say how long not to drive (e.g. 24h)")
    if model.route in ROUTES_NEEDING_FASTING:
        fasting = model.fasting
        if fasting is None or fasting.solids is None or fasting.clear_liquids is None:
            error(
                ("fasting",),
                f"fasting: route {model.route} needs fasting windows for solids and clear_liquids (e.g. 8h and 2h)",
            )
    _restrictions_outlast_discharge(model, error)
    seen: set[str] = set(ORDER)
    for index, extra in enumerate(model.events):
        if extra.key in seen or not re.fullmatch(r"[a-z][a-z0-9_]*", extra.key):
            error(("events", index, "key"), f'events[{index}].key: "{extra.key}" must be new, in lower_snake_case')
        seen.add(extra.key)
        if (extra.before is None) == (extra.after is None):
            error(("events", index), f"events[{index}]: give exactly one of before or after")
    for path, text in texts_of(loaded):
        for lang in model.languages:
            if not text.get(lang, "").strip():
                error(path, f"{_dotted(path)}: missing the {lang} text")
        for lang in text:
            if lang not in model.languages:
                error(path, f"{_dotted(path)}: has {lang} text, but {lang} is not in languages")
    return out


def _restrictions_outlast_discharge(model: InstructionSet, error: Callable[[PathKey, str], None]) -> None:
    """The companion and the no-driving rule must run at least until the patient leaves the clinic.

    A rule that counts from the start or the end of the treatment with too short a duration would
    print "you may drive again" at a time when the patient is still being watched: refused. For a
    set whose length varies, the longest treatment decides.
    """
    treatment = model.treatment
    longest = treatment.duration or treatment.max_duration
    if longest is None:
        return
    until_discharge = {
        "treatment_start": longest.delta + model.monitoring.delta,
        "treatment_end": model.monitoring.delta,
        "discharge": timedelta(0),
    }
    rules: list[tuple[str, Anchor, Duration | None]] = []
    if model.companion is not None:
        rules.append(("companion", model.companion.from_, model.companion.duration))
    if model.no_driving is not None and model.no_driving.next_day_at is None:
        rules.append(("no_driving", model.no_driving.from_, model.no_driving.duration))
    for name, anchor, duration in rules:
        needed = until_discharge[anchor]
        if duration is not None and duration.delta < needed:
            error(
                (name, "duration"),
                f"{name}.duration: {format_duration(duration.delta)} from {anchor} ends before the patient leaves "
                f"the clinic; it must be at least {format_duration(needed)} (or count from discharge)",
            )


def _dotted(path: PathKey) -> str:
    from ketaprep.yamlsource import dotted

    return dotted(path)


def require_safe(loaded: LoadedSet) -> None:
    """Refuse a set that is missing required safety content (first error shown, with a count)."""
    found = [p for p in problems(loaded) if p.level == "error"]
    if found:
        more = f"\n  (and {len(found) - 1} more; run: ketaprep check {loaded.path})" if len(found) > 1 else ""
        raise SetError(f"{found[0]}{more}")


# --- Warnings: plausible, but worth a second look by the clinic's medical staff ---------------

MIN_CLEAR_LIQUIDS = 2
"""Hours: anaesthesia fasting guidance stops clear liquids at least 2 h before."""
MIN_SOLIDS = 6
"""Hours: and solid food at least 6 h before."""
MIN_NO_DRIVING_IV = 24
"""Hours without driving after an IV treatment."""


def plausibility(loaded: LoadedSet) -> list[Problem]:
    """Clinical plausibility warnings: fasting windows and no-driving time below the usual guidance."""
    model = loaded.model
    name = str(loaded.path)
    out: list[Problem] = []

    def warn(path: PathKey, message: str) -> None:
        out.append(Problem("warning", where(loaded.lines, path, name), message))

    fasting = model.fasting
    short: list[tuple[str, int]] = []
    if fasting and fasting.clear_liquids and fasting.clear_liquids.minutes < MIN_CLEAR_LIQUIDS * 60:
        short.append(("clear_liquids", MIN_CLEAR_LIQUIDS))
    if fasting and fasting.solids and fasting.solids.minutes < MIN_SOLIDS * 60:
        short.append(("solids", MIN_SOLIDS))
    for field_name, hours in short:
        assert fasting is not None
        message = f"fasting.{field_name}: shorter than {hours}h, below the anaesthesia fasting guidance"
        if fasting.below_guidance_reason:
            out.append(
                Problem(
                    "note",
                    where(loaded.lines, ("fasting", field_name), name),
                    f"{message}; the set says why: {fasting.below_guidance_reason.strip()}",
                )
            )
        else:
            warn(
                ("fasting", field_name),
                f"{message}; have your medical staff confirm it "
                "(then say why in fasting.below_guidance_reason)",
            )
    no_driving = model.no_driving
    if model.route == "iv" and no_driving and no_driving.duration and no_driving.duration.minutes < MIN_NO_DRIVING_IV * 60:
        warn(
            ("no_driving", "duration"),
            f"no_driving.duration: shorter than {MIN_NO_DRIVING_IV}h after an IV treatment; "
            "have your medical staff confirm it",
        )
    contact = model.contact
    if contact and not any("clinic_phone" in text or re.search(r"\d{3}\D{0,3}\d{4}", text) for text in contact.values()):
        warn(("contact",), "contact: gives no phone number; add {{ clinic_phone }} so patients can call")
    return out


_CUTOFF_NAMES = {
    "no_caffeine_from": "no-caffeine",
    "last_meal": "last-meal",
    "last_clear_liquid": "last clear-liquid",
    "last_medication": "last-medicines",
    "arrive": "arrival",
}


def passed_cutoffs(timeline: Timeline, now: dt.datetime, clock: Clock = 12) -> list[str]:
    """Warnings for cut-offs already past at `now` (the sheet's printing time): phone the patient.

    Pure: the caller passes `now`. The message names the time, never the patient.
    """
    from ketaprep.timefmt import when_text

    start = timeline.get("treatment_start")
    if start is not None and start.at <= now:
        local = start.at.astimezone(timeline.zone)
        when = f"{local.date().isoformat()} {when_text(local, timeline.appointment.date, 'en', clock)}"
        return [f"this appointment ({when}) has already started or is over; check the date"]
    out = []
    for event in timeline.events:
        if event.kind == "cutoff" and event.at < now:
            name = _CUTOFF_NAMES.get(event.key, event.key.replace("_", " "))
            local = event.at.astimezone(timeline.zone)
            when = when_text(local, timeline.appointment.date, "en", clock)
            out.append(f"the {name} time ({when}) has already passed; phone the patient")
    return out
