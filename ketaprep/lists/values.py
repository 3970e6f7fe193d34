"""The values in a list's cells: times, dates, durations and names, as spreadsheets and EMRs
store them (text or Excel's own date, time and number cells).

Nothing here ever puts a cell's content in a message unless it is plainly a time, a date
or a code (see `shown`): a name typed into the wrong column never reaches the screen.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ketaprep.lists.row import DateOrder
from ketaprep.parsing import parse_clock_time, parse_date

DATE_EXAMPLES = "2026-11-24, 24 Nov 2026, Nov 24 2026"

MONTHS = {
    **{m: i for i, m in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august", "september",
         "october", "november", "december"), start=1)},
    **{m: i for i, m in enumerate(
        ("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre",
         "octobre", "novembre", "decembre"), start=1)},
    **{m: i for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)},
    **{"sept": 9, "janv": 1, "fev": 2, "fevr": 2, "avr": 4, "juil": 7},
}
WEEKDAYS = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "lun", "mer", "jeu", "ven", "sam", "dim",
}
_SAFE_WORDS = set(MONTHS) | WEEKDAYS | {
    "am", "pm", "a", "p", "m", "h", "t", "min", "mins", "minutes", "hr", "hrs", "hour", "hours",
}


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def shown(value: Any) -> str | None:
    """The cell's text for a message, or None when it might be part of a name.

    Times, dates and durations are shown (`"25:00"`); anything with other words is not,
    so a name typed into the wrong column never reaches the screen or a log.
    """
    text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)
    if len(text) > 32 or not any(c.isdigit() for c in text):  # "Sam", "April May": could be a name
        return None
    words = re.findall(r"[^\W\d_]+", _fold(text))
    if any(word not in _SAFE_WORDS for word in words):
        return None
    return text


TYPE_WORDS = {
    "ketamine", "esketamine", "spravato", "infusion", "perfusion", "injection", "im", "iv", "nasal", "spray",
    "intranasal", "treatment", "traitement", "therapy", "therapie", "session", "seance", "visit", "visite",
    "consult", "consultation", "follow", "followup", "suivi", "assessment", "evaluation", "intake", "initial",
    "new", "booster", "maintenance", "pain", "douleur", "depression", "ptsd", "tspt", "chronic", "chronique",
    "appointment", "rendez", "vous", "rdv", "min", "mins", "minutes", "hour", "hours", "h", "heures", "protocol",
    "protocole", "dose", "first", "premiere", "series", "serie", "course", "cure", "up", "ket", "of", "de", "du",
    "la", "le", "and", "et",
}
"""Words of appointment types: a type text made only of these is shown in a message (a name never is)."""


def type_text(value: Any) -> str:
    """An appointment type's text for a message: quoted when it is plainly a type (clinic vocabulary,
    or words with a digit like `KET-IV-4H`), else `(text not shown)`, since a name typed into the
    type column must never reach the screen."""
    text = " ".join(str(value).split())
    words = re.findall(r"[^\W\d_]+", _fold(text))
    code = re.fullmatch(r"[A-Za-z0-9]+(?:[-_.:|/][A-Za-z0-9]+)+", text) is not None  # KET-IV-PAIN
    plain = any(c.isdigit() for c in text) or (words and all(w in TYPE_WORDS for w in words))
    if 0 < len(text) <= 60 and (plain or (code and any(w in TYPE_WORDS for w in words))):
        return json_quoted(text)
    return "(text not shown)"


def json_quoted(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def quoted(value: Any) -> str:
    text = shown(value)
    return f'"{text}"' if text is not None else "(text not shown)"


def clean_name(raw: Any) -> str:
    """The name as it is printed: given name first (`Test, Ada` -> `Ada Test`, `Smart II, Nancy` ->
    `Nancy Smart II`), titles and suffixes where they belong, an all-capitals name in ordinary
    capitalisation (`LÉVESQUE,ÉLODIE` -> `Élodie Lévesque`, `MCDONALD` -> `McDonald`), any other
    name exactly as written. Whitespace is collapsed and control characters removed.

    The name is read by nameparser (imported here: only a list's names need it)."""
    text = "".join(c if c.isprintable() else " " for c in str(raw))
    text = " ".join(text.split())
    capitals = any(c.isalpha() for c in text) and not any(c.islower() for c in text)
    if "," not in text and not capitals:
        return text
    from nameparser import HumanName

    name = HumanName(text)
    if capitals:
        name.capitalize(force=True)
    return " ".join(str(name).split()) or text.strip(" ,")


_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2})(?::00(?:\.0+)?)?$")


