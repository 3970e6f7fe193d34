"""Printing through a real CUPS scheduler: `render --print`, `batch --print`, `ketaprep printers`.

Each test gets its own raw queue whose backend (tests/cups/ketaprep-keep) keeps every job's
bytes and options, so the test reads back the PDF CUPS delivered, not what was meant to go.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from cups_queue import CupsQueue
from pypdf import PdfReader

from ketaprep import printing

DAY = "2026-11-24"
CSV = "Patient,Date,Start\r\nAda Test,2026-11-24,9:00\r\n\"Roe, Jo\",2026-11-24,13:30\r\nBea Sample,2026-11-24,11:00\r\n"


def text_of(pdf: bytes, tmp_path: Path) -> str:
    pdftotext = require_tool("pdftotext")
    path = tmp_path / "kept.pdf"
    path.write_bytes(pdf)
    return subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603


def success_line(queue: CupsQueue, job: Any, copies: str = "1 copy") -> str:
    return f'printed: sent to printer "{queue.name}" as job {queue.name}-{job.job_id} ({copies})\n'


def test_render_print_sends_the_handout_pdf_once(cli: Any, cups_queue: CupsQueue, tmp_path: Path) -> None:
    """`render --print --printer Q`: one job, the handout's PDF byte for byte, one success line."""
    result = cli("render", "--start", "09:00", "--date", DAY, "--patient", "Ada Test", "--print",
                 "--printer", cups_queue.name)
    assert result.code == 0, result.err
    [job] = cups_queue.wait_for(1)
    assert result.out == success_line(cups_queue, job)
    same = cli("render", "--start", "09:00", "--date", DAY, "--patient", "Ada Test", "--format", "pdf", "-o", "-")
    assert job.data == same.raw
    text = text_of(job.data, tmp_path)
    assert "Ada Test" in text and "Tuesday 24 November 2026" in text and "1:00 a.m." in text
    assert job.copies == 1 and job.options["sides"] == "one-sided"
    assert "Ada" not in job.title and job.title == "ketaprep handout 2026-11-24 09:00 (iv-pain-4h)"
    assert cups_queue.pending() == ""


def test_copies_and_duplex_reach_the_queue(cli: Any, cups_queue: CupsQueue) -> None:
    result = cli("render", "--start", "9am", "--date", DAY, "--print", "--printer", cups_queue.name,
                 "--copies", "3", "--duplex")
    assert result.code == 0, result.err
    [job] = cups_queue.wait_for(1)
    assert result.out == success_line(cups_queue, job, "3 copies, two-sided")
    assert job.copies == 3
    assert job.options["sides"] == "two-sided-long-edge"


def test_clinic_profile_printer_is_the_default(cli: Any, cups_queue: CupsQueue, tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(f"name: Test Clinic\nphone: 555-0100\nprinter: {cups_queue.name}\n", encoding="utf-8")
    result = cli("render", "--start", "09:00", "--date", DAY, "--clinic", str(clinic), "--print")
    assert result.code == 0, result.err
    [job] = cups_queue.wait_for(1)
    assert result.out == success_line(cups_queue, job)


def test_cups_default_destination_is_used_without_printer(cli: Any, cups_queue: CupsQueue,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No --printer, no profile: CUPS's own default for the user (here LPDEST)."""
    monkeypatch.setenv("LPDEST", cups_queue.name)
    assert printing.default_queue() == cups_queue.name
    result = cli("render", "--start", "09:00", "--date", DAY, "--print")
    assert result.code == 0, result.err
    [job] = cups_queue.wait_for(1)
    assert result.out == success_line(cups_queue, job)


def test_unknown_queue_is_named_and_nothing_sent(cli: Any, cups_queue: CupsQueue) -> None:
    result = cli("render", "--start", "09:00", "--date", DAY, "--print", "--printer", "front-desk-nope")
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if not line.startswith("note:")]
    assert lines[0].startswith('error: cannot print to "front-desk-nope": CUPS has no such queue (its queues: ')
    assert cups_queue.name in lines[0] and lines[0].endswith("); nothing was sent")
    assert lines[1:] == ["  see: ketaprep printers"]
    assert result.out == ""


def test_stopped_printer_is_refused_and_nothing_queued(cli: Any, cups_queue: CupsQueue) -> None:
    """CUPS itself would hold a job for a paused printer: ketaprep refuses and sends nothing."""
    cups_queue.stop()
    result = cli("render", "--start", "09:00", "--date", DAY, "--print", "--printer", cups_queue.name)
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if not line.startswith("note:")]
    assert lines == [
        f'error: cannot print to "{cups_queue.name}": the printer is stopped in CUPS; nothing was sent',
        f"  start it with: cupsenable {cups_queue.name} (or in the CUPS web page), then print again",
    ]
    assert cups_queue.pending() == "" and cups_queue.jobs() == []


def test_queue_refusing_jobs(cli: Any, cups_queue: CupsQueue) -> None:
    cups_queue.reject()
    result = cli("render", "--start", "09:00", "--date", DAY, "--print", "--printer", cups_queue.name)
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if not line.startswith("note:")]
    assert lines == [
        f'error: cannot print to "{cups_queue.name}": the queue is refusing jobs; nothing was sent',
        f"  let it take jobs with: cupsaccept {cups_queue.name}, then print again",
    ]
    assert cups_queue.jobs() == []


def test_missing_cups_names_the_queue(cli: Any, cups_queue: CupsQueue, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = cli("render", "--start", "09:00", "--date", DAY, "--print", "--printer", cups_queue.name)
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f'error: cannot print to "{cups_queue.name}": CUPS is not installed here (no `lpstat` command); '
        "install CUPS (Debian and Ubuntu: apt install cups cups-client) or write a file with --output"
    )
    monkeypatch.undo()
    assert cups_queue.jobs() == []


