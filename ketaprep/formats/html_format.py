"""The printable handout: one self-contained HTML file (inline CSS, no script, no network).

`handout.html.j2` lays out the whole document; `chunks` renders it lazily so a batch can
stream thousands of patients to disk without holding the file in memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
from collections.abc import Hashable, Iterable, Iterator, Sequence
from functools import partial

from markupsafe import Markup, escape

from ketaprep.handout import Handout
from ketaprep.qr import QrCode, codes
from ketaprep.sheet import PATIENT_MARK, Options, Sheet, made_once, with_patient
from ketaprep.templates_env import environment

TEMPLATE = "handout.html.j2"
_DIGIT = re.compile(r"\d")
_TIME_SPACE = re.compile(r"(?<=:\d\d) (?=[ap]\.m\.)")
_PHONE = re.compile(r"(?:\+?1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}\b|\b\d(?:-\d){2,}\b")


def _no_break(match: re.Match[str]) -> str:
    return f'<span class="nw">{match.group(0)}</span>'


def keep_together(text: str) -> Markup:
    """Escaped text in which a time ("9:45 a.m.") or a phone number never breaks across lines."""
    escaped = str(escape(text))
    if _DIGIT.search(escaped) is None:  # most lines: nothing to keep together
        return Markup(escaped)  # noqa: S704 (escaped above)
    escaped = _TIME_SPACE.sub("\u00a0", escaped)
    return Markup(_PHONE.sub(_no_break, escaped))  # noqa: S704 (escaped above; only our own span added)


_DATE = re.compile(r"(?<![\w])([^\W\d_]+) (\d{1,2}(?:er)?) ([^\W\d_]+)")


def keep_date(text: str) -> Markup:
    """`keep_together`, and a date ("Wednesday 9 December", "mercredi 9 décembre") never broken
    across lines: for the schedule's "When" column and the QR codes' captions."""
    kept = str(keep_together(text))
    return Markup(_DATE.sub(lambda m: "\u00a0".join(m.groups()), kept))  # noqa: S704 (escaped by keep_together)


def css_string(text: str) -> str:
    """`text` as a CSS string literal in which only letters, digits and spaces stay as they are:
    every other character is a hex escape, so no name can end the string or the style element."""
    out = []
    for char in text:
        if char.isalnum() or char == " ":
            out.append(char)
        else:
            out.append(f"\\{ord(char):06x} ")  # the space ends the escape (CSS drops it)
    return '"' + "".join(out) + '"'


def running_header(handout: Handout) -> Markup:
    """The print style giving every page of this handout after the document's first the patient's
    name and "Page x / y" at its top, as the PDF's footer does (CSS paged media, a named page).

    In a file of several patients (a batch's print file) the name alone: a browser counts the
    pages of the whole file (`counter(page)` cannot restart per patient in Chromium), and "Page
    7 / 40" on a patient's second page would mislead. The file's <body> says which (`several`);
    each patient's part is the same in the patient's own file and in the print file.
    """
    name = page_name(handout)
    who = css_string(handout.patient)
    lead = css_string(f"{handout.patient} · {handout.gettext('Page')} " if handout.patient else f"{handout.gettext('Page')} ")
    rule = (f"@page {name} {{ @top-right {{ content: {lead} counter(page) \" / \" counter(pages); }} }}"
            f" @page {name}:first {{ @top-right {{ content: none; }} }}"
            f" @page {name}-n {{ @top-right {{ content: {who}; }} }}"
            f" @page {name}-n:first {{ @top-right {{ content: none; }} }}"
            f" .handout.{name} {{ page: {name}; }} .several .handout.{name} {{ page: {name}-n; }}")
    return Markup(f'<style media="print">{rule}</style>')  # noqa: S704 (every value is escaped by css_string)


def page_name(handout: Handout) -> str:
    return "h" + hashlib.sha256(f"{handout.lang}\x1f{handout.patient}".encode()).hexdigest()[:12]


def chunks(sheets: Iterable[Sheet], options: Options) -> Iterator[str]:
    """The document as a stream of text pieces; each sheet starts on a new page."""
    # Several patients: a print file (its own title), a list of more than one, or a stream of them.
    several = options.document_title is not None or not isinstance(sheets, Sequence) or len(sheets) > 1
    remaining = iter(sheets)
    first = next(remaining, None)
    if first is None:
        raise ValueError("an HTML handout needs at least one sheet")
    return _generate(first, itertools.chain([first], remaining), options, several)


def _qr(options: Options, sheet: Sheet, handout: Handout) -> list[QrCode]:
    """The handout's QR codes, their SVG marked safe (segno's own markup, no text from a set)."""
    found = codes(sheet, handout, options)
    return [dataclasses.replace(code, svg=Markup(code.svg)) for code in found]  # noqa: S704 (segno's SVG)


def _generate(first: Sheet, sheets: Iterable[Sheet], options: Options, several: bool) -> Iterator[str]:
    """The template's stream for these sheets (one place for the context `chunks` and `parts` share)."""
    template = environment("html", options.templates_dir).get_template(TEMPLATE)
    return template.generate(
        first=first,
        sheets=sheets,
        paper=options.paper,
        large_print=options.large_print,
        duplex=options.duplex,
        document_title=options.document_title,
        several=several,
        nb=keep_together,
        nb_date=keep_date,
        qr=partial(_qr, options),
        running_header=running_header,
        page_name=page_name,
    )


