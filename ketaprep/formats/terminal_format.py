"""The terminal handout: rich, readable at 80 columns, the schedule as a table first.

All text from sets and patients is passed to rich as `Text`, never as markup.
"""

from __future__ import annotations

import io
import re

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ketaprep.handout import Handout
from ketaprep.sheet import Options, Sheet

# rich wraps at any whitespace, U+00A0 included, so "7 h 00" or "9:00 a.m." could break across
# lines. Before rich sees the text, the spaces inside a time become private-use characters
# (one cell wide, never a break); after rendering they turn back into what they were.
_KEEP = {"\u00a0": "\ue000", "\u202f": "\ue001"}
_KEEP_SPACE = "\ue002"
_MERIDIEM = re.compile(r"(\d) ([ap]\.m\.)")


def _unbreakable(text: str) -> str:
    for space, stand_in in _KEEP.items():
        text = text.replace(space, stand_in)
    return _MERIDIEM.sub(rf"\1{_KEEP_SPACE}\2", text)


def _restore(text: str) -> str:
    for space, stand_in in _KEEP.items():
        text = text.replace(stand_in, space)
    return text.replace(_KEEP_SPACE, " ")


def _text(text: str = "", style: str = "") -> Text:
    """A rich `Text` whose times never break across lines."""
    return Text(_unbreakable(text), style=style)


def _bullets(items: tuple[str, ...]) -> Table:
    """A bulleted list whose wrapped lines hang under the text, not the bullet."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=1)
    grid.add_column()
    for item in items:
        grid.add_row("•", _text(item))
    return grid


def _handout(h: Handout) -> list[RenderableType]:
    _ = h.gettext
    out: list[RenderableType] = []
    header = _text(h.clinic_name, style="bold")
    if h.clinic_phone:
        phone = _("Phone")
        header.append(_unbreakable(f"  {h.colon(phone)} {h.clinic_phone}"))
    if h.clinic_address:
        header.append(_unbreakable(f"\n{h.clinic_address}"))
    out.append(header)
    out.append(_text(h.title, style="bold"))
    # No `_()` inside f-strings: Babel's extractor cannot see into them on Python 3.11.
    patient, appointment = _("Patient"), _("Appointment")
    out.append(_text(f"{h.colon(patient)} {h.patient or '______________________________'}"))
    out.append(_text(f"{h.colon(appointment)} {h.date_text}"))
    out.append(_text(h.arrival, style="bold"))
    out.append(_text(""))
    table = Table(title=_("Your schedule"), title_justify="left", title_style="bold", box=box.SIMPLE_HEAVY, expand=True)
    table.add_column(_("When"), ratio=2)
    table.add_column(_("What"), ratio=3)
    for row in h.schedule:
        what = _text(row.label)
        for note in row.notes:
            what.append(_unbreakable(f"\n{note}"), style="italic")
        table.add_row(_text(row.when, style="bold"), what)
    out.append(table)
    for section in h.sections:
        out.append(_text(section.title, style="bold underline"))
        out.append(_bullets(section.items))
        out.append(_text(""))
    title = _text(h.emergency.title, style="bold")
    out.append(Panel(_bullets(h.emergency.items), title=title, box=box.HEAVY, title_align="left"))
    out.append(_text(h.contact))
    out.append(_text(_("If your care team tells you something different, follow your care team.")))
    instructions, printed = _("Instructions"), _("Printed")
    out.append(
        _text(
            f"{h.colon(instructions)} {h.set_id} {h.set_version} ({h.set_hash}) | {printed} {h.generated}",
            style="dim",
        )
    )
    return out


def write(sheets: list[Sheet], options: Options) -> bytes:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=options.width,
        color_system="standard" if options.color else None,
        force_terminal=options.color,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )
    for index, sheet in enumerate(sheets):
        for number, handout in enumerate(sheet.handouts):
            if index or number:
                console.rule()
            console.print(Group(*_handout(handout)))
    text = _restore(buffer.getvalue())
    if not options.color:  # plain output: no padding at line ends (stable golden files, clean pastes)
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.encode("utf-8")
