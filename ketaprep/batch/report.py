"""What a batch says on the console: bad rows and notes on stderr, a progress bar, the closing summary."""

from __future__ import annotations

from typing import Any

from ketaprep.batch.manifest import MANIFEST
from ketaprep.batch.request import Outcome


def summary_lines(outcome: Outcome) -> list[tuple[str, str]]:
    lines = [
        ("rows read", str(outcome.rows)),
        ("handouts written", str(outcome.written)),
        ("rows failed", str(outcome.failed)),
        ("rows skipped", str(len(outcome.skipped))),
    ]
    if outcome.stopped:
        lines.append(("not written", str(outcome.not_written)))
    if outcome.written or outcome.output_dir.is_dir():
        lines.append(("output folder", str(outcome.output_dir)))
    else:
        lines.append(("output folder", "none: nothing was written"))
    if outcome.combined:
        lines.append(("print this file", str(outcome.combined)))
    return lines


class ConsoleReporter:
    """Bad rows and notes on stderr; a progress bar there too when it is a terminal."""

    def __init__(self, progress: bool) -> None:
        self.show_progress = progress
        self._progress: Any = None
        self._task: Any = None

    def _echo(self, text: str) -> None:
        import sys

        if self._progress is not None:
            from rich.text import Text

            self._progress.console.print(Text(text), highlight=False)
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def problem(self, text: str) -> None:
        self._echo(text)

    def note(self, text: str) -> None:
        self._echo(f"note: {text}")

    def start(self, total: int) -> None:
        if not self.show_progress or total == 0:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("writing handouts"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task("handouts", total=total)

    def advance(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def print_summary(outcome: Outcome, terminal: bool) -> None:
    """The closing summary on stdout: a table on a terminal, plain `name: value` lines otherwise."""
    import sys

    lines = summary_lines(outcome)
    if outcome.rows == 0:
        sys.stderr.write("note: the list has no appointment rows\n")
    if outcome.stopped:
        written = outcome.written
        not_written = outcome.not_written
        combined = "the print file was not written" if outcome.combined is None else ""
        sys.stderr.write(
            f"{outcome.stopped}: {written} handout(s) written, {not_written} not written"
            + (f"; {combined}" if combined else "")
            + (f"; {MANIFEST} lists what was written" if outcome.manifest else "")
            + ".\nRun the same command again to write them all.\n"
        )
    if terminal:
        from rich import box
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE, show_header=False, title="ketaprep batch", title_justify="left")
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")  # a long folder path wraps; it is never cut short
        for name, value in lines:
            table.add_row(Text(name), Text(value))
        Console().print(table)
    else:
        for name, value in lines:
            sys.stdout.write(f"{name}: {value}\n")
        sys.stdout.flush()
