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
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import hashlib
import json
import os
import re
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import IO, Any, Protocol

from ketaprep.errors import AppointmentError, KetaprepError, SetError, UsageError
from ketaprep.lists import (
    DATE_EXAMPLES,
    DateOrder,
    DateProblem,
    Field,
    ListRow,
    cell_date,
    cell_duration,
    cell_time,
    clean_name,
    quoted,
    read_list,
)
from ketaprep.loader import LoadedSet, SetLibrary
from ketaprep.models import Clinic
from ketaprep.parsing import DURATION_EXAMPLES, TIME_EXAMPLES, format_duration
from ketaprep.sheet import Format, Options, Sheet, make_sheet
from ketaprep.slug import UniqueNames, slug
from ketaprep.timefmt import Clock
from ketaprep.timeline import Appointment, Timeline, compute

EXTENSIONS: dict[str, str] = {"html": "html", "pdf": "pdf", "text": "txt", "json": "json", "ics": "ics", "terminal": "txt"}
COMBINED = {"html": "handouts.html", "pdf": "handouts.pdf"}
MANIFEST = "manifest.json"
TEMP_PREFIX, TEMP_SUFFIX = ".ketaprep-", ".part"
MAX_NAME_LENGTH = 200
PDF_CHUNK = 25  # sheets per Typst compile: bounded memory, and Typst is fastest on short documents
_SET_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
LANG_WORDS = {
    "english": "en", "anglais": "en", "french": "fr", "francais": "fr", "français": "fr",
    "bilingual": "en+fr", "bilingue": "en+fr", "en/fr": "en+fr", "en-fr": "en+fr",
}


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: stop cleanly, say what was written."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum


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


# --- pass 1: checking every row -------------------------------------------------------------


class _Sets:
    """Sets by key, loaded once (a set that fails to load is reported in full once), and the
    work rows share: patients at the same time on the same set have the same timeline and,
    unless the set's text names the patient, the same handout but for the name."""

    MEMO = 512  # distinct (set, day, time, length, language) kept; a day's list has a few dozen

    def __init__(self, library: SetLibrary) -> None:
        self.library = library
        self.loaded: dict[str, LoadedSet | KetaprepError] = {}
        self.reported: set[str] = set()
        self.names_patient: dict[str, bool] = {}
        self._timelines: dict[tuple[Any, ...], Timeline] = {}
        self._sheets: dict[tuple[Any, ...], Sheet] = {}

    def get(self, key: str) -> LoadedSet:
        if key not in self.loaded:
            try:
                self.loaded[key] = self.library.load(key)
            except KetaprepError as exc:
                self.loaded[key] = exc
        found = self.loaded[key]
        if isinstance(found, KetaprepError):
            if key in self.reported:
                raise SetError(f'set "{key}" cannot be used (see above)')
            self.reported.add(key)
            raise found
        return found

    def timeline(self, key: str, appointment: Appointment) -> Timeline:
        """The timeline for this appointment (computed once per set, day, time and length)."""
        memo = (key, appointment.date, appointment.start, appointment.duration, appointment.timezone)
        found = self._timelines.get(memo)
        if found is None:
            found = compute(self.get(key).model, dataclasses.replace(appointment, patient=""))
            if len(self._timelines) >= self.MEMO:
                self._timelines.clear()
            self._timelines[memo] = found
        return dataclasses.replace(found, appointment=appointment)

    def sheet(self, entry: Entry, request: Request) -> Sheet:
        """The entry's sheet: `make_sheet`, or a copy of an identical appointment's with this name."""
        loaded = self.get(entry.set_key)
        appointment = entry.appointment
        if self._names_patient(entry.set_key, loaded):
            sheet = make_sheet(loaded, appointment, request.clinic, entry.lang, request.clock, request.generated)
            return dataclasses.replace(sheet, row=entry.number)
        memo = (entry.set_key, appointment.date, appointment.start, appointment.duration, appointment.timezone, entry.lang)
        proto = self._sheets.get(memo)
        if proto is None:
            anonymous = dataclasses.replace(appointment, patient="")
            proto = make_sheet(loaded, anonymous, request.clinic, entry.lang, request.clock, request.generated)
            if len(self._sheets) >= self.MEMO:
                self._sheets.clear()
            self._sheets[memo] = proto
        return dataclasses.replace(
            proto,
            timeline=dataclasses.replace(proto.timeline, appointment=appointment),
            handouts=tuple(dataclasses.replace(h, patient=appointment.patient) for h in proto.handouts),
            row=entry.number,
        )

    def _names_patient(self, key: str, loaded: LoadedSet) -> bool:
        """Does any text of the set use {{ patient }}? (Then each sheet is built on its own.)"""
        if key not in self.names_patient:
            from jinja2 import meta
            from jinja2.sandbox import SandboxedEnvironment

            from ketaprep.safety import texts_of

            env = SandboxedEnvironment()
            uses = False
            for _path, text in texts_of(loaded):
                for value in text.values():
                    if "{" in value and "patient" in meta.find_undeclared_variables(env.parse(value)):
                        uses = True
            self.names_patient[key] = uses
        return self.names_patient[key]


