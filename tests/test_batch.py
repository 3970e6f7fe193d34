"""`ketaprep batch`: every input kind, every bad row, safe file names, the print file, the manifest.

Bad rows are named by number only; the summary always balances (rows = written + failed).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, make_xlsx

from ketaprep.formats import html_format
from ketaprep.loader import SetLibrary
from ketaprep.sheet import Options, make_sheet
from ketaprep.timefmt import long_date

SAFE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2}-)?\d{4}-[a-z0-9]+(-[a-z0-9]+)*\.(html|pdf|txt|json|ics)$")
DAY = "2026-11-24"


def summary(out: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def row_messages(err: str) -> list[str]:
    return [line for line in err.splitlines() if re.match(r"(row|entry) \d+: ", line)]


def manifest_of(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return data


def balanced(result: Any) -> tuple[int, int, int]:
    """(rows read, handouts written, rows failed), once the summary is checked to balance:
    rows read = written + failed + skipped (+ not written, after a stop)."""
    numbers = summary(result.out)
    rows, written, failed, skipped = (int(numbers[k]) for k in ("rows read", "handouts written", "rows failed",
                                                                "rows skipped"))
    assert rows == written + failed + skipped + int(numbers.get("not written", 0))
    return rows, written, failed


def write_list(tmp_path: Path, rows: list[list[str]], header: list[str] | None = None, name: str = "day.csv") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header or ["Patient", "Date", "Start"])
    writer.writerows(rows)
    path = tmp_path / name
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def assert_manifest_matches_files(folder: Path) -> dict[str, Any]:
    """Every handout in the manifest exists with the recorded hash; every handout file is in the manifest."""
    manifest = manifest_of(folder)
    listed = {item["file"] for item in manifest["handouts"]}
    for item in manifest["handouts"]:
        data = (folder / item["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item["sha256"]
        assert SAFE_NAME.match(item["file"])
    on_disk = {p.name for p in folder.iterdir()} - {"manifest.json", "handouts.html", "handouts.pdf"}
    assert on_disk == listed
    summary_ = manifest["summary"]
    assert summary_["rows"] == summary_["written"] + summary_["failed"] + summary_["skipped"] == (
        len(manifest["handouts"]) + len(manifest["failed"]) + len(manifest["skipped"]))
    return manifest


# --- inputs ----------------------------------------------------------------------------------


def test_emr_export_writes_each_patient_the_print_file_in_time_order_and_the_manifest(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("batch", str(DATA / "emr-export.csv"), "-o", str(out))
    assert result.code == 0, result.err
    assert balanced(result) == (5, 5, 0)
    assert summary(result.out)["print this file"] == str(out / "handouts.html")
    names = ["0800-ada-test.html", "0930-zoe-exemple.html", "1115-emile-o-brien-cote.html",
             "1300-bob-j-sample.html", "1400-ada-test.html"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "handouts.html", "manifest.json"])
    combined = (out / "handouts.html").read_text(encoding="utf-8")
    positions = [combined.index(name) for name in ("Ada Test", "Zoë Exemple", "Émile O&#39;Brien-Côté", "Bob J. Sample")]
    assert positions == sorted(positions)
    assert combined.count('<div class="patient">') == 5
    manifest = assert_manifest_matches_files(out)
    assert [(item["row"], item["file"], item["patient"]) for item in manifest["handouts"]] == [
        (3, names[0], "Ada Test"), (4, names[1], "Zoë Exemple"), (5, names[2], "Émile O'Brien-Côté"),
        (7, names[3], "Bob J. Sample"), (8, names[4], "Ada Test"),
    ]
    first = manifest["handouts"][0]
    assert first["set"]["id"] == "iv-pain-4h" and len(first["set"]["sha256"]) == 64
    assert [e["key"] for e in first["events"]][:2] == ["no_caffeine_from", "last_meal"]
    assert first["events"][1]["at"] == "2026-11-24T00:00:00-05:00"  # 8 h before 8:00, as `render` computes it
    assert manifest["complete"] is True and manifest["combined"] == "handouts.html"


def test_combined_html_is_exactly_what_the_html_writer_makes_for_the_same_sheets(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("batch", str(DATA / "emr-export.csv"), "-o", str(out), "--duplex", "--paper", "a4").code == 0
    library = SetLibrary()
    loaded = library.load("iv-pain-4h")
    from ketaprep.sheet import generated_date
    from ketaprep.timeline import Appointment

    sheets = []
    for item in manifest_of(out)["handouts"]:
        start = dt.datetime.fromisoformat(next(e["at"] for e in item["events"] if e["key"] == "treatment_start"))
        appointment = Appointment(start.date(), start.time().replace(tzinfo=None), "America/Toronto", item["patient"])
        sheets.append(make_sheet(loaded, appointment, None, "en", None, generated_date(dt.date.today())))
    options = Options(paper="a4", duplex=True)
    day = long_date(sheets[0].timeline.appointment.date, "en")
    combined = dataclasses.replace(options, document_title=f"Handouts to print: emr-export.csv, {day}")
    assert (out / "handouts.html").read_bytes() == html_format.write(sheets, combined)
    assert (out / "0930-zoe-exemple.html").read_bytes() == html_format.write([sheets[1]], options)


def test_french_excel_csv_with_mapped_columns_sets_and_languages(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("batch", str(DATA / "semicolon-bom.csv"), "-o", str(out), "--format", "json",
                 "--column", "patient=Nom", "--column", "start=Heure", "--column", "set=Protocole",
                 "--column", "lang=Langue", "--column", "date=Date du rendez-vous")
    assert result.code == 0, result.err
    manifest = assert_manifest_matches_files(out)
    assert [(i["set"]["id"], i["lang"]) for i in manifest["handouts"]] == [
        ("iv-depression-40m", "fr"), ("iv-pain-4h", "en+fr"), ("iv-depression-40m", "fr"),
    ]
    assert manifest["handouts"][1]["events"][5]["key"] == "treatment_start"
    assert manifest["handouts"][1]["events"][5]["at"] == "2026-11-24T09:30:00-05:00"  # "9 h 30"


def test_xlsx_made_with_openpyxl(cli: Any, tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "day.xlsx", [
        ["Appointment Date", "Appointment Time", "Patient", "Protocol", "Chart"],
        [dt.date(2026, 11, 24), dt.time(9, 0), "Test, Ada", "iv-pain-4h", "A-1"],
        [dt.date(2026, 11, 24), dt.time(13, 30), "Exemple, Zoë", "iv-depression-40m", "A-2"],
        [dt.date(2026, 11, 24), "25:00", "Sample, Bob", "iv-pain-4h", "A-3"],
    ])
    out = tmp_path / "out"
    result = cli("batch", str(path), "-o", str(out))
    assert result.code == 1
    assert row_messages(result.err) == ['row 4: start "25:00" is not a time (examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)']
    assert "Bob" not in result.err
    assert sorted(p.name for p in out.glob("1*.html")) == ["1330-zoe-exemple.html"]
    assert (out / "0900-ada-test.html").exists()
    assert balanced(result) == (3, 2, 1)


def test_fhir_bundle_with_clinic_mapping(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("batch", str(DATA / "bundle.json"), "--clinic", str(DATA / "clinic.yaml"), "-o", str(out), "--format", "json")
    assert result.code == 1  # entry 4's appointment type has no set
    assert row_messages(result.err) == [
        'entry 4: appointment type "ROUTINE" has no instruction set; map it in the clinic profile, '
        'appointment_types: {"ROUTINE": SET-ID} with the set its patients get (ketaprep sets lists them)'
    ]
    assert "note: 1 appointment(s) not printed, as the list marks them: entry 3 (cancelled)" in result.err
    assert "Cancelled" not in result.err and "Unmapped" not in result.err
    assert balanced(result) == (5, 3, 1)  # entry 3 is cancelled: read, skipped and counted
    manifest = assert_manifest_matches_files(out)
    assert [(i["entry"], i["file"], i["set"]["id"], i["lang"]) for i in manifest["handouts"]] == [
        (1, "0900-ada-test.json", "iv-pain-4h", "en"),
        (2, "1030-zoe-exemple.json", "iv-depression-40m", "fr"),  # the patient's preferred language
        (5, "1200-bob-sample.json", "iv-variable", "en"),
    ]
    bob = manifest["handouts"][2]["events"]
    length = {e["key"]: dt.datetime.fromisoformat(e["at"]) for e in bob}
    assert length["treatment_end"] - length["treatment_start"] == dt.timedelta(minutes=90)  # booked 12:00-13:30
    assert manifest["failed"] == [{"entry": 4, "error": manifest["failed"][0]["error"]}]


# --- bad rows --------------------------------------------------------------------------------

BAD_ROWS = [
    'row 3: start "25:00" is not a time (examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)',
    "row 4: start time is empty (examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)",
    'row 5: date "2026-02-30" is not a date (examples: 2026-11-24, 24 Nov 2026, Nov 24 2026)',
    'row 6: date "03/04/2026" could be day/month or month/day; write it as YYYY-MM-DD, or give --date-order dmy '
    "(or mdy) for the whole list",
    "row 7: patient name is empty",
    'row 8: unknown set "iv-nothing"; available sets: esketamine-nasal, im-depression, iv-depression-40m, '
    "iv-pain-4h, iv-variable",
    'row 9: type (text not shown) has no instruction set; map it in the clinic profile: appointment_types: '
    '{"TYPE": SET-ID}, with the set its patients get (esketamine-nasal, im-depression, iv-depression-40m, '
    "iv-pain-4h, iv-variable)",
    'row 10: language "de" is not a language ketaprep has (examples: en, fr, en+fr)',
    "row 11: duration (text not shown) is not a duration (examples: 8h, 30m, 1h30m, 90m)",
    'row 12: duration 20m is outside set "iv-variable"\'s range (40m to 4h)',
    "row 13: start 23:30 is at night (22:00 to 05:59): did you mean 11:30?",
    "row 14: start 00:15 is at night (22:00 to 05:59): did you mean 12:15?",
    'row 15: set "iv-variable" needs the treatment length for this appointment: give --duration '
    "(from 40m to 4h, e.g. 90m)",
    "row 16: start (text not shown) is not a time (examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)",
    'row 17: start "2026-11-25 09:00" is on another day than date "2026-11-24"',
]


def test_every_bad_row_kind_is_named_by_number_and_the_good_rows_are_written(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("batch", str(DATA / "bad-rows.csv"), "-o", str(out), "--format", "json")
    assert result.code == 1
    assert row_messages(result.err) == BAD_ROWS
    for name in ("Bad Time", "Ada Lovelace", "Spring Forward", "Time In Name", "lots"):
        assert name not in result.err and name not in result.out
    assert balanced(result) == (17, 2, 15)
    manifest = assert_manifest_matches_files(out)
    assert [i["file"] for i in manifest["handouts"]] == ["0900-good-row.json", "1000-also-good.json"]
    assert [f["row"] for f in manifest["failed"]] == list(range(3, 18))
    assert [f"row {f['row']}: {f['error'].splitlines()[0]}" for f in manifest["failed"]] == BAD_ROWS
    night = '  a clinic that treats at night states its hours in its profile, e.g. hours: {earliest: "06:00", latest: "23:30"}'
    assert [f["error"].splitlines()[1] for f in manifest["failed"] if f["row"] in (13, 14)] == [night, night]


def test_a_start_that_does_not_exist_because_of_the_clock_change(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "any-hour.yaml").write_text(
        "extends: iv-variable\nid: any-hour\nversion: '1'\nhours: {earliest: '00:00', latest: '23:59'}\n")
    path = write_list(tmp_path, [["Ada Test", "2026-03-08", "2:30 am"], ["Bob Test", "2026-03-08", "3:30 am"]])
    result = cli("batch", str(path), "-o", str(tmp_path / "out"), "--set", str(tmp_path / "any-hour.yaml"),
                 "--duration", "1h", "--format", "text")
    assert result.code == 1
    assert row_messages(result.err) == [
        "row 2: start 02:30 on 2026-03-08 does not exist in America/Toronto: the clocks spring forward that night; "
        "choose a time outside the change"
    ]
    assert (tmp_path / "out" / "0330-bob-test.txt").exists()


def test_date_order_option_reads_day_first_lists(cli: Any, tmp_path: Path) -> None:
    path = write_list(tmp_path, [["Ada Test", "03/04/2026", "9:00"]])
    result = cli("batch", str(path), "-o", str(tmp_path / "out"), "--format", "json", "--date-order", "dmy")
    assert result.code == 0, result.err
    assert manifest_of(tmp_path / "out")["handouts"][0]["events"][0]["at"].startswith("2026-04-03")


def test_date_option_fills_every_row_and_must_agree_with_a_date_column(cli: Any, tmp_path: Path) -> None:
    path = write_list(tmp_path, [["Ada Test", "9:00"], ["Bob Test", "10:00"]], header=["Name", "Time"])
    result = cli("batch", str(path), "-o", str(tmp_path / "a"), "--format", "json")
    assert result.code == 1
    assert row_messages(result.err) == [
        "row 2: date is empty; fill it in, or give --date YYYY-MM-DD for the whole list",
        "row 3: date is empty; fill it in, or give --date YYYY-MM-DD for the whole list",
    ]
    assert not (tmp_path / "a").exists()  # nothing to write: no folder made
    result = cli("batch", str(path), "-o", str(tmp_path / "b"), "--format", "json", "--date", DAY)
    assert result.code == 0 and balanced(result) == (2, 2, 0)
    dated = write_list(tmp_path, [["Ada Test", "2026-11-25", "9:00"]], name="dated.csv")
    result = cli("batch", str(dated), "-o", str(tmp_path / "c"), "--date", DAY)
    assert row_messages(result.err) == ["row 2: date 2026-11-25 is not the --date given (2026-11-24)"]


def test_duplicate_rows_are_reported_and_both_written(cli: Any, tmp_path: Path) -> None:
    path = write_list(tmp_path, [["Test, Ada", DAY, "9:00"], ["Bob Test", DAY, "9:00"], ["ada test", DAY, "9:00 AM"]])
    out = tmp_path / "out"
    result = cli("batch", str(path), "-o", str(out))
    assert result.code == 0
    assert "note: row 4 is a likely duplicate of row 2 (same patient, same time); both are written" in result.err
    assert "Ada" not in result.err and "ada" not in result.err
    assert sorted(p.name for p in out.glob("09*")) == ["0900-ada-test-2.html", "0900-ada-test.html", "0900-bob-test.html"]


def test_blank_lines_and_trailing_empty_rows_are_not_rows_but_keep_the_numbering(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_text(f"Patient,Date,Start\n\nAda Test,{DAY},9:00\n,,\n\nBob Test,{DAY},25:00\n,,\n\n", encoding="utf-8")
    result = cli("batch", str(path), "-o", str(tmp_path / "out"))
    assert row_messages(result.err) == ['row 6: start "25:00" is not a time (examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)']
    assert balanced(result) == (2, 1, 1)


def test_an_empty_list_writes_nothing_and_says_so(cli: Any, tmp_path: Path) -> None:
    path = write_list(tmp_path, [])
    result = cli("batch", str(path), "-o", str(tmp_path / "out"))
    assert result.code == 0
    assert "note: the list has no appointment rows" in result.err
    assert balanced(result) == (0, 0, 0)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--column", "when=Time"], 'write it as FIELD="Column name"'),
        (["--format", "terminal"], "Invalid value for '--format'"),
        (["--date", "2026-02-30"], '"2026-02-30" is not a day of the calendar'),
        (["--sheet", "1"], "--sheet is for workbooks only"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(cli: Any, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    result = cli("batch", str(DATA / "emr-export.csv"), "-o", str(out), *args)
    assert result.code == 2
    assert message in result.err
    assert not out.exists()


def test_an_unreadable_list_type_exits_2(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "day.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    result = cli("batch", str(path), "-o", str(tmp_path / "out"))
    assert result.code == 2
    assert result.err.splitlines()[-1] == f"error: {path}: not a readable .xls (Excel 97-2003) workbook (CalamineError)"


def test_batch_without_arguments_shows_help_with_examples_first(cli: Any) -> None:
    result = cli("batch")
    assert result.code == 0
    assert result.out.index("Examples:") < result.out.index("--output-dir")
    assert "ketaprep batch today.csv" in result.out


# --- names, paths and privacy ----------------------------------------------------------------

HOSTILE_NAMES = [
    "../../etc/passwd", "..", ".hidden", "/tmp/evil", "C:\\Windows\\system32", "CON", "a/b\\c",
    '<script>alert("x")</script>', "Ada Test\u202e", "李小龍", "Ada Test", "Ada Test", "Ada Test",
]


def test_file_names_are_safe_slugs_inside_the_folder_whatever_the_name(cli: Any, tmp_path: Path) -> None:
    path = write_list(tmp_path, [[name, DAY, "9:00"] for name in HOSTILE_NAMES])
    out = tmp_path / "out"
    result = cli("batch", str(path), "-o", str(out))
    assert result.code == 0, result.err
    files = sorted(p.name for p in out.iterdir())
    handouts = [f for f in files if f not in ("handouts.html", "manifest.json")]
    assert len(handouts) == len(HOSTILE_NAMES) and len(set(handouts)) == len(handouts)
    assert all(SAFE_NAME.match(name) for name in handouts), handouts
    assert {"0900-ada-test.html", "0900-ada-test-2.html", "0900-ada-test-3.html", "0900-ada-test-4.html",
            "0900-etc-passwd.html", "0900-patient.html", "0900-patient-2.html"} <= set(files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.csv", "out"]  # nothing written elsewhere
    combined = (out / "handouts.html").read_text(encoding="utf-8")
    assert "<script>" not in combined and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in combined


def test_files_are_readable_by_the_owner_only(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    assert cli("batch", str(DATA / "emr-export.csv"), "-o", str(out)).code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_default_output_folder_is_named_for_the_lists_date(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("batch", str(DATA / "emr-export.csv"), "--format", "text")
    assert result.code == 0
    assert summary(result.out)["output folder"] == "handouts-2026-11-24"
    assert (tmp_path / "handouts-2026-11-24" / "0800-ada-test.txt").exists()


def test_a_list_over_several_days_puts_the_date_in_each_file_name(cli: Any, tmp_path: Path) -> None:
    path = write_list(tmp_path, [["Ada Test", "2026-11-25", "9:00"], ["Bob Test", DAY, "9:00"]])
    out = tmp_path / "out"
    assert cli("batch", str(path), "-o", str(out), "--format", "ics").code == 0
    assert sorted(p.name for p in out.glob("*.ics")) == ["2026-11-24-0900-bob-test.ics", "2026-11-25-0900-ada-test.ics"]


@pytest.mark.parametrize(("fmt", "suffix"), [("text", "txt"), ("json", "json"), ("ics", "ics")])
def test_formats_without_a_print_file_write_one_file_per_patient(cli: Any, tmp_path: Path, fmt: str, suffix: str) -> None:
    out = tmp_path / "out"
    result = cli("batch", str(DATA / "emr-export.csv"), "-o", str(out), "--format", fmt)
    assert result.code == 0
    assert "print this file" not in result.out
    assert len([p for p in out.glob(f"*.{suffix}") if p.name != "manifest.json"]) == 5
    manifest = assert_manifest_matches_files(out)
    assert manifest["combined"] is None


def test_rerun_replaces_the_files_and_notes_files_not_from_this_list(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("batch", str(DATA / "emr-export.csv"), "-o", str(out)).code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "0700-someone-else.html").write_text("old")
    (out / ".ketaprep-x1y2.part").write_text("left by a killed run")
    result = cli("batch", str(DATA / "emr-export.csv"), "-o", str(out))
    assert result.code == 0
    assert "note: 1 other .html file(s) in" in result.err
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after.pop("0700-someone-else.html") == b"old"  # never deleted
    assert after == before  # deterministic: the same bytes again
    assert not list(out.glob(".ketaprep-*"))


# --- sheets shared between patients at the same time ------------------------------------------


def test_a_set_whose_text_names_the_patient_gets_each_name_in_its_text(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "named.yaml").write_text(
        "extends: iv-pain-4h\nid: named\nversion: '1'\n"
        "contact:\n  en: \"{{ patient }}, call {{ clinic_name }} at {{ clinic_phone }}.\"\n"
        "  fr: \"{{ patient }}, appelez {{ clinic_name }} au {{ clinic_phone }}.\"\n"
    )
    path = write_list(tmp_path, [["Ada Test", DAY, "9:00"], ["Bob Test", DAY, "9:00"]])
    out = tmp_path / "out"
    result = cli("batch", str(path), "-o", str(out), "--set", str(tmp_path / "named.yaml"), "--format", "text")
    assert result.code == 0, result.err
    assert "Ada Test, call" in (out / "0900-ada-test.txt").read_text()
    assert "Bob Test, call" in (out / "0900-bob-test.txt").read_text()


def test_a_clinic_template_that_cannot_be_spliced_still_gives_the_right_print_file(cli: Any, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "handout.html.j2").write_text(
        "<html><body>{% for sheet in sheets %}<p>{{ sheet.handouts[0].patient }}"
        "{% if loop.last %} (last){% endif %}</p>{% endfor %}</body></html>\n"
    )
    (tmp_path / "clinic.yaml").write_text("name: Test Clinic\ntemplates_dir: templates\n")
    out = tmp_path / "out"
    result = cli("batch", str(DATA / "emr-export.csv"), "-o", str(out), "--clinic", str(tmp_path / "clinic.yaml"))
    assert result.code == 0, result.err
    assert (out / "handouts.html").read_text() == (
        "<html><body><p>Ada Test</p><p>Zoë Exemple</p><p>Émile O&#39;Brien-Côté</p><p>Bob J. Sample</p>"
        "<p>Ada Test (last)</p></body></html>\n"
    )
    assert (out / "0800-ada-test.html").read_text() == "<html><body><p>Ada Test (last)</p></body></html>\n"


# --- the day's list: 200 rows with a few bad ones ----------------------------------------------


def day_of_200(tmp_path: Path, bad: dict[int, list[str]]) -> Path:
    """200 appointments as an EMR exports them; `bad` replaces some rows (by spreadsheet row number)."""
    rows = []
    for n in range(200):
        hour, minute = 7 + n % 7, 15 * (n // 7 % 4)
        clock = f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"
        rows.append([DAY, clock, f"Patient{n:03d}, Test", f"HC-{n:04d}", "Dr. Example"])
    for number, row in bad.items():
        rows[number - 2] = row
    return write_list(tmp_path, rows, header=["Date", "Time", "Patient", "Health Card", "Provider"])


def test_200_row_list_with_a_few_bad_rows(cli: Any, tmp_path: Path) -> None:
    bad = {
        17: [DAY, "25:00", "Bad, One", "HC", "Dr"],
        58: ["2026-13-01", "9:00 AM", "Bad, Two", "HC", "Dr"],
        120: [DAY, "9:00 AM", "", "HC", "Dr"],
        199: [DAY, "11:30 PM", "Bad, Four", "HC", "Dr"],
    }
    out = tmp_path / "out"
    result = cli("batch", str(day_of_200(tmp_path, bad)), "-o", str(out))
    assert result.code == 1
    assert [m.split(":")[0] for m in row_messages(result.err)] == ["row 17", "row 58", "row 120", "row 199"]
    assert "Bad" not in result.err
    assert balanced(result) == (200, 196, 4)
    manifest = assert_manifest_matches_files(out)
    assert len(manifest["handouts"]) == 196
    combined = (out / "handouts.html").read_text(encoding="utf-8")
    assert combined.count('<div class="patient">') == 196
    starts = [item["events"][5]["at"] for item in manifest["handouts"]]
    assert starts == sorted(starts)
    order = [combined.index(f">{item['patient']}<") for item in manifest["handouts"]]
    assert order == sorted(order)


def test_on_a_terminal_a_progress_bar_and_a_summary_table(tmp_path: Path) -> None:
    """Through a pseudo-terminal, as a nurse sees it; plain `name: value` lines are for pipes."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 70, 0, 0))  # a narrow window: 70 columns
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1795000000", "COLUMNS": "100", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(  # noqa: S603 (a fixed command line)
        [sys.executable, "-m", "ketaprep", "batch", str(DATA / "emr-export.csv"), "-o", str(tmp_path / "out")],
        stdout=secondary, stderr=secondary, stdin=subprocess.DEVNULL, env=env, cwd=tmp_path,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=60) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    assert "writing handouts" in text and "5/5" in text
    assert re.search(r"rows read\s+5\b", text)
    assert "…" not in text  # the long output path is folded, never cut short
    folded = re.sub(r"\s+", "", text[text.index("print this file") :])
    assert f"printthisfile{tmp_path / 'out' / 'handouts.html'}" in folded
    assert "rows read: " not in text


