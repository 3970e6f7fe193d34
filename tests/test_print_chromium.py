"""Print the HTML handouts with headless Chromium, as a clinic's browser would, and read the PDFs back.

One Chromium run per variant (Letter/A4, normal/large print), each a combined file of every
built-in set (en+fr where the set has French, so each language is measured; each handout
starts on a new page, so it lays out as it would alone), plus two combined files of patients
(plain and duplex); two runs at a time. The PDFs are read with pdftotext/pdffonts (poppler) and pypdf.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import EPOCH, require_tool
from pypdf import PdfReader
from test_html import HOSTILE, builtin_ids, sheet_for

from ketaprep.handout import Handout
from ketaprep.loader import SetLibrary
from ketaprep.sheet import Options, Paper, Sheet, write

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-pdf-header-footer",
]
PAGE_POINTS = {"letter": (612.0, 792.0), "a4": (595.3, 841.9)}
MAX_PAGES = {False: 2, True: 4}  # per language: normal print, large print
VARIANTS = [("letter", False), ("letter", True), ("a4", False), ("a4", True)]

# A set short enough for one page, to show that duplex adds the blank back page.
SHORT_SET = """\
extends: iv-pain-4h
id: short-test
version: "1"
caffeine: null
sections:
  about: []
  before:
    - en: "Do not eat any food after {{ last_meal }}."
      fr: "Ne mangez plus après {{ last_meal }}."
  day_of: []
  after:
    - en: "Do not drive until {{ drive_again }}."
      fr: "Ne conduisez pas avant {{ drive_again }}."
  side_effects: []
  emergency:
    - en: "Chest pain"
      fr: "Douleur à la poitrine"
"""


def flat(text: str) -> str:
    """Text as compared: compatibility forms folded (ligatures, narrow spaces), whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


@dataclass
class Printed:
    """One HTML document printed to PDF, and what was read back from it."""

    sheets: list[Sheet]
    options: Options
    pdf: Path
    pages: list[str] = field(default_factory=list)
    raw_pages: list[str] = field(default_factory=list)
    """Each page's text in the order it was drawn (the document's order: a table's cells, row by row,
    before the QR codes printed at its right, whose captions pdftotext would otherwise interleave)."""
    lines: list[list[str]] = field(default_factory=list)
    """Each page's lines as pdftotext reads them (spaces folded, not joined)."""
    sizes: list[tuple[float, float]] = field(default_factory=list)
    fonts: list[list[str]] = field(default_factory=list)
    smallest_text: float = 0.0

    @property
    def handouts(self) -> list[Handout]:
        return [h for sheet in self.sheets for h in sheet.handouts]

    def pages_with(self, needle: str) -> list[int]:
        """1-based numbers of the pages whose text contains `needle`."""
        return [n for n, text in enumerate(self.pages, 1) if flat(needle) in text]


def chromium_print(chromium: str, html: Path, pdf: Path, profile: Path) -> None:
    done = subprocess.run(  # noqa: S603 (fixed arguments, our own files)
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", html.as_uri()],
        capture_output=True, timeout=90, check=False,
    )
    assert done.returncode == 0 and pdf.is_file(), done.stderr.decode(errors="replace")[-2000:]


