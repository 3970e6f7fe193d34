"""`ketaprep check`: each listed problem caught from a small fixture, exit codes, the JSON for CI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ketaprep.checker import copied_phrases, english_words, french_typography
from ketaprep.loader import builtin_dir

NBSP = "\u00a0"

GOOD_SET = """\
id: tiny
version: "1"
languages: [en, fr]
title:
  en: "Tiny set"
  fr: "Petit jeu"
route: iv
treatment:
  duration: 1h
arrive_before: 30m
monitoring: 1h
fasting:
  solids: 8h
  clear_liquids: 2h
driver:
  required: true
companion:
  duration: 24h
no_driving:
  duration: 24h
contact:
  en: "Questions? Call {{ clinic_phone }}."
  fr: "Des questions ? Appelez le {{ clinic_phone }}."
sections:
  before:
    - en: "Do not eat after {{ last_meal }}."
      fr: "Ne mangez plus après {{ last_meal }}."
  emergency:
    - en: "Chest pain"
      fr: "Douleur à la poitrine"
""".replace("questions ? ", f"questions{NBSP}? ")


def write(tmp_path: Path, text: str, name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(cli: Any, *paths: Path, json_out: bool = False) -> Any:
    args = ["check", *(str(p) for p in paths)]
    return cli(*args, "--format", "json") if json_out else cli(*args)


def test_a_good_set_passes_with_each_section_graded(tmp_path: Path, cli: Any) -> None:
    result = run(cli, write(tmp_path, GOOD_SET))
    assert result.code == 0, result.out
    lines = result.out.splitlines()
    assert lines[0] == f"ok    {tmp_path / 'tiny.yaml'}"
    assert lines[1].split() == ["reading", "grade", "en", "fr"]
    assert lines[2].split()[0] == "before" and lines[3].split()[0] == "emergency"
    assert "FILE" in result.out and "HIGHEST GRADE" in result.out
    assert result.out.endswith("1 file(s) checked: 0 error(s), 0 warning(s)\n")


def test_json_output_lists_file_level_line_message_and_grades(tmp_path: Path, cli: Any) -> None:
    path = write(tmp_path, GOOD_SET.replace("clear_liquids: 2h", "clear_liquids: 1h"))
    result = run(cli, path, json_out=True)
    assert result.code == 0
    items = json.loads(result.out)
    assert items == [
        {
            "file": str(path),
            "level": "warning",
            "line": 14,
            "message": "fasting.clear_liquids: shorter than 2h, below the anaesthesia fasting guidance; "
            "have your medical staff confirm it (then say why in fasting.below_guidance_reason)",
            "grades": items[0]["grades"],
        }
    ]
    assert set(items[0]["grades"]) == {"before", "emergency"}
    assert set(items[0]["grades"]["before"]) == {"en", "fr"}
    clean = json.loads(run(cli, write(tmp_path, GOOD_SET, "clean.yaml"), json_out=True).out)
    assert [item["level"] for item in clean] == ["ok"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("route: iv", "route: bus"), "line 7: route: not an allowed value"),
        (
            ("eat after {{ last_meal }}", "eat after {{ lunch }}"),
            "line 26: sections.before[0] (en): unknown placeholder {{ lunch }}",
        ),
        (
            ("  emergency:\n    - en: \"Chest pain\"\n      fr: \"Douleur à la poitrine\"\n", ""),
            "sections.emergency: every set must list",
        ),
        (("driver:\n  required: true\n", ""), "driver: every set must have a driver rule"),
        (("companion:\n  duration: 24h\n", ""), "companion: every set must say how long"),
        (("no_driving:\n  duration: 24h\n", ""), "no_driving.duration: every set must say how long not to drive"),
        (
            ("fasting:\n  solids: 8h\n  clear_liquids: 2h\n", "fasting:\n  solids: 8h\n"),
            "fasting: route iv needs fasting windows",
        ),
        (("      fr: \"Douleur à la poitrine\"\n", ""), "sections.emergency[0]: missing the fr text"),
        (("languages: [en, fr]", "languages: [en, fr, es]"), "languages: no catalog for es"),
    ],
    ids=["schema", "placeholder", "emergency", "driver", "companion", "no-driving", "fasting", "missing-fr", "no-catalog"],
)
def test_check_reports_each_error_with_its_line_and_exits_1(
    tmp_path: Path, cli: Any, change: tuple[str, str], message: str
) -> None:
    assert change[0] in GOOD_SET
    result = run(cli, write(tmp_path, GOOD_SET.replace(change[0], change[1])))
    assert result.code == 1
    assert message in result.out
    assert "FAIL" in result.out


def test_every_safety_error_is_listed_not_just_the_first(tmp_path: Path, cli: Any) -> None:
    text = GOOD_SET.replace("driver:\n  required: true\n", "").replace("companion:\n  duration: 24h\n", "")
    result = run(cli, write(tmp_path, text))
    assert "driver: every set must have a driver rule" in result.out
    assert "companion: every set must say how long" in result.out
    assert "2 error(s)" in result.out


def test_french_identical_to_english_is_an_error(tmp_path: Path, cli: Any) -> None:
    result = run(cli, write(tmp_path, GOOD_SET.replace('fr: "Douleur à la poitrine"', 'fr: "Chest pain"')))
    assert result.code == 1
    assert "sections.emergency[0] (fr): is the same as the English text; translate it" in result.out


def test_english_left_in_the_french_is_an_error(tmp_path: Path, cli: Any) -> None:
    text = GOOD_SET.replace("Ne mangez plus après {{ last_meal }}.", "Ne mangez plus after {{ last_meal }}, and take your pills.")
    result = run(cli, write(tmp_path, text))
    assert result.code == 1
    assert 'sections.before[0] (fr): looks like English ("after", "and", "take", "your"); translate it' in result.out


@pytest.mark.parametrize(
    ("french", "evidence"),
    [
        ("Douleur à la poitrine. Chest pain", '"chest pain"'),
        ("Chest pain, douleur", '"chest pain"'),
        ("Ne mangez plus after {{ last_meal }}.", '"after"'),
    ],
    ids=["sign-pasted-after", "sign-pasted-before", "one-english-word"],
)
def test_a_short_english_phrase_or_word_left_in_the_french_is_an_error(
    tmp_path: Path, cli: Any, french: str, evidence: str
) -> None:
    """Emergency signs are short: one English word or one copied two-word phrase is enough to flag."""
    if "last_meal" in french:
        text = GOOD_SET.replace("Ne mangez plus après {{ last_meal }}.", french)
    else:
        text = GOOD_SET.replace('fr: "Douleur à la poitrine"', f'fr: "{french}"')
    result = run(cli, write(tmp_path, text))
    assert result.code == 1, result.out
    assert f"looks like English ({evidence}); translate it" in result.out


def test_english_words_ignore_french_and_placeholders() -> None:
    assert english_words("Ne mangez plus après {{ the_time }}. Le thé est interdit.") == []
    assert english_words("Stop eating before the infusion") == ["before", "the"]


def test_shared_single_words_are_not_copied_phrases() -> None:
    """Cognates (infusion, confusion, ECG) are normal; only a copied run of two words counts."""
    assert copied_phrases("Confusion après la perfusion (ECG)", "Confusion after the infusion (ECG)") == []
    assert copied_phrases("Essoufflement. Shortness of breath", "Trouble breathing or shortness of breath") == [
        "shortness of", "of breath"
    ]


def test_french_typography_problems_are_warnings(tmp_path: Path, cli: Any) -> None:
    text = GOOD_SET.replace(f"questions{NBSP}? ", "questions? ")
    text = text.replace("Douleur à la poitrine", 'Douleur \\"forte\\" à la poitrine')
    result = run(cli, write(tmp_path, text))
    assert result.code == 0
    assert "warning: line 23: contact (fr): put a non-breaking space (U+00A0) before « ? »" in result.out
    assert "warning: line 30: sections.emergency[0] (fr): use « » for quotation marks in French" in result.out


def test_french_typography_accepts_times_links_and_narrow_spaces() -> None:
    assert french_typography(f"À 9:00, voir https://exemple.ca{NBSP}; « oui »") == ["put non-breaking spaces (U+00A0) inside « »"]
    assert french_typography(f"Attention\u202f! Téléphone{NBSP}: «{NBSP}oui{NBSP}»") == []


LONG_EN = (
    "Administration of intravenous ketamine necessitates comprehensive physiological monitoring, "
    "particularly cardiovascular parameters, throughout the entire procedural interval."
)
MEDIUM_EN = "Remember that a responsible adult must drive you home and stay with you overnight."  # grade 8.4


def test_reading_grade_above_10_is_an_error_and_above_8_a_warning(tmp_path: Path, cli: Any) -> None:
    hard = GOOD_SET.replace('en: "Do not eat after {{ last_meal }}."', f'en: "{LONG_EN}"')
    result = run(cli, write(tmp_path, hard))
    assert result.code == 1
    assert "error: line 25: sections.before (en): reading grade" in result.out
    assert "is above 10; use shorter sentences and everyday words" in result.out
    medium = GOOD_SET.replace('en: "Do not eat after {{ last_meal }}."', f'en: "{MEDIUM_EN}"')
    result = run(cli, write(tmp_path, medium, "medium.yaml"))
    assert result.code == 0
    assert "warning: line 25: sections.before (en): reading grade" in result.out
    assert "reading grade 8.4 is above 8;" in result.out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("clear_liquids: 2h", "clear_liquids: 1h"), "fasting.clear_liquids: shorter than 2h"),
        (("solids: 8h", "solids: 4h"), "fasting.solids: shorter than 6h"),
        (("no_driving:\n  duration: 24h", "no_driving:\n  duration: 12h"), "no_driving.duration: shorter than 24h after an IV"),
        (("Call {{ clinic_phone }}.", "Call us."), "contact: gives no phone number"),
    ],
    ids=["clear-liquids", "solids", "no-driving", "contact-phone"],
)
def test_clinical_plausibility_problems_are_warnings_exit_0(
    tmp_path: Path, cli: Any, change: tuple[str, str], message: str
) -> None:
    text = GOOD_SET.replace(change[0], change[1])
    if "Call us." in text:
        text = text.replace("Appelez le {{ clinic_phone }}.", "Appelez-nous.")
    result = run(cli, write(tmp_path, text))
    assert result.code == 0, result.out
    assert "warning: line " in result.out and message in result.out
    assert "0 error(s), 1 warning(s)" in result.out


def test_a_short_fasting_window_with_a_stated_reason_is_a_note_not_a_warning(tmp_path: Path, cli: Any) -> None:
    """A set given awake (e.g. a nasal spray) may fast less; the reason it gives is shown, not counted."""
    text = GOOD_SET.replace(
        "clear_liquids: 2h\n", "clear_liquids: 30m\n  below_guidance_reason: given awake, without sedation\n"
    )
    result = run(cli, write(tmp_path, text))
    assert result.code == 0, result.out
    assert (
        "note: line 14: fasting.clear_liquids: shorter than 2h, below the anaesthesia fasting guidance; "
        "the set says why: given awake, without sedation"
    ) in result.out
    assert result.out.endswith("1 file(s) checked: 0 error(s), 0 warning(s)\n")


def test_a_clinic_profile_without_a_phone_is_a_warning(tmp_path: Path, cli: Any) -> None:
    path = write(tmp_path, 'name: "Clinique Test"\nlang: en+fr\n', "clinic.yaml")
    result = run(cli, path)
    assert result.code == 0
    assert "warning: line 1: phone: missing; every handout should give the clinic's phone number" in result.out
    assert "clinic" in result.out.splitlines()[-2]


def test_a_broken_clinic_profile_is_an_error_with_its_line(tmp_path: Path, cli: Any) -> None:
    path = write(tmp_path, 'name: "Clinique Test"\nphone: "613-555-0100"\ntimezone: Mars/Olympus\n', "clinic.yaml")
    result = run(cli, path)
    assert result.code == 1
    assert 'line 3: timezone: "Mars/Olympus" is not a time zone' in result.out


def test_template_directory_errors_and_untranslated_wording(tmp_path: Path, cli: Any) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "handout.txt.j2").write_text('{% for h in handouts %}\n{{ _("Bring your health card") }}\n{% endfor %}\n')
    (templates / "handout.html.j2").write_text("{% for h in handouts %}\n{{ h.title }\n")
    result = run(cli, templates)
    assert result.code == 1
    assert "handout.html.j2, line 2: template syntax error" in result.out
    assert 'handout.txt.j2, line 2: "Bring your health card" has no fr translation; it prints in English' in result.out


def test_a_missing_path_is_an_error(tmp_path: Path, cli: Any) -> None:
    result = run(cli, tmp_path / "nope.yaml")
    assert result.code == 1
    assert "no such file" in result.out


def test_builtin_sets_pass_check_with_no_warnings(cli: Any) -> None:
    """The content gate: every built-in set, every section at grade 8 or below, in every language."""
    result = run(cli, *sorted(builtin_dir().glob("*.yaml")))
    assert result.code == 0, result.out
    assert result.out.rstrip().endswith("0 error(s), 0 warning(s)"), result.out


def test_check_with_only_a_clinic_checks_it_and_every_set(tmp_path: Path, cli: Any) -> None:
    clinic = write(tmp_path, 'name: "Clinique Test"\nphone: "613-555-0100"\n', "clinic.yaml")
    result = cli("check", "--clinic", str(clinic))
    assert f"ok    {clinic}" in result.out
    assert "iv-pain-4h.yaml" in result.out


# --- at render time: a cut-off already past when the sheet is printed -------------------------


def _timeline(day: str = "2026-11-24", start: str = "09:00") -> Any:
    import datetime as dt

    from ketaprep.loader import SetLibrary
    from ketaprep.timeline import Appointment, compute

    loaded = SetLibrary().load("iv-pain-4h")
    return compute(loaded.model, Appointment(dt.date.fromisoformat(day), dt.time.fromisoformat(start)))


def test_printing_after_a_cutoff_warns_to_phone_the_patient() -> None:
    """Printing at 08:30 for a 09:00 start with an 8 h fast: the 1:00 a.m. last meal has passed."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from ketaprep.safety import passed_cutoffs

    now = dt.datetime(2026, 11, 24, 8, 30, tzinfo=ZoneInfo("America/Toronto"))
    assert passed_cutoffs(_timeline(), now) == [
        "the no-caffeine time (midnight at the end of Monday 23 November) has already passed; phone the patient",
        "the last-meal time (1:00 a.m.) has already passed; phone the patient",
        "the last clear-liquid time (7:00 a.m.) has already passed; phone the patient",
        "the last-medicines time (7:00 a.m.) has already passed; phone the patient",
    ]
    day_before = dt.datetime(2026, 11, 23, 15, 0, tzinfo=ZoneInfo("America/Toronto"))
    assert passed_cutoffs(_timeline(), day_before) == []
    exactly = dt.datetime(2026, 11, 24, 1, 0, tzinfo=ZoneInfo("America/Toronto"))
    assert "last-meal" not in " ".join(passed_cutoffs(_timeline(), exactly))