def _lang(raw: Any, where_from: str) -> str:
    from ketaprep.i18n import parse_lang

    text = " ".join(str(raw).split()).casefold()
    text = LANG_WORDS.get(text, text)
    text = "+".join(part.strip().split("-")[0].split("_")[0] for part in text.split("+"))  # fr-CA -> fr
    try:
        return "+".join(parse_lang(text))
    except ValueError:
        code = str(raw).strip()
        shown = f'"{code}"' if re.fullmatch(r"[a-z]{2,3}([-_+][A-Za-z]{2,3})*", code) else "(text not shown)"
        raise AppointmentError(f"{where_from} {shown} is not a language ketaprep has (examples: en, fr, en+fr)") from None


def check_row(row: ListRow, request: Request, sets: _Sets) -> Entry:
    """Turn one row into an appointment, or raise KetaprepError with a message naming no one."""
    from ketaprep.timeline import treatment_length

    if row.problem:
        raise AppointmentError(row.problem)
    values = row.values
    patient_raw = values.get("patient")
    patient = clean_name(patient_raw) if patient_raw is not None else ""
    if not patient:
        raise AppointmentError("patient name is empty")
    if len(patient) > MAX_NAME_LENGTH:
        raise AppointmentError(f"patient name is longer than {MAX_NAME_LENGTH} characters")

    start_raw = values.get("start")
    if start_raw is None:
        raise AppointmentError(f"start time is empty (examples: {TIME_EXAMPLES})")
    start, start_day = cell_time(start_raw)
    if start is None:
        raise AppointmentError(f"start {quoted(start_raw)} is not a time (examples: {TIME_EXAMPLES})")

    date_raw = values.get("date")
    day: dt.date | None
    if date_raw is not None:
        try:
            day = cell_date(date_raw, request.date_order)
        except DateProblem:
            raise AppointmentError(
                f"date {quoted(date_raw)} could be day/month or month/day; "
                "write it as YYYY-MM-DD, or give --date-order dmy (or mdy) for the whole list"
            ) from None
        if day is None:
            raise AppointmentError(f"date {quoted(date_raw)} is not a date (examples: {DATE_EXAMPLES})")
        if start_day is not None and start_day != day:
            raise AppointmentError(f"start {quoted(start_raw)} is on another day than date {quoted(date_raw)}")
    else:
        day = start_day or request.date
        if day is None:
            raise AppointmentError("date is empty; fill it in, or give --date YYYY-MM-DD for the whole list")
    if request.date is not None and day != request.date:
        raise AppointmentError(f"date {day.isoformat()} is not the --date given ({request.date.isoformat()})")

    set_raw = values.get("set")
    if set_raw is None:
        set_key = request.default_set
    else:
        set_key = str(set_raw).strip().lower()
        if not _SET_ID.match(set_key):
            raise AppointmentError(
                f"set {quoted(set_raw)} is not a set id (lower-case letters, digits and hyphens; see ketaprep sets)"
            )
    loaded = _row_set(sets, set_key)
    model = loaded.model

    lang = request.default_lang
    lang_raw = values.get("lang")
    if lang_raw is not None:
        if row.where.startswith("entry"):  # FHIR: the patient's preferred language is a wish, not an order
            try:
                wanted = _lang(lang_raw, "language")
                if all(code in model.languages for code in wanted.split("+")):
                    lang = wanted
            except AppointmentError:
                pass
        else:
            lang = _lang(lang_raw, "language")
    missing = [code for code in lang.split("+") if code not in model.languages]
    if missing:
        raise AppointmentError(
            f'set "{model.id}" has no {"+".join(missing)} text; it is written in: {", ".join(model.languages)}'
        )

    fixed = model.treatment.duration.delta if model.treatment.duration else None
    duration: dt.timedelta | None = None
    duration_raw = values.get("duration")
    if duration_raw is not None:
        duration = cell_duration(duration_raw)
        if duration is None:
            raise AppointmentError(f"duration {quoted(duration_raw)} is not a duration (examples: {DURATION_EXAMPLES})")
        if fixed is not None:
            if duration != fixed:
                raise AppointmentError(
                    f"duration {format_duration(duration)} does not match set \"{model.id}\"'s fixed length of "
                    f"{format_duration(fixed)}; leave it empty for this set"
                )
            duration = None
    elif fixed is None:
        booked = values.get("booked")
        duration = (booked if isinstance(booked, dt.timedelta) else None) or request.duration
    treatment_length(model, duration)  # a clear message before anything else about the length

    if request.fmt == "pdf":
        from ketaprep.formats.pdf_format import unprintable

        boxes = unprintable(patient)
        if boxes:
            raise AppointmentError(
                f"patient name has {boxes} character(s) the PDF fonts cannot print; "
                "use --format html for this list, or write the name in Latin letters"
            )
    appointment = Appointment(day, start, request.zone, patient, duration)
    timeline = sets.timeline(set_key, appointment)
    return Entry(row.number, row.label, patient, appointment, set_key, lang, timeline["treatment_start"].utc)


