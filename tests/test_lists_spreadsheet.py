"""A day list in a workbook: cell types, sheets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import make_xlsx, rows_of

from ketaprep.errors import UsageError
from ketaprep.lists.values import cell_date, cell_time


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
