"""A batch's PDFs: each patient's own file tagged (PDF/UA-1) in that patient's language and
compiled on its own, across worker processes; the same files whether or not workers are used;
one patient's failure in a worker is that row's; the print file is the same whether it is put
together in a process of its own or here, even if that process dies; Ctrl-C stops the workers
quietly."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from pypdf import PdfReader
from test_batch import assert_manifest_matches_files, write_list
from test_hostile_lists import TEMPLATES, clinic_with_template
from test_pdf import marked_languages
from test_qr import PATIENT, check_codes, decode_pdf

from ketaprep.batch import pdfpool
from ketaprep.errors import KetaprepError
from ketaprep.pdf_join import JoinerProcess, PdfJoiner
from ketaprep.typst_compile import Job

DAY = "2026-11-24"
LANGS = {"en": ["en-CA"], "fr": ["fr-CA"], "en+fr": ["en-CA", "fr-CA"]}


def mixed_list(tmp_path: Path, count: int = 6) -> Path:
    rows = [[f"Test Patient{n:03d}", DAY, f"{7 + n % 6}:{15 * (n % 4):02d}", ["en", "fr", "en+fr"][n % 3]]
            for n in range(count)]
    return write_list(tmp_path, rows, header=["Patient", "Date", "Start", "Lang"])


@pytest.mark.parametrize("workers", ["0", "2"])
def test_each_patients_pdf_is_tagged_pdf_ua_1_in_that_patients_language(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv(pdfpool.ENV, workers)
    out = tmp_path / "out"
    result = cli("batch", str(mixed_list(tmp_path)), "-o", str(out), "--format", "pdf")
    assert result.code == 0, result.err
    manifest = assert_manifest_matches_files(out)
    assert len(manifest["handouts"]) == 6
    for item in manifest["handouts"]:
        data = (out / item["file"]).read_bytes()
        root: Any = PdfReader(io.BytesIO(data)).trailer["/Root"]
        expected = LANGS[item["lang"]]
        assert root["/Lang"] == expected[0], item["file"]
        assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712  (a pypdf BooleanObject)
        assert "/StructTreeRoot" in root and root["/Outlines"]["/Count"] >= 1
        assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
        assert "<pdfuaid:part>1</pdfuaid:part>" in root["/Metadata"].get_data().decode("utf-8")
        languages = marked_languages(data)  # every page's text in its handout's language, per part
        assert [lang for page in languages for lang in sorted(page)] == [lang for lang in expected for _ in range(2)]
    combined = PdfReader(out / "handouts.pdf")
    assert combined.metadata is not None
    assert combined.metadata.title == "Handouts to print: day.csv, Tuesday 24 November 2026"
    assert combined.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712


def test_workers_write_the_same_files_as_one_process(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listed = mixed_list(tmp_path, 20)
    files = {}
    for workers in ("0", "3"):
        monkeypatch.setenv(pdfpool.ENV, workers)
        out = tmp_path / f"out-{workers}"
        result = cli("batch", str(listed), "-o", str(out), "--format", "pdf", "--duplex")
        assert result.code == 0, result.err
        files[workers] = {path.name: path.read_bytes() for path in sorted(out.iterdir())}
    assert files["0"].keys() == files["3"].keys() and len(files["0"]) == 22  # 20, the print file, the manifest
    assert files["0"] == files["3"]
    pages = len(PdfReader(io.BytesIO(files["3"]["handouts.pdf"])).pages)
    assert pages == 20 * 2 + 6 * 2  # two pages a handout; the 6 bilingual sheets have two handouts


def test_a_patients_qr_codes_in_a_batch_pdf_decode_to_the_json_instants(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pdfpool.ENV, "2")
    listed = write_list(tmp_path, [[PATIENT, DAY, "9:00"], [PATIENT, DAY, "13:30"], [PATIENT, DAY, "7:15"]])
    out = tmp_path / "out"
    assert cli("batch", str(listed), "-o", str(out), "--format", "pdf").code == 0
    assert cli("batch", str(listed), "-o", str(tmp_path / "json"), "--format", "json").code == 0
    for item in json.loads((out / "manifest.json").read_text())["handouts"]:
        timeline = json.loads((tmp_path / "json" / item["file"].replace(".pdf", ".json")).read_text())
        check_codes(decode_pdf(out / item["file"], tmp_path), timeline)  # one code a home cut-off and arrival


def test_the_qr_image_folder_is_removed_after_the_run(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    listed = write_list(tmp_path, [["Ada Test", DAY, "9:00"]])
    assert cli("batch", str(listed), "-o", str(tmp_path / "out"), "--format", "pdf").code == 0
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_template_that_fails_for_one_patient_in_a_worker_fails_only_that_row(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv(pdfpool.ENV, workers)
    name, _source = TEMPLATES["pdf"]
    # Typst, not Jinja, fails for this patient: in the worker that compiles it.
    source = ('{% for sheet in sheets %}{% for h in sheet.handouts %}{% if h.patient == "Zed Bomb" %}'
              '#panic("this sheet cannot be laid out"){% endif %}{{ h.title }}\n{% endfor %}{% endfor %}')
    clinic = clinic_with_template(tmp_path, source, name)
    path = tmp_path / "list.csv"
    path.write_text("Patient,Start\nAda Test,9:00\nZed Bomb,10:00\nBob Sample,11:00\n")
    out = tmp_path / "out"
    result = cli("batch", str(path), "--date", DAY, "--output-dir", str(out), "--format", "pdf", "--clinic", str(clinic))
    assert result.code == 1, result.err
    assert "row 3: the PDF template handout.typ.j2 could not be laid out: panicked with: " in result.err
    assert "Zed" not in result.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert [h["row"] for h in manifest["handouts"]] == [2, 4]
    assert manifest["summary"] == {"rows": 3, "written": 2, "failed": 1, "skipped": 0}
    assert len(PdfReader(out / "handouts.pdf").pages) == 2


def test_a_worker_that_dies_leaves_its_patients_to_the_main_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed (out of memory...) loses no patient: its group is compiled here."""
    from test_pdf import sheet

    from ketaprep.formats.pdf_format import TEMPLATE_DIR, creation_time, source
    from ketaprep.sheet import Options

    one = sheet()
    job = Job(source([one], Options()), str(TEMPLATE_DIR), creation_time(one), False)
    compiled = pdfpool.Compiled(2)
    try:
        assert compiled.pool is not None
        for process in list(compiled.pool._processes.values()):
            process.kill()
        time.sleep(0.2)
        results = list(compiled.run([(n, job) for n in range(20)]))
    finally:
        compiled.close()
    assert [n for n, _pdf in results] == list(range(20))
    assert all(isinstance(pdf, bytes) and pdf.startswith(b"%PDF") for _n, pdf in results)


