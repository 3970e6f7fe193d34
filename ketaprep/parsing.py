"""The values people type and lists hold: clock times, dates, durations and languages.

One reading of each, shared by the desk (`render`'s options) and the day's lists (their
cells, in `ketaprep.lists.values`), so a value accepted in one place is accepted in the
other: times `9:00`, `9am`, `9:30 pm`, `21:30`, `13:30:00`, `1:30:00 PM`, `13 h 30`,
`13h30`, `13 h`; languages `en`, `English`, `Anglais`, `fr-CA`, `Français`, `FRE`, ...;
durations `90m`, `1h30m`, `1 h 30`, `90 min`, `1:30`, a bare `90` (minutes).
"""

from __future__ import annotations

import datetime as dt
import re

TIME_EXAMPLES = "9:00, 09:00, 9am, 9:30 pm, 21:30"
DURATION_EXAMPLES = "8h, 30m, 1h30m, 90m"
MAX_DURATION_MINUTES = 366 * 24 * 60

_TIME_RE = re.compile(
    r"^\s*(?P<h>\d{1,2})(?::(?P<m>\d{2})(?::00)?)?\s*(?P<ampm>[ap])\.?\s*m\.?\s*$|"
    r"^\s*(?P<h24>\d{1,2}):(?P<m24>\d{2})(?::00)?\s*$|"
    r"^\s*(?P<hfr>\d{1,2})\s*h\s*(?P<mfr>\d{2})?\s*$",  # the French way: 13 h 30, 13h30, 13 h
    re.IGNORECASE | re.ASCII,
)
_DURATION_RE = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?$", re.ASCII)


def parse_clock_time(text: str) -> dt.time | None:
    """Return the time for `9:00`, `09:00`, `9am`, `9:30 pm`, `21:30`, `13:30:00`, `1:30:00 PM`,
    `13 h 30`, `13h30` or `13 h`; None otherwise (seconds only as `:00`: a time with seconds
    is an export's, and a start is never between minutes)."""
    match = _TIME_RE.match(text.replace("\u00a0", " ").replace("\u202f", " "))
    if not match:
        return None
    if match.group("h24") is not None or match.group("hfr") is not None:
        if match.group("h24") is not None:
            hour, minute = int(match.group("h24")), int(match.group("m24"))
        else:
            hour, minute = int(match.group("hfr")), int(match.group("mfr") or 0)
        if hour > 23 or minute > 59:
            return None
        return dt.time(hour, minute)
    hour = int(match.group("h"))
    minute = int(match.group("m") or 0)
    if not 1 <= hour <= 12 or minute > 59:
        return None
    hour = hour % 12 + (12 if match.group("ampm").lower() == "p" else 0)
    return dt.time(hour, minute)


def parse_date(text: str) -> dt.date | None:
    """Return the date for `YYYY-MM-DD` if it is a real calendar date; None otherwise."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip(), re.ASCII):
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_duration(text: str) -> dt.timedelta | None:
    """Return the duration for `8h`, `30m`, `1h30m`, `2d`; None for anything else."""
    match = _DURATION_RE.match(text.strip().lower()) if isinstance(text, str) else None
    if not match or not any(match.groupdict().values()):
        return None
    days, hours, minutes = (int(match.group(k) or 0) for k in ("d", "h", "m"))
    if days * 1440 + hours * 60 + minutes > MAX_DURATION_MINUTES:  # a typo, and it would overflow the calendar
        return None
    return dt.timedelta(days=days, hours=hours, minutes=minutes)


_WORDS = (
    (re.compile(r"(?<=\d)\s*(?:minutes|minute|mins|min|mn)\b"), "m"),
    (re.compile(r"(?<=\d)\s*(?:hours|hour|hrs|hr|heures|heure)\b"), "h"),
)


def read_duration(text: str) -> dt.timedelta | None:
    """A treatment length as people write it: `90m`, `1h30m`, `1h30`, `1 h 30`, `90 min`,
    `2 hours`, `1:30`, or a bare `90` (minutes). None for anything else, and for zero."""
    if not isinstance(text, str):
        return None
    folded = text.strip().lower()
    for pattern, unit in _WORDS:
        folded = pattern.sub(unit, folded)
    folded = re.sub(r"\s+", "", folded)
    if re.fullmatch(r"\d{1,5}", folded, re.ASCII):
        folded += "m"
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})", folded, re.ASCII)
    if clock:
        if int(clock.group(2)) > 59:
            return None
        folded = f"{clock.group(1)}h{clock.group(2)}m"
    elif re.fullmatch(r"\d+h\d{2}", folded, re.ASCII):  # 1h30, 1 h 30: the minutes after the hours
        folded += "m"
    found = parse_duration(folded)
    return found if found else None


LANG_NAMES = {
    "english": "en", "anglais": "en", "eng": "en",
    "french": "fr", "francais": "fr", "fre": "fr", "fra": "fr",
    "bilingual": "en+fr", "bilingue": "en+fr", "en/fr": "en+fr", "en-fr": "en+fr",
}
"""Names and codes lists and people use: CDS exports write ENG and FRE (ISO 639-2)."""


def parse_language(text: str) -> str:
    """`en`, `EN`, `English`, `Anglais`, `fr`, `fr-CA`, `French`, `Français`, `FRE`, `en+fr`, ...
    -> the language codes joined by `+` (`fr`, `en+fr`); ValueError naming what is accepted.
    Any language with a translation catalog is accepted by its code."""
    import unicodedata

    from ketaprep.i18n import parse_lang

    folded = " ".join(unicodedata.normalize("NFKD", str(text)).split()).casefold()
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = LANG_NAMES.get(folded, folded)
    parts = []
    for part in folded.split("+"):
        part = part.strip()
        part = LANG_NAMES.get(part, part)
        parts.append(re.split(r"[-_]", part)[0] if re.fullmatch(r"[a-z]{2,3}([-_][a-z0-9]{2,8})*", part) else part)
    try:
        return "+".join(parse_lang("+".join(parts)))
    except ValueError:
        parse_lang(text)  # the message names the value and the languages there are
        raise


def format_duration(value: dt.timedelta) -> str:
    """The inverse of parse_duration: 8h, 30m, 1h30m."""
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h{minutes}m"
    return f"{hours}h" if hours else f"{minutes}m"
