"""The batch's print files on paper: one patient per sheet, in appointment order.

The HTML print file is printed by headless Chromium (as a clinic's browser would); the PDF
print file is read back with pypdf. Each patient's own PDF holds that patient only.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from pypdf import PdfReader
from test_batch import assert_manifest_matches_files, balanced, day_of_200, write_list
from test_print_chromium import CHROMIUM_FLAGS

from ketaprep.loader import SetLibrary

NAME = re.compile(r"Test Patient(\d{3})")
DAY = "2026-11-24"


def pages_of(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout  # noqa: S603,S607
    return text.decode("utf-8").split("\f")[:-1]


def patients_by_page(pages: list[str]) -> list[set[str]]:
    return [set(NAME.findall(page)) for page in pages]


def assert_one_patient_per_sheet(pages: list[str], order: list[str], duplex: bool) -> None:
    """No page shows two patients; patients start in `order`; in duplex, each on the front of a sheet."""
    on_page = patients_by_page(pages)
    assert all(len(names) <= 1 for names in on_page), [n for n in on_page if len(n) > 1][:3]
    starts: list[tuple[int, str]] = []
    for number, names in enumerate(on_page, 1):
        if names and (not starts or starts[-1][1] not in names):
            starts.append((number, next(iter(names))))
    assert [name for _page, name in starts] == order
    if duplex:
        assert all(page % 2 == 1 for page, _name in starts), [s for s in starts if s[0] % 2 == 0][:3]
        blank = [n for n, names in enumerate(on_page, 1) if not names]
        assert all(n % 2 == 0 for n in blank)  # padding only ever on a back side


@pytest.mark.slow
@pytest.mark.parametrize("duplex", [False, True])
def test_200_row_print_file_prints_one_patient_per_sheet_in_chromium(cli: Any, tmp_path: Path, duplex: bool) -> None:
    chromium = require_tool("chromium")
    require_tool("pdftotext")
    bad = {17: [DAY, "25:00", "Bad, One", "HC", "Dr"], 120: [DAY, "9:00 AM", "", "HC", "Dr"]}
    out = tmp_path / "out"
    result = cli("batch", str(day_of_200(tmp_path, bad)), "-o", str(out), *(["--duplex"] if duplex else []))
    assert result.code == 1 and balanced(result) == (200, 198, 2)
    manifest = assert_manifest_matches_files(out)
    pdf = tmp_path / "printed.pdf"
    done = subprocess.run(  # noqa: S603 (fixed arguments, our own files)
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}",
         (out / "handouts.html").as_uri()],
        capture_output=True, timeout=300, check=False,
    )
    assert done.returncode == 0 and pdf.is_file(), done.stderr.decode(errors="replace")[-2000:]
    order = [NAME.search(item["patient"]).group(1) for item in manifest["handouts"]]  # type: ignore[union-attr]
    assert_one_patient_per_sheet(pages_of(pdf), order, duplex)


def pdf_list(tmp_path: Path, count: int) -> Path:
    rows = [[f"Test Patient{n:03d}", DAY, f"{7 + n % 7}:{15 * (n % 4):02d}", "en+fr" if n % 10 == 3 else "en"]
            for n in range(count)]
    return write_list(tmp_path, rows, header=["Patient", "Date", "Start", "Lang"])


@pytest.mark.parametrize("duplex", [False, True])
def test_pdf_batch_writes_each_patient_alone_and_joins_the_print_file_in_order(
    cli: Any, tmp_path: Path, duplex: bool
) -> None:
    require_tool("pdftotext")
    count = 60  # more than a short list: compiled by worker processes
    out = tmp_path / "out"
    result = cli("batch", str(pdf_list(tmp_path, count)), "-o", str(out), "--format", "pdf",
                 *(["--duplex"] if duplex else []))
    assert result.code == 0, result.err
    manifest = assert_manifest_matches_files(out)
    order = [NAME.search(item["patient"]).group(1) for item in manifest["handouts"]]  # type: ignore[union-attr]
    assert len(order) == count
    combined = pages_of(out / "handouts.pdf")
    assert_one_patient_per_sheet(combined, order, duplex)
    total = 0
    for item in manifest["handouts"]:
        own = pages_of(out / item["file"])
        names = set().union(*patients_by_page(own))
        assert names == {NAME.search(item["patient"]).group(1)}, item["file"]  # type: ignore[union-attr]
        assert NAME.search(own[-1]), "a patient's file does not end with a blank page"
        if item["lang"] == "en+fr":
            assert any("Heure" in page or "heure" in page for page in own)
        total += len(own)
    if not duplex:
        assert total == len(combined)
    reader = PdfReader(out / "handouts.pdf")
    assert reader.metadata is not None and reader.metadata.title.startswith("Handouts to print: ")
    for item in manifest["handouts"]:  # each patient's file carries its own set's title, not its piece's
        title = PdfReader(out / item["file"]).metadata.title
        assert title.startswith(SetLibrary().load(item["set"]["id"]).model.title["en"].split(" (")[0]), item["file"]
