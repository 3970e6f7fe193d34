"""Writes the workbook fixtures in tests/data/batch as the systems that export them do.

    pip install xlwt odfpy openpyxl && python tests/data/make_workbooks.py

- oscar-report.xls: OSCAR's Report by Template "Export to XLS", a legacy BIFF8 workbook (xlwt
  writes the same Excel 97-2003 format as OSCAR's Java exporter), sheet "OSCAR_Report", the
  query's aliases as the header, numeric-looking cells (the duration) stored as numbers and
  the rest as text, names LAST,FIRST in capitals.
- day.xlsx: a day list re-saved by Excel, with real date and time cells (a time cell is a
  fraction of a day), a title row above the header, and a cancelled row.
- day.ods: the same list saved by LibreOffice Calc (office:date-value and office:time-value cells).

The files are committed; the tests read them and never need these writers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

HERE = Path(__file__).parent / "batch"

OSCAR = [
    ["Date", "Appt Time", "Patient", "Duration", "Type", "Reason", "Language", "Status"],
    ["2026-11-24", "08:00:00", "LÉVESQUE,ÉLODIE", 300, "Ketamine IV Pain", 'Series 3 of 6, "booster"', "French", "t"],
    ["2026-11-24", "09:00:00", "MCDONALD,MARY", 60, "Ketamine IV Depression", "Left arm only", "English", "TS"],
    ["2026-11-24", "10:00:00", "O'BRIEN,SEAN", 60, "Ketamine IV Depression", "Follow-up", "ENG", "C"],
    ["2026-11-24", "13:00:00", "Smart II,Nancy", 90, "Ketamine Variable", "", "English", "H"],
    ["2026-11-24", "14:30:00", "TREMBLAY,MARIE-ÈVE", 240, "Ketamine IV Pain", "", "Français", "HS"],
]

DAY = dt.date(2026, 11, 24)
LIST = [
    ["Patient", "Date", "Start", "Type", "Language", "Status"],
    ["Test, Ada", DAY, dt.time(9, 0), "Ketamine IV Pain", "en", "Booked"],
    ["Sample, Bob", DAY, dt.time(10, 0), "Ketamine IV Pain", "en", "Cancelled"],
    ["Exemple, Zoé", DAY, dt.time(14, 30), "Ketamine IV Depression", "fr", ""],
    ["MCDONALD, MARY", DAY, dt.time(13, 15), "Ketamine IV Depression", "EN", "Confirmed"],
]
TITLE = "Appointments for Tuesday 24 November 2026"


def oscar_xls(path: Path) -> None:
    import xlwt  # type: ignore[import-not-found]

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("OSCAR_Report")
    for r, row in enumerate(OSCAR):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(path))


def day_xlsx(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Day"
    sheet.append([TITLE])
    for row in LIST:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=3):
        cells[1].number_format = "yyyy-mm-dd"
        cells[2].number_format = "h:mm AM/PM"
    book.save(path)


def day_ods(path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet  # type: ignore[import-not-found]
    from odf.table import Table, TableCell, TableRow  # type: ignore[import-not-found]
    from odf.text import P  # type: ignore[import-not-found]

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Day")

    def cell(value: object) -> TableCell:
        if isinstance(value, dt.date):
            found = TableCell(valuetype="date", datevalue=value.isoformat())
        elif isinstance(value, dt.time):
            found = TableCell(valuetype="time", timevalue=f"PT{value.hour:02d}H{value.minute:02d}M00S")
        else:
            found = TableCell(valuetype="string")
        found.addElement(P(text=str(value)))
        return found

    for row in [[TITLE], *LIST]:
        line = TableRow()
        for value in row:
            line.addElement(cell(value))
        table.addElement(line)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))


if __name__ == "__main__":
    oscar_xls(HERE / "oscar-report.xls")
    day_xlsx(HERE / "day.xlsx")
    day_ods(HERE / "day.ods")
