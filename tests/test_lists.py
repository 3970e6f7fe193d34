"""Reading day lists: CSV dialects and encodings, XLSX cells, FHIR Bundles, columns, row numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from ketaprep.errors import UsageError
from ketaprep.lists import (
    DateProblem,
    ListRow,
    cell_date,
    cell_duration,
    cell_time,
    clean_name,
    parse_column_options,
    quoted,
    read_list,
    shown,
)

DATA = Path(__file__).parent / "data" / "batch"
TYPES = {"KET-IV-PAIN": "iv-pain-4h", "http://clinic.example/appointment-type|KET-IV-DEP": "iv-depression-40m",
         "KET-IV-VAR": "iv-variable"}


def rows_of(path: Path, columns: dict[str, Any] | None = None, sheet: str | None = None) -> list[ListRow]:
    _kind, _fields, rows = read_list(path, columns or {}, sheet, TYPES)  # type: ignore[arg-type]
    return list(rows)


def write_csv(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- CSV -------------------------------------------------------------------------------------


def test_emr_export_in_windows_1252_is_read_with_title_line_blank_line_and_trailing_empty_row() -> None:
    rows = rows_of(DATA / "emr-export.csv")
    assert [r.number for r in rows] == [3, 4, 5, 7, 8]  # title row 1, header row 2, blank line 6, empty row 9
    assert [clean_name(r.values["patient"]) for r in rows] == [
        "Ada Test", "Zoë Exemple", "Émile O'Brien-Côté", "Bob J. Sample", "Ada Test",
    ]
    assert rows[0].values["start"] == "8:00 AM" and rows[0].values["date"] == "2026-11-24"
    assert "set" not in rows[0].values  # "Reason" is not a set column: the default set applies


def test_utf8_bom_semicolons_and_french_headers_are_read_with_column_mapping() -> None:
    mapping = parse_column_options(["patient=Nom", "start=heure", "set=PROTOCOLE", "lang=Langue",
                                    "date=Date du rendez-vous"])
    rows = rows_of(DATA / "semicolon-bom.csv", mapping)
    assert [r.values["patient"] for r in rows] == ["Ada Test", "Zoé Exemple", "Bob Sample"]
    assert [r.values["lang"] for r in rows] == ["fr", "en+fr", "français"]
    assert rows[1].values["start"] == "9 h 30"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_any_common_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(["Patient", "Date", "Start"]) + "\n" + delimiter.join(["Ada Test", "2026-11-24", "9:00"]) + "\n"
    rows = rows_of(write_csv(tmp_path, text))
    assert rows[0].values == {"patient": "Ada Test", "date": "2026-11-24", "start": "9:00"}


def test_quoted_last_first_names_keep_their_comma_inside_the_field(tmp_path: Path) -> None:
    text = 'Patient,Start\r\n"Test, Ada",9:00\r\n"Sample, Bob",10:00\r\n'
    assert [clean_name(r.values["patient"]) for r in rows_of(write_csv(tmp_path, text))] == ["Ada Test", "Bob Sample"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_encodings_as_excel_writes_them(tmp_path: Path, encoding: str) -> None:
    rows = rows_of(write_csv(tmp_path, "Patient,Start\r\nZoë Côté,9:00\r\n", encoding))
    assert rows[0].values["patient"] == "Zoë Côté"


def test_column_names_match_without_case_spaces_or_punctuation(tmp_path: Path) -> None:
    text = "  PATIENT NAME ,appointment_date,Appointment Time,Protocol,LANGUAGE,Duration\n" \
           "Ada Test,2026-11-24,9:00,iv-variable,fr,90\n"
    values = rows_of(write_csv(tmp_path, text))[0].values
    assert values == {"patient": "Ada Test", "date": "2026-11-24", "start": "9:00", "set": "iv-variable",
                      "lang": "fr", "duration": "90"}


def test_a_mapped_column_and_an_ignored_one(tmp_path: Path) -> None:
    text = "Client,Appt Time,Duration\nAda Test,9:00,300\n"
    mapping = parse_column_options(['patient=Client', 'start=Appt Time', 'duration='])
    assert rows_of(write_csv(tmp_path, text), mapping)[0].values == {"patient": "Ada Test", "start": "9:00"}


def test_two_columns_that_could_be_the_start_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Patient,Start,Time\nAda Test,9:00,8:30\n")
    with pytest.raises(UsageError, match=r'columns "Start" and "Time" could both be the start time; '
                                         r'choose one with --column start="Start"'):
        rows_of(path)


def test_missing_columns_are_named_with_the_headers_found_and_the_fix(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Client,Appt Time\nAda Test,9:00\n")
    with pytest.raises(UsageError) as caught:
        rows_of(path)
    assert caught.value.message == (
        f'{path}: no column for the patient\'s name and the start time; the header row has "Client", "Appt Time"\n'
        '  name the columns with --column patient="..." --column start="...", or call them "Patient" and "Start"'
    )
    assert caught.value.exit_code == 2


def test_a_list_without_a_header_row_is_refused_without_showing_the_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Ada Test,2026-11-24,9:00\n")
    with pytest.raises(UsageError) as caught:
        rows_of(path)
    assert "looks like an appointment, not column names" in caught.value.message
    assert "Ada" not in caught.value.message


def test_a_mapped_column_that_is_not_there_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "Client,Appt Time\nAda Test,9:00\n")
    with pytest.raises(UsageError) as caught:
        rows_of(path, parse_column_options(["patient=Client", "start=Apt Time"]))
    assert caught.value.message == f'{path}: --column start=...: the header row has no such column; it has "Client", "Appt Time"'


@pytest.mark.parametrize("option", ["start", "when=Time", "=Time"])
def test_column_option_must_name_a_known_field(option: str) -> None:
    with pytest.raises(UsageError, match="write it as FIELD=\"Column name\""):
        parse_column_options([option])


def test_rows_with_only_other_columns_filled_are_reported_not_dropped(tmp_path: Path) -> None:
    rows = rows_of(write_csv(tmp_path, "Patient,Start,Notes\nAda Test,9:00,\n,,call back\n"))
    assert [(r.number, r.problem) for r in rows] == [(2, None), (3, "has no patient, date or start time")]


def test_undecodable_text_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(b"Patient,Start\n\x81\x8d\x8f,9:00\n")  # invalid in UTF-8 and undefined in Windows-1252
    with pytest.raises(UsageError, match="neither UTF-8 nor Windows-1252"):
        rows_of(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, r"old Excel \(.xls\) file; save it as .xlsx"),
        ("list.pdf", b"%PDF-1.7\n", "not a list ketaprep can read"),
        ("list.ods", b"PK\x03\x04rest", "only .xlsx workbooks"),
        ("list.bin", b"\0\1\2\3binary", "not a list ketaprep can read"),
    ],
)
def test_files_that_are_not_lists_are_usage_errors(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        rows_of(path)


def test_a_missing_list_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        rows_of(tmp_path / "nothing.csv")


# --- XLSX ------------------------------------------------------------------------------------


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


def test_xlsx_date_and_time_cells_are_understood(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "day.xlsx", [
        ["Patient", "Date", "Start", "Room"],
        ["Test, Ada", dt.date(2026, 11, 24), dt.time(9, 0), "A"],
        [],
        ["Zoë Exemple", dt.date(2026, 11, 24), "10:30 AM", "B"],
        ["Bob Sample", None, dt.datetime(2026, 11, 24, 13, 15), "C"],
    ])
    rows = rows_of(path)
    assert [r.number for r in rows] == [2, 4, 5]  # Excel's own row numbers, the blank row 3 counted
    assert cell_time(rows[0].values["start"]) == (dt.time(9, 0), None)
    assert cell_date(rows[0].values["date"], None) == dt.date(2026, 11, 24)
    assert cell_time(rows[1].values["start"]) == (dt.time(10, 30), None)
    assert cell_time(rows[2].values["start"]) == (dt.time(13, 15), dt.date(2026, 11, 24))


def test_xlsx_sheet_is_chosen_by_name_or_number(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "day.xlsx", [["Patient", "Start"], ["Ada Test", "9:00"]], extra_sheet=True)
    with pytest.raises(UsageError, match='no column for') as found:
        rows_of(path)  # the first sheet is "Notes"
    assert found.value.message.splitlines()[1] == (
        '  the workbook has "Notes", "Appointments": choose the sheet with --sheet, or name the columns with --column'
    )
    assert rows_of(path, sheet="Appointments")[0].values["patient"] == "Ada Test"
    assert rows_of(path, sheet="2")[0].values["patient"] == "Ada Test"
    with pytest.raises(UsageError, match='no sheet "Today"; the workbook has "Notes", "Appointments"'):
        rows_of(path, sheet="Today")


def test_sheet_option_on_a_csv_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--sheet is for .xlsx workbooks only"):
        rows_of(write_csv(tmp_path, "Patient,Start\nAda Test,9:00\n"), sheet="1")


# --- FHIR ------------------------------------------------------------------------------------


def test_fhir_bundle_gives_start_in_the_clinic_zone_name_set_and_language() -> None:
    rows = rows_of(DATA / "bundle.json")
    assert [(r.label, r.skip is not None, r.problem is not None) for r in rows] == [
        ("entry 1", False, False), ("entry 2", False, False), ("entry 3", True, False),
        ("entry 4", False, True), ("entry 5", False, False),
    ]
    first, second, cancelled, unmapped, fifth = rows
    assert first.values["patient"] == "Ada Test" and first.values["set"] == "iv-pain-4h"
    assert first.values["start"] == dt.datetime(2026, 11, 24, 9, 0)
    assert second.values["start"] == dt.datetime(2026, 11, 24, 10, 30)  # 15:30Z is 10:30 in Toronto
    assert second.values["patient"] == "Zoé Exemple"  # from the included Patient resource
    assert second.values["lang"] == "fr" and second.values["set"] == "iv-depression-40m"
    assert cancelled.skip == "the appointment is cancelled"
    assert unmapped.problem is not None and unmapped.problem.startswith('appointment type "ROUTINE" has no instruction set')
    assert fifth.values["booked"] == dt.timedelta(minutes=90)


@pytest.mark.parametrize(
    ("start", "problem"),
    [
        (None, "the appointment has no start time"),
        ("2026-11-24T09:00:00", "start has no UTC offset"),
        ("tomorrow", "start is not a FHIR instant"),
    ],
)
def test_fhir_appointments_without_a_usable_start_are_bad_rows(tmp_path: Path, start: str | None, problem: str) -> None:
    appointment: dict[str, Any] = {"resourceType": "Appointment", "status": "booked",
                                   "participant": [{"actor": {"reference": "Patient/1", "display": "Ada Test"}}]}
    if start is not None:
        appointment["start"] = start
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": appointment}]}))
    (row,) = rows_of(path)
    assert row.problem is not None and row.problem.startswith(problem)


def test_fhir_that_is_not_a_bundle_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text('{"resourceType": "Patient"}')
    with pytest.raises(UsageError, match='expected a FHIR Bundle of Appointment resources, found resourceType "Patient"'):
        rows_of(path)
    path.write_text('{"resourceType": "Bundle", ')
    with pytest.raises(UsageError, match="not valid JSON"):
        rows_of(path)


# --- cell values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00", dt.time(9)), ("09:00", dt.time(9)), ("9am", dt.time(9)), ("9:30 pm", dt.time(21, 30)),
        ("21:30", dt.time(21, 30)), ("9:00:00 AM", dt.time(9)), ("13:15:00", dt.time(13, 15)),
        ("9 h 30", dt.time(9, 30)), ("14h", dt.time(14)), ("12:00 PM", dt.time(12)),
        ("25:00", None), ("9:61", None), ("13pm", None), ("9:00:30", None), ("noon", None), ("0900", None),
    ],
)
def test_start_cells_accept_12_and_24_hour_times(text: str, expected: dt.time | None) -> None:
    assert cell_time(text)[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24", dt.date(2026, 11, 24)), ("2026-11-24 00:00:00", dt.date(2026, 11, 24)),
        ("2026/11/24", dt.date(2026, 11, 24)), ("24 Nov 2026", dt.date(2026, 11, 24)),
        ("Nov 24, 2026", dt.date(2026, 11, 24)), ("Tuesday, November 24, 2026", dt.date(2026, 11, 24)),
        ("24-Nov-2026", dt.date(2026, 11, 24)), ("mardi 24 novembre 2026", dt.date(2026, 11, 24)),
        ("24/11/2026", dt.date(2026, 11, 24)), ("11/24/2026", dt.date(2026, 11, 24)),
        ("04/04/2026", dt.date(2026, 4, 4)),
        ("2026-02-30", None), ("24 Nov", None), ("Ada 24 2026", None), ("11/24/26", None), ("31/31/2026", None),
    ],
)
def test_date_cells(text: str, expected: dt.date | None) -> None:
    assert cell_date(text, None) == expected


def test_day_month_order_is_never_guessed() -> None:
    with pytest.raises(DateProblem):
        cell_date("03/04/2026", None)
    assert cell_date("03/04/2026", "dmy") == dt.date(2026, 4, 3)
    assert cell_date("03/04/2026", "mdy") == dt.date(2026, 3, 4)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("90m", 90), ("1h30m", 90), ("90", 90), (90, 90), ("90 min", 90), ("1:30", 90), ("2 hours", 120),
     (dt.timedelta(minutes=45), 45), (dt.time(1, 30), 90), ("lots", None), (0, None), (1.5, None), (True, None)],
)
def test_duration_cells(value: Any, expected: int | None) -> None:
    result = cell_duration(value)
    assert (None if result is None else int(result.total_seconds() // 60)) == expected


@pytest.mark.parametrize(
    ("raw", "name"),
    [("Test, Ada", "Ada Test"), ("  Ada   Test ", "Ada Test"), ("Test, Ada, Jr.", "Ada Test Jr."),
     ("O'Brien-Côté, Émile", "Émile O'Brien-Côté"), ("Ada\tTest\x00", "Ada Test"), ("Test,", "Test")],
)
def test_names_are_printed_first_name_first(raw: str, name: str) -> None:
    assert clean_name(raw) == name


@pytest.mark.parametrize("value", ["Ada Lovelace", "Test, Ada", "ada", "9:00 with Ada", "x" * 40])
def test_a_cell_that_might_be_a_name_is_never_shown(value: str) -> None:
    assert shown(value) is None
    assert value not in quoted(value)


@pytest.mark.parametrize("value", ["25:00", "9:61 pm", "2026-02-30", "31 Feb 2026", "lundi 30 février 2026", "90 min"])
def test_times_dates_and_lengths_are_shown_as_typed(value: str) -> None:
    assert quoted(value) == f'"{value}"'
