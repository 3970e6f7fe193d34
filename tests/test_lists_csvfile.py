"""A day list as CSV: dialects, delimiters, quoting and encodings as Excel and EMRs write them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA, rows_of, write_csv

from ketaprep.errors import UsageError
from ketaprep.lists import parse_column_options
from ketaprep.lists.values import clean_name


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


def test_undecodable_text_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(b"Patient,Start\n\x81\x8d\x8f,9:00\n")  # invalid in UTF-8 and undefined in Windows-1252
    with pytest.raises(UsageError, match="neither UTF-8 nor Windows-1252"):
        rows_of(path)