def _row_set(sets: _Sets, key: str) -> LoadedSet:
    """The row's set. An unknown one is named only when it looks like a set id (it shares its
    first part with a known set, or has a digit): a surname typed into the set column
    ("smith") never reaches the screen."""
    try:
        return sets.get(key)
    except SetError as exc:
        known = sorted(sets.library.files())
        looks_like_a_set = any(c.isdigit() for c in key) or key.split("-")[0] in {k.split("-")[0] for k in known}
        shown = f'"{key}"' if looks_like_a_set else "(text not shown)"
        if exc.message.startswith("unknown set"):
            raise SetError(f"unknown set {shown}; available sets: {', '.join(known)}") from None
        if exc.message == f'set "{key}" cannot be used (see above)':
            raise SetError(f"set {shown} cannot be used (see above)") from None
        raise


@dataclass
class Checked:
    rows: int
    entries: list[Entry]
    failures: list[Failure]
    sets: _Sets
    fhir: bool = False


def check_list(request: Request, reporter: Reporter) -> Checked:
    """Pass 1: read and check every row; report each bad row; write nothing."""
    from ketaprep.safety import passed_cutoffs

    kind, fields, rows = read_list(
        request.list_path,
        request.columns,
        request.sheet,
        request.clinic.appointment_types if request.clinic else None,
        request.zone,
    )
    sets = _Sets(request.library)
    if "set" not in fields or "/" in request.default_set or request.default_set.endswith((".yaml", ".yml")):
        sets.get(request.default_set)  # the set every row uses must load, or nothing is done
    entries: list[Entry] = []
    failures: list[Failure] = []
    seen: dict[tuple[str, dt.date, dt.time], str] = {}
    count = 0
    late: list[str] = []
    over: list[str] = []
    for row in rows:
        checkpoint()
        if row.skip:
            reporter.note(f"{row.label} is not printed: {row.skip}")
            continue
        count += 1
        try:
            entry = check_row(row, request, sets)
        except KetaprepError as exc:
            failure = Failure(row.number, row.label, exc.message)
            failures.append(failure)
            reporter.problem(str(failure))
            continue
        key = (entry.patient.casefold(), entry.appointment.date, entry.appointment.start)
        if key in seen:
            reporter.note(f"{entry.where} is a likely duplicate of {seen[key]} (same patient, same time); both are written")
        else:
            seen[key] = entry.where
        if request.now is not None and entry.instant <= request.now:
            over.append(entry.where)
        elif request.now is not None and passed_cutoffs(sets.timeline(entry.set_key, entry.appointment), request.now):
            late.append(entry.where)
        entries.append(entry)
    if over:
        reporter.note(f"the appointment has already started or is over for {_some(over)}; check the list's date")
    if late:
        reporter.note(f"a cut-off time has already passed for {_some(late)}; phone these patients")
    return Checked(count, entries, failures, sets, kind == "fhir")


