"""The main job from the README works: a handout for iv-pain-4h in the terminal."""

from __future__ import annotations

from typing import Any


def test_render_prints_the_iv_pain_schedule(cli: Any) -> None:
    result = cli("render", "--start", "09:00", "--date", "2026-11-24", "--patient", "Ada Test")
    assert result.code == 0, result.err
    assert "1:00 a.m." in result.out and "Stop eating (this includes" in result.out
    assert "Ada Test" in result.out
