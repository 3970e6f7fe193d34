"""The PDF handout (Typst): golden text, escaping, fit on the page, fonts, duplex, determinism.

The golden files hold the text pypdf extracts, the page count, the page size and the fonts:
    KETAPREP_REGEN=1 python -m pytest tests/test_pdf.py
then review the diff of tests/golden/pdf/.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typst
from conftest import EPOCH, assert_golden, require_tool
from pypdf import PdfReader

from ketaprep.errors import KetaprepError
from ketaprep.formats import pdf_format
from ketaprep.formats.typst_escape import TypstCode, typst_escape, typst_str, whole_dates
from ketaprep.loader import SetLibrary
from ketaprep.models import Clinic
from ketaprep.sheet import Options, Sheet, generated_date, make_sheet, write
from ketaprep.timeline import Appointment

DAY = dt.date(2026, 11, 24)  # a Tuesday, far from a clock change
CLINIC = Clinic(name="Lakeshore Pain Clinic", phone="416-555-0199", address="200 Front Street West, Toronto, ON M5V 3K2")
BUILTIN = sorted(SetLibrary().files())
DURATION = {"iv-variable": dt.timedelta(minutes=90)}  # the set whose length varies
FOOTER_TOP = 61.0  # pt from the bottom of the page: the footer lives below (bottom margin 0.85 in / 22 mm)
HOSTILE = [
    '#read("/etc/passwd")',
    "[x] *bold* _it_ $x^2$ <lbl> @ref `raw`",
    '"; #read("x") //',
    "back\\slash /* not a comment",
    "= not a heading",
    "- not a list",
    "#let x = 1 #x.len()",
]


def sheet(
    set_id: str = "iv-pain-4h",
    lang: str = "en",
    patient: str = "Ada Test",
    clinic: Clinic | None = CLINIC,
    start: dt.time = dt.time(9, 0),
) -> Sheet:
    loaded = SetLibrary().load(set_id)
    appointment = Appointment(DAY, start, "America/Toronto", patient, DURATION.get(set_id))
    return make_sheet(loaded, appointment, clinic, lang, None, generated_date(dt.date(2000, 1, 1)))


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def described(pdf: bytes) -> bytes:
    """What a golden file holds: page count, size, fonts, then each page's text."""
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    fonts = sorted(
        {
            str(font["/BaseFont"]).split("+", 1)[-1]
            for page in reader.pages
            for font in page["/Resources"]["/Font"].values()  # type: ignore[index]
        }
    )
    lines = [
        f"pages: {len(reader.pages)}",
        f"size: {float(box.width):.0f} x {float(box.height):.0f} pt",
        f"fonts: {', '.join(fonts)}",
    ]
    for number, page in enumerate(reader.pages, 1):
        lines += [f"--- page {number} ---", page.extract_text()]
    return ("\n".join(lines) + "\n").encode("utf-8")


# -- golden files ------------------------------------------------------------------------------


@pytest.mark.parametrize("set_id", BUILTIN)
def test_each_builtin_set_matches_its_golden_text_pages_and_size(set_id: str) -> None:
    assert_golden(f"pdf/{set_id}.txt", described(write("pdf", [sheet(set_id)], Options())))


@pytest.mark.parametrize(
    ("name", "lang", "options"),
    [
        ("iv-pain-4h.fr", "fr", Options()),
        ("iv-pain-4h.a4-large", "en", Options(paper="a4", large_print=True)),
        ("iv-pain-4h.bilingual", "en+fr", Options()),
    ],
)
def test_french_a4_large_print_and_bilingual_match_their_golden_files(name: str, lang: str, options: Options) -> None:
    assert_golden(f"pdf/{name}.txt", described(write("pdf", [sheet("iv-pain-4h", lang)], options)))


# -- fit and layout rules --------------------------------------------------------------------------