def cell_time(value: Any) -> tuple[dt.time | None, dt.date | None]:
    """A start cell: any time `parse_clock_time` reads (`9:00`, `9am`, `13:30:00`, `1:30:00 PM`,
    `13 h 30`, ...), an Excel time, or a date and time together (`2026-11-24 09:00`, an Excel
    date-time). None if it is not one."""
    if isinstance(value, dt.datetime):
        day = value.date()
        # Excel stores a bare time as a date-time on its epoch day
        return value.time().replace(microsecond=0), (None if day <= dt.date(1900, 1, 1) else day)
    if isinstance(value, dt.time):
        return value.replace(microsecond=0, tzinfo=None), None
    if isinstance(value, dt.timedelta) and dt.timedelta(0) <= value < dt.timedelta(days=1):
        seconds = int(value.total_seconds())
        return dt.time(seconds // 3600, seconds % 3600 // 60), None
    if not isinstance(value, str):
        return None, None
    text = value.strip()
    iso = _ISO_DATETIME.match(text)
    if iso:
        return parse_clock_time(iso.group(2)), parse_date(iso.group(1))
    return parse_clock_time(text), None


class DateProblem(ValueError):
    pass


def cell_date(value: Any, order: DateOrder | None) -> dt.date | None:
    """A date cell: `2026-11-24`, `2026/11/24`, `24 Nov 2026`, `Nov 24, 2026`, `24/11/2026`
    (day and month told apart by a number above 12, or by `order`), an Excel date.

    Raises DateProblem when the day and month cannot be told apart.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ]00:00(?::00)?)?", text):
        return parse_date(text[:10])
    match = re.fullmatch(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})", text)
    if match:
        return _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if match:
        a, b, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if order == "dmy":
            return _date(year, b, a)
        if order == "mdy":
            return _date(year, a, b)
        if a > 12 >= b:
            return _date(year, b, a)
        if b > 12 >= a:
            return _date(year, a, b)
        if a == b:
            return _date(year, a, b)
        raise DateProblem(text)
    tokens = re.findall(r"[^\W\d_]+|\d+", _fold(text))
    words = [t for t in tokens if not t.isdigit() and t not in WEEKDAYS and t not in ("de", "le", "the", "of")]
    numbers = [t for t in tokens if t.isdigit()]
    if len(words) != 1 or words[0] not in MONTHS or len(numbers) != 2:
        return None
    years = [n for n in numbers if len(n) == 4]
    days = [n for n in numbers if len(n) <= 2]
    if len(years) != 1 or len(days) != 1:
        return None
    return _date(int(years[0]), MONTHS[words[0]], int(days[0]))


def slashed_order(value: Any) -> str | None:
    """For a date written `a/b/yyyy`: "mdy" or "dmy" when only that order makes a date
    (11/24/2026, 24/11/2026), "ambiguous" when both do (03/04/2026), None for other dates."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value.strip())
    if not match:
        return None
    a, b = int(match.group(1)), int(match.group(2))
    if a == b or not (1 <= a <= 31 and 1 <= b <= 31):
        return None
    if a > 12 >= b:
        return "dmy"
    if b > 12 >= a:
        return "mdy"
    return "ambiguous" if a <= 12 and b <= 12 else None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def cell_duration(value: Any) -> dt.timedelta | None:
    """A duration cell: any length `read_duration` reads (`90m`, `1h30m`, `1 h 30`, `90`), an Excel
    number of minutes, time or duration."""
    from ketaprep.parsing import read_duration

    if isinstance(value, dt.timedelta):
        return value if value > dt.timedelta(0) else None
    if isinstance(value, dt.time):
        return dt.timedelta(hours=value.hour, minutes=value.minute) or None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return dt.timedelta(minutes=value) if 0 < value <= 24 * 60 and float(value).is_integer() else None
    if not isinstance(value, str):
        return None
    return read_duration(_fold(value))
