"""Each clinic system's export, shaped as that system writes it, through `ketaprep batch` end to end.

Every fixture in tests/data/batch is synthetic. Each test proves: exit 0, the right handouts
(patient printed given name first, set, language), in appointment order in the print file,
cancelled and no-show rows skipped and counted (rows read = written + failed + skipped), and a
note naming the skipped rows by number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA
from markupsafe import escape
from test_batch import assert_manifest_matches_files, balanced

CLINIC = DATA / "clinic-types.yaml"

# fixture -> (extra options, rows read, skipped note, [(row, patient, set, lang, start)] in appointment order)
EXPORTS: dict[str, tuple[list[str], int, str, list[tuple[int, str, str, str, str]]]] = {
    # OpenEMR's appointments report: every field quoted, HH:MM:SS, "Last,First " providers, the category
    # as Type, symbol+text statuses; row 5 left out its empty DOB cell, so its cells shifted left.
    "openemr-appointments.csv": ([], 10 - 1,
        "3 appointment(s) not printed, as the list marks them: row 4 (cancelled), row 6 (a no-show), row 7 (cancelled)",
        [(2, "Ada Test", "iv-pain-4h", "en", "08:00"), (3, "Zoé Exemple", "iv-depression-40m", "en", "09:30"),
         (5, "Cy Placeholder", "iv-depression-40m", "en", "11:00"), (8, "Finn Test", "iv-pain-4h", "en", "14:30"),
         (9, "Gus Test", "iv-depression-40m", "en", "15:00"), (10, "Hal Test", "iv-depression-40m", "en", "16:00")]),
    # OSCAR's Report by Template: the query's aliases (Appt Time), \" and \\ escapes (a comma inside an
    # escaped quote stays in its cell), LAST,FIRST in capitals with accents, Duration the booking slot,
    # status letters with a second letter (TS, HS, CS), languages as words and CDS codes.
    "oscar-report.csv": ([], 7,
        "3 appointment(s) not printed, as the list marks them: row 4 (cancelled), row 5 (a no-show), row 8 (cancelled)",
        [(2, "Élodie Lévesque", "iv-pain-4h", "fr", "08:00"), (3, "Mary McDonald", "iv-depression-40m", "en", "09:00"),
         (6, "Nancy Smart II", "iv-variable", "en", "13:00"), (7, "Marie-Ève Tremblay", "iv-pain-4h", "fr", "14:30")]),
    # OSCAR's "Export to XLS": a legacy .xls, sheet OSCAR_Report, the duration stored as a number.
    "oscar-report.xls": ([], 5,
        "1 appointment(s) not printed, as the list marks them: row 4 (cancelled)",
        [(2, "Élodie Lévesque", "iv-pain-4h", "fr", "08:00"), (3, "Mary McDonald", "iv-depression-40m", "en", "09:00"),
         (5, "Nancy Smart II", "iv-variable", "en", "13:00"), (6, "Marie-Ève Tremblay", "iv-pain-4h", "fr", "14:30")]),
    # A French-Canadian Excel re-save: Windows-1252, CRLF, ";", French headers (Nom, Heure, Protocole,
    # Langue, Durée, Statut), French times (8 h 30, 13 h 30), dates 2026-11-24 and 11/24/2026.
    "excel-fr-cp1252.csv": ([], 5,
        "2 appointment(s) not printed, as the list marks them: row 3 (cancelled), row 5 (a no-show)",
        [(2, "Zoé Côté", "iv-pain-4h", "fr", "08:30"), (4, "Anaïs Bérubé", "iv-depression-40m", "en", "13:30"),
         (6, "Maëlle O'Neil", "iv-depression-40m", "fr", "15:45")]),
    # Excel .xlsx with date and time cells under a title row; LibreOffice .ods with the same cells.
    "day.xlsx": ([], 4, "1 appointment(s) not printed, as the list marks them: row 4 (cancelled)",
        [(3, "Ada Test", "iv-pain-4h", "en", "09:00"), (6, "Mary McDonald", "iv-depression-40m", "en", "13:15"),
         (5, "Zoé Exemple", "iv-depression-40m", "fr", "14:30")]),
    "day.ods": ([], 4, "1 appointment(s) not printed, as the list marks them: row 4 (cancelled)",
        [(3, "Ada Test", "iv-pain-4h", "en", "09:00"), (6, "Mary McDonald", "iv-depression-40m", "en", "13:15"),
         (5, "Zoé Exemple", "iv-depression-40m", "fr", "14:30")]),
    # FHIR as EHRs return it: Z, milliseconds and offsets; relative, absolute, versioned, urn:uuid and
    # contained patient references; names from displays (GAGNON, JEAN; Smart II, Nancy) or the Patient
    # (given/family, text), the preferred language from communication; Practitioner, PractitionerRole
    # and Person participants; a tenant's own code system; a type's text; noshow, entered-in-error and
    # a proposed appointment with no start.
    "fhir-variants.json": ([], 8,
        "3 appointment(s) not printed, as the list marks them: entry 6 (a no-show), entry 7 (entered in error), "
        "entry 8 (proposed and has no start yet)",
        [(1, "Jean Gagnon", "iv-pain-4h", "en", "09:00"), (2, "Zoé Marie Exemple", "iv-depression-40m", "fr", "10:30"),
         (3, "Nancy Smart II", "iv-variable", "en", "11:00"), (4, "Élodie Lévesque", "iv-pain-4h", "fr", "13:00"),
         (5, "Sean O'Brien", "iv-pain-4h", "en", "14:30")]),
    # A bulk export: NDJSON, one resource a line, Patients beside the Appointments.
    "fhir-bulk.ndjson": ([], 3, "1 appointment(s) not printed, as the list marks them: line 3 (cancelled)",
        [(2, "Ada Test", "iv-pain-4h", "en", "09:00"), (5, "Zoé Exemple", "iv-depression-40m", "fr", "14:30")]),
    # OSCAR's headerless "patient list by appointment" (last, first, phone, phone2, start, date, type,
    # provider, location; ' before a value starting with = + - @), read by naming columns by position.
    "oscar-patient-list.csv": (["--column", "patient=1,2", "--column", "start=5", "--column", "date=6",
                                "--column", "set=7"], 3, "",
        [(1, "Ada Test", "iv-pain-4h", "en", "09:00"), (3, "Cy @Home", "iv-depression-40m", "en", "10:15"),
         (2, "Zoé Exemple", "iv-depression-40m", "en", "14:30")]),
}


@pytest.mark.parametrize("name", list(EXPORTS))
def test_each_systems_export_prints_the_right_handouts_in_order_and_counts_the_skipped_rows(
    cli: Any, tmp_path: Path, name: str
) -> None:
    options, rows, skipped_note, expected = EXPORTS[name]
    out = tmp_path / "out"
    result = cli("batch", str(DATA / name), "--clinic", str(CLINIC), "-o", str(out), *options)
    assert result.code == 0, result.err
    skipped = rows - len(expected)
    assert balanced(result) == (rows, len(expected), 0)
    assert result.out.splitlines()[3] == f"rows skipped: {skipped}"
    if skipped_note:
        assert f"note: {skipped_note}\n" in result.err
    else:
        assert "not printed" not in result.err
    manifest = assert_manifest_matches_files(out)
    key = "entry" if name.startswith("fhir") else "row"
    got = [(item[key], item["patient"], item["set"]["id"], item["lang"], item["events"]) for item in manifest["handouts"]]
    assert [g[:4] for g in got] == [e[:4] for e in expected]
    for (_row, _patient, _set, _lang, events), (*_rest, start) in zip(got, expected, strict=True):
        starts = [e["at"] for e in events if e["key"] == "treatment_start"]
        assert starts == [f"2026-11-24T{start}:00-05:00"]
    assert manifest["summary"] == {"rows": rows, "written": len(expected), "failed": 0, "skipped": skipped}
    assert len(manifest["skipped"]) == skipped
    combined = (out / "handouts.html").read_text(encoding="utf-8")
    places = [combined.find(str(escape(patient))) for _row, patient, *_ in expected]
    assert all(p >= 0 for p in places) and places == sorted(places), "the print file is in appointment order"
    for item, (*_row, lang, _start) in zip(manifest["handouts"], expected, strict=True):  # each sheet in its language
        assert f'<html lang="{lang}' in (out / item["file"]).read_text(encoding="utf-8")


def test_oscar_escapes_keep_a_quoted_comma_inside_its_cell(tmp_path: Path) -> None:
    """`"Says \\"call first\\", then \\"come in\\""`: one cell; the backslash read as one."""
    from conftest import rows_of

    rows = rows_of(DATA / "oscar-report.csv")
    assert [r.number for r in rows] == [2, 3, 4, 5, 6, 7, 8]
    assert all(r.problem is None for r in rows)
    assert [r.values["status"] if "status" in r.values else None for r in rows][:1] == [None]  # read, then set aside
    assert rows[0].values["duration"] == "300" and rows[5].values["lang"] == "Français"


def test_openemrs_left_out_cell_is_put_back_and_noted(cli: Any, tmp_path: Path) -> None:
    result = cli("batch", str(DATA / "openemr-appointments.csv"), "--clinic", str(CLINIC), "-o", str(tmp_path / "o"),
                 "--format", "json")
    assert result.code == 0
    assert ("note: row 5: a cell was left out (as OpenEMR writes an empty one); the cells after it were read one "
            "column to the right\n") in result.err


def test_a_slot_shorter_than_treatment_and_watch_is_noted_never_a_failure(cli: Any, tmp_path: Path) -> None:
    result = cli("batch", str(DATA / "oscar-report.csv"), "--clinic", str(CLINIC), "-o", str(tmp_path / "o"),
                 "--format", "json")
    assert result.code == 0
    assert ('note: row 3: the booked slot (1h) is shorter than set "iv-depression-40m"\'s treatment and watch (2h); '
            "the handouts follow the set: check the booking, or the set its appointment type maps to\n") in result.err
    assert 'note: row 7: the booked slot (4h) is shorter than set "iv-pain-4h"\'s treatment and watch (5h)' in result.err
    assert "row 2: the booked slot" not in result.err  # 300 minutes: the 4 h infusion and its hour of watch fit


def test_an_unmapped_type_is_a_bad_row_and_the_hint_names_no_unrelated_set(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_text("Patient,Date,Time,Type\nAda Test,2026-11-24,9:00,Ketamine IV Pain\n"
                    "Bo Test,2026-11-24,10:00,Ketamine booster 2\nCy Test,2026-11-24,11:00,Smith\n", encoding="utf-8")
    result = cli("batch", str(path), "--clinic", str(CLINIC), "-o", str(tmp_path / "o"), "--format", "json")
    assert result.code == 1
    ids = "esketamine-nasal, im-depression, iv-depression-40m, iv-pain-4h, iv-variable"
    assert [line for line in result.err.splitlines() if line.startswith("row ")] == [
        f'row 3: type "Ketamine booster 2" has no instruction set; map it in the clinic profile: appointment_types: '
        f'{{"Ketamine booster 2": SET-ID}}, with the set its patients get ({ids})',
        f'row 4: type (text not shown) has no instruction set; map it in the clinic profile: appointment_types: '
        f'{{"TYPE": SET-ID}}, with the set its patients get ({ids})',
    ]
    assert "Smith" not in result.err
    assert balanced(result) == (3, 1, 2)


def test_a_fhir_start_whose_offset_is_not_the_zones_is_a_bad_row(cli: Any, tmp_path: Path) -> None:
    """An export that stamps the summer offset (-04:00) on a January date: every time would be an hour off."""
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Appointment", "status": "booked", "start": start,
                      "participant": [{"actor": {"reference": f"Patient/{n}", "display": f"Test, Pat{n}"}}]}}
        for n, start in enumerate(["2027-01-12T09:00:00-04:00", "2027-01-12T10:00:00-05:00", "2027-07-12T10:00:00-04:00",
                                   "2027-01-12T15:00:00Z", "2027-01-12T11:00:00.000+00:00"], start=1)]}
    path = tmp_path / "day.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = cli("batch", str(path), "-o", str(tmp_path / "o"), "--format", "json")
    assert result.code == 1
    assert [line for line in result.err.splitlines() if line.startswith("entry ")] == [
        "entry 1: start 2027-01-12T09:00:00-04:00 has the UTC offset -04:00, but America/Toronto is at -05:00 on "
        "2027-01-12; the export's offset is wrong (every time would be off by the difference): correct it in the "
        "EHR's export",
    ]
    assert balanced(result) == (5, 4, 1)


def test_an_ndjson_file_without_appointments_is_refused_saying_what_it_needs(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "Patient.ndjson"
    path.write_text('{"resourceType": "Patient", "id": "p1"}\n{"resourceType": "Patient", "id": "p2"}\n', encoding="utf-8")
    result = cli("batch", str(path), "-o", str(tmp_path / "o"))
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        f"error: {path}: an NDJSON file with no Appointment resources; export the Appointments (one resource a line), "
        "with their Patients if the appointments do not name them")
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"resourceType": "Appointment"}\nnot json\n', encoding="utf-8")
    result = cli("batch", str(bad), "-o", str(tmp_path / "o"))
    assert result.code == 2
    assert result.err.splitlines()[-1].startswith(f"error: {bad}: line 2: not valid JSON (")
    assert result.err.splitlines()[-1].endswith("; NDJSON holds one resource a line")


def test_dates_like_03_04_are_read_in_the_order_the_lists_other_dates_prove(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "week.csv"
    path.write_text("Patient,Date,Time\nAda Test,11/24/2026,9:00\nBo Test,11/03/2026,9:00\n", encoding="utf-8")
    result = cli("batch", str(path), "-o", str(tmp_path / "o"), "--format", "json")
    assert result.code == 0, result.err
    assert ('note: row 3: dates like 03/04/2026 are read as month/day, as the list\'s other dates show '
            '(e.g. "11/24/2026"); give --date-order to say otherwise\n') in result.err
    files = sorted(p.name for p in (tmp_path / "o").glob("*.json") if p.name != "manifest.json")
    assert files == ["2026-11-03-0900-bo-test.json", "2026-11-24-0900-ada-test.json"]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("Patient,Date,Time\nAda Test,11/24/2026,9:00\nBo Test,24/11/2026,9:00\nCy Test,03/04/2026,9:00\n",
                     encoding="utf-8")
    result = cli("batch", str(mixed), "-o", str(tmp_path / "o2"), "--format", "json")
    assert result.code == 1  # the list contradicts itself: nothing is guessed
    assert 'row 4: date "03/04/2026" could be day/month or month/day' in result.err


def test_the_clinics_hours_apply_to_every_row_and_a_night_start_is_refused_without_them(cli: Any, tmp_path: Path) -> None:
    """The same rule as `render`: the profile's hours, else no start from 22:00 to 05:59."""
    path = tmp_path / "day.csv"
    path.write_text("Patient,Date,Time\nAda Test,2026-11-24,7:30\nBo Test,2026-11-24,14:30\nCy Test,2026-11-24,23:00\n",
                    encoding="utf-8")
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text('name: "Test Clinic"\nhours: {earliest: "08:00", latest: "17:00"}\n', encoding="utf-8")
    result = cli("batch", str(path), "--clinic", str(clinic), "-o", str(tmp_path / "o"), "--format", "json")
    assert result.code == 1
    assert [line for line in result.err.splitlines() if line.startswith("row ")] == [
        "row 2: start 07:30 is outside the clinic's hours (treatments start from 08:00 to 17:00)",
        "row 4: start 23:00 is outside the clinic's hours (treatments start from 08:00 to 17:00)",
    ]
    result = cli("batch", str(path), "-o", str(tmp_path / "o2"), "--format", "json")
    assert [line for line in result.err.splitlines() if line.startswith("row ")] == [
        "row 4: start 23:00 is at night (22:00 to 05:59): did you mean 11:00?",
    ]
    assert balanced(result) == (3, 2, 1)