def _some(rows: list[str]) -> str:
    return ", ".join(rows[:12]) + (f" and {len(rows) - 12} more" if len(rows) > 12 else "")


# --- pass 2: writing ------------------------------------------------------------------------


class DiskError(Exception):
    """Writing failed (a full disk, no permission): stop, say what was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _open_fd(fd: int) -> IO[bytes]:
    return os.fdopen(fd, "wb", buffering=1 << 16)


class Folder:
    """The output folder: atomic files, and every temporary file tracked for cleaning up."""

    _fdopen = staticmethod(_open_fd)  # tests put a full disk here

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temps: set[str] = set()

    def prepare(self) -> None:
        try:
            if self.path.exists() and not self.path.is_dir():
                raise UsageError(f"{self.path}: exists and is not a folder; choose another --output-dir")
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            for stale in self.path.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):  # left by a run that was killed
                stale.unlink(missing_ok=True)
        except OSError as exc:
            raise KetaprepError(f"{self.path}: cannot write here ({exc.strerror})") from None

    @contextlib.contextmanager
    def open(self, name: str, sync: bool = False) -> Iterator[IO[bytes]]:
        """A file under a temporary name, renamed to `name` only once complete."""
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        try:
            fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=self.path)
        except OSError as exc:
            raise DiskError(_disk_message(exc, self.path)) from None
        self.temps.add(temp)
        try:
            with self._fdopen(fd) as handle:
                yield handle
                handle.flush()
                if sync:
                    os.fsync(handle.fileno())
            os.replace(temp, self.path / name)  # mkstemp made it 0600: readable by the owner only
            self.temps.discard(temp)
        except OSError as exc:
            raise DiskError(_disk_message(exc, self.path)) from None
        finally:
            if temp in self.temps:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                self.temps.discard(temp)

    def write(self, name: str, data: bytes, sync: bool = False) -> None:
        with self.open(name, sync) as handle:
            handle.write(data)

    def clean(self) -> None:
        for temp in list(self.temps):
            with contextlib.suppress(OSError):
                os.unlink(temp)
            self.temps.discard(temp)


class Writer:
    """Each patient's file, written by a background thread: creating and renaming files runs
    outside Python's lock, so the next sheet is laid out meanwhile. A file counts as written
    (manifest, progress) only once it is complete under its final name."""

    DEPTH = 32

    def __init__(self, folder: Folder, wrote: Callable[[Entry, str, bytes, Sheet], None]) -> None:
        import queue
        import threading

        self.folder = folder
        self.wrote = wrote
        self.todo: queue.Queue[tuple[Entry, str, bytes | Callable[[], bytes], Sheet] | Callable[[], None] | None]
        self.todo = queue.Queue(maxsize=self.DEPTH)
        self.done: queue.SimpleQueue[tuple[Entry, str, bytes, Sheet]] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="ketaprep-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.todo.get()
            if item is None:
                return
            if self.cancelled or self.error is not None:
                continue
            try:
                if callable(item):  # work handed over in order, e.g. adding a piece to the print file
                    item()
                    continue
                entry, name, data, sheet = item
                if callable(data):  # made here, beside the main thread's next Typst compile
                    data = data()
                self.folder.write(name, data)
            except BaseException as exc:  # handed to the main thread
                self.error = exc
                continue
            self.done.put((entry, name, data, sheet))

    def save(self, entry: Entry, name: str, data: bytes | Callable[[], bytes], sheet: Sheet) -> None:
        """Write a file (its bytes, or a function that makes them, called in the writer thread)."""
        self._hand_over((entry, name, data, sheet))

    def later(self, work: Callable[[], None]) -> None:
        """Run `work` in the writer thread, after every file handed over before it."""
        self._hand_over(work)

    def _hand_over(self, item: tuple[Entry, str, bytes | Callable[[], bytes], Sheet] | Callable[[], None]) -> None:
        checkpoint()
        self._check()
        self.todo.put(item)
        self._drain()

    def _drain(self) -> None:
        import queue

        while True:
            with _recording():
                try:
                    item = self.done.get_nowait()
                except queue.Empty:
                    return
                self.wrote(*item)

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def flush(self) -> None:
        """Wait until every file handed over is written; raise what went wrong, if anything."""
        self.todo.put(None)
        self.thread.join()
        self._drain()
        self._check()

    def cancel(self) -> None:
        """Stop: the file being written is finished (or removed), the rest are not written."""
        import queue

        self.cancelled = True
        if self.thread.is_alive():
            while True:
                try:
                    self.todo.put_nowait(None)
                    break
                except queue.Full:
                    try:
                        self.todo.get_nowait()
                    except queue.Empty:
                        pass
            self.thread.join()
        while True:  # a full disk may fail the manifest too: every file on disk is still counted
            try:
                self._drain()
                return
            except DiskError:
                continue


def _disk_message(exc: OSError, folder: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{folder}: the disk is full; free some space"
    return f"{folder}: cannot write here ({exc.strerror})"


class Manifest:
    """`manifest.json`, streamed: one object per handout as it is written, then the summary."""

    def __init__(self, folder: Folder, request: Request, is_fhir: bool) -> None:
        self.folder = folder
        self.request = request
        self.key = "entry" if is_fhir else "row"
        self._cm = folder.open(MANIFEST, sync=True)
        self.handle = self._cm.__enter__()
        self.count = 0
        self.broken = False
        head = {
            "ketaprep": _version(),
            "list": request.list_path.name,
            "format": request.fmt,
            "generated": request.generated.isoformat(),
        }
        self._write(json.dumps(head, ensure_ascii=False, indent=2)[:-2].encode() + b',\n  "handouts": [')

    def _write(self, data: bytes) -> None:
        if self.broken:
            raise DiskError(f"{self.folder.path}: {MANIFEST} could not be written")
        try:
            self.handle.write(data)
        except OSError as exc:
            self.broken = True
            raise DiskError(_disk_message(exc, self.folder.path)) from None

    def add(self, entry: Entry, file: str, data: bytes, sheet: Sheet) -> None:
        from ketaprep.formats.json_format import timeline_object

        if self.broken:
            return  # it will not be kept; the run is stopping

        item = {self.key: entry.number, "file": file, "sha256": hashlib.sha256(data).hexdigest(), **timeline_object(sheet)}
        text = json.dumps(item, ensure_ascii=False)  # one line per handout (and the fast C encoder)
        self._write((",\n    " if self.count else "\n    ").encode() + text.encode())
        self.count += 1

    def close(self, outcome: Outcome) -> None:
        failed = ",\n    ".join(json.dumps({self.key: f.number, "error": f.message}, ensure_ascii=False)
                                  for f in outcome.failures)
        tail = {
            "combined": outcome.combined.name if outcome.combined else None,
            "complete": outcome.stopped is None,
            "summary": {"rows": outcome.rows, "written": outcome.written, "failed": outcome.failed},
        }
        body = json.dumps(tail, ensure_ascii=False, indent=2)[1:]
        text = ("\n  ]" if self.count else "]") + ',\n  "failed": [' + (f"\n    {failed}\n  ]" if failed else "]")
        self._write(text.encode() + b"," + body.encode() + b"\n")
        self._cm.__exit__(None, None, None)

    def abandon(self) -> None:
        with contextlib.suppress(BaseException):
            self._cm.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None)


def _version() -> str:
    from ketaprep import __version__

    return __version__


def default_output_dir(entries: list[Entry], request: Request) -> Path:
    days = sorted({e.appointment.date for e in entries})
    day = days[0] if days else (request.date or request.today)
    return Path(f"handouts-{day.isoformat()}")


def assign_names(entries: list[Entry]) -> None:
    """Appointment order; file stems from the time and name, unique even for the same name."""
    entries.sort(key=lambda e: (e.instant, e.number))
    several_days = len({e.appointment.date for e in entries}) > 1
    names = UniqueNames()
    for entry in entries:
        stem = slug(entry.appointment.start, entry.patient, entry.appointment.date if several_days else None)
        entry.stem = names.claim(stem)


def combined_title(request: Request, entries: list[Entry]) -> str:
    """The print file's title: the list's file name and its day ("Handouts to print: today.csv,
    Tuesday 24 November 2026"), in the list's default language, never a patient's set title."""
    from ketaprep.i18n import translations
    from ketaprep.sheet import languages
    from ketaprep.timefmt import long_date

    lang = (languages(request.default_lang) or ["en"])[0]
    _ = translations(lang).gettext
    days = sorted({entry.appointment.date for entry in entries})
    when = long_date(days[0], lang) if len(days) == 1 else f"{long_date(days[0], lang)} – {long_date(days[-1], lang)}"
    return str(_("Handouts to print: {list}, {date}")).format(list=request.list_path.name, date=when)


def write_all(checked: Checked, request: Request, reporter: Reporter) -> Outcome:
    """Pass 2: write each good row's file, the print file and the manifest."""
    entries = checked.entries
    assign_names(entries)
    folder = Folder(request.output_dir or default_output_dir(entries, request))
    outcome = Outcome(checked.rows, 0, list(checked.failures), folder.path, planned=len(entries))
    folder.prepare()
    sets = checked.sets

    def builder(entry: Entry) -> Sheet:
        return sets.sheet(entry, request)

    manifest = Manifest(folder, request, checked.fhir)
    extension = EXTENSIONS[request.fmt]
    reporter.start(len(entries))

    def wrote(entry: Entry, name: str, data: bytes, sheet: Sheet) -> None:
        outcome.written += 1  # the file is complete under its name, whatever happens to the manifest
        outcome.files.append(name)
        reporter.advance()
        manifest.add(entry, name, data, sheet)

    def failed(entry: Entry, exc: KetaprepError) -> None:
        failure = Failure(entry.number, entry.where, exc.message)
        outcome.failures.append(failure)
        reporter.problem(str(failure))
        reporter.advance()

    writer = Writer(folder, wrote)
    try:
        try:
            title = combined_title(request, entries)
            if request.fmt == "pdf":
                _write_pdf(entries, builder, folder, request.options, writer, failed, outcome, title)
            elif request.fmt == "html":
                _write_html(entries, builder, folder, request.options, writer, failed, outcome, title)
            else:  # text, json, ics: no print file
                for _sheet in _write_each(entries, builder, request.fmt, request.options, extension, writer, failed):
                    pass
            writer.flush()
        finally:
            reporter.finish()
    except (KeyboardInterrupt, DiskError) as exc:
        with _signals_deferred():
            writer.cancel()
            if isinstance(exc, DiskError):
                outcome.stopped = exc.message
            else:
                outcome.signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
                outcome.stopped = "stopped by " + ("SIGTERM" if outcome.signum == signal.SIGTERM else "Ctrl-C")
            try:
                manifest.close(outcome)
                outcome.manifest = folder.path / MANIFEST
            except (DiskError, OSError):
                manifest.abandon()
            folder.clean()
        return outcome
    with _signals_deferred():
        try:
            manifest.close(outcome)
            outcome.manifest = folder.path / MANIFEST
        except DiskError as exc:
            manifest.abandon()
            outcome.stopped = exc.message
        folder.clean()
    _note_leftovers(folder.path, outcome, extension, reporter)
    return outcome


def _write_each(
    entries: list[Entry],
    builder: Callable[[Entry], Sheet],
    fmt: Format,
    options: Options,
    extension: str,
    writer: Writer,
    failed: Callable[[Entry, KetaprepError], None],
) -> Iterator[Sheet]:
    """Write each patient's file; yield the sheet so the print file is built from the same work."""
    from ketaprep.sheet import write

    for entry in entries:
        try:
            sheet = builder(entry)
            data = write(fmt, [sheet], options)
        except KetaprepError as exc:  # checked in pass 1; kept so the summary still balances
            failed(entry, exc)
            continue
        writer.save(entry, f"{entry.stem}.{extension}", data, sheet)
        yield sheet


def _write_combined_html(
    sheets: Iterator[Sheet], folder: Folder, options: Options, name: str, writer: Writer, outcome: Outcome
) -> None:
    from ketaprep.formats.html_format import chunks

    first = next(sheets, None)
    if first is None:
        return
    with folder.open(name, sync=True) as handle:
        for piece in chunks(_chain(first, sheets), options):
            handle.write(piece.encode("utf-8"))
        writer.flush()  # every patient's file first: the print file is the last to appear
    outcome.combined = folder.path / name


def _splices(entries: list[Entry], builder: Callable[[Entry], Sheet], options: Options) -> bool:
    """Can the print file be put together from each patient's own rendering? True for the
    built-in template; checked here on the first two sheets against the real combined file."""
    from ketaprep.formats.html_format import chunks, parts

    if len(entries) < 2:
        return True
    try:
        first, second = builder(entries[0]), builder(entries[1])
        head, body, tail = parts(first, options)
        _head, second_body, _tail = parts(second, options)
        return head + body + second_body + tail == "".join(chunks([first, second], options))
    except Exception:  # a template that cannot be split: the plain way will show what is wrong, if anything
        return False


def _write_html(
    entries: list[Entry],
    builder: Callable[[Entry], Sheet],
    folder: Folder,
    options: Options,
    writer: Writer,
    failed: Callable[[Entry, KetaprepError], None],
    outcome: Outcome,
    title: str | None = None,
) -> None:
    """Each patient's page, rendered once: written as its own file and appended to the print file
    (whose head, with the print file's own title, is rendered once more from the first sheet)."""
    from ketaprep.formats.html_format import parts

    combined_options = dataclasses.replace(options, document_title=title)
    if not _splices(entries, builder, options):  # a clinic template that needs a second rendering
        sheets = _write_each(entries, builder, "html", options, "html", writer, failed)
        _write_combined_html(sheets, folder, combined_options, COMBINED["html"], writer, outcome)
        return
    with contextlib.ExitStack() as stack:
        combined: IO[bytes] | None = None
        ending = ""
        for entry in entries:
            try:
                sheet = builder(entry)
                head, body, tail = parts(sheet, options)
            except KetaprepError as exc:
                failed(entry, exc)
                continue
            writer.save(entry, f"{entry.stem}.html", (head + body + tail).encode("utf-8"), sheet)
            if combined is None:
                combined = stack.enter_context(folder.open(COMBINED["html"], sync=True))
                combined.write(parts(sheet, combined_options)[0].encode("utf-8"))
                ending = tail
            combined.write(body.encode("utf-8"))
        if combined is not None:
            combined.write(ending.encode("utf-8"))
            writer.flush()  # every patient's file first: the print file is the last to appear
    if combined is not None:
        outcome.combined = folder.path / COMBINED["html"]


def _chain(first: Sheet, rest: Iterable[Sheet]) -> Iterator[Sheet]:
    yield first
    yield from rest


def _write_pdf(
    entries: list[Entry],
    builder: Callable[[Entry], Sheet],
    folder: Folder,
    options: Options,
    writer: Writer,
    failed: Callable[[Entry, KetaprepError], None],
    outcome: Outcome,
    title: str | None = None,
) -> None:
    """Typst compiles the sheets in pieces of PDF_CHUNK; each piece is split into the patients'
    files and appended to the print file, so Typst's memory stays bounded whatever the list's
    length. (typst-py holds Python's lock while it compiles, so threads would not help.)"""
    from ketaprep.formats.pdf_format import write
    from ketaprep.pdfsplit import PdfJoiner, split

    joiner = PdfJoiner(duplex=options.duplex, title=title)
    for index in range(0, len(entries), PDF_CHUNK):
        built: list[tuple[Entry, Sheet]] = []
        for entry in entries[index : index + PDF_CHUNK]:
            checkpoint()
            try:
                built.append((entry, builder(entry)))
            except KetaprepError as exc:
                failed(entry, exc)
        if not built:
            continue
        sheets = [sheet for _entry, sheet in built]
        try:
            reader, parts = split(write(sheets, options), sheets, options)
        except KetaprepError as exc:
            for entry, _sheet in built:
                failed(entry, exc)
            continue
        for (entry, sheet), data in zip(built, parts, strict=True):
            writer.save(entry, f"{entry.stem}.pdf", data, sheet)
        writer.later(partial(joiner.add, reader))  # in the writer thread, which now owns the reader
    writer.flush()  # every patient's file first: the print file is the last to appear
    if joiner.pages:
        with folder.open(COMBINED["pdf"], sync=True) as handle:
            joiner.write(handle)
        outcome.combined = folder.path / COMBINED["pdf"]


def _note_leftovers(path: Path, outcome: Outcome, extension: str, reporter: Reporter) -> None:
    """Files of an earlier run that this list did not write again (never deleted)."""
    ours = set(outcome.files)
    try:
        others = [p.name for p in path.glob(f"*.{extension}") if p.name not in ours and p.name not in COMBINED.values()
                  and p.name != MANIFEST]
    except OSError:
        return
    if others:
        reporter.note(
            f"{len(others)} other .{extension} file(s) in {path} are not from this list "
            "(an earlier run?); they were left as they are"
        )


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """While cleaning up and closing the manifest, a second Ctrl-C waits until we are done."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def hold(signum: int, _frame: FrameType | None) -> None:
        pass  # the clean-up runs to its end; the stop it was already handling is the one reported

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    _SIGNALS.critical += 1  # a stop already pending waits too: the clean-up must finish
    try:
        yield
    finally:
        _SIGNALS.critical -= 1
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _SignalState:
    critical = 0
    pending: int | None = None


_SIGNALS = _SignalState()


@contextlib.contextmanager
def _recording() -> Iterator[None]:
    """A file under its final name and its line in the manifest go together: a stop that
    arrives in between waits until both are done."""
    _SIGNALS.critical += 1
    try:
        yield
    finally:
        _SIGNALS.critical -= 1
    checkpoint()


def checkpoint() -> None:
    """Where a Ctrl-C or SIGTERM takes effect: between rows and files, never inside a lock or a
    queue operation (an exception raised there by a signal handler can lose a wake-up and hang)."""
    if not _SIGNALS.critical and _SIGNALS.pending is not None:
        signum, _SIGNALS.pending = _SIGNALS.pending, None
        raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM (and SIGINT) become a clean stop (`Stopped`), as Ctrl-C is."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        _SIGNALS.pending = signum  # acted on at the next checkpoint()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _SIGNALS.pending = None


def run(request: Request, reporter: Reporter) -> Outcome:
    """Check every row, then write every good one. Never raises for a bad row."""
    checked = check_list(request, reporter)
    if not checked.entries:
        folder = request.output_dir or default_output_dir([], request)
        return Outcome(checked.rows, 0, checked.failures, folder)
    return write_all(checked, request, reporter)


# --- the summary ----------------------------------------------------------------------------


def summary_lines(outcome: Outcome) -> list[tuple[str, str]]:
    lines = [
        ("rows read", str(outcome.rows)),
        ("handouts written", str(outcome.written)),
        ("rows failed", str(outcome.failed)),
    ]
    if outcome.stopped:
        lines.append(("not written", str(outcome.planned - outcome.written - _late_failures(outcome))))
    if outcome.written or outcome.output_dir.is_dir():
        lines.append(("output folder", str(outcome.output_dir)))
    else:
        lines.append(("output folder", "none: nothing was written"))
    if outcome.combined:
        lines.append(("print this file", str(outcome.combined)))
    return lines


def _late_failures(outcome: Outcome) -> int:
    return outcome.failed - (outcome.rows - outcome.planned)


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
        not_written = outcome.planned - written - _late_failures(outcome)
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
