"""A day list in a spreadsheet workbook (.xlsx), read with openpyxl (imported only when one is read)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ketaprep.errors import UsageError
from ketaprep.lists.columns import Columns, find_header, rows_after_header
from ketaprep.lists.row import Field, ListRow


def read_xlsx(path: Path, mapping: dict[Field, str | None], sheet: str | None) -> tuple[Columns, Iterator[ListRow]]:
    import warnings
    import zipfile

    import openpyxl  # type: ignore[import-untyped, unused-ignore]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UsageError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        names = book.sheetnames
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in names:
            ws = book[sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            ws = book.worksheets[int(sheet) - 1]
        else:
            listed = ", ".join(f'"{n}"' for n in names)
            raise UsageError(f'{path}: no sheet "{sheet}"; the workbook has {listed}')
        if not hasattr(ws, "iter_rows"):
            raise UsageError(f"{path}: the sheet is a chart, not a table")
        ws.reset_dimensions()  # some writers record a wrong size; read every row there is

        def records() -> Iterator[tuple[int, list[Any]]]:
            for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                yield number, list(cells)

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
    except BaseException:
        book.close()
        raise

    def rows() -> Iterator[ListRow]:
        try:
            yield from rows_after_header(stream, columns, str(path))
        finally:
            book.close()

    return columns, rows()
