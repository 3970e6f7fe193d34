"""French and bilingual handouts: the gettext catalogs, Babel's date and time wording, golden files.

After changing fixed wording (a `_("...")` in a template or module), update the catalogs:
    pybabel extract -F babel.cfg -k N_ -o ketaprep/locale/ketaprep.pot --no-location --sort-output --project ketaprep -w 100 .
    pybabel update -i ketaprep/locale/ketaprep.pot -d ketaprep/locale -D ketaprep --no-fuzzy-matching -w 100
    (translate the new entries in ketaprep/locale/fr/LC_MESSAGES/ketaprep.po)
    pybabel compile -d ketaprep/locale -D ketaprep
Regenerate the golden files after a deliberate change, then review the diff:
    KETAPREP_REGEN=1 python -m pytest tests/test_i18n.py
"""

from __future__ import annotations

import datetime as dt
import io
import re
import string
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import get_day_names, get_month_names
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from conftest import assert_golden
from hypothesis import given
from hypothesis import strategies as st

from ketaprep import i18n
from ketaprep.dst import change_note, fold_note
from ketaprep.timefmt import clock_text, day_text, french_prepositions, length_text, long_date, when_text

ROOT = Path(__file__).parent.parent
LOCALE = ROOT / "ketaprep" / "locale"
NBSP = "\u00a0"
TORONTO = ZoneInfo("America/Toronto")

# --- the catalogs -------------------------------------------------------------------------


def _po_files() -> list[Path]:
    return sorted(LOCALE.glob("*/LC_MESSAGES/ketaprep.po"))


def _entries(catalog: Catalog) -> dict[Any, Any]:
    def plain(value: Any) -> Any:
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {plain(m.id): plain(m.string) for m in catalog if m.id}


def _key(msgid: Any) -> str:
    return str(msgid if isinstance(msgid, str) else msgid[0])


