"""Reading a clinic's day list (CSV, a spreadsheet, or a FHIR Bundle) into numbered rows.

One module per source (`csvfile`, `spreadsheet`, `fhir`), the shared table logic in
`columns`, the cell values in `values`; `read_list` picks the reader by the file's content.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ketaprep.errors import UsageError
from ketaprep.lists.columns import parse_column_options
from ketaprep.lists.csvfile import read_csv
from ketaprep.lists.detect import detect_kind
from ketaprep.lists.row import FIELDS, MAX_ROWS, WORKBOOKS, DateOrder, Field, Kind, ListRow

__all__ = ["FIELDS", "MAX_ROWS", "DateOrder", "Field", "Kind", "ListRow", "parse_column_options", "read_list"]


def read_list(
    path: Path,
    mapping: dict[Field, str | None],
    sheet: str | None = None,
    appointment_types: dict[str, str] | None = None,
    zone: str = "America/Toronto",
) -> tuple[Kind, set[str], Iterator[ListRow]]:
    """The list's kind, the fields it has, and its rows (a stream)."""
    kind = detect_kind(path)
    if sheet is not None and kind not in WORKBOOKS:
        raise UsageError("--sheet is for workbooks only (.xlsx, .xls, .ods)")
    if kind == "fhir":
        from ketaprep.lists.fhir import read_fhir

        fields, rows = read_fhir(path, appointment_types or {}, zone)
        return kind, fields, rows
    if kind == "csv":
        columns, stream = read_csv(path, mapping)
    else:
        from ketaprep.lists.spreadsheet import read_workbook

        columns, stream = read_workbook(path, mapping, sheet, kind)
    return kind, set(columns.index), stream
