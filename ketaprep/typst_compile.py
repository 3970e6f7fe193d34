"""Typst compiles, kept light: what a batch's PDF worker process imports (typst and this
module, not the templates, Jinja or the sets: `batch.pdfpool` hands it each patient's markup),
and what `formats.pdf_format` compiles with.

Only the fonts shipped in `ketaprep/fonts/` and Typst's own embedded fonts are visible, never
the machine's.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ketaprep.errors import KetaprepError

if TYPE_CHECKING:
    import typst

FONT_DIR = Path(__file__).resolve().parent / "fonts"
TEMPLATE = "handout.typ.j2"
PDF_STANDARDS = ["ua-1"]
"""A single patient's PDF claims PDF/UA-1 (tagged, language and title shown); Typst checks it."""


@cache
def fonts() -> typst.Fonts:
    """The shipped font plus Typst's embedded ones; system fonts are ignored. Scanned once."""
    import typst

    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=[str(FONT_DIR)])


_COMPILING = threading.Lock()


@lru_cache(maxsize=8)
def compiler(root: str) -> typst.Compiler:
    """One Typst compiler per templates folder, kept for the process: what it memoised for one
    handout (fonts, shaped text, laid-out paragraphs) serves the next, which is most of the work
    for a day's list (a fresh compile per sheet took about twice as long)."""
    import typst

    return typst.Compiler(root=root, font_paths=fonts())


def compile_markup(markup: str, root: str, timestamp: dt.datetime, standards: list[str]) -> bytes:
    """Typst markup to PDF bytes with the kept compiler (one compile at a time per process: the
    web form's threads share it)."""
    with _COMPILING:
        pdf = compiler(root).compile(input=markup.encode("utf-8"), format="pdf", timestamp=timestamp,
                                     pdf_standards=standards)  # type: ignore[arg-type]  # names checked by Typst
    assert isinstance(pdf, bytes)
    return pdf


def compile_claiming(markup: str, root: str, timestamp: dt.datetime, standards: list[str],
                     clinic_template: bool) -> bytes:
    """`compile_markup`, its failure a KetaprepError naming the Typst problem only (the diagnostic
    could quote patient text). A clinic's own template that the claimed standard refuses (an image
    without alt text...) still prints: the file is tagged as Typst tags it, and claims no standard."""
    import typst

    try:
        try:
            return compile_markup(markup, root, timestamp, standards)
        except typst.TypstError:
            if not standards or not clinic_template:
                raise
            return compile_markup(markup, root, timestamp, [])
    except typst.TypstError as exc:
        raise KetaprepError(f"the PDF template {TEMPLATE} could not be laid out: {exc.message}") from None


# --- a batch's PDF worker process (see batch.pdfpool) ------------------------------------------


@dataclass(frozen=True)
class Job:
    """One patient's PDF to make: the markup, the templates folder, the PDF's date, and whether
    a clinic's own template that PDF/UA-1 refuses may still be compiled without the claim."""

    markup: str
    root: str
    timestamp: dt.datetime
    clinic_template: bool


def compile_job(job: Job) -> bytes:
    """The PDF of one job, claiming PDF/UA-1 (raises KetaprepError naming the Typst problem only)."""
    return compile_claiming(job.markup, job.root, job.timestamp, PDF_STANDARDS, job.clinic_template)


def start_worker() -> None:
    """In each worker: Ctrl-C and SIGTERM are the main process's to handle (it stops the
    workers itself, when they have handed back what they were compiling), and the fonts are
    read before the first job arrives."""
    import os

    from ketaprep.stops import ignored

    ignored()
    # One thread for Typst in each worker: there is a worker per core already, and Typst's own
    # threads, idle for a single patient's sheet, spin while they wait and take the other workers' time.
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    fonts()


def worker_ready() -> None:
    """A first task that starts its worker (the fonts are read by the initializer)."""


def compile_group(jobs: list[Job]) -> list[bytes | str]:
    """In a worker: each job's PDF, or the message of its failure (that patient's row only)."""
    out: list[bytes | str] = []
    for job in jobs:
        try:
            out.append(compile_job(job))
        except KetaprepError as exc:
            out.append(exc.message)
        except Exception as exc:  # noqa: BLE001  # one patient's unexpected failure stays that patient's
            out.append(f"the PDF could not be made ({type(exc).__name__})")
    return out
