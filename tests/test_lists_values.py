"""A list's cell values: times, dates, durations, names, and what a message may show of a cell."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ketaprep.lists.values import DateProblem, cell_date, cell_duration, cell_time, clean_name, quoted, shown


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
