"""QR codes on the printed HTML handout: shown with their times, captions and alt text in every
language, none when the clinic turns them off, read back with zbarimg from Chromium's print of
the HTML rasterised at 150 dpi (the decoded instants are the JSON timeline's), and the print
keeps within its pages (see PAGES)."""

from __future__ import annotations

import html as markup
import json
import os
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import EPOCH, require_tool
from test_print_chromium import chromium_print
from test_qr import DAY, PATIENT, check_codes, decode_pdf

CAPTION = {
    "en": "Scan with your phone's camera to add these times to your calendar, with reminders.",
    "fr": "Balayez avec l’appareil photo de votre téléphone pour ajouter ces heures à votre agenda, avec des rappels.",
}
ALT = {"en": "QR code: ", "fr": "Code QR : "}
CODES = 4  # caffeine, meal, liquids and medicines together (7:00), arrival
MAX_PAGES = {False: 2, True: 4}
RENDER = ["render", "--start", "09:00", "--date", DAY, "--patient", PATIENT]


def run_cli(*args: str) -> None:
    """`ketaprep ARGS...` in-process, for a module-scoped fixture (the `cli` fixture is per test)."""
    from ketaprep.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        assert not exc.code, args


def html_body(cli: Any, *args: str) -> str:
    """The rendered HTML after its style element (CSS class names do not count), entities decoded."""
    result = cli(*RENDER, "--format", "html", *args)
    assert result.code == 0, result.err
    return markup.unescape(result.out.split("</style>")[-1])


# --- what the HTML carries (no browser) -----------------------------------------------------------


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_html_shows_each_code_with_its_time_alt_text_and_the_caption(cli: Any, lang: str, large: bool) -> None:
    page = html_body(cli, "--lang", lang, *(["--large-print"] if large else []))
    assert page.count("<svg") == CODES
    assert page.count(CAPTION[lang]) == 1
    assert page.count('<section class="qr-codes" aria-label="') == 1  # named for a screen reader
    figures = re.findall(r'<figure class="qr"><span class="qr-image" role="img" aria-label="([^"]+)">'
                         r"<svg .*?</svg></span><figcaption>(.*?)</figcaption></figure>", page)
    assert len(figures) == CODES
    for alt, when in figures:  # the alt text is the code's caption: what it adds, and its time
        time = re.sub("<[^>]+>", "", when).replace("\u00a0", " ")
        alt = alt.replace("\u00a0", " ")
        assert alt.startswith(ALT[lang]) and alt.endswith(time), (alt, time)
        assert PATIENT not in alt


def test_normal_print_sets_the_codes_beside_the_schedule_and_large_print_after_it(cli: Any) -> None:
    normal = html_body(cli)
    start = normal.index('<div class="schedule-block with-codes">')  # after the table: read in that order
    assert start < normal.index("</table>") < normal.index('<section class="qr-codes"') < normal.index('<div class="parts">')
    large = html_body(cli, "--large-print")
    assert '<div class="schedule-block">' in large
    assert large.index("</table>") < large.index('<section class="qr-codes"') < large.index('<div class="parts">')


def test_codes_print_at_least_1_05_inch_wide(cli: Any) -> None:
    """Smaller, zbarimg misses codes in a 150 dpi scan."""
    for args in ([], ["--large-print"], ["--paper", "a4"]):
        style = cli(*RENDER, "--format", "html", *args).out.split("</style>")[0]
        [width] = re.findall(r"\.qr-image svg \{[^}]*?width: ([\d.]+)in", style)
        assert float(width) >= 1.05, args


