"""How times and dates are written on a handout, in each language, by Babel.

Rules (PRODUCT.md, "Time rules"): a time on another day than the appointment names its
day; a time at exactly midnight is written as the end of the day before, never a bare
"12:00 AM"; noon is worded.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from babel.dates import format_date, format_time

from ketaprep.i18n import babel_locale, translations

Clock = Literal[12, 24]


def default_clock(lang: str) -> Clock:
    """12-hour for English, 24-hour for French (the French-Canadian habit); else the locale's habit."""
    if lang in ("en", "fr"):
        return 24 if lang == "fr" else 12
    from babel import Locale

    pattern = Locale.parse(babel_locale(lang)).time_formats["short"].pattern
    return 24 if "H" in pattern else 12


def _day_pattern(day: dt.date, lang: str) -> str:
    """`d`, or `1er` for the first of the month in French (le 1er novembre)."""
    return "d'er'" if day.day == 1 and babel_locale(lang).startswith("fr") else "d"


def _own_pattern(lang: str) -> bool:
    """English and French use the handout's own order; another language uses its locale's."""
    return babel_locale(lang).split("_")[0] in ("en", "fr")


def day_text(day: dt.date, lang: str) -> str:
    """`Sunday 22 November` / `dimanche 22 novembre`."""
    if not _own_pattern(lang):
        return format_date(day, "full", locale=babel_locale(lang))
    return format_date(day, f"EEEE {_day_pattern(day, lang)} MMMM", locale=babel_locale(lang))


def long_date(day: dt.date, lang: str) -> str:
    """`Tuesday 24 November 2026` / `mardi 24 novembre 2026`."""
    if not _own_pattern(lang):
        return format_date(day, "full", locale=babel_locale(lang))
    return format_date(day, f"EEEE {_day_pattern(day, lang)} MMMM y", locale=babel_locale(lang))


def clock_text(time: dt.time, lang: str, clock: Clock) -> str:
    """`9:00 a.m.`, `21:30`, `9 h 00`; noon is worded."""
    _ = translations(lang).gettext
    locale = babel_locale(lang)
    if lang == "fr" or babel_locale(lang).startswith("fr"):
        # "9 h 00" with non-breaking spaces, so a time never breaks across two lines. Always on
        # the 24-hour clock: French has no a.m./p.m., and "1 h 00 p.m." would read as 1 in the night.
        # "13 h" on the hour, "13 h 30" otherwise (the Office québécois de la langue française's form).
        text = format_time(time, "H'\u00a0h'" if time.minute == 0 else "H'\u00a0h\u00a0'mm", locale=locale)
    else:
        text = format_time(time, "h:mm a" if clock == 12 else "HH:mm", locale=locale)
    if time == dt.time(12, 0):
        return _("{time} (noon)").format(time=text)
    if time == dt.time(0, 0):  # a start at midnight (a cut-off at midnight is worded by when_text)
        return _("{time} (midnight)").format(time=text)
    return text


NIGHT_ENDS = dt.time(6, 0)
"""A cut-off before 06:00 on the appointment day falls in the night before: the sheet names that night."""


def when_text(at: dt.datetime, appointment_day: dt.date, lang: str, clock: Clock, night: bool = False) -> str:
    """A local time as printed in the schedule, naming the day when it is not the appointment's.

    `night` (cut-offs): a time before 06:00 on the appointment day names the night it falls in,
    "1:00 a.m. (the night of Monday to Tuesday)", so that no one reads it as the next night.
    """
    _ = translations(lang).gettext
    local_day, local_time = at.date(), at.time().replace(tzinfo=None)
    if local_time == dt.time(0, 0):
        return _("midnight at the end of {day}").format(day=day_text(local_day - dt.timedelta(days=1), lang))
    text = clock_text(local_time, lang, clock)
    if local_day != appointment_day:
        return _("{time}, {day}").format(time=text, day=day_text(local_day, lang))
    if night and local_time < NIGHT_ENDS:
        before = local_day - dt.timedelta(days=1)
        return _("{time} (the night of {weekday} to {next})").format(
            time=text, weekday=weekday_text(before, lang), next=weekday_text(local_day, lang))
    return text


def weekday_text(day: dt.date, lang: str) -> str:
    """`Monday` / `lundi`."""
    return format_date(day, "EEEE", locale=babel_locale(lang))


_DOUBLE_PERIOD = re.compile(r"(\b[ap]\.m\.)\.")


def single_period(text: str) -> str:
    """"until 9:00 a.m.." reads as a typo: a sentence ending in an abbreviation keeps one period."""
    return _DOUBLE_PERIOD.sub(r"\1", text)


_A_LE = re.compile(r"\b([Jj]usqu[’']|)à le ")


def french_prepositions(text: str) -> str:
    """"jusqu’à le mardi 24 novembre" -> "jusqu’au mardi...", "à le mardi" -> "le mardi" (a date
    named by its day takes "le", never "à le")."""
    return _A_LE.sub(lambda m: f"{m.group(1)}au " if m.group(1) else "le ", text)


def length_text(length: dt.timedelta, lang: str) -> str:
    """`4 hours`, `40 minutes`, `1 hour 30 minutes`, in the handout's language."""
    t = translations(lang)
    minutes = int(length.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(t.ngettext("{n} hour", "{n} hours", hours).format(n=hours))
    if minutes:
        parts.append(t.ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes))
    return " ".join(parts) or t.gettext("0 minutes")
