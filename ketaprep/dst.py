"""Plain notes about daylight-saving clock changes near a printed time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ketaprep.i18n import translations
from ketaprep.timefmt import Clock, clock_text, day_text, length_text

UTC = dt.UTC


def _offset(instant: dt.datetime, zone: ZoneInfo) -> dt.timedelta:
    return instant.astimezone(zone).utcoffset() or dt.timedelta(0)


def transitions_between(a: dt.datetime, b: dt.datetime, zone: ZoneInfo) -> list[dt.datetime]:
    """UTC instants of clock changes in (a, b], to the minute."""
    low, high = sorted((a.astimezone(UTC), b.astimezone(UTC)))
    found: list[dt.datetime] = []
    step = dt.timedelta(hours=6)
    cursor = low
    while cursor < high:
        nxt = min(cursor + step, high)
        if _offset(cursor, zone) != _offset(nxt, zone):
            lo, hi = cursor, nxt
            while hi - lo > dt.timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if _offset(mid, zone) == _offset(lo, zone):
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(second=0, microsecond=0))
        cursor = nxt
    return found


def is_repeated(at: dt.datetime, zone: ZoneInfo) -> bool:
    """True when the wall-clock time of `at` happens twice (the clocks go back)."""
    local = at.astimezone(zone)
    naive = local.replace(tzinfo=None)
    other = naive.replace(tzinfo=zone, fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset() and other.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def change_note(transition: dt.datetime, zone: ZoneInfo, lang: str, clock: Clock) -> str:
    """`The clocks go back 1 hour at 2:00 a.m. on Sunday 1 November; this time allows for it.`"""
    _ = translations(lang).gettext
    before = _offset(transition - dt.timedelta(minutes=1), zone)
    after = _offset(transition, zone)
    wall = (transition + before).replace(tzinfo=None)
    amount = length_text(abs(after - before), lang)
    text = _("The clocks go back {amount} at {time} on {day}") if after < before else _(
        "The clocks spring forward {amount} at {time} on {day}"
    )
    return (
        text.format(amount=amount, time=clock_text(wall.time(), lang, clock), day=day_text(wall.date(), lang))
        + _("; this time already allows for the change.")
    )


def fold_note(at: dt.datetime, zone: ZoneInfo, lang: str) -> str:
    """Which of the two identical clock readings is meant when the clocks go back."""
    _ = translations(lang).gettext
    local = at.astimezone(zone)
    if local.fold == 0:
        return _("This time happens twice that night because the clocks go back: this is the first one.")
    return _("This time happens twice that night because the clocks go back: this is the second one.")
