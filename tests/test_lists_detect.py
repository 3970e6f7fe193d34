"""Which reader a file gets, and the files that are not lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import rows_of, write_csv

from ketaprep.errors import UsageError


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, r"not a readable .xls \(Excel 97-2003\) workbook"),
        ("list.pdf", b"%PDF-1.7\n", "not a list ketaprep can read"),
        ("list.ods", b"PK\x03\x04rest", r"not a readable .ods \(LibreOffice\) workbook"),
        ("notes.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "not a list ketaprep can read"),
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


def test_sheet_option_on_a_csv_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--sheet is for workbooks only"):
        rows_of(write_csv(tmp_path, "Patient,Start\nAda Test,9:00\n"), sheet="1")
