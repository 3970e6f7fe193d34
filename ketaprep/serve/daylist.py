"""The day's list from the form: every row checked as `ketaprep batch` checks it, then its files.

The uploaded list is kept in this process's memory only (a few recent lists, for an hour),
so "Download PDF" and "Download all files" work after "Check list" without a second upload.
The readers and the batch writer work on files: each time, the list (and the batch's output
folder) lives in a private scratch folder (in memory, /dev/shm, when the machine has it)
that is removed as soon as the answer is ready; the downloads are sent from memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import itertools
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ketaprep.errors import KetaprepError
from ketaprep.serve.settings import MAX_LIST_ROWS, Settings
from ketaprep.sheet import Options

KEEP = 4
"""Lists kept in memory at once (the newest); an older one must be uploaded again."""
KEEP_SECONDS = 3600
EXTENSIONS = (".csv", ".txt", ".xlsx", ".xls", ".ods", ".json", ".ndjson")


@dataclass(frozen=True)
class RowView:
    """One line of the page's table: never the patient's name."""

    number: int
    where: str
    time: str
    set: str
    lang: str
    status: str
    problem: str


@dataclass
class Checked:
    """An uploaded list, checked: its rows for the table, and what it takes to write its files."""

    key: str
    name: str
    data: bytes
    date: dt.date | None
    large_print: bool
    paper: str
    duplex: bool
    rows: list[RowView]
    notes: list[str]
    created: float = field(default_factory=time.monotonic)

    @property
    def read(self) -> int:
        return len(self.rows)

    @property
    def ready(self) -> int:
        return sum(1 for r in self.rows if r.status == "ready")

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.status == "failed")

    @property
    def skipped(self) -> int:
        return sum(1 for r in self.rows if r.status == "skipped")


class ListProblem(KetaprepError):
    """The list as a whole cannot be used (unreadable, too many rows): shown beside the "List" field."""


def scratch_root() -> str | None:
    """Where scratch folders go: TMPDIR when it is set, else memory (/dev/shm) when there is one."""
    if os.environ.get("TMPDIR"):
        return None
    shm = Path("/dev/shm")  # noqa: S108 (memory, not disk; each folder is private and removed)
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A private folder (0700) removed, with everything in it, as soon as the block ends."""
    folder = tempfile.mkdtemp(prefix="ketaprep-serve-", dir=scratch_root())
    try:
        yield Path(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def safe_name(name: str) -> str:
    """The uploaded file's own name, reduced to a plain base name that keeps its extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] not in "CZ" or c == " ").strip(" .")
    stem, dot, extension = base.rpartition(".")
    extension = extension.lower() if dot else ""
    stem = re.sub(r"[^\w .()-]+", "-", stem if dot else base)[:80].strip(" .-") or "list"
    return f"{stem}.{extension}" if extension else stem


class ListDesk:
    """The day's-list side of the form for one run of the server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._kept: OrderedDict[str, Checked] = OrderedDict()
        self._lock = threading.Lock()

    # --- the store ---------------------------------------------------------------------------

    def get(self, key: str) -> Checked | None:
        with self._lock:
            self._expire()
            return self._kept.get(key)

    def _keep(self, checked: Checked) -> None:
        with self._lock:
            self._expire()
            self._kept[checked.key] = checked
            while len(self._kept) > KEEP:
                self._kept.popitem(last=False)

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, v in self._kept.items() if now - v.created > KEEP_SECONDS]:
            del self._kept[key]

    # --- checking ----------------------------------------------------------------------------

    def request(self, path: Path, output: Path | None, date: dt.date | None, options: Options) -> Any:
        from ketaprep.batch import Request
        from ketaprep.sheet import generated_date

        settings = self.settings
        clinic = settings.clinic
        today = self.today()
        return Request(
            list_path=path,
            fmt="pdf",
            options=options,
            library=settings.library,
            clinic=clinic,
            zone=settings.zone,
            default_set=clinic.default_set if clinic else "iv-pain-4h",
            default_lang=clinic.lang if clinic else "en",
            output_dir=output,
            date=date,
            clock=settings.clock,
            generated=generated_date(today),
            today=today,
            now=settings.now(),
        )

    def today(self) -> dt.date:
        from zoneinfo import ZoneInfo

        return self.settings.now().astimezone(ZoneInfo(self.settings.zone)).date()

    def options(self, checked: Checked) -> Options:
        clinic = self.settings.clinic
        return Options(
            paper="a4" if checked.paper == "a4" else "letter",
            large_print=checked.large_print,
            duplex=checked.duplex,
            templates_dir=self.settings.templates_dir,
            alarm_minutes=clinic.alarm_minutes if clinic else 30,
        )

    def check(self, name: str, data: bytes, date: dt.date | None, large_print: bool, paper: str,
              duplex: bool) -> Checked:
        """Read and check every row; nothing is written but the scratch copy, removed at once."""
        from ketaprep.batch import QuietReporter
        from ketaprep.batch.check import check_list

        shown = safe_name(name)
        checked = Checked(secrets.token_urlsafe(16), shown, data, date, large_print, paper, duplex, [], [])
        reporter = QuietReporter()
        with scratch() as folder:
            path = folder / shown
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
                handle.write(data)
            try:
                self._count_rows(path)
                result = check_list(self.request(path, None, date, self.options(checked)), reporter)
            except KetaprepError as exc:
                raise ListProblem(exc.message.replace(str(path), shown).replace(str(folder) + os.sep, "")) from None
        several_days = len({e.appointment.date for e in result.entries}) > 1
        rows: list[RowView] = []
        for entry in result.entries:
            at = entry.appointment
            when = at.start.strftime("%H:%M")
            rows.append(RowView(entry.number, entry.where, f"{at.date.isoformat()} {when}" if several_days else when,
                                entry.set_key, entry.lang, "ready", ""))
        for failure in result.failures:
            rows.append(RowView(failure.number, failure.where, "", "", "", "failed", failure.message))
        for skip in result.skipped:
            rows.append(RowView(skip.number, skip.where, "", "", "", "skipped", skip.reason))
        checked.notes.extend(reporter.notes)
        rows.sort(key=lambda r: r.number)
        checked.rows = rows
        self._keep(checked)
        return checked

    def _count_rows(self, path: Path) -> None:
        """A list longer than a day's is refused before any row is checked."""
        from ketaprep.lists import read_list

        clinic = self.settings.clinic
        _kind, _fields, rows = read_list(path, {}, None, clinic.appointment_types if clinic else None, self.settings.zone)
        count = sum(1 for _row in itertools.islice(rows, MAX_LIST_ROWS + 1))
        close = getattr(rows, "close", None)
        if close is not None:
            close()
        if count > MAX_LIST_ROWS:
            raise ListProblem(f"{path}: more than {MAX_LIST_ROWS} rows; the form takes one day's list "
                              "(split it by day, or use ketaprep batch)")

    # --- the files -----------------------------------------------------------------------------

    def files(self, checked: Checked) -> dict[str, bytes]:
        """`ketaprep batch --format pdf`'s folder for this list, in memory: each patient's PDF,
        handouts.pdf and manifest.json (the scratch folder is gone when this returns)."""
        from ketaprep.batch import QuietReporter, run

        with scratch() as folder:
            path = folder / checked.name
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
                handle.write(checked.data)
            output = folder / "handouts"
            try:
                run(self.request(path, output, checked.date, self.options(checked)), QuietReporter())
            except KetaprepError as exc:
                raise ListProblem(exc.message.replace(str(path), checked.name)) from None
            out: dict[str, bytes] = {}
            if output.is_dir():
                for item in sorted(output.iterdir()):
                    if item.is_file() and not item.name.startswith("."):
                        out[item.name] = item.read_bytes()
            return out

    def combined_pdf(self, checked: Checked) -> bytes | None:
        return self.files(checked).get("handouts.pdf")

    def archive(self, checked: Checked) -> bytes:
        """A zip of the batch folder: every patient's file, handouts.pdf and manifest.json."""
        buffer = io.BytesIO()
        stamp = (1980, 1, 1, 0, 0, 0)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in self.files(checked).items():
                info = zipfile.ZipInfo(name, stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                archive.writestr(info, data)
        return buffer.getvalue()

    def stem(self, checked: Checked) -> str:
        stem = checked.name.rsplit(".", 1)[0] or "list"
        return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "list"
