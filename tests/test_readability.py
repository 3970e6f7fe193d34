"""Reading grades: the formulas against published figures, syllable counts, and no network."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from ketaprep import readability as r


def test_flesch_kincaid_matches_the_published_platypus_example() -> None:
    """Wikipedia, "Flesch–Kincaid readability tests", section "Flesch–Kincaid grade level":
    "The Australian platypus is seemingly a hybrid of a mammal and reptilian creature" is an
    11.3 as it has 24 syllables and 13 words. Checked end to end: counting and formula."""
    text = "The Australian platypus is seemingly a hybrid of a mammal and reptilian creature."
    counts = r.counts([text], "en")
    assert counts == r.Counts(words=13, sentences=1, syllables=24)
    assert round(r.flesch_kincaid_grade(counts), 1) == 11.3
    assert round(r.grade([text], "en") or 0, 1) == 11.3


def test_flesch_formulas_reach_their_published_extremes() -> None:
    """Same articles: the easiest Flesch reading ease is 121.22 and the lowest Flesch-Kincaid
    grade is -3.40, both for one-word sentences of one syllable."""
    counts = r.counts(["Go. Stop. Sit. Rest."], "en")
    assert counts == r.Counts(words=4, sentences=4, syllables=4)
    assert round(r.flesch_reading_ease(counts), 2) == 121.22
    assert round(r.flesch_kincaid_grade(counts), 2) == -3.40


def test_kandel_moles_uses_the_published_french_coefficients() -> None:
    """Kandel & Moles (1958): L = 207 - 1.015 x words/sentence - 73.6 x syllables/word (as quoted by
    the French Wikipedia "Test de lisibilité" sources and the Cordial technical note). No worked example
    with counts is published, so this is a hand count: "Le chat dort." is 3 words, 1 sentence,
    3 syllables -> 207 - 3.045 - 73.6 = 130.355; the ceiling for one-word one-syllable sentences is 132.385."""
    counts = r.counts(["Le chat dort."], "fr")
    assert counts == r.Counts(words=3, sentences=1, syllables=3)
    assert r.kandel_moles_ease(counts) == pytest.approx(130.355)
    assert r.kandel_moles_ease(r.Counts(1, 1, 1)) == pytest.approx(132.385)
    # Hand count: "Ne mangez plus rien après minuit." = ne(1) man-gez(2) plus(1) rien(1) a-près(2) mi-nuit(2)
    hand = r.counts(["Ne mangez plus rien après minuit."], "fr")
    assert hand == r.Counts(words=6, sentences=1, syllables=9)
    assert r.kandel_moles_ease(hand) == pytest.approx(207 - 1.015 * 6 - 73.6 * 9 / 6)


@pytest.mark.parametrize(
    ("ease", "grade"),
    [(100, 5.0), (90, 6.0), (80, 7.0), (75, 7.5), (70, 8.0), (65, 9.0), (60, 10.0), (50, 13.0), (30, 17.0)],
)
def test_french_ease_reads_as_a_grade_by_flesch_table(ease: float, grade: float) -> None:
    """Flesch's bands: 90-100 grade 5, 80-90 grade 6, 70-80 grade 7, 60-70 grades 8-9, 50-60 grades 10-12."""
    assert r.ease_to_grade(ease) == pytest.approx(grade)


def test_ease_to_grade_never_goes_down_as_text_gets_harder() -> None:
    grades = [r.ease_to_grade(ease) for ease in range(140, -40, -1)]
    assert grades == sorted(grades)


@pytest.mark.parametrize(
    ("word", "syllables"),
    [
        ("ami", 2),
        ("réalité", 4),
        ("poète", 2),
        ("naïf", 2),
        ("journée", 2),
        ("urgence", 2),
        ("liquides", 2),
        ("que", 1),
        ("quelque", 1),
        ("guide", 1),
        ("perfusion", 3),
        ("médicaments", 4),
        ("l’été", 2),
        ("aujourd’hui", 3),
        ("oiseau", 2),
        ("peut-être", 2),
    ],
)
def test_french_syllables_are_counted_from_the_spelling(word: str, syllables: int) -> None:
    """Hyphenation points (pyphen) are not syllables: French patterns never split "a-mi"."""
    assert r.syllables_in(word, "fr") == syllables


@pytest.mark.parametrize(
    ("word", "syllables"),
    [("infusion", 3), ("creature", 2), ("reptilian", 3), ("water", 2), ("ECG", 3), ("IV", 2), ("follow-up", 3), ("24", 2)],
)
def test_english_syllables_come_from_the_cmu_dictionary(word: str, syllables: int) -> None:
    assert r.syllables_in(word, "en") == syllables


def test_a_time_with_a_m_does_not_end_the_sentence() -> None:
    assert r.sentences_of("Call us at 9 a.m. tomorrow.") == 1
    assert r.sentences_of("Rest today. Drink water! Ask us?") == 3


def test_a_bullet_without_a_period_is_one_sentence_and_a_placeholder_one_word() -> None:
    assert r.counts(["Chest pain", "Do not eat after {{ last_meal }}."], "en") == r.Counts(
        words=2 + 5, sentences=2, syllables=2 + 6
    )


def test_a_language_without_a_formula_has_no_grade() -> None:
    assert r.grade(["Hola, ¿cómo está?"], "es") is None
    assert r.grade([""], "en") is None


def test_grading_works_with_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """textstat 0.7.9+ downloads a dictionary on first use; this grader reads only local files."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the grader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    r._cmu.cache_clear()
    assert r.grade(["Rest for the rest of the day."], "en") is not None
    assert r.grade(["Reposez-vous le reste de la journée."], "fr") is not None
