"""`--output FILE` without `--format`: the file's extension says the format; a contradiction is exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DAY = "2026-11-24"


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("x.pdf", b"%PDF-"),
        ("x.PDF", b"%PDF-"),
        ("x.html", b"<!DOCTYPE html>"),
        ("x.htm", b"<!DOCTYPE html>"),
        ("x.ics", b"BEGIN:VCALENDAR"),
        ("x.json", b"{"),
        ("x.txt", b"Your treatment clinic"),
    ],
)
def test_extension_picks_the_format(cli: Any, tmp_path: Path, name: str, starts: bytes) -> None:
    out = tmp_path / name
    result = cli("render", "--start", "09:00", "--date", DAY, "-o", str(out))
    assert result.code == 0, result.err
    assert out.read_bytes().lstrip().startswith(starts)
    if name.endswith(".json"):
        assert json.loads(out.read_text())["events"][0]["key"] == "no_caffeine_from"
    if name.endswith(".txt"):
        assert "\x1b" not in out.read_text()


def test_agreeing_format_and_extension(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    assert cli("render", "--start", "09:00", "--date", DAY, "--format", "pdf", "-o", str(out)).code == 0
    assert out.read_bytes().startswith(b"%PDF-")
    note = tmp_path / "note.txt"
    assert cli("render", "--start", "09:00", "--date", DAY, "--format", "terminal", "-o", str(note)).code == 0


@pytest.mark.parametrize(
    ("fmt", "name", "message"),
    [
        ("html", "x.pdf", "error: --output x.pdf is a .pdf name but --format is html; make them agree (e.g. --output x.html)"),
        ("pdf", "x.html", "error: --output x.html is a .html name but --format is pdf; make them agree (e.g. --output x.pdf)"),
        ("json", "x.txt", "error: --output x.txt is a .txt name but --format is json; make them agree (e.g. --output x.json)"),
        ("text", "x.ics", "error: --output x.ics is a .ics name but --format is text; make them agree (e.g. --output x.txt)"),
    ],
)
def test_contradiction_is_a_usage_error_and_writes_nothing(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           fmt: str, name: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("render", "--start", "09:00", "--date", DAY, "--format", fmt, "-o", name)
    assert (result.code, result.err.strip(), result.out) == (2, message, "")
    assert list(tmp_path.iterdir()) == []


def test_unknown_extension_asks_for_format(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("render", "--start", "09:00", "--date", DAY, "-o", "handout.docx")
    assert result.code == 2
    assert result.err.strip() == ("error: --output handout.docx: .docx does not say which format to write "
                                  "(known: .htm, .html, .ics, .json, .pdf, .txt); add --format, e.g. --format text")
    assert list(tmp_path.iterdir()) == []
    ok = cli("render", "--start", "09:00", "--date", DAY, "-o", "handout.docx", "--format", "html")
    assert ok.code == 0 and (tmp_path / "handout.docx").read_bytes().startswith(b"<!DOCTYPE html>")


def test_no_extension_is_plain_text(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "handout"
    result = cli("render", "--start", "09:00", "--date", DAY, "-o", str(out))
    assert result.code == 0
    assert out.read_text().startswith("Your treatment clinic")
