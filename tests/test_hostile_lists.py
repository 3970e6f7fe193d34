"""Hostile and broken day lists (issue 11): bounded before they are read, every failure named with
its file and row, one row's failure only that row's, nothing silently lost or garbled, no name in
any message. Each input is counted in the tally printed after the run (tests/hostile_tally.py).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import make_xlsx
from hostile_tally import observe

DAY = ("--date", "2026-11-24")
SUMMARY = r"^(rows read|handouts written|rows failed|rows skipped): (\d+)$"
NAMES = ["Ada Test", "Bob Sample", "Zoé Exemple", "Zed Bomb"]


def summary(out: str) -> dict[str, int]:
    found = {key: int(value) for key, value in re.findall(SUMMARY, out, re.M)}
    return found


def batch(cli: Any, path: Path, tmp_path: Path, *args: str) -> Any:
    return cli("batch", str(path), *DAY, "--output-dir", str(tmp_path / "out"), "--format", "text", *args)


def observed(category: str, result: Any, names: list[str] = NAMES, codes: tuple[int, ...] = (0, 1, 2)) -> dict[str, int]:
    counts = summary(result.out)
    rows = None
    if counts:
        rows = (counts["rows read"], counts["handouts written"], counts["rows failed"], counts.get("rows skipped", 0))
    observe(category, result.code, result.err, names=names, rows=rows, codes=codes)
    return counts


# --- workbooks: checked before any reader parses them --------------------------------------------


def workbook(tmp_path: Path, rows: list[list[Any]] | None = None) -> Path:
    return make_xlsx(tmp_path / "list.xlsx", rows or [["Patient", "Start"], ["Ada Test", "9:00"], ["Bob Sample", "10:00"]])


def rewrite(path: Path, change: dict[str, bytes | None], info: dict[str, Any] | None = None) -> Path:
    """The workbook with some members replaced (None: removed), optionally with zip header fields changed."""
    with zipfile.ZipFile(path) as book:
        members = [(item, book.read(item.filename)) for item in book.infolist()]
    out = path.with_name("hostile.xlsx")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for item, data in members:
            if item.filename in change:
                replaced = change[item.filename]
                if replaced is None:
                    continue
                data = replaced
            new = zipfile.ZipInfo(item.filename, date_time=item.date_time)
            new.compress_type = zipfile.ZIP_DEFLATED
            for key, value in (info or {}).items():
                setattr(new, key, value)
            book.writestr(new, data)
    return out


SHEET = "xl/worksheets/sheet1.xml"


def _body(xml: bytes) -> bytes:
    """The XML without its declaration (if any)."""
    return xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml


def encrypted(path: Path) -> Path:
    """Set the "encrypted" bit in every local and central header, as a password-protected zip has it."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + offset] |= 0x1
            at = data.find(signature, at + 4)
    out = path.with_name("encrypted.xlsx")
    out.write_bytes(bytes(data))
    return out


def sheet_xml(tmp_path: Path) -> bytes:
    with zipfile.ZipFile(workbook(tmp_path)) as book:
        return book.read(SHEET)


BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n')


