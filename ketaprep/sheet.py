"""A sheet: one appointment's handout in one or two languages, ready for any format."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from ketaprep.handout import Handout, build_handout
from ketaprep.loader import LoadedSet
from ketaprep.models import Clinic
from ketaprep.timefmt import Clock
from ketaprep.timeline import Appointment, Timeline, compute

Format = Literal["terminal", "text", "html", "pdf", "json", "ics"]
FORMATS: tuple[Format, ...] = ("terminal", "text", "html", "pdf", "json", "ics")
Paper = Literal["letter", "a4"]


@dataclass(frozen=True)
class Options:
    """How a sheet is written: paper, print size, templates, terminal width."""

    paper: Paper = "letter"
    large_print: bool = False
    duplex: bool = False
    templates_dir: Path | None = None
    width: int = 80
    color: bool = False
    alarm_minutes: int = 30
    evening_reminder: dt.time = dt.time(20, 0)
    """When a reminder due in the night (22:00 to 05:59) rings instead, the evening before."""
    qr_codes: bool = True
    """The printed handout (html, pdf) carries QR codes of its calendar events."""
    document_title: str | None = None
    """The file's own title (a batch's print file: the list and its date); None: the first sheet's."""
    image_folder: Path | None = None
    """A batch's PDFs: a private folder, the Typst root, where each QR code is written once as a
    PNG for Typst to read (writing its bytes into every patient's markup made Typst evaluate them
    again for each patient). None: the bytes are in the markup."""


@dataclass(frozen=True)
class Sheet:
    loaded: LoadedSet
    timeline: Timeline
    handouts: tuple[Handout, ...]
    lang: str
    clinic: Clinic | None = None
    row: int | None = field(default=None, compare=False)


def languages(lang: str) -> list[str]:
    """`en+fr` -> ["en", "fr"]."""
    return [part for part in lang.split("+") if part]


def generated_date(today: dt.date) -> dt.date:
    """The footer's generation date: SOURCE_DATE_EPOCH when set, for reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return today


def make_sheet(
    loaded: LoadedSet,
    appointment: Appointment,
    clinic: Clinic | None,
    lang: str,
    clock: Clock | None,
    generated: dt.date,
) -> Sheet:
    """Compute the timeline once and lay out the handout in each requested language."""
    from ketaprep.errors import SetError

    langs = languages(lang)
    missing = [code for code in langs if code not in loaded.model.languages]
    if missing:
        raise SetError(
            f'set "{loaded.model.id}" has no {"+".join(missing)} text; '
            f"it is written in: {', '.join(loaded.model.languages)}"
        )
    from ketaprep.hours import check_start

    check_start(loaded.model, clinic, appointment.start)
    timeline = compute(loaded.model, appointment)
    handouts = tuple(build_handout(loaded, timeline, clinic, code, clock, generated) for code in langs)
    return Sheet(loaded, timeline, handouts, lang, clinic)


def write(fmt: Format, sheets: list[Sheet], options: Options) -> bytes:
    """Write sheets in a format; more than one sheet makes a combined file."""
    import importlib

    from ketaprep.templates_env import is_template_error, template_failure

    module = importlib.import_module(f"ketaprep.formats.{fmt}_format")
    try:
        data: bytes = module.write(sheets, options)
    except Exception as exc:  # a clinic template's error is this sheet's failure, named by template and line
        if is_template_error(exc):
            raise template_failure(exc) from None
        raise
    return data


PATIENT_MARK = "\ue000ketaprep-patient\ue001"
"""Stands for the patient's name in a handout made once for every patient of the same set, time
and language (a batch); private-use characters: never in a name, never printed."""
MEMO = 512
"""Things a batch keeps made once for the rows that share them (timelines, sheets, handouts) at
most: a day's list has a few dozen set, time and language."""
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def made_once(memo: dict[K, T], shared: K, make: Callable[[], T]) -> T:
    """`memo[shared]`, made by `make` the first time (the memo is emptied past MEMO entries)."""
    found = memo.get(shared)
    if found is None:
        found = make()
        if len(memo) >= MEMO:
            memo.clear()
        memo[shared] = found
    return found


def with_patient(sheet: Sheet, patient: str) -> Sheet:
    """The same sheet for another patient's name (the timeline's appointment and each handout)."""
    return dataclasses.replace(
        sheet,
        timeline=dataclasses.replace(sheet.timeline, appointment=dataclasses.replace(sheet.timeline.appointment,
                                                                                     patient=patient)),
        handouts=tuple(dataclasses.replace(h, patient=patient) for h in sheet.handouts),
    )