def compiled(sheets: list[Sheet], options: Options) -> bytes:
    """Compile through the real template, failing on any Typst warning (e.g. a layout that did not settle)."""
    source = pdf_format.source(sheets, options).encode("utf-8")
    pdf, warnings = typst.compile_with_warnings(source, format="pdf", font_paths=pdf_format.fonts())
    assert not warnings, [w.message for w in warnings]
    assert isinstance(pdf, bytes)
    return pdf


def page_with(texts: list[str], needle: str) -> int:
    found = [i for i, text in enumerate(texts) if needle in flat(text)]
    assert len(found) == 1, (needle, found)
    return found[0]


@pytest.mark.parametrize(
    ("lang", "paper", "large", "most"),
    [
        ("en", "letter", False, 2),
        ("en", "letter", True, 4),
        ("fr", "letter", False, 2),
        ("fr", "letter", True, 4),
        ("en", "a4", False, 2),
        ("en", "a4", True, 4),
    ],
)
def test_every_builtin_set_fits_its_pages_with_no_box_split(lang: str, paper: Any, large: bool, most: int) -> None:
    """At most 2 pages (4 in large print); the schedule, the emergency box and the sign-off each on one page."""
    for set_id in BUILTIN:
        handout_sheet = sheet(set_id, lang)
        h = handout_sheet.handouts[0]
        texts = pages(compiled([handout_sheet], Options(paper=paper, large_print=large)))
        assert len(texts) <= most, (set_id, len(texts))
        schedule = page_with(texts, flat(h.gettext("Your schedule")))
        assert all(flat(row.label) in flat(texts[schedule]) for row in h.schedule), set_id
        emergency = page_with(texts, flat(h.emergency.title))
        assert all(flat(item) in flat(texts[emergency]) for item in h.emergency.items), set_id
        signoff = page_with(texts, flat(h.gettext("Reviewed with the patient by")))
        assert flat(h.gettext("The patient confirmed who will drive them home")) in flat(texts[signoff]), set_id


def blank_below(pdf: bytes) -> list[float]:
    """For each page, the share of its writing area (between the margins, above the footer) left
    blank under its last line of text."""
    result = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        lowest = [float(page.mediabox.height)]

        def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
            y = cm[5] + tm[5] * cm[3]
            if text.strip() and y > FOOTER_TOP:
                lowest[0] = min(lowest[0], y)

        page.extract_text(visitor_text=visit)
        top = float(page.mediabox.height) - 36  # the top margin (0.5 in, or 13 mm)
        result.append(max(0.0, (lowest[0] - FOOTER_TOP) / (top - FOOTER_TOP)))
    return result


