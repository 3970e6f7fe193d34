"""Golden files of the terminal (80 columns), text and JSON handouts of every built-in set.

The same appointment for every set: Tuesday 24 November 2026 at 09:00 in Toronto, patient "Ada Test"
(iv-variable and any other set whose length varies: --duration 90m).

When a set, a template or the wording changes on purpose, regenerate and review the diff:

    KETAPREP_REGEN=1 pytest tests/test_golden_text.py
    git diff tests/golden/terminal tests/golden/text tests/golden/json
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import assert_golden
from rich.cells import cell_len

from ketaprep.loader import SetLibrary

FORMATS = {"terminal": "txt", "text": "txt", "json": "json"}
BUILTIN_IDS = sorted(SetLibrary().files())
APPOINTMENT = ("--date", "2026-11-24", "--start", "09:00", "--patient", "Ada Test")


def render_args(set_id: str, fmt: str) -> list[str]:
    args = ["render", *APPOINTMENT, "--set", set_id, "--format", fmt]
    if SetLibrary().load(set_id).model.treatment.duration is None:
        args += ["--duration", "90m"]
    return args


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("set_id", BUILTIN_IDS)
def test_output_matches_the_golden_file(cli: Any, set_id: str, fmt: str) -> None:
    result = cli(*render_args(set_id, fmt))
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert_golden(f"{fmt}/{set_id}.{FORMATS[fmt]}", result.raw)


@pytest.mark.parametrize("set_id", BUILTIN_IDS)
def test_the_terminal_handout_fits_80_columns_without_escape_codes(cli: Any, set_id: str) -> None:
    out = cli(*render_args(set_id, "terminal")).out
    assert "\x1b" not in out
    too_wide = [line for line in out.splitlines() if cell_len(line) > 80]
    assert too_wide == []
    assert "Ada Test" in out
    assert "Tuesday 24 November 2026" in out


@pytest.mark.parametrize("set_id", BUILTIN_IDS)
def test_the_text_handout_is_plain_and_complete(cli: Any, set_id: str) -> None:
    out = cli(*render_args(set_id, "text")).out
    assert "\x1b" not in out and "<" not in out and "{{" not in out and "{%" not in out
    assert "Ada Test" in out
    assert "12:00 a.m." not in out  # a midnight cut-off is worded, never a bare 12:00 AM
    loaded = SetLibrary().load(set_id)
    assert f"{loaded.model.id} {loaded.model.version} ({loaded.short_hash})" in out
    assert "Printed 2026-11-18" in out  # SOURCE_DATE_EPOCH, not today


@pytest.mark.parametrize("set_id", BUILTIN_IDS)
def test_the_json_timeline_is_the_contract(cli: Any, set_id: str) -> None:
    data = json.loads(cli(*render_args(set_id, "json")).out)
    loaded = SetLibrary().load(set_id)
    assert data["set"] == {"id": set_id, "version": loaded.model.version, "sha256": loaded.sha256}
    assert data["patient"] == "Ada Test" and data["lang"] == "en" and data["timezone"] == "America/Toronto"
    keys = [event["key"] for event in data["events"]]
    assert {"arrive", "treatment_start", "treatment_end", "discharge", "companion_until", "drive_again"} <= set(keys)
    start = next(e for e in data["events"] if e["key"] == "treatment_start")
    assert start["at"] == "2026-11-24T09:00:00-05:00"
    assert all(set(event) >= {"key", "at", "label"} and event["label"] for event in data["events"])


def test_every_built_in_set_has_golden_files_and_no_others() -> None:
    """No golden file is left behind for a set that no longer exists (KETAPREP_REGEN=1 removes it)."""
    from conftest import GOLDEN, REGEN

    for fmt, ext in FORMATS.items():
        for path in (GOLDEN / fmt).glob(f"*.{ext}"):
            if REGEN and path.name.removesuffix(f".{ext}") not in BUILTIN_IDS:
                path.unlink()
        found = sorted(p.name.removesuffix(f".{ext}") for p in (GOLDEN / fmt).glob(f"*.{ext}"))
        assert found == BUILTIN_IDS, fmt
