"""A day list from an EHR: FHIR R4 Bundles of Appointment resources."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, rows_of

from ketaprep.errors import UsageError


def test_fhir_bundle_gives_start_in_the_clinic_zone_name_set_and_language() -> None:
    rows = rows_of(DATA / "bundle.json")
    assert [(r.label, r.skip is not None, r.problem is not None) for r in rows] == [
        ("entry 1", False, False), ("entry 2", False, False), ("entry 3", True, False),
        ("entry 4", False, True), ("entry 5", False, False),
    ]
    first, second, cancelled, unmapped, fifth = rows
    assert first.values["patient"] == "Ada Test" and first.values["set"] == "iv-pain-4h"
    assert first.values["start"] == dt.datetime(2026, 11, 24, 9, 0)
    assert second.values["start"] == dt.datetime(2026, 11, 24, 10, 30)  # 15:30Z is 10:30 in Toronto
    assert second.values["patient"] == "Zoé Exemple"  # from the included Patient resource
    assert second.values["lang"] == "fr" and second.values["set"] == "iv-depression-40m"
    assert cancelled.skip == "the appointment is cancelled"
    assert unmapped.problem is not None and unmapped.problem.startswith('appointment type "ROUTINE" has no instruction set')
    assert fifth.values["booked"] == dt.timedelta(minutes=90)


@pytest.mark.parametrize(
    ("start", "problem"),
    [
        (None, "the appointment has no start time"),
        ("2026-11-24T09:00:00", "start has no UTC offset"),
        ("tomorrow", "start is not a FHIR instant"),
    ],
)
def test_fhir_appointments_without_a_usable_start_are_bad_rows(tmp_path: Path, start: str | None, problem: str) -> None:
    appointment: dict[str, Any] = {"resourceType": "Appointment", "status": "booked",
                                   "participant": [{"actor": {"reference": "Patient/1", "display": "Ada Test"}}]}
    if start is not None:
        appointment["start"] = start
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": appointment}]}))
    (row,) = rows_of(path)
    assert row.problem is not None and row.problem.startswith(problem)


def test_fhir_that_is_not_a_bundle_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text('{"resourceType": "Patient"}')
    with pytest.raises(UsageError, match='expected a FHIR Bundle of Appointment resources, found resourceType "Patient"'):
        rows_of(path)
    path.write_text('{"resourceType": "Bundle", ')
    with pytest.raises(UsageError, match="not valid JSON"):
        rows_of(path)