def read_back(printed: Printed) -> None:
    pdf = str(printed.pdf)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], capture_output=True, check=True).stdout  # noqa: S603,S607
    printed.pages = [flat(page) for page in text.decode("utf-8").split("\f")][:-1]
    raw = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", pdf, "-"], capture_output=True, check=True).stdout  # noqa: S603,S607
    printed.raw_pages = [flat(page) for page in raw.decode("utf-8").split("\f")][:-1]
    printed.lines = [[flat(line) for line in page.splitlines()] for page in text.decode("utf-8").split("\f")][:-1]
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, check=True, text=True).stdout  # noqa: S603,S607
    printed.fonts = [line.split() for line in fonts.splitlines()[2:]]
    reader = PdfReader(pdf)
    printed.sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    assert len(printed.pages) == len(printed.sizes)
    if printed.options.paper != "letter":
        return  # type sizes do not depend on the paper; reading every glyph's size is slow
    sizes: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():  # the effective size: the font size scaled by the text and graphics matrices
            c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
            sizes.append(size * (c * c + d * d) ** 0.5)

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    printed.smallest_text = min(sizes)


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Printed]]:
    """Every variant printed once: all built-in sets in one combined file, each set from a new page."""
    chromium = require_tool("chromium")
    for tool in ("pdftotext", "pdffonts"):
        require_tool(tool)
    with pytest.MonkeyPatch.context() as env:  # the per-test environment is not set up yet at module scope
        env.setenv("SOURCE_DATE_EPOCH", EPOCH)
        yield print_all(chromium, tmp_path_factory.mktemp("chromium"))


def print_all(chromium: str, root: Path) -> dict[str, Printed]:
    library = SetLibrary()
    sheets = [
        sheet_for(set_id, lang="en+fr" if "fr" in library.load(set_id).model.languages else "en")
        for set_id in builtin_ids()
    ]
    jobs = {variant_id(paper, large): Printed(sheets, Options(paper=paper, large_print=large), Path())
            for paper, large in VARIANTS}
    short = root / "short-test.yaml"
    short.write_text(SHORT_SET, encoding="utf-8")
    combined = [
        sheet_for("iv-pain-4h", patient="Ada One", lang="en+fr"),
        sheet_for(short, patient="Bob Two", lang="en+fr"),
        sheet_for(short, patient=HOSTILE),
        sheet_for("iv-pain-4h", patient="Di Four"),
    ]
    jobs["combined"] = Printed(combined, Options(), Path())
    jobs["single"] = Printed([sheet_for("iv-pain-4h", patient="Ada One")], Options(), Path())
    jobs["single-bilingual"] = Printed([sheet_for("iv-pain-4h", patient="Ada One", lang="en+fr")], Options(), Path())
    jobs["combined-duplex"] = Printed(combined, Options(duplex=True), Path())

    def run(name: str) -> None:
        job = jobs[name]
        html = root / f"{name}.html"
        html.write_bytes(write("html", job.sheets, job.options))
        job.pdf = root / f"{name}.pdf"
        chromium_print(chromium, html, job.pdf, root / f"profile-{name}")
        read_back(job)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, jobs))
    return jobs


def variant_id(paper: Paper, large: bool) -> str:
    return f"{paper}-{'large' if large else 'normal'}"


CASES = [(set_id, variant_id(paper, large)) for set_id in builtin_ids() for paper, large in VARIANTS]
CASE_IDS = [f"{set_id}-{variant}" for set_id, variant in CASES]


def spans(job: Printed) -> list[tuple[Handout, int, int]]:
    """Each handout with its first and last page: it starts on the page that shows its title."""
    starts: list[int] = []
    for h in job.handouts:
        found = [n for n in job.pages_with(h.title) if not starts or n > starts[-1]]
        assert found, f"title of {h.set_id} ({h.lang}) not found in the PDF"
        starts.append(found[0])
    ends = [s - 1 for s in starts[1:]] + [len(job.pages)]
    return list(zip(job.handouts, starts, ends, strict=True))


def set_spans(job: Printed, set_id: str) -> list[tuple[Handout, int, int]]:
    found = [span for span in spans(job) if span[0].set_id == set_id]
    assert found
    return found


@pytest.mark.parametrize(("set_id", "variant"), CASES, ids=CASE_IDS)
def test_every_page_has_the_requested_paper_size(printed: dict[str, Printed], set_id: str, variant: str) -> None:
    job = printed[variant]
    want = PAGE_POINTS[job.options.paper]
    for _h, first, last in set_spans(job, set_id):
        for number in range(first, last + 1):
            width, height = job.sizes[number - 1]
            assert abs(width - want[0]) < 1.5 and abs(height - want[1]) < 1.5, (number, width, height)