def source_messages() -> dict[str, tuple[str, int]]:
    """Every msgid in the Python and Jinja sources, as `pybabel extract -F babel.cfg -k N_` finds them."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: dict[str, tuple[str, int]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        if filename.startswith(("tests", "instructions")):
            continue
        found.setdefault(_key(message), (filename, lineno))
    return found


def test_there_is_a_french_catalog() -> None:
    assert "fr" in [p.parent.parent.name for p in _po_files()]
    assert {"en", "fr"} <= set(i18n.available_languages())


@pytest.mark.parametrize("po", _po_files(), ids=lambda p: p.parent.parent.name)
def test_compiled_catalog_is_up_to_date_with_its_po_file(po: Path) -> None:
    """The committed .mo must say what the .po says (run `pybabel compile` after editing the .po)."""
    with po.open("rb") as handle:
        source = read_po(handle)
    compiled = io.BytesIO()
    write_mo(compiled, source)
    compiled.seek(0)
    with po.with_suffix(".mo").open("rb") as handle:
        committed = read_mo(handle)
    assert _entries(committed) == _entries(read_mo(compiled))
    assert committed.locale == source.locale


@pytest.mark.parametrize("po", _po_files(), ids=lambda p: p.parent.parent.name)
def test_every_msgid_in_the_sources_is_translated(po: Path) -> None:
    """Nothing falls back to English silently: each `_("...")` in a module or template is in the catalog."""
    with po.open("rb") as handle:
        catalog = read_po(handle)
    translated = {_key(m.id) for m in catalog if m.id and m.string and not m.fuzzy and all(m.string)}
    missing = {msgid: where for msgid, where in source_messages().items() if msgid not in translated}
    assert not missing, f"untranslated in {po.parent.parent.name} (see the module docstring to update): {missing}"


def test_the_shipped_template_lists_exactly_the_source_messages() -> None:
    """ketaprep.pot is what `check` compares catalogs against, so it must be current."""
    with (LOCALE / "ketaprep.pot").open("rb") as handle:
        pot = {_key(m.id) for m in read_po(handle) if m.id}
    assert pot == set(source_messages())


def _french() -> list[tuple[str, str]]:
    with (LOCALE / "fr" / "LC_MESSAGES" / "ketaprep.po").open("rb") as handle:
        catalog = read_po(handle)
    out = []
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        out.extend((ids[min(i, len(ids) - 1)], text) for i, text in enumerate(strings))
    return out


def test_french_catalog_puts_a_non_breaking_space_before_double_punctuation() -> None:
    for msgid, text in _french():
        for match in re.finditer(r"(.?)([:;!?])", text):
            assert match.group(1) == NBSP, f"{msgid!r} -> {text!r}: U+00A0 before {match.group(2)!r}"
        assert '"' not in text, f"{text!r}: use « » in French"


def test_french_catalog_keeps_every_placeholder() -> None:
    def fields(text: str) -> set[str]:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}

    for msgid, text in _french():
        assert fields(text) == fields(msgid), f"{msgid!r} -> {text!r}"


def test_lang_accepts_each_language_with_a_catalog_and_pairs() -> None:
    assert i18n.parse_lang("en") == ["en"]
    assert i18n.parse_lang("fr") == ["fr"]
    assert i18n.parse_lang("en+fr") == ["en", "fr"]
    for bad in ("de", "en+en", "", "en+"):
        with pytest.raises(ValueError, match="use one of en, fr"):
            i18n.parse_lang(bad)


def test_cli_refuses_a_language_without_a_catalog(cli: Any) -> None:
    result = cli("render", "--start", "09:00", "--lang", "de")
    assert result.code == 2
    assert '"de" is not a language; use one of en, fr, or two joined by + (e.g. en+fr)' in result.err


# --- Babel's dates and times --------------------------------------------------------------


def test_french_times_are_24_hour_with_non_breaking_spaces() -> None:
    assert clock_text(dt.time(9, 0), "fr", 24) == f"9{NBSP}h"  # on the hour: "9 h", never "9 h 00"
    assert clock_text(dt.time(21, 30), "fr", 24) == f"21{NBSP}h{NBSP}30"
    assert clock_text(dt.time(9, 0), "en", 12) == "9:00 a.m."
    assert clock_text(dt.time(21, 30), "en", 24) == "21:30"


def test_noon_is_worded_in_each_language() -> None:
    assert clock_text(dt.time(12, 0), "en", 12) == "12:00 p.m. (noon)"
    assert clock_text(dt.time(12, 0), "fr", 24) == f"12{NBSP}h (midi)"


def test_a_start_at_midnight_is_worded_never_a_bare_12_am() -> None:
    assert clock_text(dt.time(0, 0), "en", 12) == "12:00 a.m. (midnight)"
    assert clock_text(dt.time(0, 0), "fr", 24) == f"0{NBSP}h (minuit)"


def test_french_times_are_on_the_24_hour_clock_even_when_12_is_asked() -> None:
    """French has no a.m./p.m.: "1 h 00 p.m." could be read as one in the night."""
    assert clock_text(dt.time(13, 0), "fr", 12) == f"13{NBSP}h"
    assert clock_text(dt.time(13, 0), "en", 12) == "1:00 p.m."


def test_midnight_is_the_end_of_the_day_before_in_each_language() -> None:
    at = dt.datetime(2026, 11, 23, 0, 0, tzinfo=TORONTO)
    assert when_text(at, dt.date(2026, 11, 23), "en", 12) == "midnight at the end of Sunday 22 November"
    assert when_text(at, dt.date(2026, 11, 23), "fr", 24) == "minuit à la fin du dimanche 22 novembre"


def test_a_time_on_another_day_names_the_day_in_each_language() -> None:
    at = dt.datetime(2026, 11, 22, 23, 0, tzinfo=TORONTO)
    assert when_text(at, dt.date(2026, 11, 23), "en", 12) == "11:00 p.m., Sunday 22 November"
    assert when_text(at, dt.date(2026, 11, 23), "fr", 24) == f"le dimanche 22 novembre à 23{NBSP}h"


def test_a_cut_off_before_six_names_the_night_it_falls_in() -> None:
    """ "1:00 a.m." alone on the sheet for a 9:00 start reads as the next night."""
    day = dt.date(2026, 11, 24)
    one = dt.datetime(2026, 11, 24, 1, 0, tzinfo=TORONTO)
    assert when_text(one, day, "en", 12, night=True) == "1:00 a.m. (the night of Monday to Tuesday)"
    assert when_text(one, day, "fr", 24, night=True) == f"1{NBSP}h (dans la nuit de lundi à mardi)"
    late = dt.datetime(2026, 11, 24, 5, 59, tzinfo=TORONTO)
    assert when_text(late, day, "fr", 24, night=True) == f"5{NBSP}h{NBSP}59 (dans la nuit de lundi à mardi)"
    six = dt.datetime(2026, 11, 24, 6, 0, tzinfo=TORONTO)
    assert when_text(six, day, "en", 12, night=True) == "6:00 a.m."
    assert when_text(one, day, "en", 12) == "1:00 a.m."  # not a cut-off: no night named


def test_french_running_text_says_jusqu_au_and_le_before_a_named_day() -> None:
    assert french_prepositions("restera avec vous jusqu’à le jeudi 26 novembre à 17 h.") == (
        "restera avec vous jusqu’au jeudi 26 novembre à 17 h.")
    assert french_prepositions("Jusqu’à le jeudi 26 novembre : pas d’alcool.") == "Jusqu’au jeudi 26 novembre : pas d’alcool."
    assert french_prepositions("au plus tard à le lundi 23 novembre à 23 h") == "au plus tard le lundi 23 novembre à 23 h"
    assert french_prepositions("jusqu’à 7 h, à la clinique") == "jusqu’à 7 h, à la clinique"


def test_french_dates_write_the_first_of_the_month_as_1er() -> None:
    assert long_date(dt.date(2026, 11, 1), "fr") == "dimanche 1er novembre 2026"
    assert long_date(dt.date(2026, 11, 23), "fr") == "lundi 23 novembre 2026"
    assert long_date(dt.date(2026, 11, 1), "en") == "Sunday 1 November 2026"


@pytest.mark.parametrize(
    ("minutes", "en", "fr"),
    [
        (0, "0 minutes", f"0{NBSP}minute"),
        (1, "1 minute", f"1{NBSP}minute"),
        (40, "40 minutes", f"40{NBSP}minutes"),
        (60, "1 hour", f"1{NBSP}heure"),
        (90, "1 hour 30 minutes", f"1{NBSP}heure 30{NBSP}minutes"),
        (240, "4 hours", f"4{NBSP}heures"),
    ],
)
def test_lengths_use_each_language_plural_forms(minutes: int, en: str, fr: str) -> None:
    assert length_text(dt.timedelta(minutes=minutes), "en") == en
    assert length_text(dt.timedelta(minutes=minutes), "fr") == fr


def test_clock_change_notes_are_in_french() -> None:
    back = dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC)  # 2:00 EDT -> 1:00 EST
    forward = dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC)  # 2:00 EST -> 3:00 EDT
    assert change_note(back, TORONTO, "fr", 24) == (
        f"Le dimanche 1er novembre à 2{NBSP}h, on recule l’heure de 1{NBSP}heure{NBSP}; "
        "cette heure en tient déjà compte."
    )
    assert change_note(forward, TORONTO, "fr", 24).startswith(
        f"Le dimanche 8 mars à 2{NBSP}h, on avance l’heure de 1{NBSP}heure"
    )
    assert change_note(back, TORONTO, "en", 12) == (
        "The clocks go back 1 hour at 2:00 a.m. on Sunday 1 November; this time already allows for the change."
    )
    first = dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)  # 1:30 EDT, the first 1:30
    assert fold_note(first, TORONTO, "fr").endswith(f"on recule l’heure{NBSP}: il s’agit de la première.")


@given(
    day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
    time=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    other_day=st.booleans(),
)
def test_every_date_and_time_formats_in_both_languages(day: dt.date, time: dt.time, other_day: bool) -> None:
    """Weekday and month names come from Babel's locale data for the right day, in each language."""
    for lang, locale in (("en", "en_CA"), ("fr", "fr_CA")):
        weekday = get_day_names("wide", locale=locale)[day.weekday()]
        month = get_month_names("wide", locale=locale)[day.month]
        number = "1er" if lang == "fr" and day.day == 1 else str(day.day)
        assert long_date(day, lang) == f"{weekday} {number} {month} {day.year}"
        assert day_text(day, lang) == f"{weekday} {number} {month}"
        at = dt.datetime.combine(day, time, tzinfo=TORONTO)
        appointment = day + dt.timedelta(days=1) if other_day else day
        text = when_text(at, appointment, lang, 24 if lang == "fr" else 12)
        if time == dt.time(0, 0):
            assert text.startswith("midnight at the end of " if lang == "en" else "minuit à la fin du ")
        else:
            clock = clock_text(time, lang, 24 if lang == "fr" else 12)
            if lang == "fr" and appointment != day:  # « le mercredi 25 novembre à 13 h »
                assert text == f"le {day_text(day, lang)} à {clock}"
            else:
                assert text.startswith(clock)
            assert (day_text(day, lang) in text) == (appointment != day)
        assert "12:00 a.m." not in text and not re.search(rf"(^|\D)0{NBSP}h{NBSP}00", text)
        if lang == "fr":
            assert re.fullmatch(rf"\d{{1,2}}{NBSP}h({NBSP}\d\d)?( \((midi|minuit)\))?", clock_text(time, lang, 24))
            assert ("h" + NBSP + "00") not in clock_text(time, lang, 24)


