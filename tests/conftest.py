"""Shared test helpers: run the CLI, compare golden files, require external tools."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ketaprep.lists import ListRow

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("KETAPREP_REGEN") == "1"
EPOCH = "1795000000"  # 2026-11-18 11:06 UTC: the fixed "generated" date of every golden file


@dataclass
class Result:
    code: int
    out: str
    err: str
    raw: bytes


@pytest.fixture(autouse=True)
def _stable_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test: fixed SOURCE_DATE_EPOCH, no clinic from the environment, no colour."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.delenv("KETAPREP_CLINIC", raising=False)
    monkeypatch.delenv("KETAPREP_SETS", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    yield


@pytest.fixture
def cli(capfdbinary: pytest.CaptureFixture[bytes]) -> object:
    """Run `ketaprep ARGS...` in-process through the real error boundary."""
    from ketaprep.cli import main

    def run(*args: str) -> Result:
        capfdbinary.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capfdbinary.readouterr()
        return Result(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), out)

    return run


def assert_golden(name: str, data: bytes) -> None:
    """Compare bytes with tests/golden/NAME; KETAPREP_REGEN=1 rewrites it (review the git diff)."""
    path = GOLDEN / name
    if REGEN or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if not REGEN:
            pytest.fail(f"golden file {name} was missing and has been written; review it and run again")
        return
    expected = path.read_bytes()
    if data != expected:
        actual = path.with_suffix(path.suffix + ".actual")
        actual.write_bytes(data)
        pytest.fail(f"{name} differs from the golden file; see {actual.name} (KETAPREP_REGEN=1 to accept)")


def require_tool(name: str) -> str:
    """The tool's path; skip locally when missing, but fail under CI=true (CI must not pass by skipping)."""
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{name} is required in CI (.ci/run installs it)")
    pytest.skip(f"{name} is not installed")


@pytest.fixture
def cups_queue(tmp_path: Path) -> Iterator[object]:
    """A fresh raw CUPS queue whose backend keeps each job (tests/cups_queue.py); removed after."""
    from cups_queue import make_queue

    yield from make_queue(tmp_path)
# --- day lists -------------------------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "batch"


TYPES = {"KET-IV-PAIN": "iv-pain-4h", "http://clinic.example/appointment-type|KET-IV-DEP": "iv-depression-40m",
         "KET-IV-VAR": "iv-variable"}


def rows_of(path: Path, columns: dict[str, Any] | None = None, sheet: str | None = None) -> list[ListRow]:
    from ketaprep.lists import read_list

    _kind, _fields, rows = read_list(path, columns or {}, sheet, TYPES)  # type: ignore[arg-type]
    return list(rows)


def write_csv(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def make_xlsx(path: Path, rows: list[list[Any]], title: str = "Appointments", extra_sheet: bool = False) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    if extra_sheet:
        book.active.title = "Notes"
        book.active.append(["Not the list"])
        sheet = book.create_sheet(title)
    else:
        sheet = book.active
        sheet.title = title
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, dt.time):
                cell.number_format = "h:mm AM/PM"
            elif isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    book.save(path)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The hostile-input tally (tests/hostile_tally.py): inputs tried and every count that must be zero."""
    import sys

    tally = sys.modules.get("hostile_tally")
    lines = tally.summary_lines() if tally is not None else []
    if lines:
        terminalreporter.section("hostile and broken inputs")
        for line in lines:
            terminalreporter.write_line(line)
