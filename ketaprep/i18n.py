"""Translations of the fixed wording (gettext catalogs) and the locale of each language.

English is the source text. Every other language is a gettext catalog:
`ketaprep/locale/<lang>/LC_MESSAGES/ketaprep.po` and its compiled `.mo`. The catalog's
`Language:` header (e.g. `fr_CA`) is the Babel locale its dates and times are written in.

A translator adds a language with files only (see babel.cfg for the commands):

    pybabel extract -F babel.cfg -k N_ -o ketaprep/locale/ketaprep.pot --no-location --sort-output --project ketaprep .
    pybabel init -i ketaprep/locale/ketaprep.pot -d ketaprep/locale -D ketaprep -l es_MX   # then rename es_MX -> es
    pybabel compile -d ketaprep/locale -D ketaprep

then writes the language's text into the instruction sets (`languages: [en, es]`).
`ketaprep check` reports what is missing; `--lang es` works once the catalog exists.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "ketaprep"
SOURCE_LANGUAGE = "en"
LOCALES = {"en": "en_CA", "fr": "fr_CA"}
"""Babel locales for languages whose catalog does not name one (Canadian English and French)."""


def catalog_path(lang: str, suffix: str = ".mo") -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def has_catalog(lang: str) -> bool:
    """English needs none; any other language needs its compiled catalog."""
    if lang == SOURCE_LANGUAGE:
        return True
    if len(lang) > 35 or "/" in lang or "\\" in lang or lang.startswith("."):  # never a language tag: no file looked up
        return False
    try:
        return catalog_path(lang).is_file()
    except OSError:
        return False


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for a language; English is the source text (no catalog)."""
    if lang == SOURCE_LANGUAGE or not has_catalog(lang):
        return gettext.NullTranslations()
    with catalog_path(lang).open("rb") as handle:
        return gettext.GNUTranslations(handle)


def babel_locale(lang: str) -> str:
    """The Babel locale used to format dates and times for a handout language."""
    if lang in LOCALES:
        return LOCALES[lang]
    declared = translations(lang).info().get("language", "").replace("-", "_")
    return declared or lang


def available_languages() -> list[str]:
    """English and every language with a compiled catalog."""
    found = {SOURCE_LANGUAGE}
    if LOCALE_DIR.is_dir():
        found.update(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return sorted(found)


def parse_lang(value: str) -> list[str]:
    """`en`, `fr` or `en+fr` -> the languages; ValueError naming what is accepted."""
    parts = [part.strip() for part in value.split("+")]
    known = available_languages()
    bad = [part for part in parts if part not in known]
    if not value.strip() or bad or len(set(parts)) != len(parts):
        shown = ", ".join(known)
        from ketaprep.limits import shown as cut

        raise ValueError(f'"{cut(value)}" is not a language; use one of {shown}, or two joined by + (e.g. en+fr)')
    return parts


def N_(message: str) -> str:
    """Mark a string for translation without translating it yet."""
    return message
