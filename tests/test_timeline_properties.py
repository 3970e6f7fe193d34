"""Properties of the timeline for every date from 2026 to 2030, in Toronto and St. John's (UTC-3:30).

For every built-in set and fixture sets that round to 15 and 60 minutes:
each cut-off is at or before the exact rule in real elapsed time, each restriction ends at
or after it, the exact rules are the start plus or minus the set's windows in real elapsed
time, every `at` carries the zone's real offset at that instant, events keep their order,
and the JSON `at` strings read back as the same instants.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ketaprep.errors import AppointmentError
from ketaprep.formats.json_format import timeline_object
from ketaprep.loader import LoadedSet, SetLibrary, load_set
from ketaprep.models import InstructionSet
from ketaprep.sheet import make_sheet
from ketaprep.timeline import Appointment, Timeline, compute

UTC = dt.UTC
ZONES = ("America/Toronto", "America/St_Johns")
FIRST, LAST = dt.date(2026, 1, 1), dt.date(2030, 12, 31)
ORDER_CHAIN = ("arrive", "treatment_start", "treatment_end", "discharge")
PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fixture(rounding: str | None, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "fx",
        "version": "1",
        "languages": ["en"],
        "title": {"en": "Fixture"},
        "route": "iv",
        "treatment": {"duration": "4h"},
        "arrive_before": "35m",
        "monitoring": "1h10m",
        "fasting": {"solids": "8h10m", "clear_liquids": "2h5m", "medications": "2h20m"},
        "caffeine": {"stop": "start_of_day"},
        "driver": {"required": True},
        "companion": {"duration": "24h20m", "from": "treatment_end"},
        "no_driving": {"duration": "24h5m", "from": "discharge"},
        "contact": {"en": "Call us."},
        "sections": {"emergency": [{"en": "Chest pain"}]},
        # a clinic's set that treats at any hour: the arithmetic is checked at night and across clock changes too
        "hours": {"earliest": "00:00", "latest": "23:59"},
    }
    if rounding:
        data["rounding"] = rounding
    data.update(changes)
    return data


FIXTURES: dict[str, dict[str, Any]] = {
    "fx-round-15m": _fixture("15m"),
    "fx-round-60m": _fixture("60m", hours={"earliest": "06:00", "latest": "20:00"}),
    "fx-round-15m-anytime": _fixture("15m", caffeine={"stop": "12h"}),
    "fx-round-60m-variable": _fixture(
        "60m",
        treatment={"min_duration": "40m", "max_duration": "4h"},
        no_driving={"duration": "12h", "from": "treatment_end", "next_day_at": "09:00"},
    ),
    "fx-exact-next-day": _fixture(None, no_driving={"duration": "1h", "from": "discharge", "next_day_at": "02:30"}),
}


class Sets(dict[str, LoadedSet]):
    def __repr__(self) -> str:  # keep Hypothesis' failure report readable
        return f"<sets {', '.join(self)}>"


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> Sets:
    """Every built-in set, plus the fixture sets written to a temporary directory."""
    directory: Path = tmp_path_factory.mktemp("sets")
    for name, data in FIXTURES.items():
        (directory / f"{name}.yaml").write_text(yaml.safe_dump({**data, "id": name}, sort_keys=False), encoding="utf-8")
    library = SetLibrary([directory])
    loaded = Sets({name: load_set(directory / f"{name}.yaml", library) for name in FIXTURES})
    builtin = SetLibrary()
    loaded.update({name: builtin.load(name) for name in builtin.files()})
    return loaded


SET_NAMES = sorted(FIXTURES) + sorted(SetLibrary().files())


def _dst_days() -> list[dt.date]:
    """The days the clocks change in both zones from 2026 to 2030, and the days either side."""
    days: set[dt.date] = set()
    for name in ZONES:
        zone = ZoneInfo(name)
        day = FIRST
        while day <= LAST:
            noon = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
            if noon.utcoffset() != (noon - dt.timedelta(days=1)).utcoffset():
                days.update({day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)})
            day += dt.timedelta(days=1)
    return sorted(days)


DST_DAYS = _dst_days()
dates = st.one_of(st.dates(FIRST, LAST), st.sampled_from(DST_DAYS))


def _bounds(iset: InstructionSet) -> tuple[int, int]:
    if iset.hours is None:  # the built-in sets: any start but a night one (ketaprep.hours)
        return 6 * 60, 22 * 60 - 1
    earliest, latest = iset.hours.earliest.time, iset.hours.latest.time
    return earliest.hour * 60 + earliest.minute, latest.hour * 60 + latest.minute


def _duration(iset: InstructionSet, minutes: int | None) -> dt.timedelta | None:
    treatment = iset.treatment
    if treatment.duration is not None:
        return None
    assert treatment.min_duration and treatment.max_duration
    low, high = treatment.min_duration.minutes, treatment.max_duration.minutes
    return dt.timedelta(minutes=low + (minutes or 0) % (high - low + 1))


def _wall_day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(UTC)


def exact_rules(iset: InstructionSet, start: dt.datetime, length: dt.timedelta, day: dt.date, zone: ZoneInfo) -> dict[str, Any]:
    """The rules written out again, independently, as UTC instants (drive_again: its lower bound)."""
    end = start + length
    discharge = end + iset.monitoring.delta
    anchors = {"treatment_start": start, "treatment_end": end, "discharge": discharge}
    rules: dict[str, Any] = {
        "arrive": start - iset.arrive_before.delta,
        "treatment_start": start,
        "treatment_end": end,
        "discharge": discharge,
    }
    if iset.fasting:
        for key, window in (
            ("last_meal", iset.fasting.solids),
            ("last_clear_liquid", iset.fasting.clear_liquids),
            ("last_medication", iset.fasting.medications),
        ):
            if window:
                rules[key] = start - window.delta
    if iset.caffeine:
        stop = iset.caffeine.stop
        cutoff = _wall_day_start(day, zone) if stop == "start_of_day" else start - _parse(stop)
        rules["no_caffeine_from"] = min(cutoff, rules["arrive"])
    if iset.companion:
        rules["companion_until"] = anchors[iset.companion.from_] + iset.companion.duration.delta
    if iset.no_driving and iset.no_driving.duration:
        rules["drive_again"] = anchors[iset.no_driving.from_] + iset.no_driving.duration.delta
    return rules


def _parse(text: str) -> dt.timedelta:
    from ketaprep.parsing import parse_duration

    value = parse_duration(text)
    assert value is not None
    return value


def real_instants(day: dt.date, time: dt.time, zone: ZoneInfo) -> set[dt.datetime]:
    """Written again here, not imported: the UTC instants at which the wall clock reads `time` on `day`."""
    found = set()
    for fold in (0, 1):
        wall = dt.datetime.combine(day, time, tzinfo=zone).replace(fold=fold)
        instant = wall.astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
            found.add(instant)
    return found


def check_timeline(loaded: LoadedSet, appointment: Appointment, with_json: bool = False) -> Timeline | None:
    """Every property of one appointment's timeline; a start that is not a single real instant is refused."""
    iset = loaded.model
    zone = ZoneInfo(appointment.timezone)
    instants = sorted(real_instants(appointment.date, appointment.start, zone))
    if len(instants) != 1:
        with pytest.raises(AppointmentError, match="does not exist|happens twice"):
            compute(iset, appointment)
        return None
    tl = compute(iset, appointment)
    start = instants[0]
    length = tl.treatment_length
    assert length == (appointment.duration or (iset.treatment.duration.delta if iset.treatment.duration else None))
    rules = exact_rules(iset, start, length, appointment.date, zone)
    step = iset.rounding.delta if iset.rounding else None
    events = {e.key: e for e in tl.events}
    assert set(rules) <= set(events)
    for event in tl.events:
        at, exact = event.at.astimezone(UTC), event.exact.astimezone(UTC)
        # the zone's real offset at that instant, and the zone itself
        assert event.at.tzinfo == zone
        assert event.at.utcoffset() == dt.datetime.fromtimestamp(at.timestamp(), zone).utcoffset()
        assert event.exact.utcoffset() == dt.datetime.fromtimestamp(exact.timestamp(), zone).utcoffset()
        if event.key in rules:
            if event.key == "drive_again" and iset.no_driving and iset.no_driving.next_day_at:
                assert exact >= rules[event.key]
            else:
                assert exact == rules[event.key], event.key
        # rounding only ever stricter, by less than one step, onto the local clock's grid
        if event.kind == "cutoff":
            assert at <= exact, event.key
        elif event.kind == "restriction":
            assert at >= exact, event.key
        else:
            assert at == exact, event.key
        if step is None:
            assert at == exact
        else:
            assert abs(at - exact) < step
            if at != exact:
                local = event.at
                minutes = local.hour * 60 + local.minute
                assert local.second == 0 and minutes % int(step.total_seconds() // 60) == 0, local.isoformat()
    # order of the day
    cutoffs = [e.utc for e in tl.events if e.kind == "cutoff"]
    chain = [events[key].utc for key in ORDER_CHAIN]
    assert max(cutoffs) <= chain[0]
    assert chain[0] <= chain[1] < chain[2] <= chain[3]
    for key in ("companion_until", "drive_again"):
        if key in events:
            assert events[key].utc >= chain[3], key
    assert [e.utc for e in tl.events] == sorted(e.utc for e in tl.events)
    if with_json:
        sheet = make_sheet(loaded, appointment, None, "en", None, dt.date(2026, 11, 17))
        payload = json.loads(json.dumps(timeline_object(sheet)))
        assert [item["key"] for item in payload["events"]] == [e.key for e in tl.events]
        for item, event in zip(payload["events"], tl.events, strict=True):
            parsed = dt.datetime.fromisoformat(item["at"])
            # compare in UTC: by PEP 495 a time in a fold never equals one in another tzinfo
            assert parsed.astimezone(UTC) == event.at.astimezone(UTC) and parsed.utcoffset() == event.at.utcoffset()
    return tl


@PROPERTY
@given(data=st.data(), name=st.sampled_from(SET_NAMES), day=dates, tz=st.sampled_from(ZONES))
@example(data=None, name="fx-round-15m", day=dt.date(2027, 3, 14), tz="America/St_Johns")
@example(data=None, name="fx-round-60m-variable", day=dt.date(2026, 11, 1), tz="America/Toronto")
def test_every_timeline_keeps_the_safety_properties(
    sets: dict[str, LoadedSet], data: Any, name: str, day: dt.date, tz: str
) -> None:
    loaded = sets[name]
    low, high = _bounds(loaded.model)
    if data is None:
        minute, extra = low, 0
    else:
        minute = data.draw(st.integers(low, high), label="start minute")
        extra = data.draw(st.integers(0, 10_000), label="duration")
    start = dt.time(minute // 60, minute % 60)
    appointment = Appointment(day, start, tz, "Ada Test", _duration(loaded.model, extra))
    check_timeline(loaded, appointment)


@PROPERTY
@given(name=st.sampled_from(SET_NAMES), day=dates, tz=st.sampled_from(ZONES), minute=st.integers(0, 24 * 60 - 1))
def test_json_at_strings_read_back_as_the_same_instants(
    sets: dict[str, LoadedSet], name: str, day: dt.date, tz: str, minute: int
) -> None:
    loaded = sets[name]
    low, high = _bounds(loaded.model)
    minute = low + minute % (high - low + 1)
    appointment = Appointment(day, dt.time(minute // 60, minute % 60), tz, "Ada Test", _duration(loaded.model, minute))
    check_timeline(loaded, appointment, with_json=True)


@PROPERTY
@given(day=st.sampled_from(DST_DAYS), tz=st.sampled_from(ZONES), minute=st.integers(0, 24 * 60 - 1))
def test_starts_that_the_clocks_skip_or_repeat_are_refused(
    sets: dict[str, LoadedSet], day: dt.date, tz: str, minute: int
) -> None:
    """Every minute of the days around a clock change: refused exactly when it is not one real instant."""
    loaded = sets["fx-round-15m"]
    start = dt.time(minute // 60, minute % 60)
    count = len(real_instants(day, start, ZoneInfo(tz)))
    try:
        compute(loaded.model, Appointment(day, start, tz))
    except AppointmentError:
        assert count != 1
    else:
        assert count == 1


def test_every_date_from_2026_to_2030_in_both_zones(sets: dict[str, LoadedSet]) -> None:
    """Not a sample: all 1,826 days in both zones, each with three of the sets in turn; the start
    turns through the earliest, a 9:00 and the latest the set allows, the variable length through its range."""
    loaded_sets = list(sets.values())
    day = FIRST
    checked: set[str] = set()
    while day <= LAST:
        for zone_index, tz in enumerate(ZONES):
            for turn in range(3):
                index = (day.toordinal() * 3 + turn + zone_index) % len(loaded_sets)
                loaded = loaded_sets[index]
                low, high = _bounds(loaded.model)
                minute = (low, min(max(low, 9 * 60), high), high)[(day.toordinal() + turn) % 3]
                start = dt.time(minute // 60, minute % 60)
                check_timeline(loaded, Appointment(day, start, tz, "", _duration(loaded.model, day.toordinal())))
                checked.add(loaded.model.id)
        day += dt.timedelta(days=1)
    assert checked == {loaded.model.id for loaded in loaded_sets}