def test_a_clinic_that_turns_codes_off_gets_no_code_and_no_caption(cli: Any, tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("name: Test Clinic\nqr_codes: false\n", encoding="utf-8")
    for args in (["--lang", "en"], ["--lang", "fr"], ["--lang", "en+fr", "--large-print"]):
        page = html_body(cli, "--clinic", str(clinic), *args)
        assert "<svg" not in page and "qr-codes" not in page and "with-codes" not in page
        assert CAPTION["en"] not in page and CAPTION["fr"] not in page


# --- Chromium's print, read back --------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    lang: str
    large: bool
    codes: bool

    @property
    def name(self) -> str:
        return f"{self.lang}-{'large' if self.large else 'normal'}-{'codes' if self.codes else 'off'}"


@dataclass
class Printed:
    pdf: Path
    pages: int
    timeline: dict[str, Any]


VARIANTS = [Variant(lang, large, codes) for lang in ("en", "fr") for large in (False, True) for codes in (True, False)]
VARIANTS.append(Variant("en+fr", False, True))


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Variant, Printed]]:
    """Each variant rendered by the CLI and printed once by headless Chromium, two at a time."""
    chromium = require_tool("chromium")
    require_tool("pdftoppm")
    require_tool("pdfinfo")
    root = tmp_path_factory.mktemp("qr-html")
    off = root / "clinic.yaml"
    off.write_text("name: Test Clinic\nqr_codes: false\n", encoding="utf-8")
    on = root / "clinic-on.yaml"
    on.write_text("name: Test Clinic\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:  # the per-test environment is not set up yet at module scope
        env.setenv("SOURCE_DATE_EPOCH", EPOCH)
        env.delenv("KETAPREP_CLINIC", raising=False)
        env.delenv("KETAPREP_SETS", raising=False)
        jobs: dict[Variant, Printed] = {}
        for variant in VARIANTS:
            args = [*RENDER, "--lang", variant.lang, "--clinic", str(on if variant.codes else off)]
            if variant.large:
                args.append("--large-print")
            html, data = root / f"{variant.name}.html", root / f"{variant.name}.json"
            run_cli(*args, "-o", str(html))
            run_cli(*args, "--format", "json", "-o", str(data))
            jobs[variant] = Printed(root / f"{variant.name}.pdf", 0, json.loads(data.read_text(encoding="utf-8")))

        def run(variant: Variant) -> None:
            job = jobs[variant]
            chromium_print(chromium, root / f"{variant.name}.html", job.pdf, root / f"profile-{variant.name}")
            info = subprocess.run(["pdfinfo", str(job.pdf)], capture_output=True, check=True, text=True).stdout  # noqa: S603,S607
            job.pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]

        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            list(pool.map(run, VARIANTS))
        yield jobs


SHOWN = [v for v in VARIANTS if v.codes]


@pytest.mark.slow
@pytest.mark.parametrize("variant", SHOWN, ids=[v.name for v in SHOWN])
def test_chromium_print_of_the_html_codes_decode_at_150_dpi_to_the_json_instants(
    printed: dict[Variant, Printed], variant: Variant, tmp_path: Path
) -> None:
    job = printed[variant]
    texts = decode_pdf(job.pdf, tmp_path)
    languages = variant.lang.split("+")
    assert len(texts) == CODES * len(languages)
    for index in range(len(languages)):
        check_codes(texts[index * CODES : (index + 1) * CODES], job.timeline)


OFF = [v for v in VARIANTS if not v.codes]


@pytest.mark.slow
@pytest.mark.parametrize("variant", OFF, ids=[v.name for v in OFF])
def test_chromium_print_without_codes_has_none(printed: dict[Variant, Printed], variant: Variant, tmp_path: Path) -> None:
    assert decode_pdf(printed[variant].pdf, tmp_path) == []


PAGES = {("en", False): (2, 2), ("fr", False): (2, 2), ("en", True): (3, 4), ("fr", True): (4, 4)}
"""Pages of Chromium's Letter print (DejaVu Sans) without and with the codes, as measured: the codes
never add a page in normal print nor to French large print; English large print, 3 pages with only
1.7 in left on its last, takes a 4th for them (its limit is 4), as any place for a code row would."""


@pytest.mark.slow
@pytest.mark.parametrize("variant", OFF, ids=[v.name.removesuffix("-off") for v in OFF])
def test_codes_keep_chromium_print_within_its_pages(printed: dict[Variant, Printed], variant: Variant) -> None:
    without = printed[variant].pages
    shown = printed[Variant(variant.lang, variant.large, True)].pages
    assert (without, shown) == PAGES[variant.lang, variant.large]
    assert shown <= MAX_PAGES[variant.large]
