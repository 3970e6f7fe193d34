"""Columns found by name (any case, spacing, punctuation), --column, the header row and row numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import rows_of, write_csv

from ketaprep.errors import UsageError
from ketaprep.lists import parse_column_options


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
    path = write_csv(tmp_path, "Who,When\nAda Test,9:00\n")
    with pytest.raises(UsageError) as caught:
        rows_of(path)
    assert caught.value.message == (
        f'{path}: no column for the patient\'s name and the start time; the header row has "Who", "When"\n'
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
