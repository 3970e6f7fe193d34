"""Plain-words descriptions of sets, for `ketaprep sets` and `ketaprep show`."""

from __future__ import annotations

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


def describe(loaded: LoadedSet) -> str:
    """The set's rules in plain words, then its sections in its first language."""
    model = loaded.model
    lang = model.languages[0]
    out = [f"{model.id} {model.version} (sha256 {loaded.short_hash})", model.title[lang], ""]
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
            out.extend(f"  - {item[lang]}" for item in items)
    out.append("")
    out.append(f"Contact line: {model.contact[lang]}")
    out.append(f"Languages: {', '.join(model.languages)}")
    return "\n".join(out) + "\n"
