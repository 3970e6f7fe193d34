"""Parsing of the values people type: clock times, dates and durations."""

from __future__ import annotations

import datetime as dt
import re

TIME_EXAMPLES = "9:00, 09:00, 9am, 9:30 pm, 21:30"
DURATION_EXAMPLES = "8h, 30m, 1h30m, 90m"
MAX_DURATION_MINUTES = 366 * 24 * 60

_TIME_RE = re.compile(
    r"^\s*(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>[ap])\.?\s*m\.?\s*$|"
    r"^\s*(?P<h24>\d{1,2}):(?P<m24>\d{2})\s*$",
    re.IGNORECASE | re.ASCII,
)
_DURATION_RE = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?$", re.ASCII)


def parse_clock_time(text: str) -> dt.time | None:
    """Return the time for `9:00`, `09:00`, `9am`, `9:30 pm`, `21:30`; None otherwise."""
    match = _TIME_RE.match(text)
    if not match:
        return None
    if match.group("h24") is not None:
        hour, minute = int(match.group("h24")), int(match.group("m24"))
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


def format_duration(value: dt.timedelta) -> str:
    """The inverse of parse_duration: 8h, 30m, 1h30m."""
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h{minutes}m"
    return f"{hours}h" if hours else f"{minutes}m"