@pytest.mark.parametrize("paper", ["letter", "a4"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_large_print_never_leaves_the_emergency_box_alone_after_a_third_of_a_page_left_blank(lang: str, paper: Any) -> None:
    """The emergency box never splits; when it cannot fit under the text before it, the page it
    moves to also carries what follows it (contact line, sign-off), never the box alone."""
    for set_id in BUILTIN:
        for start in (dt.time(9, 0), dt.time(13, 30)):
            handout_sheet = sheet(set_id, lang, start=start)
            h = handout_sheet.handouts[0]
            pdf = compiled([handout_sheet], Options(paper=paper, large_print=True))
            texts, blank = pages(pdf), blank_below(pdf)
            emergency = page_with(texts, flat(h.emergency.title))
            alone = flat(h.gettext("Reviewed with the patient by")) not in flat(texts[emergency])
            if emergency > 0 and alone:
                assert blank[emergency - 1] <= 1 / 3, (set_id, lang, paper, start, blank)


def text_sizes(pdf: bytes) -> tuple[set[float], set[float]]:
    """Font sizes (pt) of the text above the footer, and of the footer."""
    body: set[float] = set()
    footer: set[float] = set()

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            (footer if cm[5] < FOOTER_TOP else body).add(round(abs(size * tm[3] * cm[3]), 1))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return body, footer


@pytest.mark.parametrize(("large", "smallest", "footer_size"), [(False, 12.0, 10.0), (True, 16.0, 12.0)])
def test_body_text_is_at_least_12_pt_and_16_pt_in_large_print(large: bool, smallest: float, footer_size: float) -> None:
    body, footer = text_sizes(write("pdf", [sheet("im-depression")], Options(large_print=large)))
    assert min(body) == smallest
    assert footer == {footer_size}


def test_pages_are_letter_by_default_and_a4_on_request() -> None:
    letter = PdfReader(io.BytesIO(write("pdf", [sheet()], Options()))).pages[0].mediabox
    a4 = PdfReader(io.BytesIO(write("pdf", [sheet()], Options(paper="a4")))).pages[0].mediabox
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)


# -- combined files ------------------------------------------------------------------------------------


def first_pages(texts: list[str]) -> list[int]:
    return [i for i, text in enumerate(texts) if re.search(r"Page 1 / \d+\s*$", text)]


def test_each_patient_and_each_language_starts_on_a_new_page() -> None:
    sheets = [sheet("iv-pain-4h", "en+fr", "Ada Test"), sheet("im-depression", "en", "Bo Test")]
    texts = pages(compiled(sheets, Options()))
    starts = first_pages(texts)
    assert len(starts) == 3 and starts[0] == 0
    assert texts[starts[0]].startswith(CLINIC.name) and texts[starts[2]].startswith(CLINIC.name)
    assert "Votre horaire" in texts[starts[1]]  # the French half of the bilingual sheet
    assert "Bo Test" not in "".join(texts[: starts[2]]) and "Ada Test" not in "".join(texts[starts[2] :])


def test_duplex_pads_every_patient_to_an_even_number_of_pages_with_blank_pages() -> None:
    """A 3-page large-print handout gets a blank 4th page, so the next patient starts on a new sheet."""
    sheets = [sheet("iv-pain-4h", patient="Ada Test"), sheet("im-depression", patient="Bo Test")]
    plain = pages(compiled(sheets, Options(large_print=True, qr_codes=False)))
    duplex = pages(compiled(sheets, Options(large_print=True, duplex=True, qr_codes=False)))
    assert all(text.strip() for text in plain)
    lengths = [b - a for a, b in zip(first_pages(plain), [*first_pages(plain)[1:], len(plain)], strict=True)]
    assert any(n % 2 for n in lengths), "the fixture must have a patient with an odd page count"
    assert len(duplex) % 2 == 0
    assert all(start % 2 == 0 for start in first_pages(duplex))  # 0-based: page 1, 3, 5...
    blanks = [i for i, text in enumerate(duplex) if not text.strip()]
    assert len(duplex) == len(plain) + len(blanks) and blanks


# -- escaping --------------------------------------------------------------------------------------------


def test_escape_makes_string_literals_and_leaves_escaped_code_alone() -> None:
    assert typst_escape('Ada "A" \\ Test\n') == '#"Ada \\"A\\" \\\\ Test\\n";'
    assert typst_escape(None) == '#"";'
    assert typst_escape(typst_escape("x")) == '#"x";'
    assert typst_str("fr") == '"fr"' and isinstance(typst_str("fr"), TypstCode)
    assert typst_escape("a\x00b\rc\x1bd") == '#"abcd";'


def test_clock_times_and_schedule_dates_are_kept_whole_in_boxes() -> None:
    assert typst_escape("Stop at 9:00 a.m. now") == '#"Stop at ";#box("9:00 a.m.");#" now";'
    assert typst_escape("13 h 30 et 1 h, 2 heures") == '#box("13 h 30");#" et ";#box("1 h");#", 2 heures";'
    assert whole_dates("1:00 a.m., Wednesday 25 November") == '#box("1:00 a.m.");#", ";#box("Wednesday 25 November");'
    assert whole_dates("le mercredi 1er décembre à 13 h") == '#"le ";#box("mercredi 1er décembre");#" à ";#box("13 h");'
    assert whole_dates('Ada "9:00" x') == '#"Ada \\"";#box("9:00");#"\\" x";'


def test_a_boxed_time_never_breaks_across_lines() -> None:
    """A line too narrow for the sentence: the time moves to the next line whole (at 4 cm, Typst
    would otherwise end the line after "11:30")."""
    source = "#set page(width: 4cm, height: auto, margin: 0pt)\n" + typst_escape("Eat no food after 11:30 p.m.") + "\n"
    text = pages(typst.compile(source.encode(), format="pdf", ignore_system_fonts=True))[0]
    assert [line.strip() for line in text.splitlines()] == ["Eat no food after", "11:30 p.m."]  # unboxed: "…after 11:30" / "p.m."


def test_text_after_an_escaped_value_stays_plain_text() -> None:
    """A value, then template text that would continue a Typst expression (`.len()`, `(1)`, `[x]`)."""
    pairs = [(value, after) for value in HOSTILE for after in ["", ".len()", "(1)", "[x]", ";x", " = x"]]
    source = "#set page(width: 40cm, height: auto)\n" + "\n\n".join(typst_escape(v) + a for v, a in pairs) + "\n"
    text = pages(typst.compile(source.encode(), format="pdf", ignore_system_fonts=True))[0]
    assert [flat(line) for line in text.splitlines()] == [flat(v + a) for v, a in pairs]


def test_patient_and_clinic_text_never_runs_as_typst_code() -> None:
    name = " ".join(HOSTILE)
    clinic = Clinic(name=HOSTILE[1], phone=HOSTILE[0], address="\n".join(HOSTILE[2:]))
    text = flat("\n".join(pages(write("pdf", [sheet(patient=name, clinic=clinic)], Options()))))
    for value in HOSTILE:
        assert flat(value) in text
    assert text.count(flat(name)) >= 3  # patient line and the footer of each page
    assert "root:" not in text


def test_a_typst_error_in_a_clinic_template_is_a_plain_error_without_patient_text(tmp_path: Path) -> None:
    (tmp_path / "handout.typ.j2").write_text("#unknown-function({{ sheets[0].handouts[0].patient | typst_str }})\n")
    with pytest.raises(KetaprepError) as caught:
        write("pdf", [sheet(patient="Ada Secret")], Options(templates_dir=tmp_path))
    assert "handout.typ.j2" in caught.value.message and "unknown-function" in caught.value.message
    assert "Ada Secret" not in caught.value.message


# -- fonts, search, determinism --------------------------------------------------------------------------


def test_only_the_shipped_font_is_used_and_embedded(tmp_path: Path) -> None:
    tool = require_tool("pdffonts")
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(write("pdf", [sheet("iv-pain-4h", "en+fr")], Options()))
    listing = subprocess.run([tool, str(pdf)], capture_output=True, check=True).stdout.decode()  # noqa: S603
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert {row[0].split("+", 1)[1] for row in rows} == {"AtkinsonHyperlegible-Regular", "AtkinsonHyperlegible-Bold"}
    assert all(row[-5:-2] == ["yes", "yes", "yes"] for row in rows), listing  # embedded, subset, unicode map
    assert (pdf_format.FONT_DIR / "OFL.txt").is_file()


def test_a_name_in_other_latin_greek_or_cyrillic_letters_prints_in_the_sans_fallback(tmp_path: Path) -> None:
    """Letters Atkinson Hyperlegible lacks come from DejaVu Sans (shipped), never a serif or empty boxes."""
    tool = require_tool("pdffonts")
    name = "Ольга Nguyễn Σοφία"
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(write("pdf", [sheet(patient=name)], Options()))
    listing = subprocess.run([tool, str(pdf)], capture_output=True, check=True).stdout.decode()  # noqa: S603
    used = {line.split()[0].split("+", 1)[1] for line in listing.splitlines()[2:] if line.strip()}
    assert used <= {"AtkinsonHyperlegible-Regular", "AtkinsonHyperlegible-Bold", "DejaVuSans", "DejaVuSans-Bold"}
    assert "DejaVuSans-Bold" in used  # the name is bold
    assert (pdf_format.FONT_DIR / "DejaVu-LICENSE.txt").is_file()
    assert pdf_format.unprintable(name) == 0


def test_a_name_the_pdf_fonts_cannot_draw_is_refused_not_printed_as_boxes(cli: Any, tmp_path: Path) -> None:
    """Chinese letters: neither shipped font has them, so the PDF is refused and HTML suggested; no name shown."""
    out = tmp_path / "handout.pdf"
    result = cli("render", "--start", "09:00", "--date", "2026-11-24", "--patient", "李雷 Li", "--format", "pdf",
                 "--output", str(out))
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: the patient name has 2 character(s) the PDF fonts cannot print; "
        "use --format html, which prints with the computer's own fonts"
    )
    assert not out.exists()
    html = cli("render", "--start", "09:00", "--date", "2026-11-24", "--patient", "李雷 Li", "--format", "html")
    assert html.code == 0 and "李雷 Li" in html.out