@pytest.mark.parametrize(("set_id", "variant"), CASES, ids=CASE_IDS)
def test_each_language_fits_the_page_limit(printed: dict[str, Printed], set_id: str, variant: str) -> None:
    """At most 2 pages in normal print and 4 in large print, per language."""
    job = printed[variant]
    limit = MAX_PAGES[job.options.large_print]
    for h, first, last in set_spans(job, set_id):
        assert last - first + 1 <= limit, f"{h.lang}: {last - first + 1} pages"


@pytest.mark.parametrize(("set_id", "variant"), CASES, ids=CASE_IDS)
def test_emergency_box_is_whole_on_one_page(printed: dict[str, Printed], set_id: str, variant: str) -> None:
    job = printed[variant]
    for h, first, last in set_spans(job, set_id):
        pages = [n for n in job.pages_with(h.colon(h.emergency.title)) if first <= n <= last]
        assert len(pages) == 1, f"{h.lang}: emergency heading on pages {pages}"
        for item in h.emergency.items:
            assert flat(item) in job.pages[pages[0] - 1], f"{h.lang}: {item!r} is not on page {pages[0]}"


@pytest.mark.parametrize(("set_id", "variant"), CASES, ids=CASE_IDS)
def test_schedule_and_headings_stay_with_what_follows(printed: dict[str, Printed], set_id: str, variant: str) -> None:
    """The schedule table is on its heading's page, and no section heading ends a page alone."""
    job = printed[variant]
    for h, first, last in set_spans(job, set_id):
        span = range(first, last + 1)
        schedule = [n for n in job.pages_with(h.gettext("Your schedule")) if n in span]
        assert len(schedule) == 1, f"{h.lang}: schedule heading on pages {schedule}"
        page = job.raw_pages[schedule[0] - 1]
        for row in h.schedule:
            # pdftotext drops the narrow gap in a short bold time ("7 h" comes out "7h"): times compare without spaces
            # and a when that wraps ("le mercredi 25 novembre / à 11 h 15", "1:00 a.m. (the night of / Monday to
            # Tuesday)") comes out around the label's lines (and a wrapped label's lines come out around it)
            squashed = page.replace(" ", "")
            # (the date part, unbreakable, may come out on its own), so each line-sized piece is looked for
            for piece in re.split(r" (?=à )|(?<=,) |(?<=of) |(?<=de) ", flat(row.when)):
                piece = piece.replace(" ", "")
                assert piece in squashed, f"{h.lang}: {row.key} not on page {schedule[0]}"
                squashed = squashed.replace(piece, "")
            assert flat(row.label).replace(" ", "") in squashed, f"{h.lang}: {row.key} not on page {schedule[0]}"
        for section in h.sections:  # the heading and the start of its first item share a page
            heading = [n for n in job.pages_with(section.title) if n in span]
            opening = " ".join(flat(section.items[0]).split()[:5])  # pdftotext may read columns out of order
            assert heading and opening in job.pages[heading[0] - 1], f"{h.lang}: {section.title}"


@pytest.mark.parametrize("variant", [variant_id(paper, large) for paper, large in VARIANTS])
def test_fonts_are_embedded(printed: dict[str, Printed], variant: str) -> None:
    job = printed[variant]
    assert job.fonts, "no fonts listed"
    for row in job.fonts:
        assert row[-5] == "yes", f"font not embedded: {row}"


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_no_text_is_smaller_than_12_pt_or_16_pt_in_large_print(printed: dict[str, Printed], large: bool) -> None:
    job = printed[variant_id("letter", large)]
    least = 16.0 if large else 12.0
    assert least - 0.01 <= job.smallest_text < least + 1, job.smallest_text


@pytest.mark.parametrize(("set_id", "variant"), CASES, ids=CASE_IDS)
def test_printed_text_has_the_patient_date_and_footer(printed: dict[str, Printed], set_id: str, variant: str) -> None:
    job = printed[variant]
    for h, first, last in set_spans(job, set_id):
        text = " ".join(job.pages[first - 1:last])
        assert flat(h.patient) in text and flat(h.date_text) in text
        assert flat(f"{h.set_id} {h.gettext('version')} {h.set_version} ({h.set_hash})") in text
        assert h.generated in text
        assert "file:" not in text and ".html" not in text, "Chromium printed its own header or footer"


