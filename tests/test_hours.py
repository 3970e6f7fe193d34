"""When a treatment may start (ketaprep.hours): declared hours, and without any, no night start."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_timeline import load_fixture, timeline

from ketaprep.errors import AppointmentError
from ketaprep.hours import check_start


def test_a_start_outside_the_sets_hours_is_refused(tmp_path: Path) -> None:
    iset = load_fixture(tmp_path, hours={"earliest": "07:00", "latest": "14:00"}).model
    with pytest.raises(AppointmentError) as err:
        check_start(iset, None, dt.time(14, 30))
    assert err.value.message == 'start 14:30 is outside set "fx-set"\'s hours (treatments start from 07:00 to 14:00)'
    with pytest.raises(AppointmentError):
        check_start(iset, None, dt.time(6, 59))
    check_start(iset, None, dt.time(7, 0))
    check_start(iset, None, dt.time(14, 0))
    assert timeline(iset, dt.date(2026, 11, 24), dt.time(14, 30)).get("arrive") is not None  # the arithmetic knows no hours


def test_with_no_hours_only_a_night_start_is_refused(tmp_path: Path) -> None:
    iset = load_fixture(tmp_path).model
    for minute in range(0, 24 * 60):
        start = dt.time(minute // 60, minute % 60)
        night = start >= dt.time(22) or start < dt.time(6)
        try:
            check_start(iset, None, start)
        except AppointmentError as exc:
            assert night, start
            assert exc.message.startswith(f"start {start:%H:%M} is at night (22:00 to 05:59)")
        else:
            assert not night, start
