"""An interrupted batch (SIGTERM, Ctrl-C, a full disk) leaves no half-written file, says what
was and was not written, and the same command run again completes the rest."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_batch import assert_manifest_matches_files, balanced, summary, write_list

from ketaprep.batch.atomic import DiskError, Folder
from ketaprep.batch.manifest import Manifest

DAY = "2026-11-24"


def big_list(tmp_path: Path, rows: int) -> Path:
    lines = ["Date,Time,Patient"]
    for n in range(rows):
        lines.append(f'{DAY},{7 + n % 7}:{15 * (n % 4):02d},"Patient{n:05d}, Test"')
    path = tmp_path / "day.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_batch(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1795000000", "NO_COLOR": "1"}
    env.pop("KETAPREP_CLINIC", None)
    return subprocess.Popen(  # noqa: S603 (a fixed command line)
        [sys.executable, "-m", "ketaprep", "batch", *args], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def complete_html(path: Path) -> None:
    """The file is a whole document: it ends properly and parses."""
    text = path.read_text(encoding="utf-8")
    assert text.rstrip().endswith("</html>"), path.name
    parser = HTMLParser()
    parser.feed(text)
    parser.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_run_killed_mid_way_leaves_only_whole_files_and_a_rerun_completes(tmp_path: Path, signum: int) -> None:
    rows = 1500
    listed = big_list(tmp_path, rows)
    out = tmp_path / "out"
    process = run_batch(str(listed), "-o", str(out), cwd=tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if out.is_dir() and len(list(out.glob("0*.html"))) >= 25:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the batch finished before it could be interrupted; make the list longer"
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    err = stderr.decode()
    assert process.returncode == 128 + signum, err

    written = sorted(p for p in out.iterdir() if p.name not in ("manifest.json",))
    assert not (out / "handouts.html").exists()  # the print file is only ever complete
    assert not list(out.glob(".ketaprep-*")), "temporary files were left behind"
    for path in written:
        complete_html(path)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is False and manifest["combined"] is None
    assert sorted(item["file"] for item in manifest["handouts"]) == [p.name for p in written]
    for item in manifest["handouts"]:
        assert hashlib.sha256((out / item["file"]).read_bytes()).hexdigest() == item["sha256"]
    how = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
    count = len(written)
    assert f"stopped by {how}: {count} handout(s) written, {rows - count} not written; the print file was not written; " \
           "manifest.json lists what was written." in err
    assert "Run the same command again to write them all." in err
    assert "stopped.\n" not in err  # the stop is said once, with what was written
    numbers = summary(stdout.decode())
    assert (numbers["rows read"], numbers["handouts written"], numbers["not written"]) == (
        str(rows), str(count), str(rows - count))

    again = run_batch(str(listed), "-o", str(out), cwd=tmp_path)
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr.decode()
    assert summary(stdout.decode())["handouts written"] == str(rows)
    manifest = assert_manifest_matches_files(out)
    assert manifest["complete"] is True and len(manifest["handouts"]) == rows
    complete_html(out / "handouts.html")
    assert (out / "handouts.html").read_text(encoding="utf-8").count('<div class="patient">') == rows


class FullDisk:
    """Files whose writes fail with ENOSPC once `room` bytes have been written in all."""

    def __init__(self, room: int) -> None:
        self.room = room

    def __call__(self, fd: int) -> Any:
        handle = os.fdopen(fd, "wb", buffering=0)
        disk = self

        class Writer:
            def write(self, data: bytes) -> int:
                if len(data) > disk.room:
                    handle.write(data[: disk.room])  # a half-written temporary file
                    disk.room = 0
                    raise OSError(errno.ENOSPC, "No space left on device")
                disk.room -= len(data)
                return handle.write(data)

            def flush(self) -> None:
                pass

            def fileno(self) -> int:
                return handle.fileno()

            def __enter__(self) -> Writer:
                return self

            def __exit__(self, *exc: object) -> None:
                handle.close()

        return Writer()


def test_a_full_disk_stops_the_run_with_a_clear_message_and_no_partial_file(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = big_list(tmp_path, 40)
    out = tmp_path / "out"
    monkeypatch.setattr(Folder, "_fdopen", staticmethod(FullDisk(room=200_000)))
    result = cli("batch", str(listed), "-o", str(out))
    assert result.code == 1
    files = sorted(out.iterdir())
    count = len([p for p in files if p.suffix == ".html"])
    assert count < 40  # how many fit depends on which file the disk ran out in
    assert f"{out}: the disk is full; free some space: {count} handout(s) written, {40 - count} not written; " \
           "the print file was not written." in result.err
    assert not list(out.glob(".ketaprep-*"))
    for path in files:
        complete_html(path)
    assert not (out / "manifest.json").exists()  # the disk had no room for it either: none rather than half of one

    monkeypatch.undo()
    result = cli("batch", str(listed), "-o", str(out))
    assert result.code == 0
    assert balanced(result) == (40, 40, 0)
    assert_manifest_matches_files(out)


@pytest.mark.parametrize("failing", ["1100-cy-test.txt", "1000-bo-test.txt"])
def test_a_stop_that_arrives_while_a_full_disk_is_handled_still_leaves_a_manifest(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """Ctrl-C pending while the clean-up after a full disk runs: the clean-up finishes, the manifest is
    written, and the summary says exactly which files are on disk.

    The manifest fails on the last file (then every file was handed over: exactly 3 written) or on
    the second one (then the third is written only if the main thread had already handed it over,
    which depends on where it was when the writer thread reported the second file: the counts are
    checked against the disk, never assumed)."""
    import os
    import signal

    original = Manifest.add

    def add(self: Any, entry: Any, file: str, *args: Any) -> None:
        if file == failing:
            os.kill(os.getpid(), signal.SIGINT)
            raise DiskError("disk full (simulated)")
        original(self, entry, file, *args)

    monkeypatch.setattr(Manifest, "add", add)
    path = write_list(tmp_path, [["Ada Test", DAY, "9:00"], ["Bo Test", DAY, "10:00"], ["Cy Test", DAY, "11:00"]])
    out = tmp_path / "out"
    result = cli("batch", str(path), "-o", str(out), "--format", "text")
    assert result.code == 1
    assert "stopped before anything was written" not in result.err
    on_disk = sorted(p.name for p in out.glob("*.txt"))
    written = len(on_disk)
    if failing == "1100-cy-test.txt":
        assert written == 3
    assert on_disk == ["0900-ada-test.txt", "1000-bo-test.txt", "1100-cy-test.txt"][:written]
    assert f"disk full (simulated): {written} handout(s) written, {3 - written} not written" in result.err
    assert summary(result.out)["handouts written"] == str(written)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is False
    assert {item["file"] for item in manifest["handouts"]} == set(on_disk) - {failing}
    assert not list(out.glob(".ketaprep-*"))


def test_a_stop_finishes_every_file_already_handed_to_the_writer(tmp_path: Path) -> None:
    """Which files a stop leaves written depends on the main thread only, never on how far the
    writer thread had got: here the writer is still busy with the first file when the stop comes,
    and the two files queued behind it are written all the same."""
    import threading

    from ketaprep.batch.writer import Writer

    release = threading.Event()

    class SlowFolder(Folder):
        def write(self, name: str, data: bytes, sync: bool = False) -> None:
            if name == "a.txt":
                assert release.wait(10)
            super().write(name, data, sync)

    folder = SlowFolder(tmp_path)
    written: list[str] = []
    writer = Writer(folder, lambda _entry, name, _data, _sheet: written.append(name))
    for name in ("a.txt", "b.txt", "c.txt"):
        writer.save(None, name, name.encode(), None)  # type: ignore[arg-type]
    timer = threading.Timer(0.3, release.set)  # the stop below comes while a.txt is still being written
    timer.start()
    writer.cancel()
    timer.join()
    assert written == ["a.txt", "b.txt", "c.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt", "c.txt"]
