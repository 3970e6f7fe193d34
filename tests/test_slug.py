"""File names from a patient's name and time: ASCII, lower case, bounded, unique."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("Zoë O'Brien-Côté", "0930-zoe-o-brien-cote"), ("Ærøskøbing Straße", "0930-aeroskobing-strasse"),
        ("../../etc/passwd", "0930-etc-passwd"), ("..", "0930-patient"), ("李小龍", "0930-patient"),
        ("x" * 80, "0930-" + "x" * 40), ("Ada -- Test --", "0930-ada-test"),
    ],
)
def test_slug_is_ascii_lower_case_and_bounded(name: str, stem: str) -> None:
    from ketaprep.slug import slug

    assert slug(dt.time(9, 30), name) == stem
    assert slug(dt.time(9, 30), name, dt.date(2026, 11, 24)) == f"2026-11-24-{stem}"


def test_unique_names_never_hand_out_a_stem_twice() -> None:
    from ketaprep.slug import UniqueNames

    names = UniqueNames()
    claimed = [names.claim(s) for s in ["0900-a", "0900-a", "0900-a-2", "0900-a"]]
    assert claimed == ["0900-a", "0900-a-2", "0900-a-2-2", "0900-a-3"]
