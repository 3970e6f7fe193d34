"""Escaping for Typst markup: an interpolated value is always a string literal, never code."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup


def typst_escape(value: Any) -> str:
    """`Ada "A" Test` -> `#"Ada \\"A\\" Test";` (a string literal, ended by `;`).

    Markup from templates themselves (a `Markup` instance, e.g. from `|safe`) is kept.
    """
    if isinstance(value, Markup):
        return str(value)
    text = "" if value is None else str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'#"{escaped}";'
