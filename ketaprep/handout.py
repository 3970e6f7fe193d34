"""The handout as data: every string a template prints, in one language, already worked out.

Templates only lay this out; they never compute a time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ketaprep import __version__
from ketaprep.dst import change_note, fold_note, is_repeated, transitions_between
from ketaprep.i18n import N_, babel_locale, translations
from ketaprep.loader import LoadedSet
from ketaprep.models import Clinic
from ketaprep.safety import SECTION_NAMES
from ketaprep.timefmt import (
    Clock,
    clock_text,
    default_clock,
    french_prepositions,
    length_text,
    long_date,
    single_period,
    when_text,
)
from ketaprep.timeline import Timeline

LABELS = {
    "no_caffeine_from": N_("No more caffeine (coffee, tea, cola, energy drinks)"),
    "last_meal": N_("Stop eating (this includes milk, gum and candy)"),
    "last_clear_liquid": N_("Stop clear liquids (water, clear juice)"),
    "last_medication": N_("Last usual medicines, with a sip of water"),
    "arrive": N_("Arrive at the clinic"),
    "treatment_start": N_("Your treatment starts"),
    "treatment_end": N_("Your treatment ends (about)"),
    "discharge": N_("Your driver picks you up (about)"),
    "companion_until": N_("The adult staying with you may leave"),
    "drive_again": N_("You may drive or use machines again"),
}
"""Each schedule row reads as "label: time" in text and as a When | What row in a table."""
ROUTE_LABELS = {
    ("treatment_start", "iv"): N_("Your infusion starts"),
    ("treatment_end", "iv"): N_("Your infusion ends (about)"),
    ("treatment_start", "im"): N_("Your injection"),
    ("treatment_end", "im"): N_("End of the first hour of rest (about)"),
    ("treatment_start", "intranasal"): N_("You use the nasal spray"),
    ("treatment_end", "intranasal"): N_("Nasal spray finished (about)"),
}
NEXT_DAY_DRIVE = N_("You may drive or use machines again, after a night's sleep")
ARRIVAL = {
    "iv": N_("Arrive at {arrive}. Your infusion starts at {start}."),
    "im": N_("Arrive at {arrive}. Your injection is at {start}."),
    "intranasal": N_("Arrive at {arrive}. You use the nasal spray at {start}."),
}
ARRIVAL_OTHER = N_("Arrive at {arrive}. Your treatment starts at {start}.")
NIGHT_NAMED = frozenset({"no_caffeine_from", "last_meal", "last_clear_liquid", "last_medication"})
"""Cut-offs at home: before 06:00 on the appointment day, they name the night they fall in."""


def label_of(key: str, route: str, next_day_drive: bool) -> str:
    """The (untranslated) schedule label of a built-in event for this route."""
    if key == "drive_again" and next_day_drive:
        return NEXT_DAY_DRIVE
    return ROUTE_LABELS.get((key, route), LABELS[key])


SECTION_TITLES = {
    "about": N_("About your treatment"),
    "before": N_("Before your treatment"),
    "day_of": N_("On the day"),
    "after": N_("After your treatment"),
    "side_effects": N_("Effects you may notice"),
    "emergency": N_("Go to the emergency room or call 911 if you have"),
}


@dataclass(frozen=True)
class Row:
    """One line of "Your schedule"."""

    key: str
    when: str
    label: str
    notes: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Handout:
    """One patient's handout in one language."""

    lang: str
    gettext: Any
    title: str
    clinic_name: str
    clinic_phone: str | None
    clinic_address: str | None
    patient: str
    date_text: str
    start_text: str
    arrival: str
    """When to come, and what happens at the appointment's time ("Arrive at 8:30 a.m. Your infusion ...")."""
    route: str
    length_text: str
    schedule: tuple[Row, ...]
    sections: tuple[Section, ...]
    emergency: Section
    contact: str
    set_id: str
    set_version: str
    set_hash: str
    generated: str
    tool_version: str

    def fix(self, text: str) -> str:
        """Fixed wording with a time filled in, as it should read: "jusqu’au mercredi", never "jusqu’à le"."""
        return french_prepositions(text) if babel_locale(self.lang).startswith("fr") else text

    def colon(self, label: str) -> str:
        """`Phone:` in English, `Téléphone :` in French (a non-breaking space before the colon)."""
        return str(self.gettext("{label}:")).format(label=label)