def patient_pages(job: Printed) -> list[int]:
    return [job.pages_with(f"{sheet.handouts[0].colon('Patient')} {sheet.timeline.appointment.patient}")[0]
            for sheet in job.sheets]


def test_combined_file_starts_each_patient_on_a_new_page(printed: dict[str, Printed]) -> None:
    job = printed["combined"]
    starts = patient_pages(job)
    assert starts[0] == 1 and starts == sorted(set(starts))
    languages = [first for _h, first, _last in spans(job)]
    # Bob Two (en, fr) and the next patient are one page each: no blank page between them
    assert languages[2] == languages[3] - 1 == languages[4] - 2, languages
    assert flat(HOSTILE) in job.pages[starts[2] - 1], "the hostile name is printed as text"


def test_duplex_starts_each_patient_on_the_front_of_a_sheet(printed: dict[str, Printed]) -> None:
    """Each patient, and each language of a bilingual sheet, starts on an odd page."""
    job = printed["combined-duplex"]
    starts = [first for _h, first, _last in spans(job)]
    assert len(starts) == 6 and all(n % 2 == 1 for n in starts), starts
    assert all(n % 2 == 1 for n in patient_pages(job))
    assert len(job.pages) % 2 == 0
    plain = printed["combined"]
    assert len(job.pages) > len(plain.pages), "the one-page handouts got their blank back pages"


@pytest.mark.parametrize("name", ["single", "single-bilingual"])
def test_every_page_after_the_first_names_the_patient_and_its_number(printed: dict[str, Printed], name: str) -> None:
    """As the PDF's footer does: the patient's name and "Page x / y" at the top of each page after the first."""
    job = printed[name]
    total = len(job.pages)
    assert total == (2 if name == "single" else 4)
    assert "Page 1 /" not in job.pages[0] and "Ada One · " not in job.pages[0]
    owner: dict[int, Handout] = {}
    for h, first, last in spans(job):
        for number in range(first, last + 1):
            owner[number] = h
    for number in range(2, total + 1):
        h = owner[number]
        heading = f"{h.patient} · {h.gettext('Page')} {number} / {total}"
        assert flat(heading) in job.lines[number - 1], (number, heading)


def test_a_file_of_several_patients_names_the_patient_on_every_page_but_counts_no_pages(printed: dict[str, Printed]) -> None:
    """A browser counts the pages of the whole file: "Page 7 / 12" on a patient's second page
    would mislead, so a print file of several patients names the patient alone."""
    job = printed["combined"]
    assert len(job.pages) > 4
    owner: dict[int, Handout] = {}
    for h, first, last in spans(job):
        for number in range(first, last + 1):
            owner[number] = h
    for number in range(2, len(job.pages) + 1):
        h = owner[number]
        assert flat(h.patient) in [flat(line) for line in job.lines[number - 1]], number  # the header line
        assert not re.search(r"\b(Page|Pages?) \d+ / \d+", job.pages[number - 1]), number


@pytest.mark.parametrize("variant", [variant_id(paper, large) for paper, large in VARIANTS])
def test_when_column_never_breaks_a_date(printed: dict[str, Printed], variant: str) -> None:
    """"Wednesday 25 November" is on one line wherever the schedule prints a date, in every language."""
    job = printed[variant]
    seen = 0
    for h, first, last in spans(job):
        for row in h.schedule:
            for date in re.findall(r"(?:\b|(?<=^))[^\W\d_]+ \d{1,2}(?:er)? [^\W\d_]+", flat(row.when)):
                lines = [line for n in range(first, last + 1) for line in job.lines[n - 1]]
                assert any(date in line for line in lines), f"{h.set_id} {h.lang}: {date!r} broken across lines"
                seen += 1
    assert seen > 10