def parts(sheet: Sheet, options: Options) -> tuple[str, str, str]:
    """One sheet's document split as (head, body, tail), from one rendering (for `ketaprep batch`).

    head + body + tail is `write([sheet])`; the first sheet's head, every sheet's body and
    the tail is the combined file. The split is where the template's loop over `sheets`
    takes the sheet and asks for the next; the batch checks the result against `chunks`
    and renders twice instead if a clinic's template does not allow it.
    """
    out: list[str] = []
    marks: list[int] = []

    def tracked() -> Iterator[Sheet]:
        marks.append(len(out))
        yield sheet
        marks.append(len(out))

    from ketaprep.templates_env import is_template_error, template_failure

    try:
        for piece in _generate(sheet, tracked(), options, options.document_title is not None):
            out.append(piece)
    except Exception as exc:  # this sheet's failure, by template and line
        if is_template_error(exc):
            raise template_failure(exc) from None
        raise
    if len(marks) != 2:
        raise ValueError("the HTML template does not loop over `sheets` once")
    return "".join(out[: marks[0]]), "".join(out[marks[0] : marks[1]]), "".join(out[marks[1] :])


def patient_parts(
    sheet: Sheet, options: Options, shared: Hashable | None, memo: dict[Hashable, tuple[str, str, str]]
) -> tuple[str, str, str]:
    """`parts(sheet, options)`, made from `memo` when another patient's sheet shares everything
    but the name (`shared`, from the batch's set cache): the name put in where the built-in
    template writes it (HTML-escaped in the text, CSS-escaped in the running header, and in the
    handout's page name). Only for the built-in template; tests compare the two ways for many names."""
    patient = sheet.timeline.appointment.patient
    if shared is None or options.templates_dir is not None or not patient.strip():
        return parts(sheet, options)
    found = made_once(memo, shared, lambda: parts(with_patient(sheet, PATIENT_MARK), options))
    swaps = [(css_string(PATIENT_MARK)[1:-1], css_string(patient)[1:-1]), (PATIENT_MARK, str(escape(patient)))]
    for h in sheet.handouts:
        swaps.append((page_name(dataclasses.replace(h, patient=PATIENT_MARK)), page_name(h)))
    out = []
    for text in found:
        for old, new in swaps:
            text = text.replace(old, new)
        out.append(text)
    return out[0], out[1], out[2]


def write(sheets: list[Sheet], options: Options) -> bytes:
    return "".join(chunks(sheets, options)).encode("utf-8")
