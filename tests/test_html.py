"""The HTML handout: golden files, escaping, self-containment, layout order, duplex and streaming.

Regenerate the golden files after a deliberate change, then review the diff:
    KETAPREP_REGEN=1 python -m pytest tests/test_html.py
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import EPOCH, GOLDEN, assert_golden

from ketaprep.formats import html_format
from ketaprep.loader import LoadedSet, SetLibrary
from ketaprep.models import Clinic
from ketaprep.sheet import Options, Paper, Sheet, generated_date, make_sheet, write
from ketaprep.timeline import Appointment

DAY = dt.date(2026, 11, 24)  # a Tuesday, far from a clock change
CLINIC = Clinic(
    name="Lakeshore Pain & Wellness Clinic",
    phone="416-555-0199",
    address="200 Front Street West, Suite 400, Toronto, ON M5V 3K2",
)
CLINIC_YAML = """\
name: "Lakeshore Pain & Wellness Clinic"
phone: "416-555-0199"
address: "200 Front Street West, Suite 400, Toronto, ON M5V 3K2"
"""
GENERATED = dt.datetime.fromtimestamp(int(EPOCH), dt.UTC).date().isoformat()
HOSTILE = '<script>alert(1)</script> & "Ada"'

# A small bilingual set with a set-defined cut-off *after* the start, so "cut-offs first" is visible.
TINY_SET = """\
id: tiny-test
version: "1"
languages: [en, fr]
title:
  en: "Tiny <b>test</b> set"
  fr: "Petit <b>jeu</b> d'essai"
route: iv
treatment:
  duration: 1h
arrive_before: 30m
monitoring: 1h
fasting:
  solids: 6h
  clear_liquids: 2h
  medications: 2h
driver:
  required: true
companion:
  duration: 24h
  from: treatment_end
no_driving:
  duration: 24h
  from: treatment_end
events:
  - key: washroom_last_call
    label:
      en: "Last trip to the washroom"
      fr: "Dernier passage aux toilettes"
    anchor: treatment_start
    after: 5m
    kind: cutoff
contact:
  en: "Call {{ clinic_name }} at {{ clinic_phone }}."
  fr: "Appelez {{ clinic_name }} au {{ clinic_phone }}."
sections:
  before:
    - en: "Do not eat after {{ last_meal }}."
      fr: "Ne mangez plus après {{ last_meal }}."
  after:
    - en: "Do not drive until {{ drive_again }}."
      fr: "Ne conduisez pas avant {{ drive_again }}."
  emergency:
    - en: "Chest pain"
      fr: "Douleur à la poitrine"