def test_french_text_is_searchable_with_accents_and_guillemets(tmp_path: Path) -> None:
    tool = require_tool("pdftotext")
    french = sheet("esketamine-nasal", "fr")
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(write("pdf", [french], Options()))
    done = subprocess.run([tool, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)  # noqa: S603
    text = flat(done.stdout.decode("utf-8"))
    h = french.handouts[0]
    expected = [h.title, h.date_text, *h.emergency.items, *(item for s in h.sections for item in s.items)]
    assert "«" in "".join(expected) and "é" in "".join(expected), "the fixture must carry French accents and « »"
    for value in expected:
        assert flat(value) in text


def test_same_inputs_give_the_same_bytes_dated_by_source_date_epoch() -> None:
    first = write("pdf", [sheet(), sheet("im-depression")], Options(duplex=True))
    second = write("pdf", [sheet(), sheet("im-depression")], Options(duplex=True))
    assert first == second
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata is not None and metadata.creation_date is not None
    assert metadata.creation_date.date() == dt.datetime.fromtimestamp(int(EPOCH), dt.UTC).date()


def test_render_writes_a_pdf_file(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "handout.pdf"
    result = cli("render", "--start", "9:00", "--date", "2026-11-24", "--patient", "Ada Test", "--lang", "fr",
                 "--paper", "a4", "--large-print", "--format", "pdf", "--output", str(out))
    assert result.code == 0, result.err
    texts = pages(out.read_bytes())
    assert texts[0].startswith("Votre clinique de traitement") and "Ada Test" in texts[0]
    assert 2 <= len(texts) <= 4


# -- accessibility: tags, language, title, PDF/UA-1 ---------------------------------------------


def marked_languages(pdf: bytes) -> list[set[str]]:
    """For each page, the languages its tagged text resolves to: a marked-content span's own
    /Lang, else its nearest structure element's /Lang, else the document's /Lang."""
    reader = PdfReader(io.BytesIO(pdf))
    root: Any = reader.trailer["/Root"]
    page_of = {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages)}  # type: ignore[union-attr]
    own: dict[tuple[int, int], str] = {}
    for n, page in enumerate(reader.pages):
        stream = page.get_contents().get_data()  # type: ignore[union-attr]
        for found in re.finditer(rb"<<([^<>]*/MCID (\d+)[^<>]*)>>\s*BDC", stream):
            lang = re.search(rb"/Lang\(([^)]*)\)", found.group(1))
            if lang:
                own[(n, int(found.group(2)))] = lang.group(1).decode()
    result: list[set[str]] = [set() for _ in reader.pages]

    def walk(node: Any, lang: str, page: Any) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, int):
            n = page_of[page.idnum]
            result[n].add(own.get((n, node), lang))
            return
        if not hasattr(node, "get"):
            return
        lang = str(node.get("/Lang", lang))
        page = node.get("/Pg", page)
        if "/MCID" in node:
            walk(int(node["/MCID"]), lang, page)
            return
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [] if kids is None else [kids]:
            walk(kid, lang, page)

    walk(root["/StructTreeRoot"], str(root["/Lang"]), None)
    return result


