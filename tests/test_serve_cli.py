"""`ketaprep serve` as a command: its help, start-up imports, --open, the clinic's defaults."""

from __future__ import annotations

import html
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from serve_harness import request, start_server


def test_serve_help_shows_examples_at_80_columns(cli: Any) -> None:
    result = cli("serve", "--help")
    assert result.code == 0
    head = result.out.split("Options:")[0]
    assert "ketaprep serve --open --clinic clinic.yaml" in head
    assert max(len(line) for line in result.out.splitlines()) <= 80


def test_the_command_line_does_not_import_the_web_framework() -> None:
    """`ketaprep --help` and `render` keep their start-up time: starlette and uvicorn load only for serve."""
    code = (
        "import sys\n"
        "from ketaprep.cli import main\n"
        "try:\n"
        "    main(['render', '--start', '09:00', '--date', '2027-02-02', '--format', 'text'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn', 'multipart',"
        " 'python_multipart', 'ketaprep') and (m.startswith(('starlette', 'uvicorn', 'multipart', 'python_multipart'))"
        " or m.startswith('ketaprep.serve')))\n"
        "print(loaded, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)  # noqa: S603
    assert done.returncode == 0
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_open_opens_the_printed_address_in_the_default_browser(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    server = start_server("--open", env={"BROWSER": str(browser)})
    try:
        for _ in range(100):
            if opened.exists() and opened.read_text():
                break
            time.sleep(0.05)
        assert opened.read_text() == server.url
    finally:
        server.stop()


def test_the_clinic_profile_gives_the_forms_defaults(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        "name: Lakeside Test Clinic\nphone: 555-0100\ndefault_set: iv-depression-40m\nlang: fr\n", encoding="utf-8"
    )
    server = start_server(env={"KETAPREP_CLINIC": str(clinic)}, cwd=tmp_path)
    try:
        page = request(server, "GET", "/").text
        assert "ketaprep · Lakeside Test Clinic" in page
        assert '<option value="iv-depression-40m" selected>' in page
        assert '<option value="fr" selected>' in page
    finally:
        server.stop()
    assert "no clinic profile" not in server.output()
    assert os.listdir(tmp_path) == ["clinic.yaml"]


def test_a_clinic_template_that_fails_is_named_on_the_page_without_the_patients_name(tmp_path: Path) -> None:
    from serve_harness import csrf_of, form_body

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "handout.html.j2").write_text("<p>{{ first.nosuch.deeper }}</p>\n", encoding="utf-8")
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("name: Lakeside Test Clinic\ntemplates_dir: templates\n", encoding="utf-8")
    server = start_server("--clinic", str(clinic))
    try:
        body, headers = form_body({"csrf": csrf_of(server), "patient": "Zelda Quixote", "date": "2027-02-02",
                                   "start": "9:00", "set": "iv-pain-4h", "lang": "en", "paper": "letter"})
        reply = request(server, "POST", "/", body=body, headers=headers)
        assert reply.status == 422
        assert "template " in reply.text and "handout.html.j2, line 1" in reply.text
        assert "handout-frame" not in reply.text
        assert "Zelda" not in reply.text.split('name="patient"')[1].split(">", 1)[1]  # only in the field it was typed in
    finally:
        server.stop()
    assert "Zelda" not in server.output()


def test_sigterm_stops_it_cleanly() -> None:
    import signal

    server = start_server()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(10) == 0
    assert "Traceback" not in server.output()
    assert "".join(server.lines).splitlines()[-1] == "stopped."


DATA = Path(__file__).parent / "data" / "batch"


def _summary(text: str) -> dict[str, int]:
    import re

    found = re.search(r"Rows read: (\d+)</strong> = (\d+) to print \+ (\d+) failed \+ (\d+) skipped", text)
    assert found, "no summary on the page"
    read, ready, failed, skipped = (int(n) for n in found.groups())
    assert read == ready + failed + skipped  # the summary balances
    return {"read": read, "written": ready, "failed": failed, "skipped": skipped}


def _upload(server: Any, name: str, data: bytes) -> str:
    from serve_harness import csrf_of, multipart

    body, headers = multipart({"csrf": csrf_of(server, "/list")}, {"list": (name, data)})
    reply = request(server, "POST", "/list", body=body, headers=headers)
    assert reply.status == 200, reply.text
    return reply.text


def test_a_fhir_bundle_and_a_workbook_are_checked_as_batch_checks_them(cli: Any, tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Patient", "Date", "Time", "Set"], ["Ada Test", "2027-02-02", "9:00", "iv-pain-4h"],
                ["Bo Sample", "2027-02-02", "25:00", "iv-pain-4h"]):
        sheet.append(row)
    workbook = tmp_path / "today.xlsx"
    book.save(workbook)
    clinic = DATA / "clinic.yaml"
    server = start_server("--clinic", str(clinic))
    try:
        for path in (DATA / "bundle.json", workbook):
            shown = _summary(_upload(server, path.name, path.read_bytes()))
            result = cli("batch", str(path), "--clinic", str(clinic), "--output-dir", str(tmp_path / path.stem))
            lines = dict(line.split(": ", 1) for line in result.out.splitlines())
            assert shown["skipped"] == int(lines.get("rows skipped", "0")), path.name
            assert shown["read"] == int(lines["rows read"]), path.name
            assert shown["written"] == int(lines["handouts written"]), path.name
            assert shown["failed"] == int(lines["rows failed"]), path.name
    finally:
        server.stop()


def test_the_form_reads_every_time_the_command_line_reads(cli: Any) -> None:
    from serve_harness import csrf_of, form_body

    server = start_server()
    try:
        csrf = csrf_of(server)
        for typed in ("13:30", "1:30 pm", "13:30:00", "1:30:00 PM", "13 h 30", "13h30"):
            assert cli("render", "--start", typed, "--date", "2027-02-02", "--format", "text").code == 0, typed
            body, headers = form_body({"csrf": csrf, "patient": "", "date": "2027-02-02", "start": typed,
                                       "set": "iv-pain-4h", "lang": "en", "paper": "letter"})
            reply = request(server, "POST", "/", body=body, headers=headers)
            assert reply.status == 200, typed


            shown = html.unescape(reply.text.split('srcdoc="', 1)[1].split('"></iframe>', 1)[0])
            assert "Arrive at 1:00\u00a0p.m. Your infusion starts at 1:30\u00a0p.m." in shown, typed
    finally:
        server.stop()
