"""What a batch run is asked to do (`Request`), what it did (`Outcome`), and where it says so (`Reporter`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from ketaprep.lists import DateOrder, Field
from ketaprep.loader import SetLibrary
from ketaprep.models import Clinic
from ketaprep.sheet import Format, Options
from ketaprep.timefmt import Clock
from ketaprep.timeline import Appointment


@dataclass(frozen=True)
class Request:
    """Everything `ketaprep batch` was asked to do."""

    list_path: Path
    fmt: Format
    options: Options
    library: SetLibrary
    clinic: Clinic | None
    zone: str
    default_set: str
    default_lang: str
    output_dir: Path | None = None
    date: dt.date | None = None
    duration: dt.timedelta | None = None
    clock: Clock | None = None
    columns: dict[Field, str | None] = field(default_factory=dict)
    sheet: str | None = None
    date_order: DateOrder | None = None
    generated: dt.date = dt.date(2000, 1, 1)
    today: dt.date = dt.date(2000, 1, 1)
    now: dt.datetime | None = None


@dataclass
class Entry:
    """A row that passed every check: ready to write."""

    number: int
    where: str
    patient: str
    appointment: Appointment
    set_key: str
    lang: str
    instant: dt.datetime
    stem: str = ""
    short_slot: tuple[dt.timedelta, dt.timedelta] | None = None
    """(the booked slot, the set's treatment and watch) when the slot is the shorter."""


@dataclass(frozen=True)
class Failure:
    number: int
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Skipped:
    """A row that is not an appointment to print (cancelled, a no-show, entered in error)."""

    number: int
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where} ({self.reason})"


RowState = Literal["written", "failed", "skipped", "not written"]


@dataclass(frozen=True)
class RowResult:
    """What became of one row: its file, or why it has none."""

    number: int
    where: str
    state: RowState
    file: str | None = None
    message: str | None = None


@dataclass
class Outcome:
    """What a run did: the summary always balances (rows = written + failed + skipped, and
    + not written when the run was stopped)."""

    rows: int
    written: int
    failures: list[Failure]
    output_dir: Path
    combined: Path | None = None
    manifest: Path | None = None
    planned: int = 0
    stopped: str | None = None
    signum: int | None = None
    files: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    handouts: list[tuple[int, str, str]] = field(default_factory=list)
    """(row number, where, file name) of each handout written, in the order written."""
    pending: list[tuple[int, str]] = field(default_factory=list)
    """(row number, where) of each row that passed its checks: to be written."""

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def not_written(self) -> int:
        """Good rows a stop left unwritten."""
        return self.planned - self.written - (self.failed - self.failed_in_checks)

    @property
    def failed_in_checks(self) -> int:
        """Rows that failed pass 1 (the rest of the failures happened while writing)."""
        return self.rows - len(self.skipped) - self.planned

    def results(self) -> list[RowResult]:
        """Every row, in the list's order: written (with its file), failed (with the message),
        skipped (with the reason) or not written (the run was stopped)."""
        found: dict[tuple[int, str], RowResult] = {}
        for number, where, name in self.handouts:
            found[(number, where)] = RowResult(number, where, "written", file=name)
        for failure in self.failures:
            found[(failure.number, failure.where)] = RowResult(failure.number, failure.where, "failed",
                                                               message=failure.message)
        for skip in self.skipped:
            found[(skip.number, skip.where)] = RowResult(skip.number, skip.where, "skipped", message=skip.reason)
        for number, where in self.pending:
            found.setdefault((number, where), RowResult(number, where, "not written"))
        return [found[key] for key in sorted(found)]


class Reporter(Protocol):
    """Where the run says what it is doing (the CLI: stderr, and a progress bar on a terminal)."""

    def problem(self, text: str) -> None: ...
    def note(self, text: str) -> None: ...
    def start(self, total: int) -> None: ...
    def advance(self) -> None: ...
    def finish(self) -> None: ...


class QuietReporter:
    """Collects messages; no progress. For tests and library use."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.notes: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def start(self, total: int) -> None:
        pass

    def advance(self) -> None:
        pass

    def finish(self) -> None:
        pass
