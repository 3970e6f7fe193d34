"""One patient's handout from the form: the CLI's own checks and messages, the same sheet as `render`.

Nothing here touches a file: the form's values come in, the sheet goes out in the response.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ketaprep.errors import KetaprepError
from ketaprep.serve.settings import Settings
from ketaprep.sheet import Format, Options, Sheet

FIELDS = ("patient", "date", "start", "set", "length", "lang", "large_print", "paper")
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}


@dataclass(frozen=True)
class SetChoice:
    id: str
    label: str
    variable: bool


@dataclass
class Result:
    """What the form's values give: a sheet, or the problems, each beside its field where it has one."""

    values: dict[str, str]
    sheet: Sheet | None = None
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    options: Options = field(default_factory=Options)


class Desk:
    """The one-patient side of the form for one run of the server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def sets(self) -> list[SetChoice]:
        """Every set the clinic can see, loaded once at start-up (a broken one says so in its label)."""
        out = []
        for set_id in sorted(self.settings.library.files()):
            try:
                model = self.settings.library.load(set_id).model
            except KetaprepError:
                out.append(SetChoice(set_id, f"{set_id} (has errors: run ketaprep check)", False))
                continue
            out.append(SetChoice(set_id, f"{set_id} ({model.route.upper()}, {_length(model.treatment)})",
                                 model.treatment.duration is None))
        return out

    @cached_property
    def languages(self) -> list[tuple[str, str]]:
        from ketaprep.i18n import available_languages

        codes = available_languages()
        out = [(code, LANGUAGE_NAMES.get(code, code)) for code in codes]
        if "en" in codes and "fr" in codes:
            out.append(("en+fr", "English and French (bilingual sheet)"))
        return out

    def defaults(self, today: dt.date) -> dict[str, str]:
        clinic = self.settings.clinic
        return {
            "patient": "",
            "date": today.isoformat(),
            "start": "",
            "set": clinic.default_set if clinic else "iv-pain-4h",
            "length": "",
            "lang": clinic.lang if clinic else "en",
            "large_print": "",
            "paper": "letter",
        }

    def today(self) -> dt.date:
        from zoneinfo import ZoneInfo

        return self.settings.now().astimezone(ZoneInfo(self.settings.zone)).date()

    def is_variable(self, set_id: str) -> bool:
        return any(choice.id == set_id and choice.variable for choice in self.sets)

    def read(self, form: Mapping[str, Any]) -> dict[str, str]:
        """The values as typed (only the form's own fields, each a short string)."""
        values = {}
        for name in FIELDS:
            raw = form.get(name, "")
            values[name] = raw if isinstance(raw, str) else ""
        values["large_print"] = "on" if values["large_print"] else ""
        return values

    def make(self, values: dict[str, str]) -> Result:
        """Check every field as `ketaprep render` checks its options; the sheet if all are good."""
        import typer

        from ketaprep import cli
        from ketaprep.parsing import TIME_EXAMPLES, parse_clock_time, parse_date, parse_duration
        from ketaprep.sheet import generated_date, make_sheet
        from ketaprep.timeline import Appointment

        result = Result(values)
        errors = result.errors

        def check(name: str, parse: Any, value: str) -> Any:
            try:
                return parse(value)
            except typer.BadParameter as exc:
                errors[name] = exc.message
                return None

        patient = check("patient", cli._parse_patient, values["patient"])
        day: dt.date | None = None
        if values["date"].strip():
            if check("date", cli._parse_date_option, values["date"].strip()) is not None:
                day = parse_date(values["date"].strip())
        else:
            day = self.today()  # as `render` without --date
        start: dt.time | None = None
        if not values["start"].strip():
            errors["start"] = f"enter the treatment's start time (examples: {TIME_EXAMPLES})"
        elif check("start", cli._parse_start, values["start"]) is not None:
            start = parse_clock_time(values["start"])
        lang = check("lang", cli._parse_lang_option, values["lang"])
        loaded = None
        try:
            loaded = self.settings.library.load(values["set"])
        except KetaprepError as exc:
            errors["set"] = exc.message
        duration: dt.timedelta | None = None
        variable = loaded is not None and loaded.model.treatment.duration is None
        if variable and values["length"].strip():
            if check("length", cli._parse_duration_option, values["length"].strip()) is not None:
                duration = parse_duration(values["length"].strip())
        elif variable:
            assert loaded is not None
            treatment = loaded.model.treatment
            low, high = treatment.min_duration, treatment.max_duration
            from ketaprep.parsing import format_duration

            span = (f" (from {format_duration(low.delta)} to {format_duration(high.delta)}, e.g. 90m)"
                    if low and high else " (e.g. 90m)")
            errors["length"] = f"this set's length varies: enter today's treatment length{span}"
        result.options = Options(
            paper="a4" if values["paper"] == "a4" else "letter",
            large_print=bool(values["large_print"]),
            templates_dir=self.settings.templates_dir,
            alarm_minutes=self.settings.clinic.alarm_minutes if self.settings.clinic else 30,
        )
        if errors or loaded is None or day is None or start is None or lang is None:
            return result
        appointment = Appointment(day, start, self.settings.zone, (patient or "").strip(), duration)
        try:
            result.sheet = make_sheet(loaded, appointment, self.settings.clinic, lang, self.settings.clock,
                                      generated_date(self.today()))
        except KetaprepError as exc:
            errors_key = _field_of(exc.message)
            if errors_key:
                errors[errors_key] = exc.message
            else:
                result.problems.append(exc.message)
        return result

    def write(self, fmt: Format, result: Result) -> bytes | None:
        """The sheet in a format; None, with the reason in `result.problems`, when it cannot be made
        (a clinic's template that fails, a name the PDF fonts cannot print)."""
        from jinja2 import TemplateError

        from ketaprep.sheet import write
        from ketaprep.templates_env import in_template, template_error_message

        assert result.sheet is not None
        try:
            return write(fmt, [result.sheet], result.options)
        except KetaprepError as exc:
            result.problems.append(exc.message)
        except Exception as exc:  # a clinic's own template: which file and line, never a value
            if not (isinstance(exc, TemplateError) or in_template(exc)):
                raise
            result.problems.append(f"template {template_error_message(exc)}; run: ketaprep check on the clinic's "
                                   "templates folder")
        result.sheet = None
        return None

    def warnings(self, sheet: Sheet) -> list[str]:
        """Cut-offs already past (the CLI's warnings on stderr): on the page, never on the sheet."""
        from ketaprep.safety import passed_cutoffs

        clock = self.settings.clock or (self.settings.clinic.clock if self.settings.clinic else None) or 12
        return passed_cutoffs(sheet.timeline, self.settings.now(), clock)

    def file_name(self, result: Result, extension: str) -> str:
        from ketaprep.slug import slug

        assert result.sheet is not None
        appointment = result.sheet.timeline.appointment
        return f"{slug(appointment.start, appointment.patient)}.{extension}"


def _length(treatment: Any) -> str:
    from ketaprep.parsing import format_duration

    if treatment.duration is not None:
        return format_duration(treatment.duration.delta)
    low, high = treatment.min_duration, treatment.max_duration
    return f"{format_duration(low.delta) if low else '?'} to {format_duration(high.delta) if high else '?'}"


def _field_of(message: str) -> str | None:
    """Which field an appointment's refusal is about, from the engine's message."""
    lowered = message.casefold()
    if lowered.startswith("duration") or "length" in lowered or "--duration" in lowered:
        return "length"
    if " text; it is written in" in lowered:
        return "lang"
    if lowered.startswith("start") or "hours" in lowered or "night" in lowered:
        return "start"
    if lowered.startswith("date"):
        return "date"
    if lowered.startswith("set") or "restriction" in lowered:
        return "set"
    return None
