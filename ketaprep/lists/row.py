"""One row of a clinic's day list, as every reader (CSV, spreadsheet, FHIR) hands it on.

A row keeps its raw cell values; `ketaprep.batch` turns them into appointments. Row
numbers are the ones the clinic sees in its spreadsheet: the header is row 1 (when it is
the first line), blank lines are not rows but still count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Field = Literal["patient", "first", "date", "start", "set", "lang", "duration", "status"]
FIELDS: tuple[Field, ...] = ("patient", "first", "date", "start", "set", "lang", "duration", "status")
"""`first` is a given name in a column of its own (the patient column then holds the family
name); `set` is a set id or an appointment type the clinic profile maps to one; `status` is
the appointment's status (a cancelled or no-show row is skipped)."""
MAX_ROWS = 100_000
MAX_CELL = 1000

Kind = Literal["csv", "xlsx", "xls", "ods", "fhir"]
WORKBOOKS: tuple[Kind, ...] = ("xlsx", "xls", "ods")
DateOrder = Literal["dmy", "mdy"]


@dataclass(frozen=True)
class ListRow:
    """One appointment row: its number as the clinic sees it and its raw cell values.

    `problem` is set when the reader itself could not make sense of the row; `skip` when
    it is not an appointment to print (a cancelled one), with the reason; `note` when the
    reader repaired the row (an OpenEMR row whose empty cell was left out) and says so.
    """

    number: int
    values: dict[str, Any]
    where: str = ""
    problem: str | None = None
    skip: str | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        return self.where or f"row {self.number}"