# --- a language added by files only --------------------------------------------------------

SPANISH_SET = """\
id: tiny-es
version: "1"
languages: [en, es]
title: {en: "Tiny set", es: "Conjunto pequeño"}
route: iv
treatment: {duration: 1h}
arrive_before: 30m
monitoring: 1h
fasting: {solids: 8h, clear_liquids: 2h}
driver: {required: true}
companion: {duration: 24h}
no_driving: {duration: 24h}
contact: {en: "Call {{ clinic_phone }}.", es: "Llame al {{ clinic_phone }}."}
sections:
  emergency:
    - {en: "Chest pain", es: "Dolor en el pecho"}
"""


@pytest.fixture
def spanish_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped catalogs plus a partial Spanish one, as a translator would add it."""
    import shutil

    from ketaprep import checker

    locale = tmp_path / "locale"
    shutil.copytree(LOCALE, locale)
    catalog = Catalog(locale="es_MX", domain="ketaprep")
    catalog.add("{label}:", "{label}:")
    catalog.add("YOUR SCHEDULE", "SU HORARIO")
    catalog.add("Stop eating (this includes milk, gum and candy)", "Deje de comer alimentos sólidos")
    target = locale / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "ketaprep.mo").open("wb") as handle:
        write_mo(handle, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    monkeypatch.setattr(checker, "LOCALE_DIR", locale)
    for cached in (i18n.translations, checker._translated, checker._catalog_ids):
        cached.cache_clear()
    yield tmp_path
    for cached in (i18n.translations, checker._translated, checker._catalog_ids):
        cached.cache_clear()


def test_a_language_is_added_by_files_not_code(spanish_catalog: Path, cli: Any) -> None:
    """A catalog named `es` (Language: es_MX) makes `--lang es` work, with Babel's Spanish dates."""
    path = spanish_catalog / "tiny-es.yaml"
    path.write_text(SPANISH_SET, encoding="utf-8")
    assert i18n.available_languages() == ["en", "es", "fr"]
    assert i18n.babel_locale("es") == "es_MX"
    refused = cli("render", "--start", "09:00", "--date", "2026-11-24", "--set", str(path), "--lang", "es")
    assert refused.code == 1 and refused.out == ""  # a partial catalog would print English headings
    assert refused.err.startswith(f"error: {path}, line 3: the es catalog does not translate ")
    assert refused.err.endswith(f"; nothing is printed until it passes: ketaprep check {path}\n")
    checked = cli("check", str(path))
    assert checked.code == 1
    assert 'the es catalog does not translate "Arrive at the clinic"' in checked.out
    _complete_catalog(spanish_catalog / "locale" / "es" / "LC_MESSAGES" / "ketaprep.mo")
    result = cli("render", "--start", "09:00", "--date", "2026-11-24", "--set", str(path), "--lang", "es", "--format", "text")
    assert result.code == 0, result.err
    assert "SU HORARIO" in result.out
    assert "- Deje de comer alimentos sólidos: 1:00 a.m." in result.out
    assert "martes, 24 de noviembre de 2026" in result.out
    clinic = spanish_catalog / "clinic.yaml"
    clinic.write_text('name: "Clínica Prueba"\nphone: "555-0100"\nlang: es\n', encoding="utf-8")
    by_profile = cli("render", "--start", "09:00", "--date", "2026-11-24", "--set", str(path), "--clinic", str(clinic),
                     "--format", "text")
    assert by_profile.code == 0, by_profile.err
    assert "SU HORARIO" in by_profile.out


