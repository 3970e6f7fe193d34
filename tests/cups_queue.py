"""A real CUPS queue for tests: its device is tests/cups/ketaprep-keep, a tiny backend that
keeps each job's bytes and options in a folder, so a test reads back what CUPS delivered.

Use the `cups_queue` fixture (tests/conftest.py): a fresh raw queue per test, removed after.
A raw queue hands the job's bytes to the backend untouched (no re-distilling), so the PDF
that arrives is the PDF that was sent and its text still extracts.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BACKEND = Path(__file__).parent / "cups" / "ketaprep-keep"
BACKEND_DIR = Path(os.environ.get("KETAPREP_CUPS_BACKENDS", "/usr/lib/cups/backend"))
_names = itertools.count(1)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"CUPS is required in CI ({reason}); .ci/run installs cups and starts cupsd")
    pytest.skip(reason)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False,  # noqa: S603
                          env={**os.environ, "LC_ALL": "C"}, timeout=30)


@dataclass(frozen=True)
class KeptJob:
    """One job as the backend received it."""

    job_id: str
    data: bytes
    title: str
    copies: int
    options: dict[str, str]
    printer: str


@dataclass
class CupsQueue:
    name: str
    folder: Path

    def jobs(self) -> list[KeptJob]:
        """The jobs the backend has finished receiving, oldest first."""
        found = []
        for path in sorted(self.folder.glob("job-*"), key=lambda p: int(p.name.split("-")[1].split(".")[0])
                           if p.name.split("-")[1].isdigit() else 0):
            if path.name.endswith(".part"):
                continue
            fields = dict(line.split("=", 1) for line in (path / "job.txt").read_text().splitlines() if "=" in line)
            options = dict(item.split("=", 1) if "=" in item else (item, "") for item in fields["options"].split())
            found.append(KeptJob(fields["job-id"], (path / "data").read_bytes(), fields["title"],
                                 int(fields["copies"]), options, fields["printer"]))
        return found

    def wait_for(self, count: int = 1, timeout: float = 30.0) -> list[KeptJob]:
        """Wait until the backend has kept `count` jobs, and a little longer to see no more come."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.jobs()
            if len(jobs) >= count:
                time.sleep(0.5)
                return self.jobs()
            time.sleep(0.1)
        pytest.fail(f"CUPS delivered {len(self.jobs())} job(s) to {self.name} within {timeout} s, not {count}")

    def pending(self) -> str:
        """`lpstat -o` for this queue: jobs CUPS still holds (empty when none)."""
        return _run("lpstat", "-o", self.name).stdout

    def stop(self) -> None:
        _run("cupsdisable", self.name)

    def reject(self) -> None:
        _run("cupsreject", self.name)


def install_backend() -> None:
    """Copy the backend into CUPS's backend folder (CUPS runs a 0700 backend as root)."""
    target = BACKEND_DIR / BACKEND.name
    if target.exists() and target.read_bytes() == BACKEND.read_bytes():
        return
    try:
        temp = target.with_name(f".{target.name}.{os.getpid()}")
        shutil.copyfile(BACKEND, temp)
        os.chmod(temp, 0o700)
        os.replace(temp, target)
    except OSError as exc:
        _unavailable(f"cannot install the test backend in {BACKEND_DIR} ({exc.strerror})")


def make_queue(tmp_path: Path) -> Iterator[CupsQueue]:
    for tool in ("lpadmin", "lpstat", "lp", "cupsdisable", "cupsreject"):
        if shutil.which(tool) is None:
            _unavailable(f"{tool} is not installed")
    if "scheduler is running" not in _run("lpstat", "-r").stdout:
        _unavailable("the CUPS scheduler (cupsd) is not running")
    install_backend()
    folder = tmp_path / "printed"
    folder.mkdir()
    name = f"ketaprep-test-{os.getpid()}-{next(_names)}"
    made = _run("lpadmin", "-p", name, "-E", "-v", f"ketaprep-keep:{folder}", "-m", "raw")
    if made.returncode != 0:
        _unavailable(f"lpadmin could not add a queue: {made.stderr.strip()}")
    try:
        yield CupsQueue(name, folder)
    finally:
        _run("cancel", "-a", name)
        _run("lpadmin", "-x", name)