def build_handout(
    loaded: LoadedSet,
    timeline: Timeline,
    clinic: Clinic | None,
    lang: str,
    clock: Clock | None,
    generated: dt.date,
) -> Handout:
    """Lay out one language's handout from a computed timeline."""
    translation = translations(lang)
    _ = translation.gettext
    clock = clock or (clinic.clock if clinic else None) or default_clock(lang)
    appointment = timeline.appointment
    model = loaded.model
    start = timeline["treatment_start"]
    whens = {e.key: when_text(e.at, appointment.date, lang, clock, night=e.key in NIGHT_NAMED or
                              (e.kind == "cutoff" and e.key not in LABELS))
             for e in timeline.events}
    french = babel_locale(lang).startswith("fr")
    fix = french_prepositions if french else (lambda text: text)
    clinic_name = clinic.name if clinic else _("Your treatment clinic")
    phone = clinic.phone if clinic else None
    # Without a clinic profile, set text still reads as a sentence ("Call your clinic at ...").
    context: dict[str, Any] = {
        **whens,
        "patient": appointment.patient or _("you"),
        "clinic_name": clinic.name if clinic else _("your clinic"),
        "clinic_phone": phone or _("the number on your appointment card"),
        "appointment_date": long_date(appointment.date, lang),
        "start_time": clock_text(start.at.time().replace(tzinfo=None), lang, clock),
        "treatment_length": length_text(timeline.treatment_length, lang),
        "monitoring_length": length_text(model.monitoring.delta, lang),
    }
    texts = loaded.texts
    rows = []
    for event in timeline.events:
        notes = []
        if is_repeated(event.at, timeline.zone):
            notes.append(fold_note(event.at, timeline.zone, lang))
        for change in transitions_between(event.at, start.at, timeline.zone):
            notes.append(change_note(change, timeline.zone, lang, clock))
        if event.label is not None:
            index = next(i for i, x in enumerate(model.events) if x.key == event.key)
            label = fix(texts.render(("events", index, "label"), lang, context))
        else:
            next_day = bool(model.no_driving and model.no_driving.next_day_at)
            label = _(label_of(event.key, model.route, next_day))
        rows.append(Row(event.key, whens[event.key], label, tuple(notes), event.kind))
    sections = []
    for name in SECTION_NAMES:
        items = getattr(model.sections, name)
        if items:
            rendered = tuple(fix(texts.render(("sections", name, i), lang, context)) for i in range(len(items)))
            sections.append(Section(name, _(SECTION_TITLES[name]), rendered))
    return Handout(
        lang=lang,
        gettext=_,
        title=fix(texts.render(("title",), lang, context)),
        clinic_name=clinic_name,
        clinic_phone=phone,
        clinic_address=clinic.address if clinic else None,
        patient=appointment.patient,
        date_text=long_date(appointment.date, lang),
        start_text=context["start_time"],
        arrival=single_period(_(ARRIVAL.get(model.route, ARRIVAL_OTHER)).format(arrive=whens["arrive"],
                                                                              start=context["start_time"])),
        route=model.route,
        length_text=context["treatment_length"],
        schedule=tuple(rows),
        sections=tuple(s for s in sections if s.key != "emergency"),
        emergency=next(s for s in sections if s.key == "emergency"),
        contact=fix(texts.render(("contact",), lang, context)),
        set_id=model.id,
        set_version=model.version,
        set_hash=loaded.short_hash,
        generated=generated.isoformat(),
        tool_version=__version__,
    )
