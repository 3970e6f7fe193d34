"""Sets, timelines and sheets shared by rows: a shared sheet is the same as one made for the patient."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ketaprep.batch import Entry, Request
from ketaprep.batch.sets import SetCache
from ketaprep.loader import SetLibrary
from ketaprep.sheet import Options, make_sheet


@pytest.mark.parametrize("lang", ["en", "fr", "en+fr"])
def test_a_shared_sheet_is_identical_to_one_made_for_the_patient(lang: str) -> None:
    library = SetLibrary()
    request = Request(Path("x.csv"), "html", Options(), library, None, "America/Toronto", "iv-pain-4h", lang,
                      generated=dt.date(2026, 11, 17))
    sets = SetCache(library)
    for set_id in sorted(library.files()):
        loaded = sets.get(set_id)
        if not all(code in loaded.model.languages for code in lang.split("+")):
            continue
        length = None if loaded.model.treatment.duration else dt.timedelta(minutes=90)
        for patient in ("Ada Test", "Bob Sample"):
            from ketaprep.timeline import Appointment

            appointment = Appointment(dt.date(2026, 11, 24), dt.time(9, 0), "America/Toronto", patient, length)
            entry = Entry(2, "row 2", patient, appointment, set_id, lang, dt.datetime.now(dt.UTC))
            shared = sets.sheet(entry, request)
            fresh = make_sheet(loaded, appointment, None, lang, None, dt.date(2026, 11, 17))
            assert shared == fresh, set_id
            assert shared.handouts[0].patient == patient
