"""A day list in a workbook: Excel's .xlsx, legacy .xls (OSCAR's "Export to XLS") and LibreOffice's
.ods, all read with python-calamine (imported only when a workbook is read: never by `render`).

Cells keep their types: a date cell is a date, a time cell a time, a number a number
(OSCAR stores numeric-looking cells such as a duration as numbers); `ketaprep.lists.values`
reads each one. Rows are numbered as the spreadsheet shows them (row 1 is the first row).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ketaprep.errors import UsageError
from ketaprep.lists.columns import HEADER_SEARCH, Columns, find_header, rows_after_header
from ketaprep.lists.row import MAX_ROWS, Field, Kind, ListRow

LABELS: dict[str, str] = {"xlsx": ".xlsx", "xls": ".xls (Excel 97-2003)", "ods": ".ods (LibreOffice)"}


def read_workbook(
    path: Path, mapping: dict[Field, str | None], sheet: str | None, kind: Kind = "xlsx"
) -> tuple[Columns, Iterator[ListRow]]:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    label = LABELS.get(kind, kind)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except Exception as exc:  # calamine's errors for a damaged or password-protected file, or not a workbook at all
        raise UsageError(f"{path}: not a readable {label} workbook ({type(exc).__name__})") from None
    if not names:
        raise UsageError(f"{path}: the workbook has no sheets")
    if sheet is None:
        name = names[0]
    elif sheet in names:
        name = sheet
    elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
        name = names[int(sheet) - 1]
    else:
        listed = ", ".join(f'"{n}"' for n in names)
        raise UsageError(f'{path}: no sheet "{sheet}"; the workbook has {listed}')
    kinds = {meta.name: meta.typ for meta in book.sheets_metadata}
    if kinds.get(name) == SheetTypeEnum.ChartSheet:
        raise UsageError(f"{path}: the sheet is a chart, not a table")
    try:
        ws = book.get_sheet_by_name(name)
        if ws.total_height > MAX_ROWS + HEADER_SEARCH + 1:
            raise UsageError(f"{path}: more than {MAX_ROWS} rows; split the list by day")
        table: list[list[Any]] = ws.to_python(skip_empty_area=False)  # from A1, so row numbers are the sheet's
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(f"{path}: the sheet cannot be read ({type(exc).__name__})") from None

    def records() -> Iterator[tuple[int, list[Any]]]:
        yield from enumerate(table, start=1)

    stream = records()
    try:
        columns = find_header(stream, mapping, str(path))
    except UsageError as exc:
        if len(names) > 1 and sheet is None:  # the table may be on another sheet
            listed = ", ".join(f'"{n}"' for n in names)
            first_line = exc.message.splitlines()[0]
            raise UsageError(f"{first_line} (on the first sheet)\n  the workbook has {listed}: choose the "
                             "sheet with --sheet, or name the columns with --column") from None
        raise
    return columns, rows_after_header(stream, columns, str(path))
