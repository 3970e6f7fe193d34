"""`ketaprep serve` as a command: its help, start-up imports, --open, the clinic's defaults."""

from __future__ import annotations

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
