"""Plain-words descriptions of sets, for `ketaprep sets` and `ketaprep show`."""

from __future__ import annotations

import re

from ketaprep.errors import KetaprepError
from ketaprep.loader import LoadedSet, SetLibrary, load_set
from ketaprep.parsing import format_duration
from ketaprep.safety import SECTION_NAMES

ANCHORS = {
    "treatment_start": "the start of the treatment",
    "treatment_end": "the end of the treatment",
    "discharge": "discharge",
}


def _length(loaded: LoadedSet) -> str:
    treatment = loaded.model.treatment
    if treatment.duration:
        return format_duration(treatment.duration.delta)
    low = format_duration(treatment.min_duration.delta) if treatment.min_duration else "?"
    high = format_duration(treatment.max_duration.delta) if treatment.max_duration else "?"
    return f"{low}-{high}"


def sets_table(library: SetLibrary) -> str:
    """One line per set: id, version, route, duration, languages, where it comes from."""
    rows = [("ID", "VERSION", "ROUTE", "DURATION", "LANGUAGES", "SOURCE")]
    problems = []
    for set_id, path in sorted(library.files().items()):
        try:
            loaded = load_set(path, library)
        except KetaprepError as exc:
            problems.append(f"{set_id}: not usable: {exc.message.splitlines()[0]}")
            continue
        model = loaded.model
        source = "built-in" if loaded.builtin else str(path)
        rows.append((model.id, model.version, model.route, _length(loaded), ",".join(model.languages), source))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    return "\n".join(lines + problems) + "\n"


STANDS_FOR = {
    "no_caffeine_from": "the no-caffeine time",
    "last_meal": "the stop-eating time",
    "last_clear_liquid": "the stop-clear-liquids time",
    "last_medication": "the last-medicines time",
    "arrive": "the arrival time",
    "treatment_start": "the start time",
    "treatment_end": "the end of the treatment",
    "discharge": "the pick-up time",
    "companion_until": "the time the adult may leave",
    "drive_again": "the may-drive time",
    "patient": "the patient's name",
    "clinic_name": "the clinic's name",
    "clinic_phone": "the clinic's phone",
    "appointment_date": "the appointment's date",
    "start_time": "the start time",
}
"""What each placeholder stands for, as `show` prints it: "[the stop-eating time]"."""
WIDTH = 80


def _placeholders(loaded: LoadedSet, lang: str) -> dict[str, str]:
    from ketaprep.placeholders import FIELDS
    from ketaprep.safety import event_keys
    from ketaprep.timefmt import length_text

    model = loaded.model
    context = {key: f"[{STANDS_FOR.get(key, f'the {key} time')}]" for key in (*FIELDS, *event_keys(loaded))}
    fixed = model.treatment.duration
    context["treatment_length"] = length_text(fixed.delta, lang) if fixed else "[the appointment's length]"
    context["monitoring_length"] = length_text(model.monitoring.delta, lang)
    return context


def _wrapped(line: str, indent: str = "  ") -> list[str]:
    """A line wrapped at 80 columns, its continuation lines hanging under its text."""
    import textwrap

    if len(line) <= WIDTH:
        return [line]
    hang = indent + "  " if line.startswith(indent + "- ") else indent
    # a placeholder's words stay on one line: "[the may-drive time]" is one thing to read
    kept = re.sub(r"\[[^\]]*\]", lambda m: m.group(0).replace(" ", "\u00a0"), line)
    lines = textwrap.wrap(kept, WIDTH, subsequent_indent=hang, break_long_words=False, break_on_hyphens=False)
    return [re.sub(r"\[[^\]]*\]", lambda m: m.group(0).replace("\u00a0", " "), wrapped) for wrapped in lines]


def describe(loaded: LoadedSet) -> str:
    """The set's rules in plain words, then its sections in its first language, at 80 columns.

    Placeholders print as what they stand for ("until [the may-drive time]"), fixed lengths as
    they print on a sheet ("about 4 hours").
    """
    lines = _describe(loaded)
    return "\n".join(wrapped for line in lines for wrapped in _wrapped(line)) + "\n"


def _describe(loaded: LoadedSet) -> list[str]:
    model = loaded.model
    lang = model.languages[0]
    context = _placeholders(loaded, lang)

    def text(path: tuple[str | int, ...]) -> str:
        return loaded.texts.render(path, lang, context)  # type: ignore[no-any-return]

    out = [f"{model.id} {model.version} (sha256 {loaded.short_hash})", text(("title",)), ""]
    out.append(f"Route: {model.route}")
    out.append(f"Treatment length: {_length(loaded)}")
    if model.hours:
        out.append(
            f"Treatments may start from {model.hours.earliest.time:%H:%M} to {model.hours.latest.time:%H:%M}"
        )
    else:
        out.append("Start times: the clinic's hours (its profile's hours:); with none, any start but 22:00 to 05:59")
    out.append(f"Arrive: {format_duration(model.arrive_before.delta)} before the treatment starts")
    out.append(f"Monitoring after the treatment: {format_duration(model.monitoring.delta)}")
    fasting = model.fasting
    if fasting:
        for what, window in (
            ("Solid food", fasting.solids),
            ("Clear liquids", fasting.clear_liquids),
            ("Usual medicines with a sip of water", fasting.medications),
        ):
            if window:
                out.append(f"{what}: stop {format_duration(window.delta)} before the treatment starts")
    else:
        out.append("Fasting: none")
    if model.caffeine:
        stop = model.caffeine.stop
        out.append(
            "Caffeine: none on the day (from midnight)" if stop == "start_of_day" else f"Caffeine: none for {stop} before"
        )
    if model.driver:
        out.append("Driver home: required" if model.driver.required else "Driver home: not required")
    if model.companion:
        out.append(
            f"Responsible adult stays: {format_duration(model.companion.duration.delta)} from "
            f"{ANCHORS[model.companion.from_]}"
        )
    if model.no_driving:
        rule = model.no_driving
        parts = []
        if rule.duration:
            parts.append(f"{format_duration(rule.duration.delta)} from {ANCHORS[rule.from_]}")
        if rule.next_day_at:
            parts.append(f"and until {rule.next_day_at.time:%H:%M} the next day")
        out.append("No driving or machinery: " + " ".join(parts))
    if model.rounding:
        out.append(
            f"Rounding: to {format_duration(model.rounding.delta)}; cut-offs earlier, restrictions later"
        )
    for extra in model.events:
        offset = extra.before or extra.after
        direction = "before" if extra.before else "after"
        span = format_duration(offset.delta) if offset else "0m"
        out.append(f"Event {extra.key}: {span} {direction} {extra.anchor} ({extra.kind})")
    titles = {
        "about": "About",
        "before": "Before",
        "day_of": "On the day",
        "after": "After",
        "side_effects": "Effects",
        "emergency": "Emergency warning signs",
    }
    for name in SECTION_NAMES:
        items = getattr(model.sections, name)
        if items:
            out.append("")
            out.append(f"{titles[name]} ({len(items)}):")
            out.extend(f"  - {text(('sections', name, index))}" for index in range(len(items)))
    out.append("")
    out.append(f"Contact line: {text(('contact',))}")
    out.append(f"Languages: {', '.join(model.languages)}")
    return out
