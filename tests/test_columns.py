"""At 80 columns: help, `show` and `check` read whole, with no truncated description or broken word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ketaprep.checker import check_all, text_report
from ketaprep.cli import app
from ketaprep.loader import SetLibrary

COMMANDS = sorted(app.registered_commands and [c.name or c.callback.__name__ for c in app.registered_commands
                                               if c.callback is not None])
BUILTIN = sorted(SetLibrary().files())


@pytest.fixture(autouse=True)
def _eighty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def test_the_command_list_gives_each_description_whole(cli: Any) -> None:
    result = cli("--help")
    assert result.code == 0
    listed = result.out[result.out.index("Commands:"):].splitlines()[1:]
    assert [line.split()[0] for line in listed if line.strip()] == [
        "render", "sets", "show", "check", "init", "batch", "printers", "serve"][: len([x for x in listed if x.strip()])]
    for line in listed:
        assert not line.rstrip().endswith("..."), line
        assert len(line) <= 80, line
    assert "  init      Make your clinic's own folder of settings and sets to review." in listed


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_fits_80_columns(cli: Any, command: str) -> None:
    """A line longer than the terminal would break a word where the terminal wraps it."""
    result = cli(*([command] if command else []), "--help")
    assert result.code == 0, result.err
    for line in result.out.splitlines():
        assert len(line) <= 80, f"{command}: {line!r}"


def test_check_help_wraps_at_words(cli: Any) -> None:
    out = cli("check", "--help").out
    assert "  content, every text in every language (no English left in the French),\n  French typography," in out


@pytest.mark.parametrize("set_id", BUILTIN)
def test_show_wraps_and_says_what_each_placeholder_stands_for(cli: Any, set_id: str) -> None:
    result = cli("show", set_id)
    assert result.code == 0, result.err
    assert "{{" not in result.out and "}}" not in result.out
    for line in result.out.splitlines():
        assert len(line) <= 80, line


def test_show_prints_lengths_as_on_the_sheet_and_times_as_what_they_are(cli: Any) -> None:
    out = cli("show", "iv-pain-4h").out
    assert out.splitlines()[1] == "Ketamine IV infusion for chronic pain (about 4 hours)"
    assert "  - Do not drive or use machines until [the may-drive time]." in out
    assert "  - You may drink clear liquids like water or apple juice until\n    [the stop-clear-liquids time]." in out
    assert "  - A nurse will watch you for 1 hour after the infusion ends." in out
    assert "Contact line: Questions before or after your visit? Call [the clinic's name] at\n  [the clinic's phone]." in out
    variable = cli("show", "iv-variable").out
    assert "  - Your infusion will take about [the appointment's length]." in variable


def test_the_check_summary_gives_each_file_on_one_line(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("init", "my-clinic").code == 0
    out = cli("check", "--clinic", "my-clinic/clinic.yaml").out
    table = out[out.index("RESULT  "):].splitlines()
    assert table[0].split() == ["RESULT", "ERRORS", "WARN", "HIGHEST", "GRADE", "FILE"]
    assert table[1].endswith("my-clinic/clinic.yaml (clinic)")
    assert [line.split()[-1] for line in table[2:-1]] == [f"my-clinic/sets/{s}.yaml" for s in BUILTIN]
    for line in table:
        assert len(line) <= 80, line
    builtin = cli("check").out
    rows = builtin[builtin.index("RESULT  "):].splitlines()[1:-1]
    assert [row.split()[-2:] for row in rows] == [[f"{s}.yaml", "(built-in)"] for s in BUILTIN]
    assert all(len(row) <= 80 for row in rows)


def test_check_findings_wrap_at_the_terminal_width_and_stay_whole_in_a_pipe(cli: Any) -> None:
    reports = check_all([], SetLibrary())
    wrapped = text_report(reports, 80)
    for line in wrapped.splitlines():
        assert len(line) <= 80, line
    assert "      note: line 34: fasting.clear_liquids: shorter than 2h, below the\n        anaesthesia" in wrapped
    piped = cli("check").out  # not a terminal: one finding a line, for grep
    assert any(line.startswith("      note: line 34: fasting.clear_liquids: shorter than 2h, below the anaesthesia")
               for line in piped.splitlines())
