"""What people type: clock times, dates and durations (PRODUCT.md, "Time rules")."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaprep.parsing import (
    DURATION_EXAMPLES,
    TIME_EXAMPLES,
    format_duration,
    parse_clock_time,
    parse_date,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00", dt.time(9, 0)),
        ("09:00", dt.time(9, 0)),
        ("9am", dt.time(9, 0)),
        ("9:30 pm", dt.time(21, 30)),
        ("21:30", dt.time(21, 30)),
        ("9:30pm", dt.time(21, 30)),
        ("9 AM", dt.time(9, 0)),
        ("9 a.m.", dt.time(9, 0)),
        ("12am", dt.time(0, 0)),
        ("12pm", dt.time(12, 0)),
        ("12:15 a.m.", dt.time(0, 15)),
        ("0:00", dt.time(0, 0)),
        ("23:59", dt.time(23, 59)),
        (" 7:05 ", dt.time(7, 5)),
        ("13:30:00", dt.time(13, 30)),
        ("1:30:00 PM", dt.time(13, 30)),
        ("13 h 30", dt.time(13, 30)),
        ("13h30", dt.time(13, 30)),
        ("13 h", dt.time(13, 0)),
        ("8 h 30", dt.time(8, 30)),
        ("8\u00a0h\u00a030", dt.time(8, 30)),  # as French Excel writes it, with no-break spaces
    ],
)
def test_the_documented_time_forms_are_accepted(text: str, expected: dt.time) -> None:
    assert parse_clock_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "25:00",
        "24:00",
        "9",
        "noon",
        "9:60",
        "13pm",
        "0am",
        "21:30 pm",
        "9.30",
        "9:5",
        "",
        "09:00:30",
        "9 h 60",
        "9:00:00:00",
        "\uff19:\uff10\uff10",  # full-width digits: not what a nurse types, and not what is printed
        "\u0669:\u0660\u0660",  # Arabic-Indic digits
    ],
)
def test_anything_else_is_not_a_time(text: str) -> None:
    assert parse_clock_time(text) is None


def test_the_time_examples_are_the_documented_ones() -> None:
    assert TIME_EXAMPLES == "9:00, 09:00, 9am, 9:30 pm, 21:30"
    assert all(parse_clock_time(example.strip()) is not None for example in TIME_EXAMPLES.split(","))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11-24", dt.date(2026, 11, 24)), ("2028-02-29", dt.date(2028, 2, 29)), (" 2026-01-01 ", dt.date(2026, 1, 1))],
)
def test_real_calendar_dates_are_accepted(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026-02-30", "2027-02-29", "2026-13-01", "2026-11-31", "24/11/2026", "2026-1-5", "20261124", "tomorrow", "",
     "\uff12\uff10\uff12\uff16-11-24"],
)
def test_impossible_or_unknown_dates_are_refused(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8h", dt.timedelta(hours=8)),
        ("30m", dt.timedelta(minutes=30)),
        ("1h30m", dt.timedelta(hours=1, minutes=30)),
        ("90m", dt.timedelta(minutes=90)),
        ("2d", dt.timedelta(days=2)),
        ("1d12h", dt.timedelta(days=1, hours=12)),
        ("8H", dt.timedelta(hours=8)),
    ],
)
def test_durations_in_the_short_form_are_accepted(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["8 hours", "8", "h", "", "1.5h", "30m1h", "-8h", "8 h", "eight hours", "99999999999d", "400d", "\uff18h"]
)
def test_other_durations_are_refused(text: str) -> None:
    assert parse_duration(text) is None


def test_the_duration_examples_parse() -> None:
    assert all(parse_duration(example.strip()) is not None for example in DURATION_EXAMPLES.split(","))


@given(st.integers(min_value=1, max_value=366 * 24 * 60))
def test_format_duration_reads_back_as_the_same_length(minutes: int) -> None:
    delta = dt.timedelta(minutes=minutes)
    assert parse_duration(format_duration(delta)) == delta


@given(st.times())
def test_every_24_hour_time_written_hh_mm_reads_back(time: dt.time) -> None:
    assert parse_clock_time(time.strftime("%H:%M")) == time.replace(second=0, microsecond=0)


@given(st.times())
def test_every_12_hour_time_reads_back(time: dt.time) -> None:
    hour = time.hour % 12 or 12
    text = f"{hour}:{time.minute:02d} {'pm' if time.hour >= 12 else 'am'}"
    assert parse_clock_time(text) == time.replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90m", 90), ("1h30m", 90), ("1h30", 90), ("1 h 30", 90), ("90", 90), ("90 min", 90), ("90 minutes", 90),
     ("2 hours", 120), ("4 heures", 240), ("1:30", 90), ("4h", 240), (" 40m ", 40)],
)
def test_a_length_is_read_the_ways_people_write_it(text: str, minutes: int) -> None:
    from ketaprep.parsing import read_duration

    assert read_duration(text) == dt.timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "0", "0m", "1.5h", "an hour", "1:75", "-90", "90 seconds", "h"])
def test_a_length_that_is_not_one_is_refused(text: str) -> None:
    from ketaprep.parsing import read_duration

    assert read_duration(text) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [("en", "en"), ("EN", "en"), ("English", "en"), ("Anglais", "en"), ("ENG", "en"), ("fr", "fr"), ("FR", "fr"),
     ("fr-CA", "fr"), ("fr_CA", "fr"), ("French", "fr"), ("Français", "fr"), ("FRANÇAIS", "fr"), ("francais", "fr"),
     ("FRE", "fr"), ("en+fr", "en+fr"), ("EN+FR", "en+fr"), ("English+French", "en+fr"), ("bilingue", "en+fr")],
)
def test_a_language_is_read_by_code_name_or_cds_code(text: str, code: str) -> None:
    from ketaprep.parsing import parse_language

    assert parse_language(text) == code


@pytest.mark.parametrize("text", ["de", "Deutsch", "", "en+en", "Smith"])
def test_a_language_ketaprep_does_not_have_is_refused_naming_the_ones_it_has(text: str) -> None:
    from ketaprep.parsing import parse_language

    with pytest.raises(ValueError, match=r"is not a language; use one of en, fr"):
        parse_language(text)
