"""Appointment statuses in each system's words: which rows are skipped (and why), which are printed."""

from __future__ import annotations

import pytest

from ketaprep.lists.status import looks_like_a_status, skip_reason


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        # OpenEMR: a symbol and its text
        ("x Canceled", "cancelled"), ("% Canceled < 24h", "cancelled"), ("? No show", "a no-show"),
        ("- None", None), ("* Reminder done", None), ("+ Chart pulled", None), ("@ Arrived", None),
        ("~ Arrived late", None), ("! Left w/o visit", None),
        # OSCAR: a letter, sometimes with a second one
        ("C", "cancelled"), ("CS", "cancelled"), ("N", "a no-show"), ("NV", "a no-show"), ("t", None), ("T", None),
        ("H", None), ("HS", None), ("P", None), ("E", None), ("B", None), ("TS", None),
        # FHIR
        ("cancelled", "cancelled"), ("noshow", "a no-show"), ("entered-in-error", "entered in error"),
        ("booked", None), ("arrived", None), ("fulfilled", None),
        # words lists use, English and French
        ("Cancelled", "cancelled"), ("CANCELED", "cancelled"), ("No-show", "a no-show"), ("Did not attend", "a no-show"),
        ("DNA", "a no-show"), ("Annulé", "cancelled"), ("annulee", "cancelled"), ("Absent", "a no-show"),
        ("Entered in error", "entered in error"), ("Confirmé", None), ("Confirmed", None), ("", None), (None, None),
        # only a status that says so first: a printed row is the safe side of a doubt
        ("Confirmed (was absent last time)", None), ("Booked, not cancelled", None),
    ],
)
def test_each_systems_statuses_are_read(status: str | None, reason: str | None) -> None:
    assert skip_reason(status) == reason


@pytest.mark.parametrize("value", ["- None", "x Canceled", "T", "HS", "Booked", "Confirmé"])
def test_a_status_cell_is_recognised(value: str) -> None:
    assert looks_like_a_status(value)


@pytest.mark.parametrize("value", ["Ada Test", "Ketamine IV Pain", "2026-11-24", "09:00:00", ""])
def test_other_cells_are_not_statuses(value: str) -> None:
    assert not looks_like_a_status(value)
