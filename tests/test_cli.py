"""The command line: every bad input gives its exit code and a plain message, never a traceback."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from ketaprep.loader import SetLibrary

EXAMPLES = "(examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)"
DAY = ("--date", "2026-11-24")
BUILTIN_IDS = sorted(SetLibrary().files())
NO_CLINIC = (
    "note: no clinic profile, so the handout shows a neutral clinic line; "
    "set one with --clinic clinic.yaml or KETAPREP_CLINIC=clinic.yaml"
)


def fixture_set(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "fx-set",
        "version": "1",
        "languages": ["en"],
        "title": {"en": "Fixture set"},
        "route": "iv",
        "treatment": {"duration": "4h"},
        "arrive_before": "30m",
        "monitoring": "1h",
        "fasting": {"solids": "8h", "clear_liquids": "2h"},
        "driver": {"required": True},
        "companion": {"duration": "24h"},
        "no_driving": {"duration": "24h"},
        "contact": {"en": "Call {{ clinic_name }} at {{ clinic_phone }}."},
        "sections": {"emergency": [{"en": "Chest pain"}]},
    }
    data.update(changes)
    return data


ANY_HOUR = {"earliest": "00:00", "latest": "23:59"}
"""A clinic's set that treats at any hour (a night start is then allowed)."""


def write_set(tmp_path: Path, name: str = "fx-set.yaml", **changes: Any) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(fixture_set(**changes), sort_keys=False), encoding="utf-8")
    return path


def write_clinic(tmp_path: Path, text: str = 'name: "Test Clinic"\nphone: "555-0100"\n') -> Path:
    path = tmp_path / "clinic.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def notes(err: str) -> list[str]:
    """stderr without the "cut-off already passed" warnings, which depend on when the test runs."""
    return [
        line for line in err.splitlines()
        if not (line.startswith("warning: ") and ("already passed" in line or "already started" in line))
    ]


def usage_error(result: Any, option: str, message: str) -> None:
    assert result.code == 2, result.err
    assert result.err == f"ketaprep render: Invalid value for '{option}': {message}\nTry: ketaprep render --help\n"
    assert result.out == ""


# --- start times, dates, durations: usage errors (exit 2) with the accepted forms ------------


@pytest.mark.parametrize("start", ["25:00", "9", "noon", "9:60", "13pm", "9.30", "nine", "21:30 pm", ""])
def test_a_start_that_is_not_a_time_exits_2_with_the_examples(cli: Any, start: str) -> None:
    result = cli("render", "--start", start, *DAY)
    usage_error(result, "--start", f'"{start}" is not a time {EXAMPLES}')


@pytest.mark.parametrize(
    ("start", "at"),
    [("9:00", "09:00"), ("09:00", "09:00"), ("9am", "09:00"), ("9:30 pm", "21:30"), ("21:30", "21:30"),
     ("13:30:00", "13:30"), ("1:30:00 PM", "13:30"), ("13 h 30", "13:30"), ("13h30", "13:30"), ("13 h", "13:00")],
)
def test_every_documented_start_form_is_accepted(cli: Any, tmp_path: Path, start: str, at: str) -> None:
    """The desk reads a time as a list's cell is read (PRODUCT.md, "Time rules")."""
    result = cli("render", "--start", start, *DAY, "--set", str(write_set(tmp_path)), "--format", "json")
    assert result.code == 0, result.err
    starts = [e["at"] for e in json.loads(result.out)["events"] if e["key"] == "treatment_start"]
    assert starts == [f"2026-11-24T{at}:00-05:00"]


@pytest.mark.parametrize(("lang", "code"), [("FR", "fr"), ("fr-CA", "fr"), ("Français", "fr"), ("French", "fr"),
                                            ("Anglais", "en"), ("ENG", "en"), ("FRE", "fr"), ("EN+FR", "en+fr")])
