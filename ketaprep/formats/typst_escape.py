r"""Escaping for Typst: an interpolated value is always a string literal, never code.

Two forms, one per Typst mode:

- in markup (the body of a template, or inside `[...]`), `typst_escape` makes
  `#"...";` embedded string expressions: `Ada [Test]` -> `#"Ada [Test]";`. The `;`
  ends the expression, so text right after it (`.len()`, `(1)`, `[x]`) stays plain text.
  The Jinja `typst` environment applies it to every `{{ ... }}` (its `finalize`).
- in code (arguments such as `lang:` or `title:`), `typst_str` makes a bare string literal
  `"..."`; templates call it as the `typst_str` filter.

Inside a string literal Typst only interprets `\\`, `\"` and the escapes `\n`, `\t`,
`\u{...}`, so patient text such as `#read("x")`, `[`, `*`, `$`, `<`, `@` prints as itself.
Never interpolate inside raw text (backticks) or math (`$...$`).
"""

from __future__ import annotations

from typing import Any

# Characters that cannot appear in a UTF-8 source file (lone surrogates) or that only
# disturb layout (C0 controls other than tab/newline) are dropped.
_DROP = {code: None for code in range(0x20) if code not in (0x09, 0x0A)} | {0x7F: None}


class TypstCode(str):
    """Typst source already made safe by this module; escaping it again leaves it unchanged."""

    __slots__ = ()


def _literal(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").translate(_DROP)
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def typst_escape(value: Any) -> TypstCode:
    r"""`Ada "A" Test` -> `#"Ada \"A\" Test";`, for markup; `TypstCode` passes through unchanged."""
    if isinstance(value, TypstCode):
        return value
    return TypstCode(f"#{_literal(value)};")


def typst_str(value: Any) -> TypstCode:
    """`fr` -> `"fr"`: a Typst string literal for code mode (`lang: {{ h.lang | typst_str }}`)."""
    return TypstCode(_literal(value))
