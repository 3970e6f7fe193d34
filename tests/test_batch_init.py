"""`ketaprep.batch.run_list`: a list run into a folder by other code (the web form), every row accounted for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conftest import DATA

from ketaprep.batch import Request, RowResult, run_list
from ketaprep.loader import SetLibrary, load_clinic
from ketaprep.sheet import Options


def test_run_list_returns_the_summary_and_each_rows_result(tmp_path: Path) -> None:
    clinic = load_clinic(DATA / "clinic-types.yaml")
    request = Request(DATA / "openemr-appointments.csv", "html", Options(), SetLibrary(), clinic, "America/Toronto",
                      "iv-pain-4h", "en", output_dir=tmp_path / "out", generated=dt.date(2026, 11, 17))
    outcome, reporter = run_list(request)
    assert (outcome.rows, outcome.written, outcome.failed, len(outcome.skipped)) == (9, 6, 0, 3)
    results = outcome.results()
    assert [r.number for r in results] == list(range(2, 11))
    assert results[2] == RowResult(4, "row 4", "skipped", message="cancelled")
    assert results[0] == RowResult(2, "row 2", "written", file="0800-ada-test.html")
    assert all((tmp_path / "out" / r.file).is_file() for r in results if r.file)
    assert outcome.combined == tmp_path / "out" / "handouts.html"
    assert reporter.problems == []
    assert reporter.notes[0] == ("3 appointment(s) not printed, as the list marks them: row 4 (cancelled), "
                                 "row 6 (a no-show), row 7 (cancelled)")