def patient_pdfs(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> list[Path]:
    """`count` patients' own PDFs, as a batch writes them."""
    monkeypatch.setenv(pdfpool.ENV, "0")
    out = tmp_path / "own"
    result = cli("batch", str(mixed_list(tmp_path, count)), "-o", str(out), "--format", "pdf")
    assert result.code == 0, result.err
    return sorted(p for p in out.glob("*.pdf") if p.name != "handouts.pdf")


def joined_here(paths: list[Path], duplex: bool) -> bytes:
    joiner = PdfJoiner(duplex, "Handouts to print: day.csv")
    for path in paths:
        joiner.add(path)
    handle = io.BytesIO()
    joiner.write(handle)
    return handle.getvalue()


@pytest.mark.parametrize("killed_after", [None, 0, 3, 6])
def test_the_print_file_from_its_own_process_is_the_one_made_here_even_if_the_process_dies(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed_after: int | None
) -> None:
    """Killed before any file, midway or after the last (out of memory...), the joiner process
    loses nothing: the main process puts the print file together from the same files."""
    paths = patient_pdfs(cli, tmp_path, monkeypatch, 6)
    joiner = JoinerProcess(True, "Handouts to print: day.csv")
    try:
        for n, path in enumerate(paths):
            if n == killed_after:
                joiner.process.kill()
                joiner.process.join()
            joiner.add(path)
        if killed_after == len(paths):
            joiner.process.kill()
            joiner.process.join()
        joiner.write_to(str(tmp_path / "print.pdf"))
    finally:
        joiner.close()
    assert not joiner.process.is_alive()
    made = (tmp_path / "print.pdf").read_bytes()
    assert made == joined_here(paths, duplex=True)
    assert len(PdfReader(io.BytesIO(made)).pages) == 6 * 2 + 2 * 2  # the 2 bilingual sheets have two handouts


def test_the_joiner_process_that_cannot_write_says_why_as_the_disk_does(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = patient_pdfs(cli, tmp_path, monkeypatch, 1)
    joiner = JoinerProcess(False)
    joiner.add(paths[0])
    with pytest.raises(OSError, match="No such file or directory") as caught:
        joiner.write_to(str(tmp_path / "gone" / "print.pdf"))
    assert caught.value.errno == 2
    assert not joiner.process.is_alive()


def test_the_workers_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pdfpool.ENV, "many")
    with pytest.raises(KetaprepError, match="KETAPREP_PDF_WORKERS='many': expected a whole number"):
        pdfpool.workers_for(100)
    monkeypatch.setenv(pdfpool.ENV, "0")
    assert pdfpool.workers_for(5000) == 0
    monkeypatch.delenv(pdfpool.ENV)
    assert pdfpool.workers_for(pdfpool.SHORT_LIST - 1) == 0


def session_processes(sid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_at_the_terminal_stops_a_pdf_batch_and_its_workers_quietly(tmp_path: Path, signum: int) -> None:
    """The signal goes to the whole process group, as a terminal sends Ctrl-C: exit 128+N, the
    main process's message only (no worker traceback), whole files only, no worker left."""
    rows = 400
    listed = write_list(tmp_path, [[f"Patient{n:05d}, Test", DAY, f"{7 + n % 7}:{15 * (n % 4):02d}"] for n in range(rows)],
                        header=["Patient", "Date", "Start"])
    out = tmp_path / "out"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1795000000", "NO_COLOR": "1", pdfpool.ENV: "2"}
    env.pop("KETAPREP_CLINIC", None)
    process = subprocess.Popen(  # noqa: S603 (a fixed command line)
        [sys.executable, "-m", "ketaprep", "batch", str(listed), "-o", str(out), "--format", "pdf"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if out.is_dir() and len(list(out.glob("0*.pdf"))) >= 20:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the batch finished before it could be interrupted; make the list longer"
    assert len(session_processes(process.pid)) >= 4  # the batch, its two workers and the print file's joiner
    os.killpg(process.pid, signum)
    _stdout, stderr = process.communicate(timeout=120)
    err = stderr.decode()
    assert process.returncode == 128 + signum, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    how = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
    assert f"stopped by {how}: " in err
    deadline = time.monotonic() + 10
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session_processes(process.pid) == [], "a worker process was left running"
    assert not (out / "handouts.pdf").exists()
    written = [p for p in out.glob("*.pdf")]
    assert written and not list(out.glob(".ketaprep-*"))
    tool = require_tool("pdfinfo")
    for path in written[:50]:
        subprocess.run([tool, str(path)], check=True, capture_output=True)  # noqa: S603 (whole, readable PDFs)


@pytest.mark.parametrize("lang", ["en", "fr", "en+fr"])
def test_markup_made_once_for_a_time_is_the_patients_own_markup_for_any_name(tmp_path: Path, lang: str) -> None:
    """The batch renders the built-in template once per set, time and language and puts each
    name in: the result must equal rendering that patient's sheet, whatever the name holds."""
    from test_pdf import HOSTILE, sheet

    from ketaprep.formats.pdf_format import patient_source, source
    from ketaprep.sheet import Options

    options = Options(image_folder=tmp_path)
    memo: dict[Any, str] = {}
    names = ["Ada Test", "Zoé O'Brien-Lévesque", "9:00 a.m. Test", "Wednesday 25 November", "\\", '"', *HOSTILE]
    for name in names:
        one = sheet(lang=lang, patient=name)
        assert patient_source(one, options, ("shared",), memo) == source([one], options), name
    assert len(memo) == 1
    clinic_template = Options(templates_dir=Path(__file__).parent)  # never made from the memo
    assert patient_source(sheet(patient="Bob Test"), clinic_template, ("shared",), memo) == source(
        [sheet(patient="Bob Test")], clinic_template)
