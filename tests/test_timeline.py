"""The timeline engine: exact instants, real elapsed time across DST, stricter-only rounding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from ketaprep.errors import AppointmentError
from ketaprep.handout import build_handout
from ketaprep.loader import LoadedSet, SetLibrary, load_set
from ketaprep.models import InstructionSet
from ketaprep.timeline import Appointment, Timeline, compute, local_instants

TORONTO = "America/Toronto"
ST_JOHNS = "America/St_Johns"
UTC = dt.UTC


def fixture_set(**changes: Any) -> dict[str, Any]:
    """A valid instruction set as plain data; each test changes what it is about."""
    data: dict[str, Any] = {
        "id": "fx-set",
        "version": "1",
        "languages": ["en"],
        "title": {"en": "Fixture set"},
        "route": "iv",
        "treatment": {"duration": "4h"},
        "arrive_before": "30m",
        "monitoring": "1h",
        "fasting": {"solids": "8h", "clear_liquids": "2h", "medications": "2h"},
        "caffeine": {"stop": "start_of_day"},
        "driver": {"required": True},
        "companion": {"duration": "24h", "from": "treatment_end"},
        "no_driving": {"duration": "24h", "from": "treatment_end"},
        "contact": {"en": "Call {{ clinic_name }} at {{ clinic_phone }}."},
        "sections": {
            "before": [{"en": "Do not eat after {{ last_meal }}."}],
            "emergency": [{"en": "Chest pain"}],
        },
    }
    data.update(changes)
    return data


def load_fixture(tmp_path: Path, **changes: Any) -> LoadedSet:
    path = tmp_path / "fx-set.yaml"
    path.write_text(yaml.safe_dump(fixture_set(**changes), sort_keys=False), encoding="utf-8")
    return load_set(path, SetLibrary([tmp_path]))


def timeline(iset: InstructionSet, day: dt.date, start: dt.time, tz: str = TORONTO, **kw: Any) -> Timeline:
    return compute(iset, Appointment(day, start, tz, **kw))


def iso(tl: Timeline) -> dict[str, str]:
    return {e.key: e.at.isoformat() for e in tl.events}


# --- the worked example of PRODUCT.md --------------------------------------------------------


def test_iv_pain_4h_on_24_november_2026_at_9_gives_the_documented_times() -> None:
    iset = SetLibrary().load("iv-pain-4h").model
    tl = timeline(iset, dt.date(2026, 11, 24), dt.time(9, 0))
    assert iso(tl) == {
        "no_caffeine_from": "2026-11-24T00:00:00-05:00",
        "last_meal": "2026-11-24T01:00:00-05:00",
        "last_clear_liquid": "2026-11-24T07:00:00-05:00",
        "last_medication": "2026-11-24T07:00:00-05:00",
        "arrive": "2026-11-24T08:30:00-05:00",
        "treatment_start": "2026-11-24T09:00:00-05:00",
        "treatment_end": "2026-11-24T13:00:00-05:00",
        "discharge": "2026-11-24T14:00:00-05:00",
        "companion_until": "2026-11-25T13:00:00-05:00",
        "drive_again": "2026-11-25T13:00:00-05:00",
    }
    assert [e.key for e in tl.events][0] == "no_caffeine_from"
    assert tl.treatment_length == dt.timedelta(hours=4)


def test_iv_pain_4h_caffeine_cutoff_at_midnight_prints_as_the_end_of_monday() -> None:
    loaded = SetLibrary().load("iv-pain-4h")
    tl = timeline(loaded.model, dt.date(2026, 11, 24), dt.time(9, 0))
    h = build_handout(loaded, tl, None, "en", 12, dt.date(2026, 11, 17))
    rows = {row.key: row.when for row in h.schedule}
    assert rows["no_caffeine_from"] == "midnight at the end of Monday 23 November"
    assert rows["last_meal"] == "1:00 a.m. (the night of Monday to Tuesday)"
    assert rows["companion_until"] == "1:00 p.m., Wednesday 25 November"
    assert not any("12:00 a.m." in row.when for row in h.schedule)


def test_event_kinds_say_which_way_rounding_may_move(tmp_path: Path) -> None:
    tl = timeline(load_fixture(tmp_path).model, dt.date(2026, 11, 24), dt.time(9, 0))
    kinds = {e.key: e.kind for e in tl.events}
    assert kinds == {
        "no_caffeine_from": "cutoff",
        "last_meal": "cutoff",
        "last_clear_liquid": "cutoff",
        "last_medication": "cutoff",
        "arrive": "cutoff",
        "treatment_start": "info",
        "treatment_end": "info",
        "discharge": "info",
        "companion_until": "restriction",
        "drive_again": "restriction",
    }


def test_a_set_without_fasting_or_caffeine_omits_those_events(tmp_path: Path) -> None:
    loaded = load_fixture(tmp_path, route="im")
    model = loaded.model
    assert model.fasting is not None
    data = fixture_set(route="intranasal")
    del data["caffeine"]
    data["fasting"] = {"solids": "6h", "clear_liquids": "2h"}
    path = tmp_path / "no-extras.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    tl = timeline(load_set(path, SetLibrary([tmp_path])).model, dt.date(2026, 11, 24), dt.time(9, 0))
    assert tl.get("no_caffeine_from") is None
    assert tl.get("last_medication") is None
    assert tl["last_meal"].at.isoformat() == "2026-11-24T03:00:00-05:00"


# --- real elapsed time across daylight-saving changes ----------------------------------------


def test_spring_forward_morning_counts_8_real_hours_back_from_9am(tmp_path: Path) -> None:
    """Sunday 14 March 2027 in Toronto: 09:00 EDT minus 8 real hours is 00:00 EST, not 01:00."""
    tl = timeline(load_fixture(tmp_path).model, dt.date(2027, 3, 14), dt.time(9, 0))
    start, meal = tl["treatment_start"], tl["last_meal"]
    assert start.at.isoformat() == "2027-03-14T09:00:00-04:00"
    assert meal.at.isoformat() == "2027-03-14T00:00:00-05:00"
    assert start.utc - meal.utc == dt.timedelta(hours=8)
    assert tl["last_clear_liquid"].at.isoformat() == "2027-03-14T07:00:00-04:00"


def test_fall_back_morning_counts_8_real_hours_back_from_9am(tmp_path: Path) -> None:
    """Sunday 1 November 2026: 09:00 EST minus 8 real hours is the second 01:00 (EST), not 02:00 wall."""
    tl = timeline(load_fixture(tmp_path).model, dt.date(2026, 11, 1), dt.time(9, 0))
    meal = tl["last_meal"]
    assert meal.at.isoformat() == "2026-11-01T01:00:00-05:00"
    assert meal.at.fold == 1
    assert tl["treatment_start"].utc - meal.utc == dt.timedelta(hours=8)
    assert tl["no_caffeine_from"].at.isoformat() == "2026-11-01T00:00:00-04:00"


def test_restrictions_count_real_hours_across_the_fall_back_night(tmp_path: Path) -> None:
    """Saturday 31 October 2026 13:00 EDT: 24 real hours after 17:00 EDT end is 16:00 EST on Sunday."""
    tl = timeline(load_fixture(tmp_path).model, dt.date(2026, 10, 31), dt.time(13, 0))
    assert tl["treatment_end"].at.isoformat() == "2026-10-31T17:00:00-04:00"
    assert tl["drive_again"].at.isoformat() == "2026-11-01T16:00:00-05:00"
    assert tl["drive_again"].utc - tl["treatment_end"].utc == dt.timedelta(hours=24)


def test_restrictions_count_real_hours_across_the_spring_forward_night(tmp_path: Path) -> None:
    tl = timeline(load_fixture(tmp_path).model, dt.date(2027, 3, 13), dt.time(9, 0))
    assert tl["companion_until"].at.isoformat() == "2027-03-14T14:00:00-04:00"
    assert tl["companion_until"].utc - tl["treatment_end"].utc == dt.timedelta(hours=24)


def test_a_start_in_the_spring_forward_gap_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AppointmentError) as err:
        timeline(load_fixture(tmp_path).model, dt.date(2027, 3, 14), dt.time(2, 30))
    assert err.value.message == (
        "start 02:30 on 2027-03-14 does not exist in America/Toronto: the clocks spring forward "
        "that night; choose a time outside the change"
    )


def test_a_start_in_the_fall_back_fold_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AppointmentError) as err:
        timeline(load_fixture(tmp_path).model, dt.date(2026, 11, 1), dt.time(1, 30))
    assert "start 01:30 on 2026-11-01 happens twice in America/Toronto" in err.value.message


def test_a_start_in_st_johns_gap_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AppointmentError, match="does not exist in America/St_Johns"):
        timeline(load_fixture(tmp_path).model, dt.date(2027, 3, 14), dt.time(2, 15), ST_JOHNS)


def test_local_instants_finds_none_in_a_gap_and_two_in_a_fold() -> None:
    zone = ZoneInfo(TORONTO)
    assert local_instants(dt.date(2027, 3, 14), dt.time(2, 30), zone) == []
    fold = local_instants(dt.date(2026, 11, 1), dt.time(1, 30), zone)
    assert [i.isoformat() for i in fold] == ["2026-11-01T05:30:00+00:00", "2026-11-01T06:30:00+00:00"]
    assert [i.isoformat() for i in local_instants(dt.date(2026, 11, 24), dt.time(9), zone)] == [
        "2026-11-24T14:00:00+00:00"
    ]


def test_a_printed_time_in_the_fold_carries_the_clock_change_note(tmp_path: Path) -> None:
    """A 7h30m fast before 09:00 on 1 November 2026 ends at 01:30, a time the clock shows twice."""
    loaded = load_fixture(tmp_path, fasting={"solids": "7h30m", "clear_liquids": "2h"})
    tl = timeline(loaded.model, dt.date(2026, 11, 1), dt.time(9, 0))
    assert tl["last_meal"].at.isoformat() == "2026-11-01T01:30:00-05:00"
    h = build_handout(loaded, tl, None, "en", 12, dt.date(2026, 11, 1))
    notes = {row.key: row.notes for row in h.schedule}
    assert notes["last_meal"] == ("This time happens twice that night because the clocks go back: this is the second one.",)
    assert notes["treatment_start"] == ()
    assert notes["last_clear_liquid"] == ()


def test_a_restriction_ending_in_the_first_of_two_identical_hours_says_so(tmp_path: Path) -> None:
    loaded = load_fixture(tmp_path, companion={"duration": "5h", "from": "treatment_end"})
    tl = timeline(loaded.model, dt.date(2026, 10, 31), dt.time(16, 30))
    assert tl["companion_until"].at.isoformat() == "2026-11-01T01:30:00-04:00"
    h = build_handout(loaded, tl, None, "en", 12, dt.date(2026, 10, 31))
    row = next(r for r in h.schedule if r.key == "companion_until")
    assert row.when == "1:30 a.m., Sunday 1 November"
    assert row.notes == ("This time happens twice that night because the clocks go back: this is the first one.",)


def test_a_cutoff_before_the_spring_forward_carries_the_change_note(tmp_path: Path) -> None:
    loaded = load_fixture(tmp_path)
    tl = timeline(loaded.model, dt.date(2027, 3, 14), dt.time(9, 0))
    h = build_handout(loaded, tl, None, "en", 12, dt.date(2027, 3, 1))
    row = next(r for r in h.schedule if r.key == "last_meal")
    assert row.when == "midnight at the end of Saturday 13 March"
    assert row.notes == (
        "The clocks spring forward 1 hour at 2:00 a.m. on Sunday 14 March; this time already allows for the change.",
    )


def test_an_ordinary_day_has_no_clock_change_notes(tmp_path: Path) -> None:
    loaded = load_fixture(tmp_path)
    tl = timeline(loaded.model, dt.date(2026, 11, 24), dt.time(9, 0))
    h = build_handout(loaded, tl, None, "en", 12, dt.date(2026, 11, 17))
    assert all(row.notes == () for row in h.schedule)


# --- rounding only ever stricter -------------------------------------------------------------


ODD = {"fasting": {"solids": "8h10m", "clear_liquids": "2h5m"}, "companion": {"duration": "24h20m"}}


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            "15m",
            {
                "last_meal": "2026-11-24T00:45:00-03:30",
                "last_clear_liquid": "2026-11-24T06:45:00-03:30",
                "arrive": "2026-11-24T08:30:00-03:30",
                "treatment_start": "2026-11-24T09:00:00-03:30",
                "companion_until": "2026-11-25T13:30:00-03:30",
                "drive_again": "2026-11-25T13:00:00-03:30",
            },
        ),
        (
            "60m",
            {
                "last_meal": "2026-11-24T00:00:00-03:30",
                "last_clear_liquid": "2026-11-24T06:00:00-03:30",
                "arrive": "2026-11-24T08:00:00-03:30",
                "treatment_start": "2026-11-24T09:00:00-03:30",
                "companion_until": "2026-11-25T14:00:00-03:30",
                "drive_again": "2026-11-25T13:00:00-03:30",
            },
        ),
    ],
)
def test_rounding_in_st_johns_moves_cutoffs_earlier_and_restrictions_later_on_the_local_clock(
    tmp_path: Path, step: str, expected: dict[str, str]
) -> None:
    tl = timeline(load_fixture(tmp_path, rounding=step, **ODD).model, dt.date(2026, 11, 24), dt.time(9, 0), ST_JOHNS)
    assert {k: v for k, v in iso(tl).items() if k in expected} == expected
    assert tl["last_meal"].exact.isoformat() == "2026-11-24T00:50:00-03:30"
    assert tl["companion_until"].exact.isoformat() == "2026-11-25T13:20:00-03:30"
    for event in tl.events:
        if event.kind == "cutoff":
            assert event.at <= event.exact
        if event.kind == "restriction":
            assert event.at >= event.exact


def test_without_rounding_every_time_is_the_exact_rule(tmp_path: Path) -> None:
    tl = timeline(load_fixture(tmp_path, **ODD).model, dt.date(2026, 11, 24), dt.time(9, 0), ST_JOHNS)
    assert all(e.at == e.exact for e in tl.events)
    assert tl["last_meal"].at.isoformat() == "2026-11-24T00:50:00-03:30"


def test_rounding_never_moves_the_treatment_itself(tmp_path: Path) -> None:
    tl = timeline(load_fixture(tmp_path, rounding="60m").model, dt.date(2026, 11, 24), dt.time(9, 40))
    assert tl["treatment_start"].at.isoformat() == "2026-11-24T09:40:00-05:00"
    assert tl["treatment_end"].at.isoformat() == "2026-11-24T13:40:00-05:00"
    assert tl["discharge"].at.isoformat() == "2026-11-24T14:40:00-05:00"
    assert tl["arrive"].at.isoformat() == "2026-11-24T09:00:00-05:00"
    assert tl["drive_again"].at.isoformat() == "2026-11-25T14:00:00-05:00"


def test_rounding_in_the_fall_back_fold_stays_on_the_right_side(tmp_path: Path) -> None:
    """Exact 01:50 EST (the second 01:50): a 60m floor gives the second 01:00, still 50 real minutes earlier."""
    loaded = load_fixture(tmp_path, rounding="60m", fasting={"solids": "7h10m", "clear_liquids": "2h"})
    tl = timeline(loaded.model, dt.date(2026, 11, 1), dt.time(9, 0))
    meal = tl["last_meal"]
    assert meal.exact.isoformat() == "2026-11-01T01:50:00-05:00"
    assert meal.at.isoformat() == "2026-11-01T01:00:00-05:00"
    assert meal.exact - meal.at == dt.timedelta(minutes=50)


# --- wording of times on another day and at midnight ----------------------------------------


def test_a_cutoff_at_exactly_midnight_names_the_day_it_ends(tmp_path: Path) -> None:
    loaded = load_fixture(tmp_path)
    tl = timeline(loaded.model, dt.date(2026, 11, 24), dt.time(8, 0))
    assert tl["last_meal"].at.isoformat() == "2026-11-24T00:00:00-05:00"
    h = build_handout(loaded, tl, None, "en", 12, dt.date(2026, 11, 17))
    row = next(r for r in h.schedule if r.key == "last_meal")
    assert row.when == "midnight at the end of Monday 23 November"
    before = next(s for s in h.sections if s.key == "before")
    assert before.items == ("Do not eat after midnight at the end of Monday 23 November.",)


def test_a_time_on_the_day_before_names_its_day(tmp_path: Path) -> None:
    loaded = load_fixture(tmp_path)
    tl = timeline(loaded.model, dt.date(2026, 11, 24), dt.time(7, 0))
    h = build_handout(loaded, tl, None, "en", 12, dt.date(2026, 11, 17))
    whens = {r.key: r.when for r in h.schedule}
    assert whens["last_meal"] == "11:00 p.m., Monday 23 November"
    assert whens["last_clear_liquid"] == "5:00 a.m. (the night of Monday to Tuesday)"
    assert whens["arrive"] == "6:30 a.m."
    assert whens["drive_again"] == "11:00 a.m., Wednesday 25 November"


# --- appointments that are refused ------------------------------------------------------------


def test_a_start_outside_the_sets_hours_is_refused(tmp_path: Path) -> None:
    from ketaprep.hours import check_start

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
    from ketaprep.hours import check_start

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


def test_a_date_far_outside_the_calendar_is_refused_not_crashed(tmp_path: Path) -> None:
    iset = load_fixture(tmp_path).model
    for day in (dt.date(9999, 12, 31), dt.date(1, 1, 1)):
        with pytest.raises(AppointmentError, match="check the year"):
            timeline(iset, day, dt.time(9, 0))


VARIABLE = {"treatment": {"min_duration": "40m", "max_duration": "4h"}}


def test_a_variable_length_set_uses_the_appointments_duration(tmp_path: Path) -> None:
    iset = load_fixture(tmp_path, **VARIABLE).model
    tl = timeline(iset, dt.date(2026, 11, 24), dt.time(9, 0), duration=dt.timedelta(minutes=90))
    assert tl["treatment_end"].at.isoformat() == "2026-11-24T10:30:00-05:00"
    assert tl["discharge"].at.isoformat() == "2026-11-24T11:30:00-05:00"
    assert tl.treatment_length == dt.timedelta(minutes=90)


def test_a_variable_length_set_without_a_duration_is_refused(tmp_path: Path) -> None:
    iset = load_fixture(tmp_path, **VARIABLE).model
    with pytest.raises(AppointmentError) as err:
        timeline(iset, dt.date(2026, 11, 24), dt.time(9, 0))
    assert err.value.message == (
        'set "fx-set" needs the treatment length for this appointment: give --duration (from 40m to 4h, e.g. 90m)'
    )


@pytest.mark.parametrize("minutes", [30, 39, 241, 600])
def test_a_duration_outside_the_sets_range_is_refused(tmp_path: Path, minutes: int) -> None:
    iset = load_fixture(tmp_path, **VARIABLE).model
    with pytest.raises(AppointmentError, match=r'is outside set "fx-set"\'s range \(40m to 4h\)'):
        timeline(iset, dt.date(2026, 11, 24), dt.time(9, 0), duration=dt.timedelta(minutes=minutes))


def test_a_fixed_length_set_refuses_a_different_duration(tmp_path: Path) -> None:
    iset = load_fixture(tmp_path).model
    with pytest.raises(AppointmentError, match="has a fixed length of 4h"):
        timeline(iset, dt.date(2026, 11, 24), dt.time(9, 0), duration=dt.timedelta(minutes=90))


# --- rules of the set -------------------------------------------------------------------------


def test_no_driving_until_a_next_day_time_takes_the_later_of_both_rules(tmp_path: Path) -> None:
    rule = {"duration": "12h", "from": "discharge", "next_day_at": "08:00"}
    tl = timeline(load_fixture(tmp_path, no_driving=rule).model, dt.date(2026, 11, 24), dt.time(9, 0))
    assert tl["drive_again"].at.isoformat() == "2026-11-25T08:00:00-05:00"
    rule = {"duration": "24h", "from": "discharge", "next_day_at": "08:00"}
    tl = timeline(load_fixture(tmp_path, no_driving=rule).model, dt.date(2026, 11, 24), dt.time(9, 0))
    assert tl["drive_again"].at.isoformat() == "2026-11-25T14:00:00-05:00"


def test_a_next_day_time_skipped_by_the_clocks_moves_to_the_first_real_minute_after(tmp_path: Path) -> None:
    rule = {"duration": "1h", "from": "treatment_end", "next_day_at": "02:30"}
    tl = timeline(load_fixture(tmp_path, no_driving=rule).model, dt.date(2027, 3, 13), dt.time(9, 0))
    assert tl["drive_again"].at.isoformat() == "2027-03-14T03:00:00-04:00"


def test_a_next_day_time_skipped_by_the_clocks_carries_the_change_note(tmp_path: Path) -> None:
    rule = {"duration": "1h", "from": "treatment_end", "next_day_at": "02:30"}
    loaded = load_fixture(tmp_path, no_driving=rule)
    tl = timeline(loaded.model, dt.date(2027, 3, 13), dt.time(9, 0))
    h = build_handout(loaded, tl, None, "en", 12, dt.date(2027, 3, 1))
    row = next(r for r in h.schedule if r.key == "drive_again")
    assert row.when == "3:00 a.m., Sunday 14 March"
    assert row.notes == (
        "The clocks spring forward 1 hour at 2:00 a.m. on Sunday 14 March; this time already allows for the change.",
    )


def test_a_next_day_time_shown_twice_by_the_clocks_takes_the_second(tmp_path: Path) -> None:
    rule = {"duration": "1h", "from": "treatment_end", "next_day_at": "01:30"}
    tl = timeline(load_fixture(tmp_path, no_driving=rule).model, dt.date(2026, 10, 31), dt.time(9, 0))
    assert tl["drive_again"].at.isoformat() == "2026-11-01T01:30:00-05:00"


def test_companion_and_driving_count_from_their_declared_anchor(tmp_path: Path) -> None:
    loaded = load_fixture(
        tmp_path,
        companion={"duration": "12h", "from": "discharge"},
        no_driving={"duration": "24h", "from": "treatment_start"},
    )
    tl = timeline(loaded.model, dt.date(2026, 11, 24), dt.time(9, 0))
    assert tl["companion_until"].at.isoformat() == "2026-11-25T02:00:00-05:00"
    assert tl["drive_again"].at.isoformat() == "2026-11-25T09:00:00-05:00"


def test_caffeine_as_a_duration_counts_back_from_the_start(tmp_path: Path) -> None:
    tl = timeline(load_fixture(tmp_path, caffeine={"stop": "12h"}).model, dt.date(2026, 11, 24), dt.time(9, 0))
    assert tl["no_caffeine_from"].at.isoformat() == "2026-11-23T21:00:00-05:00"


def test_no_caffeine_from_the_start_of_a_day_whose_midnight_is_skipped(tmp_path: Path) -> None:
    """America/Santiago skips 00:00-01:00 on 6 September 2026: the day begins at 01:00."""
    tl = timeline(load_fixture(tmp_path).model, dt.date(2026, 9, 6), dt.time(9, 0), "America/Santiago")
    assert tl["no_caffeine_from"].at.isoformat() == "2026-09-06T01:00:00-03:00"


def test_no_caffeine_is_never_later_than_arrival(tmp_path: Path) -> None:
    """A start at 00:15 has the patient arrive at 23:45 the evening before: no caffeine from then, not midnight."""
    tl = timeline(load_fixture(tmp_path).model, dt.date(2026, 11, 24), dt.time(0, 15))
    assert tl["arrive"].at.isoformat() == "2026-11-23T23:45:00-05:00"
    assert tl["no_caffeine_from"].at.isoformat() == "2026-11-23T23:45:00-05:00"
    tl = timeline(load_fixture(tmp_path, caffeine={"stop": "10m"}).model, dt.date(2026, 11, 24), dt.time(9, 0))
    assert tl["no_caffeine_from"].at == tl["arrive"].at


def test_a_sets_own_events_are_placed_and_rounded_by_their_kind(tmp_path: Path) -> None:
    events = [
        {"key": "pre_med", "label": {"en": "Take the pill"}, "anchor": "treatment_start", "before": "10m", "kind": "cutoff"},
        {"key": "call_us", "label": {"en": "We call you"}, "anchor": "discharge", "after": "25h10m", "kind": "restriction"},
        {"key": "snack", "label": {"en": "Light snack"}, "anchor": "treatment_end", "after": "35m"},
    ]
    tl = timeline(load_fixture(tmp_path, rounding="15m", events=events).model, dt.date(2026, 11, 24), dt.time(9, 0))
    assert tl["pre_med"].at.isoformat() == "2026-11-24T08:45:00-05:00"
    assert tl["pre_med"].exact.isoformat() == "2026-11-24T08:50:00-05:00"
    assert tl["call_us"].at.isoformat() == "2026-11-25T15:15:00-05:00"
    assert tl["snack"].at.isoformat() == "2026-11-24T13:35:00-05:00"
    assert tl["pre_med"].label == {"en": "Take the pill"}
    keys = [e.key for e in tl.events]
    assert keys.index("arrive") < keys.index("pre_med") < keys.index("treatment_start")
    assert keys.index("treatment_end") < keys.index("snack") < keys.index("discharge")


def test_events_are_in_time_order_with_ties_in_the_documented_order(tmp_path: Path) -> None:
    tl = timeline(load_fixture(tmp_path).model, dt.date(2026, 11, 24), dt.time(7, 0))
    assert [e.key for e in tl.events] == [
        "last_meal",
        "no_caffeine_from",
        "last_clear_liquid",
        "last_medication",
        "arrive",
        "treatment_start",
        "treatment_end",
        "discharge",
        "companion_until",
        "drive_again",
    ]
    instants = [e.utc for e in tl.events]
    assert instants == sorted(instants)


def test_the_timeline_is_pure_same_inputs_same_events(tmp_path: Path) -> None:
    iset = load_fixture(tmp_path, rounding="15m", **ODD).model
    a = timeline(iset, dt.date(2027, 3, 14), dt.time(9, 0), ST_JOHNS)
    b = timeline(iset, dt.date(2027, 3, 14), dt.time(9, 0), ST_JOHNS)
    assert a.events == b.events
    assert all(e.at.tzinfo == ZoneInfo(ST_JOHNS) for e in a.events)