def test_the_desk_reads_a_language_as_lists_write_it(cli: Any, lang: str, code: str) -> None:
    result = cli("render", "--start", "9:00", *DAY, "--lang", lang, "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["lang"] == code


@pytest.mark.parametrize("duration", ["90m", "1h30m", "1 h 30", "90", "90 min", "1:30"])
def test_the_desk_reads_a_length_as_lists_write_it(cli: Any, duration: str) -> None:
    result = cli("render", "--start", "9:00", *DAY, "--set", "iv-variable", "--duration", duration, "--format", "json")
    assert result.code == 0, result.err
    events = {e["key"]: e["at"] for e in json.loads(result.out)["events"]}
    assert (events["treatment_start"], events["treatment_end"]) == ("2026-11-24T09:00:00-05:00", "2026-11-24T10:30:00-05:00")


def test_9_30_pm_means_21_30(cli: Any, tmp_path: Path) -> None:
    result = cli("render", "--start", "9:30 pm", *DAY, "--set", str(write_set(tmp_path)), "--format", "json")
    events = {e["key"]: e["at"] for e in json.loads(result.out)["events"]}
    assert events["treatment_start"] == "2026-11-24T21:30:00-05:00"


@pytest.mark.parametrize("date", ["24/11/2026", "tomorrow", "2026-11-24T09:00", "26-11-24"])
def test_an_unreadable_date_exits_2_showing_the_form(cli: Any, date: str) -> None:
    result = cli("render", "--start", "09:00", "--date", date)
    usage_error(result, "--date", f'"{date}" is not a date; write it as YYYY-MM-DD (e.g. 2026-11-24)')


@pytest.mark.parametrize("date", ["2026-02-30", "2026-13-01", "2027-02-29", "2026-04-31"])
def test_a_date_in_the_right_form_that_does_not_exist_exits_2_saying_so(cli: Any, date: str) -> None:
    result = cli("render", "--start", "09:00", "--date", date)
    usage_error(result, "--date", f'"{date}" is not a day of the calendar (that month has no such day)')


@pytest.mark.parametrize("duration", ["1.5h", "an hour", "0", "90 seconds", "1:75"])
def test_a_duration_that_is_not_a_duration_exits_2(cli: Any, duration: str) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--set", "iv-variable", "--duration", duration)
    usage_error(result, "--duration", f'"{duration}" is not a duration (examples: 8h, 30m, 1h30m, 90m)')


def test_an_unknown_option_exits_2_and_points_to_help(cli: Any) -> None:
    result = cli("render", "--start", "09:00", "--bogus")
    assert result.code == 2
    assert result.err == "ketaprep render: No such option: --bogus\nTry: ketaprep render --help\n"


def test_an_unknown_command_exits_2(cli: Any) -> None:
    result = cli("frobnicate")
    assert result.code == 2
    assert result.err == "ketaprep: No such command 'frobnicate'.\nTry: ketaprep --help\n"


def test_a_missing_start_exits_2_and_names_it(cli: Any) -> None:
    result = cli("render", *DAY)
    assert result.code == 2
    assert "Missing option '--start'" in result.err


def test_an_unknown_format_exits_2_and_lists_the_formats(cli: Any) -> None:
    result = cli("render", "--start", "09:00", "--format", "docx")
    assert result.code == 2
    assert "'docx' is not one of 'terminal', 'text', 'html', 'pdf', 'json', 'ics'" in result.err


def test_an_unknown_time_zone_exits_2_with_examples(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--tz", "Mars/Base")
    assert result.code == 2
    assert result.err.endswith(
        'error: --tz: "Mars/Base" is not a time zone (examples: America/Toronto, America/St_Johns, America/Vancouver)\n'
    )
    assert result.out == ""


@pytest.mark.parametrize("zone", ["../../etc/passwd", "/etc/localtime", "", "America", "Etc", "a" * 300, "Amer\x00ica"])
def test_a_time_zone_that_is_a_path_is_refused(cli: Any, zone: str) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--tz", zone)
    assert result.code == 2
    assert "is not a time zone" in result.err


# --- understood but refused (exit 1) ------------------------------------------------------


def test_an_unknown_set_exits_1_and_lists_the_available_ids(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--set", "nope")
    assert result.code == 1
    assert result.err.endswith(f'error: unknown set "nope"; available sets: {", ".join(BUILTIN_IDS)}\n')
    assert result.out == ""


def test_an_empty_set_is_an_error_not_the_default_protocol(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--set", "")
    assert result.code == 1
    assert result.err.endswith(f'error: unknown set ""; available sets: {", ".join(BUILTIN_IDS)}\n')
    assert result.out == ""


@pytest.mark.parametrize("set_id", BUILTIN_IDS)
def test_an_afternoon_start_prints_with_every_builtin_set(cli: Any, set_id: str) -> None:
    """The built-in sets declare no clinic hours: 14:30 (and 21:59) are ordinary starts."""
    length = ["--duration", "90m"] if set_id == "iv-variable" else []
    for start in ("14:30", "21:59", "6:00"):
        result = cli("render", "--start", start, *DAY, "--set", set_id, "--format", "json", *length)
        assert result.code == 0, result.err
        hour, minute = (int(part) for part in start.split(":"))
        assert json.loads(result.out)["events"][0]["at"] is not None
        starts = [e["at"] for e in json.loads(result.out)["events"] if e["key"] == "treatment_start"]
        assert starts == [f"2026-11-24T{hour:02d}:{minute:02d}:00-05:00"]


@pytest.mark.parametrize(("start", "slip"), [("22:00", "10:00"), ("2:30", "14:30"), ("12:15 am", "12:15"), ("5:59", "17:59")])
def test_a_night_start_with_no_hours_declared_exits_1_saying_how_to_allow_it(cli: Any, start: str, slip: str) -> None:
    result = cli("render", "--start", start, *DAY)
    assert result.code == 1
    shown = start if ":" in start and "am" not in start else "00:15"
    assert result.err.splitlines()[-2:] == [
        f"error: start {int(shown.split(':')[0]):02d}:{shown.split(':')[1]} is at night (22:00 to 05:59): did you mean {slip}?",
        '  a clinic that treats at night states its hours in its profile, e.g. hours: {earliest: "06:00", latest: "23:30"}',
    ]
    assert result.out == ""


def test_the_clinics_hours_refuse_a_start_outside_them_and_allow_a_night_start(cli: Any, tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path, 'name: "Test Clinic"\nphone: "555-0100"\nhours: {earliest: "08:00", latest: "17:00"}\n')
    late = cli("render", "--start", "17:30", *DAY, "--clinic", str(clinic))
    assert late.code == 1
    assert late.err.endswith("error: start 17:30 is outside the clinic's hours (treatments start from 08:00 to 17:00)\n")
    assert cli("render", "--start", "17:00", *DAY, "--clinic", str(clinic), "--format", "json").code == 0
    night = write_clinic(tmp_path, 'name: "Night Clinic"\nhours: {earliest: "06:00", latest: "23:30"}\n')
    result = cli("render", "--start", "23:00", *DAY, "--clinic", str(night), "--format", "json")
    assert result.code == 0, result.err


def test_a_clinic_set_with_its_own_hours_and_the_clinic_hours_both_apply(cli: Any, tmp_path: Path) -> None:
    own = write_set(tmp_path, hours={"earliest": "07:00", "latest": "14:00"})
    result = cli("render", "--start", "14:30", *DAY, "--set", str(own))
    assert result.code == 1
    assert result.err.endswith('error: start 14:30 is outside set "fx-set"\'s hours (treatments start from 07:00 to 14:00)\n')
    clinic = write_clinic(tmp_path, 'name: "Test Clinic"\nhours: {earliest: "08:00", latest: "17:00"}\n')
    early = cli("render", "--start", "7:30", *DAY, "--set", str(own), "--clinic", str(clinic))
    assert early.code == 1
    assert early.err.endswith("error: start 07:30 is outside the clinic's hours (treatments start from 08:00 to 17:00)\n")


def test_clinic_hours_that_end_before_they_start_are_refused(cli: Any, tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path, 'name: "Test Clinic"\nhours: {earliest: "17:00", latest: "08:00"}\n')
    result = cli("render", "--start", "9:00", *DAY, "--clinic", str(clinic))
    assert result.code == 1
    assert result.err.endswith(f"error: {clinic}, line 2: hours: earliest is after latest\n")


def test_a_start_the_clocks_skip_exits_1(cli: Any, tmp_path: Path) -> None:
    result = cli("render", "--start", "2:30am", "--date", "2027-03-14", "--set", str(write_set(tmp_path, hours=ANY_HOUR)))
    assert result.code == 1
    assert result.err.endswith(
        "error: start 02:30 on 2027-03-14 does not exist in America/Toronto: the clocks spring forward "
        "that night; choose a time outside the change\n"
    )


def test_a_start_the_clocks_repeat_exits_1(cli: Any, tmp_path: Path) -> None:
    result = cli("render", "--start", "1:30", "--date", "2026-11-01", "--set", str(write_set(tmp_path, hours=ANY_HOUR)))
    assert result.code == 1
    assert "happens twice in America/Toronto" in result.err


def test_a_variable_length_set_without_a_duration_exits_1(cli: Any, tmp_path: Path) -> None:
    path = write_set(tmp_path, treatment={"min_duration": "40m", "max_duration": "4h"})
    result = cli("render", "--start", "09:00", *DAY, "--set", str(path))
    assert result.code == 1
    assert result.err.endswith(
        'error: set "fx-set" needs the treatment length for this appointment: give --duration (from 40m to 4h, e.g. 90m)\n'
    )


def test_a_variable_length_set_with_a_too_short_duration_exits_1(cli: Any, tmp_path: Path) -> None:
    path = write_set(tmp_path, treatment={"min_duration": "40m", "max_duration": "4h"})
    result = cli("render", "--start", "09:00", *DAY, "--set", str(path), "--duration", "30m")
    assert result.code == 1
    assert result.err.endswith("error: duration 30m is outside set \"fx-set\"'s range (40m to 4h)\n")


def test_iv_variable_without_a_duration_or_with_30m_exits_1(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--set", "iv-variable")
    assert result.code == 1
    assert result.err.endswith(
        'error: set "iv-variable" needs the treatment length for this appointment: give --duration (from 40m to 4h, e.g. 90m)\n'
    )
    result = cli("render", "--start", "09:00", *DAY, "--set", "iv-variable", "--duration", "30m")
    assert result.code == 1
    assert result.err.endswith("error: duration 30m is outside set \"iv-variable\"'s range (40m to 4h)\n")


@pytest.mark.parametrize(
    "set_id", [i for i in BUILTIN_IDS if SetLibrary().load(i).model.treatment.duration is None]
)
def test_built_in_variable_sets_need_a_duration_in_their_range(cli: Any, set_id: str) -> None:
    assert cli("render", "--start", "09:00", *DAY, "--set", set_id).code == 1
    short = cli("render", "--start", "09:00", *DAY, "--set", set_id, "--duration", "1m")
    assert short.code == 1 and "is outside set" in short.err
    assert cli("render", "--start", "09:00", *DAY, "--set", set_id, "--duration", "90m").code == 0


@pytest.mark.parametrize("duration", ["90m", "4h"])
def test_a_duration_for_a_fixed_length_set_exits_1_even_when_it_matches(cli: Any, duration: str) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--set", "iv-pain-4h", "--duration", duration)
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        'error: set "iv-pain-4h" has a fixed length of 4h; --duration is only for sets whose length varies (e.g. iv-variable)'
    )


@pytest.mark.parametrize("duration", ["4h1m", "241m", "5h", "39m"])
def test_iv_variable_refuses_a_duration_outside_40m_to_4h(cli: Any, duration: str) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--set", "iv-variable", "--duration", duration)
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith("error: duration ")
    assert result.err.splitlines()[-1].endswith(" is outside set \"iv-variable\"'s range (40m to 4h)")


@pytest.mark.parametrize("duration", ["40m", "4h", "2h15m"])
def test_iv_variable_accepts_a_duration_from_40m_to_4h(cli: Any, duration: str) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--set", "iv-variable", "--duration", duration, "--format", "json")
    assert result.code == 0, result.err


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"no_driving": {"duration": "1h", "from": "treatment_start"}},
         "no_driving.duration: 1h from treatment_start ends before the patient leaves the clinic; it must be at least 5h "
         "(or count from discharge)"),
        ({"companion": {"duration": "30m", "from": "treatment_end"}},
         "companion.duration: 30m from treatment_end ends before the patient leaves the clinic; it must be at least 1h "
         "(or count from discharge)"),
    ],
    ids=["may-drive-before-discharge", "companion-leaves-before-discharge"],
)
def test_a_set_whose_restriction_ends_before_discharge_is_refused(
    cli: Any, tmp_path: Path, rule: dict[str, Any], message: str
) -> None:
    """"You may drive again" while the patient is still being watched at the clinic is never printed."""
    path = write_set(tmp_path, **rule)
    result = cli("render", "--start", "09:00", *DAY, "--set", str(path), "--format", "text")
    assert result.code == 1
    assert result.out == ""
    assert message in result.err.splitlines()[-1]


