"""The PDF handout: Typst markup from `handout.typ.j2`, compiled in-process by the typst package.

Only the fonts shipped in `ketaprep/fonts/` (Atkinson Hyperlegible, with DejaVu Sans for the
letters it lacks) and Typst's own built-in fonts are visible, never the machine's, so the same inputs give the same bytes on
every machine; the PDF's creation date is the handouts' "generated" date (which honours
SOURCE_DATE_EPOCH). Every value in the template is escaped as a Typst string literal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from functools import cache, partial
from pathlib import Path

from ketaprep.errors import AppointmentError, KetaprepError
from ketaprep.formats.typst_escape import typst_escape
from ketaprep.qr import codes
from ketaprep.sheet import PATIENT_MARK, Options, Sheet, made_once, with_patient
from ketaprep.templates_env import TEMPLATE_DIR, environment
from ketaprep.typst_compile import FONT_DIR as FONT_DIR
from ketaprep.typst_compile import PDF_STANDARDS as PDF_STANDARDS
from ketaprep.typst_compile import TEMPLATE as TEMPLATE
from ketaprep.typst_compile import compile_claiming
from ketaprep.typst_compile import fonts as fonts

CACHE_AGE = 10
"""typst-py calls `comemo::evict(10)` after every compilation."""


@cache
def _covered() -> frozenset[int]:
    """Every code point the shipped fonts can draw (read from their character maps once)."""
    from fontTools.ttLib import TTFont

    points: set[int] = set()
    for path in sorted(FONT_DIR.glob("*.ttf")):
        cmap = TTFont(str(path), lazy=True).getBestCmap()
        points.update(cmap or {})
    return frozenset(points)


def unprintable(text: str) -> int:
    """How many characters of `text` no shipped font can draw (they would print as empty boxes)."""
    covered = _covered()
    missing = {char for char in set(text) if ord(char) not in covered and not char.isspace() and char.isprintable()}
    return sum(text.count(char) for char in missing) if missing else 0


def check_printable(sheets: Iterable[Sheet], markup: str | None = None) -> None:
    """Refuse a PDF that would print empty boxes: in a patient's name, or in the set or clinic text.

    The message counts the characters and never shows them (they are the patient's name).
    """
    advice = "use --format html, which prints with the computer's own fonts"
    for sheet in sheets:
        missing = unprintable(sheet.timeline.appointment.patient)
        if missing:
            raise AppointmentError(
                f"the patient name has {missing} character(s) the PDF fonts cannot print; {advice}"
            )
    missing = unprintable(markup) if markup is not None else 0
    if missing:
        raise KetaprepError(
            f"the set, clinic profile or template has {missing} character(s) the PDF fonts cannot print; {advice}"
        )


def source(sheets: Iterable[Sheet], options: Options) -> str:
    """The Typst markup for these sheets (each patient from a new page)."""
    listed = list(sheets)
    if not listed:
        raise ValueError("a PDF handout needs at least one sheet")
    from ketaprep.templates_env import is_template_error, template_failure

    try:
        template = environment("typst", options.templates_dir).get_template(TEMPLATE)
        return template.render(
            first=listed[0],
            sheets=listed,
            paper=options.paper,
            large_print=options.large_print,
            duplex=options.duplex,
            document_title=options.document_title,
            qr=partial(codes, options=options),
        )
    except Exception as exc:  # these sheets' failure, by template and line
        if is_template_error(exc):
            raise template_failure(exc) from None
        raise


def patient_source(sheet: Sheet, options: Options, shared: Hashable | None, memo: dict[Hashable, str]) -> str:
    """`source([sheet], options)`, checked for printable characters; made from `memo` when another
    patient's sheet shares everything but the name (`shared`, from the batch's set cache).

    Only for the built-in template, whose every use of the name is a plain `{{ h.patient }}`
    (tests compare the two ways for many names); a clinic's template is rendered for each patient.
    """
    check_printable([sheet])

    def checked(one: Sheet) -> str:
        markup = source([one], options)
        check_printable([], markup)
        return markup

    patient = sheet.timeline.appointment.patient
    if shared is None or options.templates_dir is not None or not patient.strip():
        return checked(sheet)
    made = made_once(memo, shared, lambda: checked(with_patient(sheet, PATIENT_MARK)))
    return made.replace(typst_escape(PATIENT_MARK), typst_escape(patient))


def creation_time(sheet: Sheet) -> dt.datetime:
    """Midnight UTC of the handout's "generated" date: the PDF's creation and modification date."""
    day = dt.date.fromisoformat(sheet.handouts[0].generated)
    return dt.datetime.combine(day, dt.time(0, 0), dt.UTC)


def write(sheets: list[Sheet], options: Options) -> bytes:
    """One PDF for the sheets; more than one sheet makes a combined, print-ready file."""
    markup = source(sheets, options)
    check_printable(sheets, markup)
    root = options.templates_dir or TEMPLATE_DIR
    check_root(root)
    standards = PDF_STANDARDS if len(sheets) == 1 else []
    try:
        return compile_claiming(markup, str(root), creation_time(sheets[0]), standards, options.templates_dir is not None)
    finally:
        if len(sheets) > 1:
            release_memory()


def check_root(root: Path) -> None:
    """What a Typst template may read (a logo) stays in its folder: a link out of it, a FIFO or a
    device there is refused before Typst compiles (Typst itself keeps paths inside the root)."""
    import os
    import stat

    from ketaprep.limits import MAX_TEMPLATE_BYTES, check_confined

    seen = 0
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            seen += 1
            if seen > 10_000:
                raise KetaprepError(f"{root}: the templates folder holds more than 10,000 files; keep only the templates there")
            path = Path(folder) / name
            check_confined(path, root, "template")
            try:
                info = path.stat()
            except OSError:
                raise KetaprepError(f"{path}: is a broken link; remove it from the templates folder") from None
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                raise KetaprepError(f"{path}: is not a regular file (a device, FIFO or socket); "
                                    "remove it from the templates folder")
            if stat.S_ISREG(info.st_mode) and info.st_size > 20 * MAX_TEMPLATE_BYTES:
                raise KetaprepError(f"{path}: is larger than {20 * MAX_TEMPLATE_BYTES:,} bytes; "
                                    "keep only templates and small images there")


def release_memory() -> None:
    """Drop Typst's layout cache, so memory stays flat from one batch chunk to the next.

    typst-py keeps what a compilation memoised until it has gone unused for
    `CACHE_AGE` further compilations (about 2 MB per sheet: 50 sheets a call grew a
    process to over 1 GB). Compiling an empty document that many times ages it all out;
    it costs a few milliseconds per sheet, so it is done only after a combined file.
    """
    import typst

    for _ in range(CACHE_AGE):
        typst.compile(b"", format="pdf", font_paths=fonts())
