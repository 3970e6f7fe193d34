"""What a batch run is asked to do (`Request`), what it did (`Outcome`), and where it says so (`Reporter`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

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


@dataclass(frozen=True)
class Failure:
    number: int
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Outcome:
    """What a run did: the summary always balances (rows = written + failed)."""

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

    @property
    def failed(self) -> int:
        return len(self.failures)


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