def test_an_unknown_set_for_the_whole_list_is_one_error_and_nothing_is_written(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("batch", str(DATA / "emr-export.csv"), "-o", str(out), "--set", "iv-nothing")
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith('error: unknown set "iv-nothing"; available sets: ')
    assert not row_messages(result.err)
    assert not out.exists()


# --- patients that must not go missing (audit) -----------------------------------------------


def _bundle(tmp_path: Path, **extra: Any) -> Path:
    data = json.loads((DATA / "bundle.json").read_text(encoding="utf-8"))
    data.update(extra)
    path = tmp_path / "paged.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_one_page_of_a_longer_fhir_search_is_refused_and_nothing_is_written(cli: Any, tmp_path: Path) -> None:
    """A searchset with a "next" link holds only some of the day's patients: never a silent partial list."""
    path = _bundle(tmp_path, type="searchset", link=[{"relation": "next", "url": "https://ehr.example/p2"}])
    result = cli("batch", str(path), "--clinic", str(DATA / "clinic.yaml"), "-o", str(tmp_path / "out"))
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f'error: {path}: this Bundle is one page of a longer search (it has a "next" link); export the whole day in '
        "one file (e.g. a larger _count), or no patient on the other pages gets a handout"
    )
    assert not (tmp_path / "out").exists()