def _complete_catalog(mo: Path) -> None:
    """The translator finishes the catalog (here every missing message is kept as it is)."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    from ketaprep import checker

    with mo.open("rb") as handle:
        catalog = read_mo(handle)
    with (LOCALE / "ketaprep.pot").open("rb") as handle:
        for message in read_po(handle):
            if message.id and message.id not in catalog:
                catalog.add(message.id, message.id)
    with mo.open("wb") as handle:
        write_mo(handle, catalog)
    for cached in (i18n.translations, checker._translated, checker._catalog_ids):
        cached.cache_clear()


# --- golden files: French and bilingual, every format -------------------------------------

GOLDEN_SET = """\
# A small set for the French and bilingual golden files: a clock change, midnight, noon, another day.
id: golden-fr
version: "1"
languages: [en, fr]
title:
  en: "Test infusion (about 3 hours)"
  fr: "Perfusion d’essai (environ 3 heures)"
route: iv
treatment:
  duration: 3h
arrive_before: 30m
monitoring: 1h
fasting:
  solids: 8h
  clear_liquids: 2h
  medications: 2h
caffeine:
  stop: start_of_day
driver:
  required: true
companion:
  duration: 24h
  from: treatment_end
no_driving:
  duration: 24h
  from: treatment_end
contact:
  en: "Questions? Call {{ clinic_name }} at {{ clinic_phone }}."
  fr: "Des questions ? Appelez {{ clinic_name }} au {{ clinic_phone }}."