def test_a_control_character_in_the_patient_name_exits_2(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--patient", "Ada\x1b[31m Test\nX")
    usage_error(result, "--patient", "the name has a control character (a tab, a line break or an escape code); "
                "type it on one line")


def test_a_pasted_non_breaking_space_in_the_name_prints_as_a_space(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--patient", "Jean\u00a0Tremblay", "--format", "text")
    assert result.code == 0, result.err
    assert "Patient: Jean Tremblay\n" in result.out


def test_a_patient_name_over_200_characters_exits_2(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--patient", "A" * 201)
    usage_error(result, "--patient", "the name is longer than 200 characters")


def test_a_missing_option_value_names_the_command(cli: Any) -> None:
    result = cli("render", "--start")
    assert result.code == 2
    assert result.err == "ketaprep render: Option '--start' requires an argument.\nTry: ketaprep render --help\n"


def test_an_unknown_default_set_in_the_clinic_profile_names_the_profile(cli: Any, tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path, 'name: "Test Clinic"\nphone: "555-0100"\ndefault_set: nope\n')
    result = cli("render", "--start", "09:00", *DAY, "--clinic", str(clinic))
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith(f'error: {clinic}: default_set: unknown set "nope"; available sets: ')


def test_a_malformed_set_file_exits_1_naming_the_file_and_line(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\nlanguages: [en\nroute: iv\n", encoding="utf-8")
    result = cli("render", "--start", "09:00", *DAY, "--set", str(path))
    assert result.code == 1
    assert result.err == (f"error: {path}, line 3: YAML syntax error: expected ',' or ']', but got ':'; "
                          f"nothing is printed until it passes: ketaprep check {path}\n")


def test_a_set_file_with_a_bad_field_exits_1_naming_file_line_and_field(cli: Any, tmp_path: Path) -> None:
    path = write_set(tmp_path, route="vein")
    result = cli("render", "--start", "09:00", *DAY, "--set", str(path))
    assert result.code == 1
    assert result.err == (f"error: {path}, line 7: route: not an allowed value 'vein'; "
                          f"nothing is printed until it passes: ketaprep check {path}\n")
    assert "allowed values: im, intranasal, iv, oral, subcutaneous, sublingual" in cli("check", str(path)).out


def test_a_missing_set_file_exits_1(cli: Any, tmp_path: Path) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--set", str(tmp_path / "gone.yaml"))
    assert result.code == 1
    assert result.err.endswith(f"error: {tmp_path / 'gone.yaml'}: no such file\n")


def test_a_language_the_set_does_not_have_exits_1(cli: Any, tmp_path: Path) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--set", str(write_set(tmp_path)), "--lang", "fr")
    assert result.code == 1
    assert result.err.endswith('error: set "fx-set" has no fr text; it is written in: en\n')


def test_an_output_directory_that_cannot_be_written_exits_1(cli: Any, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere: a file in the way of the folder instead
        locked.chmod(0o700)
        target = locked / "out.txt"
        target.mkdir()
        result = cli("render", "--start", "09:00", *DAY, "--format", "text", "--output", str(target))
        assert result.code == 1
        assert result.err.splitlines()[-1] == f"error: {target}: is a folder; give a file name, e.g. {target / 'handout.html'}"
        return
    result = cli("render", "--start", "09:00", *DAY, "--format", "text", "--output", str(locked / "out.txt"))
    assert result.code == 1
    assert "cannot write here" in result.err


def test_a_missing_output_folder_is_an_error_never_created(cli: Any, tmp_path: Path) -> None:
    """A mistyped folder must not quietly become a new folder holding a patient's handout."""
    target = tmp_path / "typo" / "out.txt"
    result = cli("render", "--start", "09:00", *DAY, "--format", "text", "--output", str(target))
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"error: {target}: the folder {target.parent} does not exist; create it first or choose another"
    )
    assert not target.parent.exists()


# --- no traceback, ever, without --debug ----------------------------------------------------


BAD_INPUTS = [
    ("render", "--start", "25:00"),
    ("render", "--start", "09:00", "--date", "2026-02-30"),
    ("render", "--start", "09:00", "--set", "nope"),
    ("render", "--start", "09:00", "--tz", "Mars/Base"),
    ("render", "--start", "09:00", "--date", "9999-12-31"),
    ("render", "--start", "09:00", "--date", "0001-01-01"),
    ("render", "--start", "09:00", "--set", "iv-pain-4h", "--duration", "99999999999d"),
    ("render", "--start", "09:00", "--bogus"),
    ("render", "--start", "23:00", "--date", "2026-11-24"),
    ("show", "nope"),
    ("show", "/no/such/file.yaml"),
    ("check", "/no/such/file.yaml"),
    ("sets", "--clinic", "/no/such/clinic.yaml"),
]


@pytest.mark.parametrize("args", BAD_INPUTS, ids=lambda a: " ".join(a))
def test_no_bad_input_shows_a_traceback(cli: Any, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.code in (1, 2)
    assert "Traceback" not in result.err and "Traceback" not in result.out
    assert "unexpected" not in result.err
    if args[0] == "check":  # check writes its report on standard output
        assert "error: no such file" in result.out
    else:
        assert 0 < len(result.err.strip().splitlines()) <= 4


def test_a_date_outside_the_calendar_exits_1_with_a_message(cli: Any) -> None:
    result = cli("render", "--start", "09:00", "--date", "9999-12-31")
    assert result.code == 1
    assert result.err.endswith(
        "error: date 9999-12-31 is outside the calendar ketaprep works with (1900 to 2999); check the year\n"
    )


def test_debug_lets_the_exception_through(cli: Any) -> None:
    from ketaprep.errors import SetError

    with pytest.raises(SetError):
        cli("render", "--start", "09:00", "--set", "nope", "--debug")


def test_a_set_error_message_never_contains_the_patients_name(cli: Any) -> None:
    result = cli("render", "--start", "23:00", *DAY, "--patient", "Ada Test")
    assert result.code == 1
    assert "Ada" not in result.err


# --- help with examples first ---------------------------------------------------------------


def test_ketaprep_alone_shows_examples(cli: Any) -> None:
    result = cli()
    assert result.code == 0
    assert "Examples:" in result.out
    assert "ketaprep render --start 09:00" in result.out
    assert result.out.index("Examples:") < result.out.index("Commands:")


def test_render_help_shows_examples_before_options(cli: Any) -> None:
    result = cli("render", "--help")
    assert result.code == 0
    assert "ketaprep render --start 9:30am --date 2026-11-24" in result.out
    assert result.out.index("Examples:") < result.out.index("Options:")
    assert "9:00, 09:00, 9am, 9:30 pm or 21:30" in " ".join(result.out.split())


def test_render_with_no_options_shows_its_help(cli: Any) -> None:
    result = cli("render")
    assert result.code == 0
    assert "Examples:" in result.out


@pytest.mark.parametrize("command", ["sets", "show", "check"])
def test_every_command_help_has_an_example(cli: Any, command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0
    assert f"ketaprep {command}" in result.out.split("Options:")[0]


# --- output ------------------------------------------------------------------------------


def test_output_writes_a_file_readable_by_the_owner_only(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "handout.txt"
    result = cli("render", "--start", "09:00", *DAY, "--patient", "Ada Test", "--format", "text", "--output", str(target))
    assert result.code == 0, result.err
    assert result.out == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "Ada Test" in target.read_text(encoding="utf-8")
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".part")]


def test_output_dash_writes_to_standard_output(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--format", "json", "--output", "-")
    assert result.code == 0
    assert json.loads(result.out)["set"]["id"] == "iv-pain-4h"


def test_json_output_follows_the_contract(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--patient", "Ada Test", "--format", "json")
    data = json.loads(result.out)
    assert set(data) == {"patient", "set", "lang", "timezone", "events"}
    assert data["patient"] == "Ada Test" and data["lang"] == "en" and data["timezone"] == "America/Toronto"
    assert set(data["set"]) == {"id", "version", "sha256"} and len(data["set"]["sha256"]) == 64
    meal = next(e for e in data["events"] if e["key"] == "last_meal")
    assert meal == {"key": "last_meal", "at": "2026-11-24T01:00:00-05:00",
                    "label": "Stop eating (this includes milk, gum and candy)"}


def test_tz_moves_the_times_to_that_zone(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--tz", "America/St_Johns", "--format", "json")
    data = json.loads(result.out)
    assert data["timezone"] == "America/St_Johns"
    assert next(e["at"] for e in data["events"] if e["key"] == "last_meal") == "2026-11-24T01:00:00-03:30"


# --- clinic profile ------------------------------------------------------------------------


def test_a_clinic_profile_puts_the_clinic_name_and_phone_on_the_sheet(cli: Any, tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path)
    result = cli("render", "--start", "09:00", *DAY, "--format", "text", "--clinic", str(clinic))
    assert result.code == 0, result.err
    assert "Test Clinic" in result.out and "555-0100" in result.out
    assert "no clinic profile" not in result.err


def test_the_clinic_profile_can_come_from_ketaprep_clinic(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETAPREP_CLINIC", str(write_clinic(tmp_path)))
    result = cli("render", "--start", "09:00", *DAY, "--format", "text")
    assert result.code == 0, result.err
    assert "Test Clinic" in result.out and "555-0100" in result.out
    assert notes(result.err) == []


def test_without_a_clinic_profile_a_note_says_so_once(cli: Any) -> None:
    result = cli("render", "--start", "09:00", *DAY, "--format", "text")
    assert result.code == 0
    assert notes(result.err) == [NO_CLINIC]
    assert "Your treatment clinic" in result.out


def test_the_clinic_time_zone_and_default_set_are_used(cli: Any, tmp_path: Path) -> None:
    write_set(tmp_path)
    clinic = write_clinic(
        tmp_path, 'name: "Test Clinic"\ntimezone: America/St_Johns\ndefault_set: fx-set\nsets_dir: .\n'
    )
    result = cli("render", "--start", "09:00", *DAY, "--format", "json", "--clinic", str(clinic))
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["set"]["id"] == "fx-set" and data["timezone"] == "America/St_Johns"


def test_a_bad_clinic_profile_exits_1_naming_file_and_line(cli: Any, tmp_path: Path) -> None:
    clinic = write_clinic(tmp_path, 'name: "Test Clinic"\nlang: de\n')
    result = cli("render", "--start", "09:00", *DAY, "--clinic", str(clinic))
    assert result.code == 1
    assert result.err == (
        f'error: {clinic}, line 2: lang: "de" is not a language; use one of en, fr, or two joined by + (e.g. en+fr)\n'
    )


# --- sets, show, check -------------------------------------------------------------------


def test_sets_lists_every_built_in_id(cli: Any) -> None:
    result = cli("sets")
    assert result.code == 0
    listed = [line.split()[0] for line in result.out.splitlines()[1:] if line.strip()]
    assert listed == BUILTIN_IDS
    assert result.out.splitlines()[0].split()[:2] == ["ID", "VERSION"]


def test_sets_includes_a_clinics_own_sets(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_set(tmp_path)
    monkeypatch.setenv("KETAPREP_SETS", str(tmp_path))
    result = cli("sets")
    assert result.code == 0
    assert "fx-set" in result.out


def test_show_prints_the_rules_in_plain_words(cli: Any) -> None:
    result = cli("show", "iv-pain-4h")
    assert result.code == 0
    assert result.out.startswith("iv-pain-4h ")
    for words in ("Solid food: stop 8h before the treatment starts", "Driver home: required", "Chest pain"):
        assert words in result.out


def test_check_passes_on_the_built_in_sets(cli: Any) -> None:
    result = cli("check")
    assert result.code == 0, result.out
    assert f"{len(BUILTIN_IDS)} file(s) checked: 0 error(s)" in result.out


def test_check_fails_on_a_bad_file_and_names_the_line(cli: Any, tmp_path: Path) -> None:
    bad = write_set(tmp_path, "bad.yaml", monitoring="1 hour")
    good = write_set(tmp_path, "good.yaml")
    result = cli("check", str(good), str(bad))
    assert result.code == 1
    assert f"FAIL  {bad}" in result.out
    assert any(line.startswith("ok") and line.endswith(str(good)) for line in result.out.splitlines())
    assert "line 11: monitoring: '1 hour' is not a duration (examples: 8h, 30m, 1h30m, 90m)" in result.out
    assert "2 file(s) checked: 1 error(s)" in result.out


def test_check_accepts_a_clinic_profile(cli: Any, tmp_path: Path) -> None:
    result = cli("check", str(write_clinic(tmp_path)))
    assert result.code == 0, result.out
