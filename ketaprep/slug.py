"""Safe file names for handouts: `0900-ada-test`, never a path taken from the input."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

MAX_NAME = 40
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def ascii_words(text: str) -> str:
    """`Zoë O'Brien-Côté` -> `zoe-o-brien-cote`: ASCII letters and digits joined by hyphens."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("ß", "ss").replace("æ", "ae").replace("Æ", "ae").replace("ø", "o").replace("Ø", "o")
    plain = plain.encode("ascii", "ignore").decode("ascii").lower()
    words = _NOT_ALNUM.sub("-", plain).strip("-")
    return words[:MAX_NAME].rstrip("-")


def slug(start: dt.time, name: str, day: dt.date | None = None) -> str:
    """`0900-ada-test` (or `2026-11-24-0900-ada-test` when a list spans several days).

    Only ASCII letters, digits and hyphens; it starts with a digit, so it is never hidden
    (`.x`), never `..`, never a reserved device name, and never contains a separator.
    """
    words = ascii_words(name) or "patient"
    stem = f"{start.hour:02d}{start.minute:02d}-{words}"
    return f"{day.isoformat()}-{stem}" if day is not None else stem


class UniqueNames:
    """Hands out each stem once: a second `0900-ada-test` becomes `0900-ada-test-2`."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, stem: str) -> str:
        candidate, number = stem, 1
        while candidate in self._taken:
            number += 1
            candidate = f"{stem}-{number}"
        self._taken.add(candidate)
        return candidate
