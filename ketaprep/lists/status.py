"""An appointment's status as each system writes it: which ones are not printed.

Cancelled, no-show and entered-in-error appointments are skipped (and counted). The
vocabularies: OpenEMR's symbol and text (`x Canceled`, `% Canceled < 24h`, `? No show`;
`- None`, `* Reminder done`, `@ Arrived`, `~ Arrived late`, `! Left w/o visit` are printed),
OSCAR's letter, with a second letter sometimes after it (`C` cancelled, `N` no show; `t`,
`T`, `H`, `P`, `E`, `B` are printed), FHIR's codes (`cancelled`, `noshow`,
`entered-in-error`), and the words English and French lists use (Cancelled, Annulé,
No-show, Absent, ...). Any other status is printed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

CANCELLED = "cancelled"
NO_SHOW = "a no-show"
IN_ERROR = "entered in error"

_OPENEMR = {"x": CANCELLED, "%": CANCELLED, "?": NO_SHOW}
_OPENEMR_SYMBOL = re.compile(r"^([-*+x?@~!%#<>$^&])\s+\S")
_OSCAR = re.compile(r"^[tTHPENCB][A-Za-z]?$")
_WORDS: tuple[tuple[str, str], ...] = (
    ("cancel", CANCELLED), ("annul", CANCELLED),
    ("no show", NO_SHOW), ("noshow", NO_SHOW), ("no-show", NO_SHOW), ("did not attend", NO_SHOW),
    ("absent", NO_SHOW), ("absence", NO_SHOW), ("non presente", NO_SHOW), ("ne s'est pas presente", NO_SHOW),
    ("entered in error", IN_ERROR), ("entered-in-error", IN_ERROR), ("saisi par erreur", IN_ERROR),
    ("erreur", IN_ERROR),
)
KNOWN = ("booked", "confirmed", "arrived", "checked", "pending", "scheduled", "fulfilled", "here", "none",
         "reminder", "chart", "left", "confirme", "arrive", "present", "prevu", "planifie")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def skip_reason(value: Any) -> str | None:
    """Why a row with this status is not printed (`cancelled`, `a no-show`, `entered in error`), or None."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    symbol = _OPENEMR_SYMBOL.match(text)
    if symbol:
        if symbol.group(1) in _OPENEMR:
            return _OPENEMR[symbol.group(1)]
        text = text[2:].strip()
    if _OSCAR.match(text):
        return {"C": CANCELLED, "N": NO_SHOW}.get(text[0])
    folded = _fold(text)
    if folded == "dna":
        return NO_SHOW
    for word, reason in _WORDS:
        if folded.startswith(word) or f" {word}" in f" {folded}":
            return reason
    return None


def looks_like_a_status(value: Any) -> bool:
    """A cell that is plainly a status (for telling where a shifted OpenEMR row's cells belong)."""
    text = " ".join(str(value).split()) if value is not None else ""
    if not text:
        return False
    if _OPENEMR_SYMBOL.match(text) or _OSCAR.match(text) or skip_reason(text):
        return True
    folded = _fold(text)
    return any(folded.startswith(word) for word in KNOWN)
