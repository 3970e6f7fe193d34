"""Writing: the HTML print file is spliced from each patient's own rendering."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from ketaprep.batch import Entry, Request
from ketaprep.batch.sets import SetCache
from ketaprep.batch.write import splices
from ketaprep.loader import SetLibrary
from ketaprep.sheet import Options


@pytest.mark.parametrize("options", [Options(), Options(duplex=True), Options(paper="a4", large_print=True)])
def test_the_builtin_html_template_is_rendered_once_per_patient(options: Options) -> None:
    """The print file is spliced from each patient's own rendering (no second rendering) with the built-in template."""
    from ketaprep.timeline import Appointment

    library = SetLibrary()
    request = Request(Path("x.csv"), "html", options, library, None, "America/Toronto", "iv-pain-4h", "en",
                      generated=dt.date(2026, 11, 17))
    sets = SetCache(library)
    entries = [
        Entry(n, f"row {n}", name, Appointment(dt.date(2026, 11, 24), start, "America/Toronto", name),
              "iv-pain-4h", lang, dt.datetime.now(dt.UTC))
        for n, name, start, lang in [(2, "Ada Test", dt.time(9), "en"), (3, "Zoé Exemple", dt.time(10), "en+fr")]
    ]
    assert splices(entries, lambda entry: sets.sheet(entry, request), options,
                   dataclasses.replace(options, document_title="Handouts to print: x.csv, Tuesday 24 November 2026"))