@pytest.mark.parametrize(("case", "message"), [
    ("broken", "(xl/worksheets/sheet1.xml): broken XML at line"),
    ("bomb", "(xl/worksheets/sheet1.xml): the workbook's XML declares a DOCTYPE or entities"),
    ("external", "(xl/worksheets/sheet1.xml): the workbook's XML declares a DOCTYPE or entities"),
    ("doctype-workbook", "(xl/workbook.xml): the workbook's XML declares a DOCTYPE or entities"),
    ("no-sheet", "the workbook has no sheet; save it again with the day's list on a sheet"),
    ("column", "a cell is at column ZZZZZZ (number 321,272,406); at most 1,000 columns (the limit)"),
    ("dimension", "the sheet declares row 2,000,000,000; at most 100,000 rows (the limit)"),
    ("row", "the sheet has a row numbered 2000000000; at most 100,000 rows (the limit)"),
    ("encrypted", "the workbook is encrypted (password-protected); save a copy without a password"),
    ("bzip2", "the workbook uses a compression ketaprep does not read; save it again as .xlsx"),
    ("damaged", "not a readable .xlsx workbook (a damaged zip)"),
    ("bad-deflate", "(xl/worksheets/sheet1.xml): a damaged part of the workbook; save it again as .xlsx"),
    ("not-a-workbook", "not a workbook (a zip without sheets)"),
])
def test_a_hostile_workbook_is_refused_before_it_is_parsed(tmp_path: Path, cli: Any, case: str, message: str) -> None:
    """Broken XML, an entity bomb, a DOCTYPE, an encrypted or unsupported zip, no sheet, a cell at
    column ZZZZZZ, a declared row 2,000,000,000: each named in one line, at once."""
    path = workbook(tmp_path)
    xml = sheet_xml(tmp_path)
    if case == "broken":
        path = rewrite(path, {SHEET: xml[: len(xml) // 2]})
    elif case == "bomb":
        path = rewrite(path, {SHEET: BOMB + _body(xml).replace(b"Ada Test", b"&lol3;")})
    elif case == "external":
        path = rewrite(path, {SHEET: b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
                              + _body(xml)})
    elif case == "doctype-workbook":
        with zipfile.ZipFile(path) as book:
            text = book.read("xl/workbook.xml")
        path = rewrite(path, {"xl/workbook.xml": b'<?xml version="1.0"?>\n<!DOCTYPE x []>\n' + _body(text)})
    elif case == "no-sheet":
        path = rewrite(path, {SHEET: None})
    elif case == "column":
        path = rewrite(path, {SHEET: re.sub(rb'r="B2"', b'r="ZZZZZZ2"', xml)})
    elif case == "dimension":
        path = rewrite(path, {SHEET: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2000000000"', xml)})
    elif case == "row":
        path = rewrite(path, {SHEET: xml.replace(b'<row r="3"', b'<row r="2000000000"')})
    elif case == "encrypted":
        path = encrypted(path)
    elif case == "bzip2":
        path = rewrite(path, {}, {"compress_type": zipfile.ZIP_BZIP2})
    elif case == "damaged":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - 200])
    elif case == "bad-deflate":  # the zip's directory is whole, but a part's compressed data is not (zlib.error)
        with zipfile.ZipFile(path) as book:
            info = book.getinfo(SHEET)
        data = bytearray(path.read_bytes())
        name_length, extra_length = int.from_bytes(data[info.header_offset + 26: info.header_offset + 28], "little"), \
            int.from_bytes(data[info.header_offset + 28: info.header_offset + 30], "little")
        data[info.header_offset + 30 + name_length + extra_length] = 0xFF  # a deflate block of the reserved type
        path.write_bytes(bytes(data))
    elif case == "not-a-workbook":
        path = tmp_path / "list.xlsx"
        with zipfile.ZipFile(path, "w") as book:
            book.writestr("readme.txt", "hello")
    result = batch(cli, path, tmp_path)
    observed("lists", result)
    assert result.code in (1, 2)
    assert message in result.err
    assert result.err.count("\n") <= 3
    assert not (tmp_path / "out").exists()


def test_a_workbook_that_unpacks_past_the_limit_is_refused(tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import ketaprep.lists.guard as guard

    monkeypatch.setattr(guard, "MAX_UNCOMPRESSED_BYTES", 10_000)
    path = workbook(tmp_path)
    result = batch(cli, path, tmp_path)
    observed("lists", result)
    assert result.code == 2
    assert "the workbook unpacks to more than 10,000 bytes (the limit)" in result.err


def test_a_sheet_with_too_many_cells_is_refused(tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import ketaprep.lists.guard as guard

    monkeypatch.setattr(guard, "MAX_SHEET_CELLS", 5)
    result = batch(cli, workbook(tmp_path), tmp_path)
    observed("lists", result)
    assert result.code == 2
    assert "the sheet has more than 5 cells (the limit)" in result.err


def test_an_ordinary_workbook_still_reads(tmp_path: Path, cli: Any) -> None:
    result = batch(cli, workbook(tmp_path), tmp_path)
    counts = observed("lists", result)
    assert result.code == 0, result.err
    assert counts == {"rows read": 2, "handouts written": 2, "rows failed": 0, "rows skipped": 0}


# --- the file itself --------------------------------------------------------------------------------


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "long"])
def test_a_list_that_is_a_device_a_fifo_or_a_too_long_name_is_named_at_once(tmp_path: Path, cli: Any, special: str) -> None:
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "list.csv"
        os.mkfifo(path)
    elif special == "long":
        path = tmp_path / ("a" * 300 + ".csv")
    result = batch(cli, path, tmp_path)
    observed("lists", result)
    assert result.code == 2
    expected = "the file name is too long" if special == "long" else "is not a regular file (a device, FIFO or socket)"
    assert expected in result.err
    assert "a" * 61 not in result.err


def test_a_list_larger_than_the_limit_is_refused_on_the_open_file(tmp_path: Path, cli: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import ketaprep.lists.guard as guard

    monkeypatch.setattr(guard, "MAX_LIST_BYTES", 100)
    path = tmp_path / "list.csv"
    path.write_text("Patient,Start\n" + "Ada Test,9:00\n" * 20)
    result = batch(cli, path, tmp_path)
    observed("lists", result)
    assert result.code == 2
    assert result.err.endswith(f"error: {path}: the list is larger than 100 bytes (the limit); split it by day\n")


# --- FHIR ----------------------------------------------------------------------------------------------


def appointment(index: int, name: str, **extra: Any) -> dict[str, Any]:
    resource = {"resourceType": "Appointment", "id": f"a{index}", "status": "booked",
                "start": f"2026-11-24T{8 + index:02d}:00:00-05:00",
                "participant": [{"actor": {"reference": f"Patient/p{index}", "display": name}, "status": "accepted"}]}
    resource.update(extra)
    return {"resource": resource}


def bundle(tmp_path: Path, entries: list[dict[str, Any]], text: str | None = None) -> Path:
    path = tmp_path / "list.json"
    path.write_text(text if text is not None else json.dumps({"resourceType": "Bundle", "type": "searchset",
                                                              "entry": entries}), encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "message"), [
    ('{"resourceType": "Bundle", "entry": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested more than 64 levels deep"),
    ('{"resourceType": "Bundle", "total": ' + "9" * 5000 + "}", "line 1: a number with more than 30 digits (the limit)"),
    ('{"resourceType": "Bundle", "total": 1.' + "9" * 5000 + "}", "a number with more than 30 digits (the limit)"),
    ('{"resourceType": "Bundle", "entry": [}', "line 1: not valid JSON"),
])
def test_a_hostile_fhir_file_is_named(tmp_path: Path, cli: Any, text: str, message: str) -> None:
    result = batch(cli, bundle(tmp_path, [], text), tmp_path)
    observed("lists", result)
    assert result.code == 2
    assert message in result.err


def test_fhir_saved_as_utf16_is_named_never_quoted(tmp_path: Path, cli: Any) -> None:
    """Read as CSV, its first line (JSON holding a name) would be quoted as a "header"."""
    path = tmp_path / "list.json"
    path.write_bytes(json.dumps({"resourceType": "Bundle", "entry": [appointment(1, "Zoé Exemple")]}).encode("utf-16"))
    result = batch(cli, path, tmp_path)
    observed("privacy", result)
    assert result.code == 2
    assert "looks like a FHIR JSON file saved as UTF-16; a FHIR file must be UTF-8 JSON" in result.err


@pytest.mark.parametrize(("change", "message"), [
    ({"status": ["book", "ed"]}, 'status is not a FHIR code (e.g. "booked")'),
    ({"participant": "Patient/p2"}, "a field has the wrong JSON type"),
    ({"serviceType": {"coding": []}}, "a field has the wrong JSON type"),
    ({"participant": [{"actor": ["Patient/p2"]}]}, "the appointment has no patient participant"),
    ({"start": 20261124}, "start is not a FHIR instant"),
    ({"appointmentType": {"coding": "KET"}}, "a field has the wrong JSON type"),
    ({"minutesDuration": 10**15}, "minutesDuration is longer than a week"),
])
def test_one_bad_fhir_entry_fails_only_its_row(tmp_path: Path, cli: Any, change: dict[str, Any], message: str) -> None:
    """`"status": ["book", "ed"]` in entry 2: entry 2 fails with its number; entries 1 and 3 are written."""
    entries = [appointment(1, "Ada Test"), appointment(2, "Zed Bomb", **change), appointment(3, "Bob Sample")]
    result = batch(cli, bundle(tmp_path, entries), tmp_path, "--set", "iv-variable", "--duration", "1h")
    counts = observed("lists", result)
    assert result.code == 1, result.err
    assert f"entry 2: {message}" in result.err
    assert counts == {"rows read": 3, "handouts written": 2, "rows failed": 1, "rows skipped": 0}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [h["entry"] for h in manifest["handouts"]] == [1, 3]
    assert manifest["failed"][0]["entry"] == 2 and manifest["complete"] is True


def test_a_fhir_given_name_that_is_a_string_is_one_name(tmp_path: Path, cli: Any) -> None:
    patient = {"resource": {"resourceType": "Patient", "id": "p1", "name": [{"given": "Zoé", "family": "Exemple"}]}}
    entry = appointment(1, "")
    entry["resource"]["participant"] = [{"actor": {"reference": "Patient/p1"}}]
    result = cli("batch", str(bundle(tmp_path, [entry, patient])), *DAY, "--output-dir", str(tmp_path / "out"),
                 "--format", "json")
    observed("lists", result)
    assert result.code == 0, result.err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["handouts"][0]["patient"] == "Zoé Exemple"


# --- one row's failure is that row's -----------------------------------------------------------------


def clinic_with_template(tmp_path: Path, source: str, name: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / name).write_text(source, encoding="utf-8")
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text('name: "Test Clinic"\nphone: "613-555-0100"\ntemplates_dir: templates\n')
    return clinic


TEMPLATES = {
    "text": ("handout.txt.j2", "{% for h in handouts %}{% if h.patient == 'Zed Bomb' %}{{ h.nosuch }}{% endif %}"
             "{{ h.title }}\n{% endfor %}"),
    "html": ("handout.html.j2", "<html><body>{% for sheet in sheets %}{% for h in sheet.handouts %}"
             "{% if h.patient == 'Zed Bomb' %}{{ h.nosuch }}{% endif %}<h1>{{ h.title }}</h1>{% endfor %}"
             "{% endfor %}</body></html>"),
    "pdf": ("handout.typ.j2", "{% for sheet in sheets %}{% for h in sheet.handouts %}"
            "{% if h.patient == 'Zed Bomb' %}{{ h.nosuch }}{% endif %}{{ h.title }}\n{% endfor %}{% endfor %}"),
}


@pytest.mark.parametrize("fmt", ["text", "html", "pdf"])
def test_a_template_that_fails_for_one_patient_fails_only_that_row(tmp_path: Path, cli: Any, fmt: str) -> None:
    name, source = TEMPLATES[fmt]
    clinic = clinic_with_template(tmp_path, source, name)
    path = tmp_path / "list.csv"
    path.write_text("Patient,Start\nAda Test,9:00\nZed Bomb,10:00\nBob Sample,11:00\n")
    result = cli("batch", str(path), *DAY, "--output-dir", str(tmp_path / "out"), "--format", fmt, "--clinic", str(clinic))
    counts = observed("sets and templates", result)
    assert result.code == 1, result.err
    assert f"row 3: template {tmp_path / 'templates' / name}, line 1: uses \"nosuch\", which is not defined" in result.err
    assert counts == {"rows read": 3, "handouts written": 2, "rows failed": 1, "rows skipped": 0}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [h["row"] for h in manifest["handouts"]] == [2, 4]
    assert manifest["summary"] == {"rows": 3, "written": 2, "failed": 1, "skipped": 0}


def test_an_overflowing_duration_fails_only_its_row(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "list.csv"
    path.write_text("Patient,Start,Duration\nAda Test,9:00,1h\nZed Bomb,10:00,99999999999999h\nBob Sample,11:00,"
                    + "9" * 5000 + "m\n")
    result = batch(cli, path, tmp_path, "--set", "iv-variable")
    counts = observed("lists", result)
    assert result.code == 1, result.err
    assert counts == {"rows read": 3, "handouts written": 1, "rows failed": 2, "rows skipped": 0}
    assert "row 3: " in result.err and "row 4: " in result.err


# --- nothing silently lost or garbled ---------------------------------------------------------------------


def test_a_quote_that_swallows_the_rows_after_it_is_reported_where_it_opens(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "list.csv"
    path.write_text('Patient,Start\nAda Test,9:00\n"Bob Sample,10:00\nZoé Exemple,11:00\nCy Test,12:00\n')
    result = batch(cli, path, tmp_path)
    observed("lists", result)
    assert result.code == 2
    assert result.err.endswith(
        f"error: {path}: line 3: a quote (\") opens in this row and does not close, so the 2 line(s) after it would be "
        "read as one cell and their appointments lost; close the quote (or remove it) and run again\n")
    assert not (tmp_path / "out").exists()


def test_a_quoted_note_with_a_line_break_is_still_one_cell(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "list.csv"
    path.write_text('Patient,Start,Notes\nAda Test,9:00,"first line\nsecond line"\nBob Sample,10:00,\n')
    result = batch(cli, path, tmp_path)
    counts = observed("lists", result)
    assert result.code == 0, result.err
    assert counts == {"rows read": 2, "handouts written": 2, "rows failed": 0, "rows skipped": 0}


def test_a_utf8_file_with_one_bad_byte_is_refused_naming_its_line(tmp_path: Path, cli: Any) -> None:
    """Decoding it as Windows-1252 would print "ZoÃ© Exemple" with exit 0."""
    path = tmp_path / "list.csv"
    path.write_bytes("Patient,Start\nZoé Exemple,9:00\nAda Test,10:00\n".encode() + b"B\xe9a Test,11:00\n")
    result = batch(cli, path, tmp_path)
    observed("lists", result)
    assert result.code == 2
    assert f"error: {path}: line 4: a byte that is not UTF-8 in a file that is otherwise UTF-8" in result.err


def test_a_windows_1252_file_is_read_as_windows_1252(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("Patient,Start\nZoé Exemple,9:00\n".encode("cp1252"))
    result = batch(cli, path, tmp_path)
    observed("lists", result, names=[])
    assert result.code == 0, result.err
    assert "Patient: Zoé Exemple" in (tmp_path / "out" / "0900-zoe-exemple.txt").read_text()


# --- privacy in every message --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Ada Test,Tuesday,IV\nBob Sample,Wednesday,IM\n",
    "Zoé Exemple;Bob Sample\n",
    '{"name": "Ada Test"\n',
])
def test_a_list_without_a_header_never_quotes_its_first_row(tmp_path: Path, cli: Any, text: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(text)
    result = batch(cli, path, tmp_path)
    observed("privacy", result)
    assert result.code == 2
    assert any(words in result.err for words in ("not shown: the row may be a patient's", "looks like an appointment",
                                                 "not valid JSON"))


def test_known_column_names_are_still_shown(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "list.csv"
    path.write_text("Name,Status,Provider\nAda Test,booked,Dr X\n")
    result = batch(cli, path, tmp_path)
    observed("privacy", result)
    assert 'the header row has "Name", "Status", "Provider"' in result.err


# --- the output folder tells the truth ---------------------------------------------------------------------------


def test_a_rerun_marks_the_manifest_incomplete_before_replacing_anything(tmp_path: Path, cli: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "list.csv"
    path.write_text("Patient,Start\nAda Test,9:00\nBob Sample,10:00\n")
    first = batch(cli, path, tmp_path)
    assert first.code == 0
    manifest = tmp_path / "out" / "manifest.json"
    assert json.loads(manifest.read_text())["complete"] is True
    seen: list[Any] = []
    from ketaprep.batch import writer as writer_module

    original = writer_module.Writer.save

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(json.loads(manifest.read_text())["complete"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(writer_module.Writer, "save", spy)
    second = batch(cli, path, tmp_path)
    observed("output faults", second)
    assert second.code == 0
    assert seen == [False, False]  # while handouts were being replaced, the folder said so
    assert json.loads(manifest.read_text())["complete"] is True


def test_a_second_batch_into_a_folder_in_use_is_refused_at_once(tmp_path: Path, cli: Any) -> None:
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running batch holds
    try:
        path = tmp_path / "list.csv"
        path.write_text("Patient,Start\nAda Test,9:00\n")
        result = batch(cli, path, tmp_path)
    finally:
        os.close(fd)
    observed("output faults", result)
    assert result.code == 2
    assert result.err.endswith(f"error: {out}: another ketaprep batch is writing into this folder right now; "
                               "wait for it to finish, or choose another --output-dir\n")
    assert list(out.iterdir()) == []
    assert batch(cli, path, tmp_path).code == 0  # once the first is done, the folder is free


def test_an_escape_code_in_a_cell_never_reaches_the_terminal(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "list.csv"
    path.write_text("Patient,Start\nAda Test,\x1b[2J9:00\x07\nBob Sample,25:00" + "0" * 100 + "\n")
    result = batch(cli, path, tmp_path)
    observed("privacy", result)
    assert result.code == 1
    assert "\x1b" not in result.err and "\x07" not in result.err
    assert "row 2: start " in result.err and "row 3: start " in result.err
    assert max(len(line) for line in result.err.splitlines()) < 200
