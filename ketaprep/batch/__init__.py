"""`ketaprep batch`: the day's list into one handout per patient and one file to print.

Two passes. First every row is checked (name, date, time, set, language, the whole
timeline) and nothing is written; bad rows are reported by number, never by name.
Then the good rows are written in appointment order, one file per patient, streamed,
with the combined print file (html, pdf) and `manifest.json` built alongside.

Every file is written to a hidden temporary file in the output folder and renamed when
complete, so an interruption (Ctrl-C, SIGTERM, a full disk) never leaves a half-written
file under a final name; the manifest lists exactly the files that are complete. A re-run
writes every handout again, replacing the earlier files, so the folder ends up complete
and matching the manifest. Per-patient files are not fsynced one by one (a rename is
atomic for other programs; fsync guards only against power loss and costs milliseconds
per file); the print file and the manifest are.

Speed: patients at the same time on the same set share one timeline and one laid-out
handout (only the name differs, unless the set's text names the patient); the HTML print
file is spliced from each patient's own rendering; files are created by a writer thread
while the next sheet is laid out.

The package, one module per idea: `request` (what was asked, what was done), `check`
(pass 1), `sets` (sets, timelines and sheets shared by rows), `write` (pass 2), `atomic`
(the output folder), `writer` (the writer thread), `manifest`, `signals` (Ctrl-C and
SIGTERM) and `report` (the console). `run` is the one entry point for the CLI and for
any other caller (the web form).
"""

from __future__ import annotations

from ketaprep.batch.check import check_list
from ketaprep.batch.report import ConsoleReporter, print_summary, summary_lines
from ketaprep.batch.request import Entry, Failure, Outcome, QuietReporter, Reporter, Request, RowResult, Skipped
from ketaprep.batch.signals import Stopped, stop_on_signals
from ketaprep.batch.write import default_output_dir, write_all

__all__ = [
    "ConsoleReporter", "Entry", "Failure", "Outcome", "QuietReporter", "Reporter", "Request", "RowResult", "Skipped",
    "Stopped", "print_summary", "run", "run_list", "stop_on_signals", "summary_lines",
]


def run(request: Request, reporter: Reporter) -> Outcome:
    """Check every row, then write every good one. Never raises for a bad row.

    The Outcome balances: rows = written + failed + skipped (+ not written after a stop);
    `Outcome.results()` gives each row's file, failure or reason for being skipped. A list
    that cannot be read at all raises UsageError; a stop raises `Stopped` only before
    anything was written."""
    checked = check_list(request, reporter)
    if not checked.entries:
        folder = request.output_dir or default_output_dir([], request)
        return Outcome(checked.rows, 0, checked.failures, folder, skipped=checked.skipped)
    return write_all(checked, request, reporter)


def run_list(request: Request) -> tuple[Outcome, QuietReporter]:
    """`run` without a console, for callers such as the web form: the outcome, and every
    problem and note the run reported (row messages name rows by number, never a patient).
    Ctrl-C and SIGTERM are not handled here: a caller in the main thread that wants them
    wraps the call in `stop_on_signals()`."""
    reporter = QuietReporter()
    return run(request, reporter), reporter
