"""Printing through CUPS with its own client programs, `lpstat` and `lp` (never a shell).

The handout goes to a queue in one `lp` call that reads the whole PDF from its standard
input: CUPS either takes the whole file as one job or refuses it, so nothing is half-sent.
Before sending, the queue is looked up: an unknown queue, a stopped (paused) printer or a
queue refusing jobs is an error that names the queue and says how to proceed, and nothing
is sent (CUPS itself would quietly hold a job for a stopped printer until someone starts it).

The client programs are run in the C locale so that their answers can be read. Job titles
never carry a patient's name: CUPS shows them to everyone who can see the queue.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from ketaprep.errors import KetaprepError

TIMEOUT = 60
"""Seconds a CUPS client program may take (a PDF of a whole day's list is spooled in this time)."""
MAX_COPIES = 100
_REQUEST = re.compile(r"request id is (\S+)")
_INSTALL = "install CUPS (Debian and Ubuntu: apt install cups cups-client) or write a file with --output"


class PrintError(KetaprepError):
    """The handout could not be sent to a printer (exit 1); the message names the queue."""


@dataclass(frozen=True)
class Queue:
    """One CUPS queue: its name, whether it is the default, and whether it can print now."""

    name: str
    is_default: bool
    enabled: bool
    accepting: bool
    state: str
    """"idle", "printing" or "stopped" (as `lpstat -p` says)."""


@dataclass(frozen=True)
class PrintJob:
    """A job CUPS accepted: the queue and CUPS's request id (e.g. "front-desk-42")."""

    printer: str
    job_id: str


def _where(printer: str | None) -> str:
    return f'cannot print to "{printer}"' if printer else "cannot print"


def _run(args: list[str], printer: str | None, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a CUPS client program; a missing CUPS or a scheduler that is not running is a PrintError."""
    program = shutil.which(args[0])
    if program is None:
        raise PrintError(f"{_where(printer)}: CUPS is not installed here (no `{args[0]}` command); {_INSTALL}")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
    try:
        return subprocess.run(  # noqa: S603 (a fixed CUPS program, arguments as a list, no shell)
            [program, *args[1:]], input=data, capture_output=True, env=env, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise PrintError(f"{_where(printer)}: CUPS did not answer within {TIMEOUT} seconds; "
                         "check that the print service is running (lpstat -r)") from None
    except OSError as exc:
        raise PrintError(f"{_where(printer)}: could not run {args[0]} ({exc.strerror})") from None


def _first_line(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    line = text.splitlines()[0] if text else ""
    return re.sub(r"^(lp|lpstat): ", "", line).strip()


def _check_running(printer: str | None) -> None:
    result = _run(["lpstat", "-r"], printer)
    if b"is running" not in result.stdout or b"not running" in result.stdout:
        raise PrintError(f"{_where(printer)}: the CUPS print service is not running; "
                         "start it (e.g. sudo systemctl start cups) and try again")


def _queues(printer: str | None) -> list[Queue]:
    _check_running(printer)
    default = _default(printer)
    states: dict[str, tuple[bool, str]] = {}
    listing = _run(["lpstat", "-p"], printer)
    for line in listing.stdout.decode("utf-8", "replace").splitlines():
        match = re.match(r"printer (\S+) (.*)", line)
        if not match:
            continue
        rest = match.group(2)
        if "disabled" in rest:
            states[match.group(1)] = (False, "stopped")
        elif "now printing" in rest:
            states[match.group(1)] = (True, "printing")
        else:
            states[match.group(1)] = (True, "idle")
    accepting: dict[str, bool] = {}
    answer = _run(["lpstat", "-a"], printer)
    for line in answer.stdout.decode("utf-8", "replace").splitlines():
        match = re.match(r"(\S+) (not )?accepting requests", line)
        if match:
            accepting[match.group(1)] = match.group(2) is None
    names = sorted(set(states) | set(accepting), key=str.casefold)
    return [
        Queue(
            name=name,
            is_default=name == default,
            enabled=states.get(name, (True, "idle"))[0],
            accepting=accepting.get(name, False),
            state=states.get(name, (True, "idle"))[1],
        )
        for name in names
    ]


def _default(printer: str | None) -> str | None:
    result = _run(["lpstat", "-d"], printer)
    match = re.search(r"system default destination: (\S+)", result.stdout.decode("utf-8", "replace"))
    return match.group(1) if match else None


def list_queues() -> list[Queue]:
    """Every queue CUPS offers, sorted by name; [] when there is none."""
    return _queues(None)


def default_queue() -> str | None:
    """CUPS's default destination for this user (LPDEST, PRINTER, lpoptions, the server's), or None."""
    _check_running(None)
    return _default(None)


def handout_job_title(day: dt.date, start: dt.time, set_id: str) -> str:
    """A one-patient job's title: the appointment and the set, never the patient's name (CUPS
    shows a job's title to everyone who can see the queue)."""
    return f"ketaprep handout {day.isoformat()} {start.strftime('%H:%M')} ({set_id})"


def send_pdf(data: bytes, *, printer: str | None, copies: int = 1, duplex: bool = False, title: str) -> PrintJob:
    """Send one PDF to a queue (None: CUPS's default) as one job; the job CUPS accepted.

    `title` is the job's name in the queue: never put a patient's name in it.
    """
    if not 1 <= copies <= MAX_COPIES:
        raise PrintError(f"{_where(printer)}: {copies} copies; ask for 1 to {MAX_COPIES}")
    if not data.startswith(b"%PDF-"):
        raise PrintError(f"{_where(printer)}: what was to be printed is not a PDF; nothing was sent")
    queues = _queues(printer)
    name = printer or _default(printer)
    if name is None:
        hint = f"the queues are: {', '.join(q.name for q in queues)}" if queues else "CUPS has no printer set up yet"
        raise PrintError(f"cannot print: CUPS has no default printer; give --printer NAME ({hint})\n"
                         "  or set printer: in the clinic profile; see: ketaprep printers")
    queue = next((q for q in queues if q.name.casefold() == name.casefold()), None)
    if queue is None:
        known = ", ".join(q.name for q in queues) or "none"
        raise PrintError(f'cannot print to "{name}": CUPS has no such queue (its queues: {known}); nothing was sent\n'
                         "  see: ketaprep printers")
    if not queue.enabled:
        raise PrintError(f'cannot print to "{queue.name}": the printer is stopped in CUPS; nothing was sent\n'
                         f"  start it with: cupsenable {queue.name} (or in the CUPS web page), then print again")
    if not queue.accepting:
        raise PrintError(f'cannot print to "{queue.name}": the queue is refusing jobs; nothing was sent\n'
                         f"  let it take jobs with: cupsaccept {queue.name}, then print again")
    args = ["lp", "-d", queue.name, "-n", str(copies), "-t", title, "-o", "document-format=application/pdf"]
    args += ["-o", "sides=two-sided-long-edge" if duplex else "sides=one-sided"]
    result = _run(args, queue.name, data)
    match = _REQUEST.search(result.stdout.decode("utf-8", "replace"))
    if result.returncode != 0 or match is None:
        reason = _first_line(result.stderr) or _first_line(result.stdout) or f"lp exited with status {result.returncode}"
        raise PrintError(f'cannot print to "{queue.name}": CUPS refused the job ({reason}); nothing was sent')
    return PrintJob(printer=queue.name, job_id=match.group(1))