"""


def builtin_ids() -> list[str]:
    return sorted(SetLibrary().files())


def appointment_for(loaded: LoadedSet, patient: str = "Ada Test", day: dt.date = DAY) -> Appointment:
    """09:00 (or the set's earliest start), with a 90-minute length for sets whose length varies."""
    model = loaded.model
    start = dt.time(9, 0)
    if model.hours is not None and not model.hours.earliest.time <= start <= model.hours.latest.time:
        start = model.hours.earliest.time
    duration = None
    if model.treatment.duration is None:
        duration = dt.timedelta(minutes=90)
        low, high = model.treatment.min_duration, model.treatment.max_duration
        if low is not None and duration < low.delta:
            duration = low.delta
        if high is not None and duration > high.delta:
            duration = high.delta
    return Appointment(day, start, "America/Toronto", patient, duration)


def sheet_for(
    set_ref: str | Path,
    *,
    patient: str = "Ada Test",
    lang: str = "en",
    clinic: Clinic | None = CLINIC,
    day: dt.date = DAY,
) -> Sheet:
    loaded = SetLibrary().load(str(set_ref))
    appointment = appointment_for(loaded, patient, day)
    return make_sheet(loaded, appointment, clinic, lang, None, generated_date(dt.date(2000, 1, 1)))


def bilingual_builtin() -> str | None:
    """A built-in set written in English and French (iv-pain-4h first), if any."""
    library = SetLibrary()
    ids = sorted(builtin_ids(), key=lambda i: (i != "iv-pain-4h", i))
    for set_id in ids:
        if {"en", "fr"} <= set(library.load(set_id).model.languages):
            return set_id
    return None


def html_of(sheets: list[Sheet], paper: Paper = "letter", large_print: bool = False, duplex: bool = False) -> str:
    return write("html", sheets, Options(paper=paper, large_print=large_print, duplex=duplex)).decode("utf-8")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-test.yaml"
    path.write_text(TINY_SET, encoding="utf-8")
    return path


class Tags(HTMLParser):
    """Every start tag with its attributes, and the visible text in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(" ".join(data.split()))


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


# --- golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("set_id", builtin_ids())
def test_every_builtin_set_matches_its_golden_html(set_id: str) -> None:
    assert_golden(f"html/{set_id}.letter.html", write("html", [sheet_for(set_id)], Options()))


def test_large_print_a4_through_the_cli_matches_its_golden_html(cli: Any, tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(CLINIC_YAML, encoding="utf-8")
    result = cli(
        "render", "--start", "09:00", "--date", DAY.isoformat(), "--patient", "Ada Test", "--set", "iv-pain-4h",
        "--clinic", str(clinic), "--format", "html", "--large-print", "--paper", "a4",
    )
    assert result.code == 0, result.err
    assert b"size: A4;" in result.raw and b"font-size: 16pt;" in result.raw
    assert_golden("html/iv-pain-4h.large-a4.html", result.raw)


def test_bilingual_builtin_set_matches_its_golden_html() -> None:
    set_id = bilingual_builtin()
    if set_id is None:
        pytest.skip("no built-in set declares both en and fr yet")
    assert_golden(f"html/{set_id}.en+fr.html", write("html", [sheet_for(set_id, lang="en+fr")], Options()))


def test_no_stale_golden_html_files() -> None:
    """A renamed or removed set must not leave a golden file nobody checks."""
    expected = {f"{i}.letter.html" for i in builtin_ids()} | {"iv-pain-4h.large-a4.html"}
    bilingual = bilingual_builtin()
    if bilingual:
        expected.add(f"{bilingual}.en+fr.html")
    found = {p.name for p in (GOLDEN / "html").glob("*.html")} if (GOLDEN / "html").is_dir() else set()
    assert found <= expected, f"stale golden files: {sorted(found - expected)}"


# --- safety of the markup --------------------------------------------------------------------


def test_patient_and_clinic_names_are_escaped() -> None:
    hostile_clinic = Clinic(name='<img src=x onerror="alert(2)">', phone="<b>1</b>", address="</style><script>")
    html = html_of([sheet_for("iv-pain-4h", patient=HOSTILE, clinic=hostile_clinic)])
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Ada&#34;" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html
    assert "&lt;/style&gt;&lt;script&gt;" in html
    tags = parse(html)
    assert {tag for tag, _ in tags.tags}.isdisjoint({"script", "img", "b"})
    assert HOSTILE in tags.text[tags.text.index("Patient:") + 1]


def test_set_text_is_escaped(tiny: Path) -> None:
    html = html_of([sheet_for(tiny)])
    assert "Tiny &lt;b&gt;test&lt;/b&gt; set" in html
    assert "<b>" not in html


def test_html_is_self_contained_with_no_script_and_no_network() -> None:
    html = html_of([sheet_for(i) for i in builtin_ids()], large_print=True, duplex=True)
    tags = parse(html)
    names = {tag for tag, _ in tags.tags}
    assert names.isdisjoint({"script", "link", "img", "iframe", "object", "embed", "base", "form", "use", "image"})
    for tag, attrs in tags.tags:
        if tag == "svg":  # the QR codes: segno's SVG, a viewBox and one path, nothing else
            assert set(attrs) == {"viewbox"}, attrs
        if tag == "path":
            assert set(attrs) <= {"stroke", "d", "transform"}, attrs
        assert not {"src", "href", "srcset", "action"} & set(attrs), tag
        assert not any(name.startswith("on") for name in attrs), tag
    assert re.search(r"url\(|@import|@font-face|https?:|//[a-z]", html, re.IGNORECASE) is None
    assert "default-src 'none'" in html  # a Content-Security-Policy as a second line of defence


def test_html_is_deterministic_across_processes(tmp_path: Path) -> None:
    """Same inputs, same bytes: two separate runs with different hash seeds."""
    args = ["-m", "ketaprep", "render", "--start", "09:00", "--date", DAY.isoformat(), "--patient", "Ada Test",
            "--format", "html", "--lang", "en"]
    outputs = []
    for seed in ("1", "2"):
        env = {"PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": EPOCH, "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
        done = subprocess.run([sys.executable, *args], capture_output=True, env=env, cwd=tmp_path, check=True)  # noqa: S603
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert f"Printed {GENERATED}".encode() in outputs[0]


# --- what the page says, and in what order ---------------------------------------------------


def test_layout_follows_the_issue_order() -> None:
    sheet = sheet_for("iv-pain-4h")
    h = sheet.handouts[0]
    text = " ".join(parse(html_of([sheet])).text)
    milestones = [
        CLINIC.name, "Phone: 416-555-0199", CLINIC.address or "", "Patient: Ada Test", h.date_text, h.start_text,
        h.title, "Your schedule", *(s.title for s in h.sections), h.emergency.title,
        "If your care team tells you something different, follow your care team.",
        "Reviewed with the patient by", "Instructions:",
    ]
    positions = [text.find(m) for m in milestones]
    assert -1 not in positions, [m for m, p in zip(milestones, positions, strict=True) if p == -1]
    assert positions == sorted(positions)


def test_schedule_lists_cutoffs_first_in_bold_rows(tiny: Path) -> None:
    html = html_of([sheet_for(tiny)])
    table = html[html.index('<table class="schedule">'):html.index("</table>", html.index('<table class="schedule">'))]
    kinds = re.findall(r'<tr class="(\w+)', table)
    assert kinds == sorted(kinds, key=lambda k: k != "cutoff")
    labels = [t for t in parse(table).text]
    assert labels.index("Last trip to the washroom") < labels.index("Your infusion starts")
    assert ".schedule tr.cutoff td.when { font-weight: bold; }" in html


def test_footer_names_set_version_short_hash_and_generation_date() -> None:
    sheet = sheet_for("iv-pain-4h")
    html = html_of([sheet])
    found = re.search(r'<p class="footer">(.*?)</p>', html)
    assert found is not None
    footer = re.sub(r"<[^>]+>", "", found.group(1))  # the nowrap spans keep the hash and date whole
    assert re.fullmatch(r"Instructions: iv-pain-4h version \S+ \([0-9a-f]{8}\) · Printed " + GENERATED, footer), footer
    assert f"({sheet.loaded.sha256[:8]})" in footer


def test_nurse_signoff_repeats_the_last_meal_and_companion_times() -> None:
    sheet = sheet_for("iv-pain-4h")
    when = {row.key: row.when for row in sheet.handouts[0].schedule}
    text = parse(html_of([sheet])).text
    assert f"The patient repeated back when to stop eating: {when['last_meal']}" in text
    assert "The patient confirmed who will drive them home" in text
    assert f"The patient confirmed an adult will stay with them until {when['companion_until']}" in text
    assert html_of([sheet]).count('<span class="tick"></span>') == 3


def test_missing_patient_name_leaves_a_line_to_write_on() -> None:
    html = html_of([sheet_for("iv-pain-4h", patient="")])
    assert 'Patient: <span class="blank"></span>' in html


def test_clock_change_note_is_printed_under_its_row() -> None:
    """1 November 2026, clocks go back in Toronto: a cut-off in the repeated hour gets a note."""
    sheet = sheet_for("iv-pain-4h", day=dt.date(2026, 11, 1))
    notes = [note for row in sheet.handouts[0].schedule for note in row.notes]
    assert notes, "the fixture date no longer crosses a clock change"
    html = html_of([sheet])
    for note in notes:
        assert f'<span class="note">Note: {html_format.keep_together(note)}</span>' in html


# --- print rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paper", "large", "page_size", "body"),
    [("letter", False, "size: letter;", "12pt"), ("a4", False, "size: A4;", "12pt"),
     ("letter", True, "size: letter;", "16pt"), ("a4", True, "size: A4;", "16pt")],
)
def test_page_size_and_body_text_size_follow_the_options(paper: Paper, large: bool, page_size: str, body: str) -> None:
    html = html_of([sheet_for("iv-pain-4h")], paper=paper, large_print=large)
    assert f"@page {{ size: {page_size[6:]} margin:" in html
    assert f"font-size: {body};" in html
    assert "sans-serif" in html


def test_print_is_black_and_white_with_no_italics_or_capitals() -> None:
    html = html_of([sheet_for("iv-pain-4h")], large_print=True)
    colours = set(re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(", html))
    assert colours <= {"#000", "#fff"}, colours
    assert "italic" not in html and "uppercase" not in html and "small-caps" not in html
    assert {tag for tag, _ in parse(html).tags}.isdisjoint({"i", "em", "cite"})
    assert "break-inside: avoid" in html[html.index(".emergency {"):]


def test_html_lang_attribute_names_each_language(tiny: Path) -> None:
    assert '<html lang="en">' in html_of([sheet_for(tiny)])
    assert '<html lang="fr">' in html_of([sheet_for(tiny, lang="fr")])
    html = html_of([sheet_for(tiny, lang="en+fr")])
    assert '<html lang="en">' in html
    langs = [attrs.get("lang") for tag, attrs in parse(html).tags if tag == "article"]
    assert langs == ["en", "fr"]
    text = " ".join(parse(html).text)
    assert text.index("Chest pain") < text.index("Douleur à la poitrine")


def test_combined_file_puts_each_patient_in_its_own_page_block(tiny: Path) -> None:
    names = ["Ada Test", "Bea Test", "Cy Test"]
    html = html_of([sheet_for(tiny, patient=n) for n in names])
    assert html.count('<div class="patient">') == 3
    assert html.count("<!DOCTYPE html>") == 1 and html.count("<style>") == 1
    assert ".patient + .patient { break-before: page; page-break-before: always; }" in html
    text = parse(html).text
    assert [t for t in text if t in names] == names


def test_duplex_fills_each_handout_to_whole_sheets() -> None:
    """Chromium ignores `break-before: recto`, so duplex pads each handout to 2 pages (4 in large print)."""
    normal = html_of([sheet_for("iv-pain-4h")] * 2, duplex=True)
    assert "@media print { .handout { min-height: calc(2 * 10.2in - 2px); } }" in normal
    large_a4 = html_of([sheet_for("iv-pain-4h")] * 2, paper="a4", large_print=True, duplex=True)
    assert "@media print { .handout { min-height: calc(4 * 277mm - 2px); } }" in large_a4
    assert "min-height" not in html_of([sheet_for("iv-pain-4h")] * 2)


def test_times_and_phone_numbers_never_break_across_lines() -> None:
    keep = html_format.keep_together
    assert keep("until 9:45 a.m., Wednesday") == "until 9:45\u00a0a.m., Wednesday"
    assert keep("Call 416-555-0199 or 9-8-8.") == (
        'Call <span class="nw">416-555-0199</span> or <span class="nw">9-8-8</span>.'
    )
    assert keep('<b>(416) 555-0199</b> & "x"') == '&lt;b&gt;<span class="nw">(416) 555-0199</span>&lt;/b&gt; &amp; &#34;x&#34;'
    assert keep("printed 2026-11-18") == "printed 2026-11-18"
    html = html_of([sheet_for("iv-pain-4h")])
    assert '<span class="nw">416-555-0199</span>' in html and ".nw { white-space: nowrap; }" in html


def test_a_clinic_can_override_only_the_stylesheet(tmp_path: Path) -> None:
    (tmp_path / "html_style.css.j2").write_text("body { font-size: {{ '18pt' if large_print else '13pt' }}; }\n")
    html = write("html", [sheet_for("iv-pain-4h")], Options(templates_dir=tmp_path)).decode()
    assert "body { font-size: 13pt; }" in html and "@page {" not in html
    assert html.count("@page ") == 4  # the handout's own running header only: its two named pages
    assert "Your schedule" in html  # the built-in page template still lays out the handout


# --- streaming -------------------------------------------------------------------------------


def test_chunks_reads_the_sheets_lazily(tiny: Path) -> None:
    """A batch can stream a long list: the document is produced while the sheets are still coming."""
    made: list[str] = []

    def sheets() -> Iterator[Sheet]:
        for name in ("Ada Test", "Bea Test", "Cy Test"):
            made.append(name)
            yield sheet_for(tiny, patient=name)

    stream = html_format.chunks(sheets(), Options())
    pieces = []
    for piece in stream:
        pieces.append(piece)
        if "Ada Test" in piece:
            break
    assert made == ["Ada Test"]
    pieces.extend(stream)
    assert made == ["Ada Test", "Bea Test", "Cy Test"]
    assert "".join(pieces).encode() == write("html", [sheet_for(tiny, patient=n) for n in made], Options())


def test_no_sheets_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one sheet"):
        html_format.write([], Options())


def test_running_header_names_the_patient_safely() -> None:
    """Each handout's print style puts the patient's name and "Page x / y" at the top of the pages
    after the first; a name with quotes, backslashes or `</style>` stays inside its CSS string."""
    assert html_format.css_string('A"b\\c</style>') == '"A\\000022 b\\00005c c\\00003c \\00002f style\\00003e "'
    html = html_of([sheet_for("iv-pain-4h", patient=HOSTILE)])
    assert html.count("</style>") == 2 and "counter(page) \" / \" counter(pages)" in html
    french = html_of([sheet_for("iv-pain-4h", patient="Zoé Test", lang="fr")])
    assert 'content: "Zoé Test \\0000b7  Page " counter(page)' in french


def test_when_column_keeps_each_date_whole() -> None:
    html = html_of([sheet_for("iv-pain-4h", lang="en+fr")])
    cells = re.findall(r'<td class="when">(.*?)</td>', html)
    assert any("Wednesday\u00a025\u00a0November" in cell for cell in cells), cells
    assert any("mercredi\u00a025\u00a0novembre" in cell for cell in cells), cells
    assert not any(re.search(r"[^\W\d_]+ \d{1,2} [^\W\d_]+", cell) for cell in cells)


@pytest.mark.parametrize("lang", ["en", "fr", "en+fr"])
def test_a_handout_made_once_for_a_time_is_the_patients_own_for_any_name(lang: str) -> None:
    """A batch renders the built-in template once per set, time and language and puts each name
    in (text, running header, page name): the result must equal that patient's own rendering."""
    memo: dict[Any, tuple[str, str, str]] = {}
    names = ["Ada Test", "Zoé O'Brien-Lévesque", '<b>"Bold"</b> & Co', "9:00 a.m. Test", "x}{y;z\\ \"/*", "Ünïcödé 名前",
             "Page 1 / 2"]
    for name in names:
        one = sheet_for("iv-pain-4h", patient=name, lang=lang)
        assert html_format.patient_parts(one, Options(), ("shared",), memo) == html_format.parts(one, Options()), name
    assert len(memo) == 1