@pytest.mark.parametrize(("lang", "declared", "title"), [
    ("en", "en-CA", "Ketamine IV infusion for chronic pain (about 4 hours)"),
    ("fr", "fr-CA", "Perfusion intraveineuse de kétamine pour la douleur chronique (environ 4\u00a0heures)"),
    ("en+fr", "en-CA", "Ketamine IV infusion for chronic pain (about 4 hours)"),
])
def test_a_patients_pdf_is_tagged_pdf_ua_1_in_its_language_with_its_title_shown(lang: str, declared: str, title: str) -> None:
    pdf = write("pdf", [sheet("iv-pain-4h", lang)], Options())
    reader = PdfReader(io.BytesIO(pdf))
    root: Any = reader.trailer["/Root"]
    assert root["/Lang"] == declared
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712  (a pypdf BooleanObject)
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert "/StructTreeRoot" in root
    assert root["/Outlines"]["/Count"] >= 1
    assert reader.metadata is not None and reader.metadata.title == title
    xmp = root["/Metadata"].get_data().decode("utf-8")
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp


def test_every_fixed_sentence_is_marked_in_its_handouts_language() -> None:
    french = write("pdf", [sheet("iv-pain-4h", "fr")], Options())
    assert "Si votre équipe de soins vous dit autre chose, suivez ses consignes." in flat(" ".join(pages(french)))
    assert marked_languages(french) == [{"fr-CA"}, {"fr-CA"}]
    both = write("pdf", [sheet("iv-pain-4h", "en+fr")], Options())
    texts = pages(both)
    assert page_with(texts, "If your care team tells you something different") == 1
    assert page_with(texts, "Si votre équipe de soins") == 3
    assert marked_languages(both) == [{"en-CA"}, {"en-CA"}, {"fr-CA"}, {"fr-CA"}]