sections:
  about:
    - en: "Your infusion takes about {{ treatment_length }}."
      fr: "Votre perfusion dure environ {{ treatment_length }}."
  before:
    - en: "Do not eat after {{ last_meal }}."
      fr: "Ne mangez plus après {{ last_meal }}."
  after:
    - en: "Do not drive until {{ drive_again }}."
      fr: "Ne conduisez pas avant {{ drive_again }}."
  emergency:
    - en: "Chest pain"
      fr: "Douleur à la poitrine"
""".replace("Des questions ? ", f"Des questions{NBSP}? ")
GOLDEN_CLINIC = """\
name: "Clinique Test"
phone: "613-555-0100"
address: "1 rue Exemple, Ottawa (Ontario)"
"""
FORMATS = {"text": "txt", "terminal": "terminal.txt", "json": "json", "html": "html", "ics": "ics", "pdf": "pdf.txt"}


@pytest.fixture
def golden_files(tmp_path: Path) -> tuple[Path, Path]:
    set_path = tmp_path / "golden-fr.yaml"
    set_path.write_text(GOLDEN_SET, encoding="utf-8")
    clinic_path = tmp_path / "clinic.yaml"
    clinic_path.write_text(GOLDEN_CLINIC, encoding="utf-8")
    return set_path, clinic_path


@pytest.mark.parametrize("lang", ["fr", "en+fr"])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_french_and_bilingual_golden_files(golden_files: tuple[Path, Path], cli: Any, fmt: str, lang: str) -> None:
    """The day after the clocks go back: a clock-change note, a repeated hour, midnight, noon, next day."""
    set_path, clinic_path = golden_files
    args = ["render", "--start", "09:00", "--date", "2026-11-01", "--set", str(set_path), "--clinic", str(clinic_path)]
    result = cli(*args, "--patient", "Ada Test", "--lang", lang, "--format", fmt, "--output", "-")
    assert result.code == 0, result.err
    data = result.raw
    if fmt == "pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        data = "\n\f\n".join(page.extract_text() for page in reader.pages).encode("utf-8")
    name = "fr" if lang == "fr" else "bilingual"
    assert_golden(f"fr/{name}.{FORMATS[fmt]}", data)
    # Lines wrap differently per format (NBSP counts as a space); terminal tables and iCalendar fold mid-cell.
    flat = " ".join(data.decode("utf-8").split())
    if fmt in ("text", "html", "pdf"):
        assert "minuit à la fin du samedi 31 octobre" in flat
        assert "Le dimanche 1er novembre à 2 h, on recule l’heure de 1 heure" in flat
        assert "le lundi 2 novembre à 12 h (midi)" in flat
        assert "h 00" not in flat and "à le " not in flat
    if lang == "en+fr" and fmt in ("text", "html", "pdf"):
        assert "midnight at the end of Saturday 31 October" in flat
