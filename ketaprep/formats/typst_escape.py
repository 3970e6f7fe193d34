r"""Escaping for Typst: an interpolated value is always a string literal, never code.

Two forms, one per Typst mode:

- in markup (the body of a template, or inside `[...]`), `typst_escape` makes
  `#"...";` embedded string expressions: `Ada [Test]` -> `#"Ada [Test]";`. The `;`
  ends the expression, so text right after it (`.len()`, `(1)`, `[x]`) stays plain text.
  The Jinja `typst` environment applies it to every `{{ ... }}` (its `finalize`).
- in code (arguments such as `lang:` or `title:`), `typst_str` makes a bare string literal
  `"..."`; templates call it as the `typst_str` filter.

A clock time never breaks across lines ("9:00 a.m.", "13:30", "9 h 30", "1 h"): in markup,
`typst_escape` puts each one in a `#box(...)` of its own, and the `whole_dates` filter does the
same for a date ("Wednesday 9 December", "mardi 1er décembre") in the schedule's "When" column.
(A Typst `show regex(...)` rule did this before; applied to every piece of text of the document,
it took more than half of the compile time.)

Inside a string literal Typst only interprets `\\`, `\"` and the escapes `\n`, `\t`,
`\u{...}`, so patient text such as `#read("x")`, `[`, `*`, `$`, `<`, `@` prints as itself.
Never interpolate inside raw text (backticks) or math (`$...$`).
"""

from __future__ import annotations

import re
from typing import Any

# Characters that cannot appear in a UTF-8 source file (lone surrogates) or that only
# disturb layout (C0 controls other than tab/newline) are dropped.
_DROP = {code: None for code in range(0x20) if code not in (0x09, 0x0A)} | {0x7F: None}


class TypstCode(str):
    """Typst source already made safe by this module; escaping it again leaves it unchanged."""

    __slots__ = ()


TIME = re.compile(r"\d{1,2}(?::\d{2}(?: ?[ap]\.m\.)?| h(?: \d{2})?(?![^\W\d_]))")
"""A clock time as the handouts write it: "9:00 a.m.", "13:30", "9 h 30", "1 h" (never "1 heure")."""
DATE = re.compile(r"[^\W\d_]{2,} \d{1,2}(?:er)? [^\W\d_]{2,}")
"""A date as the handouts write it: "Wednesday 9 December", "mercredi 1er décembre"."""


def _clean(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").translate(_DROP)
    return text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"


def _literal(value: Any) -> str:
    return _quote(_clean(value))


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def typst_escape(value: Any) -> TypstCode:
    r"""`Ada "A" Test` -> `#"Ada \"A\" Test";`, for markup; `TypstCode` passes through unchanged."""
    if isinstance(value, TypstCode):
        return value
    return _markup(_clean(value), TIME)


def whole_dates(value: Any) -> TypstCode:
    """As `typst_escape`, with each date kept on one line too (the schedule's "When" column)."""
    if isinstance(value, TypstCode):
        return value
    return _markup(_clean(value), TIME, DATE)


def _markup(text: str, *patterns: re.Pattern[str]) -> TypstCode:
    """`Stop at 9:00 a.m.` -> `#"Stop at ";#box("9:00 a.m.");`: each match of `patterns` in a box
    of its own (a box is never broken across lines), the rest as plain string expressions."""
    merged: list[list[int]] = []
    for start, end in sorted((m.start(), m.end()) for pattern in patterns for m in pattern.finditer(text)):
        if merged and start < merged[-1][1]:  # overlapping (a time inside a date): one box for both
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    position = 0
    for start, end in merged:
        if start > position:
            out.append(f"#{_quote(text[position:start])};")
        out.append(f"#box({_quote(text[start:end])});")
        position = end
    if position < len(text) or not out:
        out.append(f"#{_quote(text[position:])};")
    return TypstCode("".join(out))


def typst_str(value: Any) -> TypstCode:
    """`fr` -> `"fr"`: a Typst string literal for code mode (`lang: {{ h.lang | typst_str }}`)."""
    return TypstCode(_literal(value))