def test_a_fhir_bundle_whose_total_is_more_than_it_holds_is_refused(cli: Any, tmp_path: Path) -> None:
    path = _bundle(tmp_path, type="searchset", total=45)
    result = cli("batch", str(path), "--clinic", str(DATA / "clinic.yaml"), "-o", str(tmp_path / "out"))
    assert result.code == 1
    assert "the Bundle says total 45 but holds 5 appointment(s)" in result.err
    assert not (tmp_path / "out").exists()


def test_apostrophes_in_names_and_notes_never_merge_rows(cli: Any, tmp_path: Path) -> None:
    """Only " quotes a CSV cell: a sniffed ' would join the rows between two apostrophes."""
    path = tmp_path / "apos.csv"
    path.write_text(
        "Date,Time,Patient,Notes\r\n"
        "2026-12-15,9:00,'Neil Roy,'x'\r\n"
        "2026-12-15,9:30,Cy Three,ok\r\n"
        "2026-12-15,9:45,Dee Four,'y'\r\n"
        "2026-12-15,10:00,Eve O'Five,none\r\n"
        "2026-12-15,10:15,'Tiny' Tim,none\r\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli("batch", str(path), "-o", str(out), "--format", "json")
    assert result.code == 0, result.err
    assert balanced(result) == (5, 5, 0)
    manifest = assert_manifest_matches_files(out)
    assert [(i["row"], i["patient"]) for i in manifest["handouts"]] == [
        (2, "'Neil Roy"), (3, "Cy Three"), (4, "Dee Four"), (5, "Eve O'Five"), (6, "'Tiny' Tim"),
    ]


def test_a_semicolon_list_under_a_title_line_is_read(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("Appointments for Tuesday\nDate;Time;Patient\n2026-12-15;9:00;Test, Ada\n", encoding="utf-8")
    result = cli("batch", str(path), "-o", str(tmp_path / "out"), "--format", "json")
    assert result.code == 0, result.err
    assert balanced(result) == (1, 1, 0)


def test_a_name_in_the_wrong_column_never_reaches_the_screen(cli: Any, tmp_path: Path) -> None:
    """A surname in the set column, a weekday-like name in the start column: named by row only."""
    path = write_list(
        tmp_path,
        [["Ada Test", DAY, "9:00", "smith"], ["Bo Sample", DAY, "Sam", "iv-pain-4h"], ["Cy Test", DAY, "9:00", "iv-nope"]],
        header=["Patient", "Date", "Start", "Set"],
    )
    result = cli("batch", str(path), "-o", str(tmp_path / "out"))
    assert result.code == 1
    known = "esketamine-nasal, im-depression, iv-depression-40m, iv-pain-4h, iv-variable"
    assert row_messages(result.err) == [
        f"row 2: unknown set (text not shown); available sets: {known}",
        "row 3: start (text not shown) is not a time (examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)",
        f'row 4: unknown set "iv-nope"; available sets: {known}',
    ]
    assert "smith" not in result.err.lower() and "Sam" not in result.err


def test_a_pdf_batch_fails_a_row_whose_name_the_fonts_cannot_draw_and_writes_the_rest(cli: Any, tmp_path: Path) -> None:
    path = write_list(tmp_path, [["Ada Test", DAY, "9:00"], ["李雷", DAY, "9:30"]])
    out = tmp_path / "out"
    result = cli("batch", str(path), "-o", str(out), "--format", "pdf")
    assert result.code == 1
    assert row_messages(result.err) == [
        "row 3: patient name has 2 character(s) the PDF fonts cannot print; "
        "use --format html for this list, or write the name in Latin letters"
    ]
    assert balanced(result) == (2, 1, 1)
    assert (out / "0900-ada-test.pdf").is_file()


def test_when_every_row_fails_the_summary_names_no_folder(cli: Any, tmp_path: Path) -> None:
    path = write_list(tmp_path, [["Ada Test", DAY, "25:00"]])
    result = cli("batch", str(path), "-o", str(tmp_path / "out"))
    assert result.code == 1
    assert summary(result.out)["output folder"] == "none: nothing was written"
    assert not (tmp_path / "out").exists()


def test_rows_printed_too_late_are_named_on_stderr_never_on_the_sheets(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Printed at 10:00: the 9:00 patient's appointment is under way, the 13:00 one has passed cut-offs."""
    from zoneinfo import ZoneInfo

    import ketaprep.cli

    monkeypatch.setattr(ketaprep.cli, "_now", lambda: dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Toronto")))
    path = write_list(tmp_path, [["Ada Test", DAY, "9:00"], ["Bo Sample", DAY, "13:00"], ["Cy Test", "2026-11-25", "9:00"]])
    result = cli("batch", str(path), "-o", str(tmp_path / "out"), "--format", "json")
    assert result.code == 0, result.err
    notes = [line for line in result.err.splitlines() if line.startswith("note: ") and "row" in line]
    assert notes == [
        "note: the appointment has already started or is over for row 2; check the list's date",
        "note: a cut-off time has already passed for row 3; phone these patients",
    ]
    assert balanced(result) == (3, 3, 0)


def test_a_quoted_last_first_name_after_a_comma_and_space_stays_one_cell(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "spaced.csv"
    path.write_text('start, patient\n9:00, "Doe, Jane"\n10:00, "Roe, Rick"\n', encoding="utf-8")
    out = tmp_path / "out"
    result = cli("batch", str(path), "--date", DAY, "-o", str(out), "--format", "json")
    assert result.code == 0, result.err
    assert [i["patient"] for i in manifest_of(out)["handouts"]] == ["Jane Doe", "Rick Roe"]


def test_a_surname_repeated_in_the_set_column_is_hidden_every_time(cli: Any, tmp_path: Path) -> None:
    path = write_list(tmp_path, [["Ada Test", DAY, "9:00", "smith"], ["Bo Test", DAY, "10:00", "smith"]],
                      header=["Patient", "Date", "Start", "Set"])
    result = cli("batch", str(path), "-o", str(tmp_path / "out"))
    assert result.code == 1
    assert row_messages(result.err)[1] == "row 3: set (text not shown) cannot be used (see above)"
    assert "smith" not in result.err