def test_a_tagged_pdfs_text_still_extracts_with_pdftotext(tmp_path: Path) -> None:
    path = tmp_path / "fr.pdf"
    path.write_bytes(write("pdf", [sheet("iv-pain-4h", "fr")], Options()))
    tool = require_tool("pdftotext")
    text = subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert "Si votre équipe de soins vous dit autre chose, suivez ses consignes." in text
    assert "Perfusion intraveineuse de kétamine" in text


def test_a_clinic_template_pdf_ua_1_refuses_still_prints_tagged_claiming_no_standard(tmp_path: Path) -> None:
    template = (Path(pdf_format.TEMPLATE_DIR) / pdf_format.TEMPLATE).read_text(encoding="utf-8")
    logo = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    (tmp_path / "logo.svg").write_text(logo)
    (tmp_path / pdf_format.TEMPLATE).write_text(template.replace("\n#grid(", '\n#image("logo.svg", width: 1cm)\n#grid(', 1))
    options = Options(templates_dir=tmp_path)
    with pytest.raises(typst.TypstError, match="PDF/UA-1 error: missing alt text"):  # the logo has no alt text
        typst.compile(pdf_format.source([sheet()], options).encode("utf-8"), format="pdf", root=str(tmp_path),
                      font_paths=pdf_format.fonts(), pdf_standards=["ua-1"])
    reader = PdfReader(io.BytesIO(write("pdf", [sheet(lang="fr")], options)))
    root: Any = reader.trailer["/Root"]
    assert (root["/Lang"], root["/MarkInfo"]["/Marked"], "/StructTreeRoot" in root) == ("fr-CA", True, True)
    assert "pdfuaid" not in root["/Metadata"].get_data().decode("utf-8")
    assert "Si votre équipe de soins" in flat(" ".join(page.extract_text() for page in reader.pages))