def test_scheduler_not_running(cli: Any, cups_queue: CupsQueue, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUPS_SERVER", "/nonexistent/cups.sock")
    result = cli("render", "--start", "09:00", "--date", DAY, "--print", "--printer", cups_queue.name)
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f'error: cannot print to "{cups_queue.name}": the CUPS print service is not running; '
        "start it (e.g. sudo systemctl start cups) and try again"
    )


def test_output_and_print_both(cli: Any, cups_queue: CupsQueue, tmp_path: Path) -> None:
    """--print with --output keeps a copy of exactly what was printed."""
    out = tmp_path / "copy.pdf"
    result = cli("render", "--start", "09:00", "--date", DAY, "--print", "--printer", cups_queue.name, "-o", str(out))
    assert result.code == 0, result.err
    [job] = cups_queue.wait_for(1)
    assert job.data == out.read_bytes()


def test_batch_print_sends_one_job_the_combined_file(cli: Any, cups_queue: CupsQueue, tmp_path: Path) -> None:
    """`batch --format pdf --duplex --print`: one job (never one per patient), the print file itself."""
    listing = tmp_path / "today.csv"
    listing.write_text(CSV, encoding="utf-8")
    folder = tmp_path / "out"
    result = cli("batch", str(listing), "--format", "pdf", "--duplex", "--print", "--printer", cups_queue.name,
                 "-o", str(folder))
    assert result.code == 0, result.err
    [job] = cups_queue.wait_for(1)
    assert result.out.splitlines()[-1] == success_line(cups_queue, job, "1 copy, two-sided").rstrip("\n")
    assert job.data == (folder / "handouts.pdf").read_bytes()
    assert job.options["sides"] == "two-sided-long-edge"
    assert job.title == "ketaprep Handouts to print: today.csv, Tuesday 24 November 2026"
    text = text_of(job.data, tmp_path)
    assert text.index("Ada Test") < text.index("Bea Sample") < text.index("Jo Roe")
    assert len(PdfReader(folder / "handouts.pdf").pages) % 2 == 0


def test_batch_print_defaults_to_pdf(cli: Any, cups_queue: CupsQueue, tmp_path: Path) -> None:
    listing = tmp_path / "today.csv"
    listing.write_text(CSV, encoding="utf-8")
    result = cli("batch", str(listing), "--print", "--printer", cups_queue.name, "-o", str(tmp_path / "out"))
    assert result.code == 0, result.err
    [job] = cups_queue.wait_for(1)
    assert job.data.startswith(b"%PDF-") and (tmp_path / "out" / "handouts.pdf").exists()


def test_batch_print_stopped_printer_keeps_the_files(cli: Any, cups_queue: CupsQueue, tmp_path: Path) -> None:
    listing = tmp_path / "today.csv"
    listing.write_text(CSV, encoding="utf-8")
    cups_queue.stop()
    result = cli("batch", str(listing), "--print", "--printer", cups_queue.name, "-o", str(tmp_path / "out"))
    assert result.code == 1
    assert result.err.splitlines()[-2:] == [
        f'error: cannot print to "{cups_queue.name}": the printer is stopped in CUPS; nothing was sent',
        f"  start it with: cupsenable {cups_queue.name} (or in the CUPS web page), then print again",
    ]
    assert (tmp_path / "out" / "handouts.pdf").exists()
    assert cups_queue.jobs() == [] and cups_queue.pending() == ""


def test_printers_lists_queues_and_default(cli: Any, cups_queue: CupsQueue, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LPDEST", cups_queue.name)
    result = cli("printers")
    assert result.code == 0, result.err
    [line] = [line for line in result.out.splitlines() if line.startswith(cups_queue.name + " ")]
    assert line.split() == [cups_queue.name, "ready", "(default)"]
    cups_queue.stop()
    cups_queue.reject()
    [queue] = [q for q in printing.list_queues() if q.name == cups_queue.name]
    assert queue == printing.Queue(cups_queue.name, is_default=True, enabled=False, accepting=False, state="stopped")
    [line] = [line for line in cli("printers").out.splitlines() if line.startswith(cups_queue.name + " ")]
    assert line.split(None, 1)[1] == "stopped, refusing jobs  (default)"


def test_send_pdf_library_interface(cups_queue: CupsQueue) -> None:
    """The library call the web form uses: a PrintJob naming the queue and CUPS's request id."""
    pdf = b"%PDF-1.7\n%test\n"
    job = printing.send_pdf(pdf, printer=cups_queue.name, copies=2, duplex=True, title="web form test")
    [kept] = cups_queue.wait_for(1)
    assert job == printing.PrintJob(cups_queue.name, f"{cups_queue.name}-{kept.job_id}")
    assert kept.data == pdf and kept.copies == 2 and kept.title == "web form test"
    with pytest.raises(printing.PrintError, match="not a PDF; nothing was sent"):
        printing.send_pdf(b"hello", printer=cups_queue.name, title="x")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--printer", "x"], "error: --printer only applies when printing; add --print to send the handout to the printer"),
        (["--copies", "2", "--printer", "x"],
         "error: --printer and --copies only apply when printing; add --print to send the handout to the printer"),
        (["--print", "--format", "html"], "error: --print sends a PDF, but the format is html; leave out --format "
         "(or use --format pdf), and name any --output file .pdf"),
    ],
)
def test_print_usage_errors(cli: Any, args: list[str], message: str) -> None:
    result = cli("render", "--start", "09:00", *args)
    assert (result.code, result.err.strip(), result.out) == (2, message, "")


def test_copies_out_of_range_is_usage(cli: Any) -> None:
    result = cli("render", "--start", "09:00", "--print", "--copies", "0")
    assert result.code == 2 and "--copies" in result.err
