"""Translations of the fixed wording (gettext catalogs) and the locale of each language.

A translator adds a language by adding `ketaprep/locale/<lang>/LC_MESSAGES/ketaprep.po`
and its compiled `.mo`; no code changes.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "ketaprep"
LOCALES = {"en": "en_CA", "fr": "fr_CA"}


def babel_locale(lang: str) -> str:
    """The Babel locale used to format dates and times for a handout language."""
    return LOCALES.get(lang, lang)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for a language; English is the source text."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True)


def available_languages() -> list[str]:
    found = {"en"}
    if LOCALE_DIR.is_dir():
        found.update(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return sorted(found)


def N_(message: str) -> str:
    """Mark a string for translation without translating it yet."""
    return message