def test_render_at_0830_for_a_0900_start_warns_on_stderr_never_on_the_sheet(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nurse prints at 08:30 for a 09:00 start: each passed cut-off is named, the sheet is unchanged."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import ketaprep.cli

    args = ("render", "--start", "09:00", "--date", "2026-11-24", "--patient", "Ada Test", "--format", "text")
    clean = cli(*args)
    printing = dt.datetime(2026, 11, 24, 8, 30, tzinfo=ZoneInfo("America/Toronto"))
    monkeypatch.setattr(ketaprep.cli, "_now", lambda: printing)
    late = cli(*args)
    assert late.code == 0
    assert [line for line in late.err.splitlines() if line.startswith("warning: ")] == [
        "warning: the no-caffeine time (midnight at the end of Monday 23 November) has already passed; phone the patient",
        "warning: the last-meal time (1:00 a.m.) has already passed; phone the patient",
        "warning: the last clear-liquid time (7:00 a.m.) has already passed; phone the patient",
        "warning: the last-medicines time (7:00 a.m.) has already passed; phone the patient",
    ]
    assert "Ada Test" not in late.err
    assert late.out == clean.out  # never on the sheet
    monkeypatch.setattr(ketaprep.cli, "_now", lambda: printing - dt.timedelta(days=1))
    assert "warning" not in cli(*args).err


def test_render_for_an_appointment_already_past_warns_once(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    import ketaprep.cli

    monkeypatch.setattr(ketaprep.cli, "_now", lambda: dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC))
    past = cli("render", "--start", "09:00", "--date", "2026-11-24", "--format", "text")
    assert past.code == 0
    assert [line for line in past.err.splitlines() if line.startswith("warning: ")] == [
        "warning: this appointment (2026-11-24 9:00 a.m.) has already started or is over; check the date"
    ]


def test_a_template_that_fails_on_a_sample_handout_is_an_error_with_file_and_line(tmp_path: Path, cli: Any) -> None:
    """A template that parses but names a missing field would fail at the desk: `check` renders a sample."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "handout.txt.j2").write_text("{% for h in handouts %}\n{{ h.nosuch }}\n{% endfor %}\n")
    clinic = write(tmp_path, 'name: "Clinique Test"\nphone: "613-555-0100"\ntemplates_dir: templates\n', "clinic.yaml")
    result = run(cli, clinic)
    assert result.code == 1
    assert (
        f"error: {templates / 'handout.txt.j2'}, line 2: uses \"nosuch\", which is not defined "
        "(in a sample en handout); fix it before printing"
    ) in result.out
    assert result.out.rstrip().endswith("2 file(s) checked: 1 error(s), 0 warning(s)")
    rendered = cli("render", "--start", "09:00", "--date", "2026-11-24", "--clinic", str(clinic), "--format", "text")
    assert rendered.code == 1
    assert rendered.err.splitlines()[-2:] == [
        f"error: template {templates / 'handout.txt.j2'}, line 2: uses \"nosuch\", which is not defined",
        "  run: ketaprep check on the clinic's templates folder",
    ]


def test_a_template_raising_a_python_error_is_reported_with_its_file_and_line(tmp_path: Path, cli: Any) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "handout.txt.j2").write_text("{% for h in handouts %}\n{{ h.set_id - 1 }}\n{% endfor %}\n")
    result = run(cli, templates)
    assert result.code == 1
    assert f"error: {templates / 'handout.txt.j2'}, line 2: unsupported operand type(s)" in result.out
