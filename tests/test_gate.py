"""`render` and `batch` print only sets that pass `ketaprep check`; clinic profiles are checked as strictly.

A failing set stops the command with exit 1 and one line naming the file and `ketaprep check FILE`;
nothing of it reaches stdout or a file. Warnings go to stderr and the sheet is still made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from test_cli import NO_CLINIC, fixture_set, notes

DAY = ("--date", "2026-11-24")


def bilingual_set(tmp_path: Path, name: str = "fx-set.yaml", **changes: Any) -> Path:
    data = fixture_set(
        languages=["en", "fr"],
        title={"en": "Fixture set", "fr": "Jeu d’essai"},
        contact={"en": "Call {{ clinic_name }} at {{ clinic_phone }}.",
                 "fr": "Appelez {{ clinic_name }} au {{ clinic_phone }}."},
        sections={"emergency": [{"en": "Chest pain", "fr": "Douleur à la poitrine"}]},
    )
    data.update(changes)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def refused_line(path: Path, problem: str) -> str:
    return f"error: {path}, {problem}; nothing is printed until it passes: ketaprep check {path}\n"


FAILING = {
    "english-left-in-french": (
        {"sections": {"emergency": [{"en": "Chest pain", "fr": "Chest pain, douleur"}]}},
        'line 29: sections.emergency[0] (fr): looks like English ("chest pain"); translate it',
    ),
    "reading-grade-30": (
        {"sections": {"emergency": [{"en": "Chest pain", "fr": "Douleur à la poitrine"}],
                      "after": [{"en": "Notwithstanding institutional considerations, immediately communicate "
                                       "unanticipated cardiovascular, respiratory, neurological or psychological "
                                       "manifestations, particularly intensifying disorientation, to "
                                       "appropriately qualified multidisciplinary professionals.",
                                 "fr": "Douleur."}]}},
        "line 30: sections.after (en): reading grade",
    ),
    "restriction-before-discharge": (
        {"no_driving": {"duration": "30m"}},
        "line 22: no_driving.duration: 30m from treatment_end ends before the patient leaves the clinic; "
        "it must be at least 1h (or count from discharge)",
    ),
}


@pytest.mark.parametrize("name", sorted(FAILING))
@pytest.mark.parametrize("fmt", ["terminal", "text", "html", "json", "ics"])
def test_render_refuses_a_set_that_check_fails_in_one_line(cli: Any, tmp_path: Path, name: str, fmt: str) -> None:
    changes, problem = FAILING[name]
    path = bilingual_set(tmp_path, **changes)
    assert cli("check", str(path)).code == 1
    output = tmp_path / f"handout.{fmt}"
    result = cli("render", "--start", "09:00", *DAY, "--set", str(path), "--lang", "fr", "--format", fmt,
                 "--output", str(output))
    assert result.code == 1
    assert result.out == ""
    assert not output.exists()
    assert len(result.err.splitlines()) == 1
    assert result.err.startswith(f"error: {path}, {problem}")
    assert result.err.endswith(f"; nothing is printed until it passes: ketaprep check {path}\n")
    assert NO_CLINIC not in result.err  # never a note before an error


def test_render_to_stdout_prints_nothing_of_a_failing_set(cli: Any, tmp_path: Path) -> None:
    path = bilingual_set(tmp_path, **FAILING["english-left-in-french"][0])
    result = cli("render", "--start", "09:00", *DAY, "--set", str(path), "--format", "text")
    assert (result.code, result.out) == (1, "")
    assert result.err == refused_line(path, FAILING["english-left-in-french"][1])


def test_a_count_of_the_other_errors_is_given(cli: Any, tmp_path: Path) -> None:
    path = bilingual_set(tmp_path, no_driving={"duration": "30m"}, companion={"duration": "30m"})
    result = cli("render", "--start", "09:00", *DAY, "--set", str(path))
    assert result.code == 1
    assert result.err == refused_line(
        path, "line 20: companion.duration: 30m from treatment_end ends before the patient leaves the clinic; "
        "it must be at least 1h (or count from discharge) (and 1 more)")


def test_a_one_hour_fast_is_printed_with_its_warning_on_stderr(cli: Any, tmp_path: Path) -> None:
    path = bilingual_set(tmp_path, fasting={"solids": "1h", "clear_liquids": "1h"})
    result = cli("render", "--start", "09:00", *DAY, "--set", str(path), "--format", "text")
    assert result.code == 0, result.err
    assert "- Stop eating (this includes milk, gum and candy): 8:00 a.m." in result.out
    assert "warning" not in result.out
    assert notes(result.err) == [
        f"warning: {path}, line 16: fasting.clear_liquids: shorter than 2h, below the anaesthesia fasting guidance; "
        "have your medical staff confirm it (then say why in fasting.below_guidance_reason)",
        f"warning: {path}, line 15: fasting.solids: shorter than 6h, below the anaesthesia fasting guidance; "
        "have your medical staff confirm it (then say why in fasting.below_guidance_reason)",
        NO_CLINIC,
    ]


def test_every_built_in_set_renders_with_no_warning(cli: Any) -> None:
    from ketaprep.loader import SetLibrary

    for set_id in SetLibrary().files():
        args = ["--duration", "90m"] if set_id == "iv-variable" else []
        result = cli("render", "--start", "09:00", *DAY, "--set", set_id, "--lang", "en+fr", "--format", "text", *args)
        assert result.code == 0, result.err
        assert notes(result.err) == [NO_CLINIC], set_id


def test_batch_refuses_a_default_set_that_check_fails_and_writes_nothing(cli: Any, tmp_path: Path) -> None:
    path = bilingual_set(tmp_path, **FAILING["english-left-in-french"][0])
    day = tmp_path / "day.csv"
    day.write_text("Patient,Date,Start\r\nAda Test,2026-11-24,9:00\r\n", encoding="utf-8")
    out = tmp_path / "out"
    result = cli("batch", str(day), "--set", str(path), "--output-dir", str(out), "--lang", "fr")
    assert result.code == 1
    assert result.out == ""
    assert result.err == refused_line(path, FAILING["english-left-in-french"][1])
    assert not out.exists()


def test_batch_rows_naming_a_failing_set_fail_and_the_others_are_written(cli: Any, tmp_path: Path) -> None:
    sets = tmp_path / "sets"
    sets.mkdir()
    bad = bilingual_set(sets, "fx-set.yaml", **FAILING["restriction-before-discharge"][0])
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text('name: "Test Clinic"\nphone: "555-0100"\nsets_dir: sets\n', encoding="utf-8")
    day = tmp_path / "day.csv"
    day.write_text("Patient,Date,Start,Set\r\nAda Test,2026-11-24,9:00,fx-set\r\n"
                   "Bob Test,2026-11-24,10:00,iv-pain-4h\r\nCy Test,2026-11-24,11:00,fx-set\r\n", encoding="utf-8")
    out = tmp_path / "out"
    result = cli("batch", str(day), "--clinic", str(clinic), "--output-dir", str(out), "--format", "text")
    assert result.code == 1
    rows = [line for line in result.err.splitlines() if line.startswith("row ")]
    assert rows[0] == "row 2: " + refused_line(bad, FAILING["restriction-before-discharge"][1])[7:-1]
    assert rows[1] == 'row 4: set "fx-set" cannot be used (see above)'
    assert sorted(p.name for p in out.iterdir()) == ["1000-bob-test.txt", "manifest.json"]


# --- clinic profiles, as strictly as sets ----------------------------------------------------

BROKEN_PROFILE = """\
name: 5
phone: "613-555-0100"
timezone: Mars/Olympus
lang: de
clock: 13
sets_dir: nowhere
templates_dir: also-nowhere
colour: red
"""


def test_every_error_in_a_profile_is_reported_at_once(cli: Any, tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(BROKEN_PROFILE, encoding="utf-8")
    expected = [
        f"{clinic}, line 1: name: expected text, got a whole number; put the value in quotes",
        f'{clinic}, line 3: timezone: "Mars/Olympus" is not a time zone (examples: America/Toronto, '
        "America/St_Johns, America/Vancouver)",
        f'{clinic}, line 4: lang: "de" is not a language; use one of en, fr, or two joined by + (e.g. en+fr)',
        f"{clinic}, line 5: clock: not an allowed value 13",
        f'{clinic}, line 6: sets_dir: "nowhere" is not a folder (it is read relative to {tmp_path})',
        f'{clinic}, line 7: templates_dir: "also-nowhere" is not a folder (it is read relative to {tmp_path})',
        f"{clinic}, line 8: colour: unknown field",
    ]
    for args in (("render", "--start", "09:00", *DAY), ("sets",), ("show", "iv-pain-4h"),
                 ("batch", str(tmp_path / "day.csv"))):
        result = cli(*args, "--clinic", str(clinic))
        assert result.code == 1, args
        assert result.out == ""
        lines = result.err.splitlines()
        assert [line for line in lines if not line.startswith("  ")] == ["error: " + expected[0], *expected[1:]], args
    checked = cli("check", str(clinic))
    assert checked.code == 1
    for message in expected:
        line, _, rest = message.partition(", line ")
        assert f"      error: line {rest}" in checked.out


@pytest.mark.parametrize("key", ["sets_dir", "templates_dir"])
@pytest.mark.parametrize("command", [("render", "--start", "09:00", *DAY), ("sets",), ("show", "iv-pain-4h")])
def test_a_missing_folder_in_a_profile_is_an_error_in_every_command(
    cli: Any, tmp_path: Path, key: str, command: tuple[str, ...]
) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(f'name: "Test Clinic"\nphone: "555-0100"\n{key}: my-{key}\n', encoding="utf-8")
    result = cli(*command, "--clinic", str(clinic))
    assert (result.code, result.out) == (1, "")
    assert result.err == f'error: {clinic}, line 3: {key}: "my-{key}" is not a folder (it is read relative to {tmp_path})\n'
    (tmp_path / f"my-{key}").mkdir()
    assert cli(*command, "--clinic", str(clinic)).code == 0


def test_the_no_profile_note_comes_once_after_the_handout(cli: Any, tmp_path: Path) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--format", "text")
    assert result.code == 0
    assert notes(result.err) == [NO_CLINIC]
    day = tmp_path / "day.csv"
    day.write_text("Patient,Date,Start\r\nAda Test,2026-11-24,9:00\r\nBob Test,2026-11-24,25:00\r\n", encoding="utf-8")
    batch = cli("batch", str(day), "--output-dir", str(tmp_path / "out"))
    assert batch.code == 1
    lines = notes(batch.err)
    assert lines.count(NO_CLINIC) == 1 and lines[-1] == NO_CLINIC


def test_no_note_before_a_usage_error_or_a_bad_appointment(cli: Any) -> None:
    for args in (("--start", "25:00"), ("--start", "02:00"), ("--start", "09:00", "--set", "nope")):
        result = cli("render", *args, *DAY)
        assert result.code in (1, 2)
        assert NO_CLINIC not in result.err
