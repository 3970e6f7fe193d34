"""A fuzz suite (issue 11): generated CSV, XLSX and FHIR lists, sets, clinic profiles and template
folders through the real command line. For every input: exit 0, 1 or 2; no traceback; no
"unexpected"; rows read = written + failed; nothing written outside the output folder; no name
from the input on stderr. Bounded (a fixed seed, a few dozen inputs each) so CI stays fast.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hostile_tally import observe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("KETAPREP_FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
NAMES = ["Quenby Zaxtor", "Yseult Warbrick", "Oriel Fennimore", "Zoé Quillfeather", "Ngaio Tresilian",
         "Bartholomew Okonkwo-Vance", "Ximena Larkspur"]
DAY = ("--date", "2026-11-24")
SUMMARY = r"^(rows read|handouts written|rows failed|rows skipped): (\d+)$"

# --- what every input is checked for --------------------------------------------------------------


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def run_and_check(capfd: Any, category: str, root: Path, args: list[str], out_dir: Path | None = None) -> None:
    """Run `ketaprep ARGS` in `root` (as the current folder) and assert what must hold for any input."""
    from ketaprep.cli import main

    before = _files(root)
    capfd.readouterr()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        os.chdir(cwd)
    raw_out, raw_err = capfd.readouterr()
    out, err = raw_out.decode("utf-8", "replace"), raw_err.decode("utf-8", "replace")
    counts = {key: int(value) for key, value in re.findall(SUMMARY, out, re.M)}
    rows = ((counts["rows read"], counts["handouts written"], counts["rows failed"], counts["rows skipped"])
            if len(counts) == 4 else None)
    stopped = "not written:" in out
    observe(category, code, err, names=NAMES, rows=None if stopped else rows)
    new = _files(root) - before
    allowed = str(out_dir.relative_to(root)) if out_dir is not None else None
    outside = sorted(n for n in new if allowed is None or not (n == allowed or n.startswith(allowed + os.sep)))
    assert not outside, f"written outside the output folder: {outside}"


# --- values -----------------------------------------------------------------------------------

times = st.sampled_from(["9:00", "09:30", "9am", "9:30 pm", "21:30", "13h30", "25:00", "", "noon", "9", "7:00 AM",
                         "12:00", "0:00", "23:59", "-1", "1e9", "9:00:00", "\x1b[31m9:00"])
dates = st.sampled_from(["2026-11-24", "2026-02-30", "24/11/2026", "11/24/2026", "", "tomorrow", "2026-11-24T09:00"])
junk = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
names = st.sampled_from(NAMES)
cells = st.one_of(names, times, dates, junk, st.sampled_from(['"', '""', "'", ",", ";", "\n", "\r\n", "=cmd|' /C calc'!A0",
                                                             "iv-pain-4h", "fr", "en+fr", "90m", "99999999999h"]))


# --- CSV ------------------------------------------------------------------------------------------

headers = st.sampled_from([["Patient", "Start"], ["Name", "Time", "Date"], ["Patient", "Date", "Start", "Set", "Lang"],
                           ["Status", "Patient Name", "Appointment Time", "Duration"], []])


@st.composite
def csv_lists(draw: Callable[..., Any]) -> bytes:
    header = draw(headers)
    width = max(len(header), draw(st.integers(1, 5)))
    rows = [header] if header else []
    rows += draw(st.lists(st.lists(cells, min_size=1, max_size=width), max_size=8))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    quote = draw(st.booleans())
    lines = []
    for row in rows:
        parts = [f'"{c}"' if quote and draw(st.booleans()) else c for c in row]
        lines.append(delimiter.join(parts))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    data = text.encode(encoding, "replace")
    if draw(st.booleans()):  # a stray byte, a NUL, a cut
        at = draw(st.integers(0, 2**20)) % (len(data) + 1)
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\x00", b"\xe9", b"\x81", b""])) + data[at:]
    return data


@FUZZ
@given(data=csv_lists())
def test_fuzz_csv_lists(capfdbinary: Any, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "list.csv").write_bytes(data)
        out = root / "out"
        run_and_check(capfdbinary, "lists", root, ["batch", "list.csv", *DAY, "--output-dir", "out", "--format", "text"], out)


# --- XLSX -----------------------------------------------------------------------------------------

xlsx_cells = st.one_of(cells, st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                       st.booleans(), st.dates(), st.times())


@st.composite
def xlsx_lists(draw: Callable[..., Any]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    header = draw(headers)
    if header:
        sheet.append(header)
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for row in draw(st.lists(st.lists(xlsx_cells, min_size=1, max_size=5), max_size=6)):
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    mutation = draw(st.sampled_from(["none", "none", "flip", "cut", "member"]))
    if mutation == "flip":
        at = draw(st.integers(0, 2**20)) % len(data)  # by proportion: the zip's size varies with its timestamp
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    elif mutation == "cut":
        data = data[: 4 + draw(st.integers(0, 2**20)) % (len(data) - 4)]
    elif mutation == "member":  # one member's XML replaced by something hostile
        source = zipfile.ZipFile(io.BytesIO(data))
        target_name = draw(st.sampled_from(source.namelist()))
        replacement = draw(st.sampled_from([b"", b"<", b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', b"\x00" * 10,
                                            b'<worksheet><dimension ref="A1:ZZZZZZ9999999999"/></worksheet>']))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as out:
            for item in source.namelist():
                out.writestr(item, replacement if item == target_name else source.read(item))
        data = buffer.getvalue()
    return data


@FUZZ
@given(data=xlsx_lists())
def test_fuzz_xlsx_lists(capfdbinary: Any, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "list.xlsx").write_bytes(data)
        run_and_check(capfdbinary, "lists", root, ["batch", "list.xlsx", *DAY, "--output-dir", "out", "--format", "text"],
                      root / "out")


# --- FHIR -----------------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**40), 10**40), st.floats(allow_nan=False), junk, names),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(junk, inner, max_size=3)),
    max_leaves=8,
)
FIELDS = ["status", "start", "end", "minutesDuration", "participant", "appointmentType", "serviceType", "resourceType"]


@st.composite
def fhir_lists(draw: Callable[..., Any]) -> bytes:
    entries = []
    for index in range(draw(st.integers(0, 4))):
        resource: dict[str, Any] = {
            "resourceType": "Appointment", "status": "booked", "start": f"2026-11-24T{9 + index:02d}:00:00-05:00",
            "participant": [{"actor": {"reference": f"Patient/p{index}", "display": draw(names)}}],
        }
        for field in draw(st.lists(st.sampled_from(FIELDS), max_size=2)):
            resource[field] = draw(json_values)
        entries.append({"resource": resource} if draw(st.integers(0, 9)) else draw(json_values))
    if draw(st.booleans()):
        entries.append({"resource": {"resourceType": "Patient", "id": "p0",
                                     "name": [{"given": draw(st.one_of(names, st.lists(names, max_size=2), json_values)),
                                               "family": draw(st.one_of(junk, json_values))}]}})
    bundle: Any = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    if draw(st.integers(0, 5)) == 0:
        bundle = draw(json_values)
    text = json.dumps(bundle, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 5)) == 0:
        text = text[: draw(st.integers(0, 2**20)) % (len(text) + 1)]
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8", "utf-16"])))


@FUZZ
@given(data=fhir_lists())
def test_fuzz_fhir_lists(capfdbinary: Any, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "list.json").write_bytes(data)
        run_and_check(capfdbinary, "lists", root, ["batch", "list.json", *DAY, "--output-dir", "out", "--format", "text",
                                                   "--set", "iv-variable", "--duration", "1h"], root / "out")


# --- sets and clinic profiles --------------------------------------------------------------------

yaml_values = st.one_of(
    json_values, st.sampled_from(["8h", "99999999999999999999", "9" * 5000, "!!python/object:os.system", "&a [*a]",
                                  "{{ 'a' * 10**10 }}", "{{ lipsum.__globals__ }}", "\x00", "07:00", "-1h", "0m"]),
)


def _mutate(data: dict[str, Any], draw: Callable[..., Any]) -> dict[str, Any]:
    """A copy of `data` with a few values, at any depth, replaced by generated ones."""
    data = json.loads(json.dumps(data))
    for _ in range(draw(st.integers(1, 3))):
        node: Any = data
        path = []
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            path.append((node, key))
            node = node[key]
        if path:
            parent, key = path[-1]
            parent[key] = draw(yaml_values)
        else:
            data[draw(st.sampled_from(["id", "extends", "sections", "nosuch", "languages"]))] = draw(yaml_values)
    return data


def _yaml_text(data: Any, draw: Callable[..., Any]) -> bytes:
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        text = str(data)
    if draw(st.integers(0, 4)) == 0:  # raw text the dumper would never write
        text += draw(st.sampled_from(["\nx: !!python/name:os.system\n", "\n\x00\n", "\na: &a [*a, *a]\n", "\n\t- bad\n",
                                      "\nid: [" * 3000, "\ncontact: {en: '{{ 9 ** 9 ** 9 ** 9 }}'}\n"]))
    return text.encode("utf-8", "surrogateescape")


@st.composite
def set_files(draw: Callable[..., Any]) -> bytes:
    from ketaprep.loader import SetLibrary

    base = yaml.safe_load(SetLibrary().resolve("iv-pain-4h").read_text(encoding="utf-8"))
    base["id"] = "fuzz-set"
    return _yaml_text(_mutate(base, draw), draw)


@FUZZ
@given(data=set_files())
def test_fuzz_set_files(capfdbinary: Any, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "fuzz-set.yaml").write_bytes(data)
        run_and_check(capfdbinary, "sets and templates", root, ["check", "fuzz-set.yaml"])
        run_and_check(capfdbinary, "sets and templates", root,
                      ["render", "--start", "9:00", *DAY, "--set", "fuzz-set.yaml", "--format", "text",
                       "--patient", NAMES[0], "--output", "out.txt"], root / "out.txt")


CLINIC = {"name": "Fuzz Clinic", "phone": "613-555-0100", "timezone": "America/Toronto", "default_set": "iv-pain-4h",
          "lang": "en", "clock": 12, "alarm_minutes": 30, "appointment_types": {"KET": "iv-pain-4h"}}


@st.composite
def clinic_files(draw: Callable[..., Any]) -> bytes:
    return _yaml_text(_mutate(CLINIC, draw), draw)


@FUZZ
@given(data=clinic_files())
def test_fuzz_clinic_profiles(capfdbinary: Any, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "clinic.yaml").write_bytes(data)
        run_and_check(capfdbinary, "sets and templates", root, ["check", "--clinic", "clinic.yaml", "clinic.yaml"])
        run_and_check(capfdbinary, "sets and templates", root,
                      ["render", "--start", "9:00", *DAY, "--clinic", "clinic.yaml", "--format", "ics",
                       "--patient", NAMES[1], "--output", "out.ics"], root / "out.ics")


# --- templates folders ---------------------------------------------------------------------------

FRAGMENTS = [
    "{% for h in handouts %}", "{% endfor %}", "{{ h.patient }}", "{{ h.title }}", "{{ h.nosuch }}", "{{ h.patient + 1 }}",
    "{{ h[h.patient] }}", "{% if h.patient == 'Quenby Zaxtor' %}{{ 1/0 }}{% endif %}", "{{ lipsum.__globals__ }}",
    "{{ ''.__class__.__mro__ }}", "{{ 'a' * 10**10 }}", "{% for i in range(100000) %}{% for j in range(100000) %}"
    "{% endfor %}{% endfor %}", "{% include 'handout.txt.j2' %}", "{% include '../../etc/passwd' %}", "{{",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ h.patient|center(10**9) }}", "plain text\n", "{# note #}",
    "{{ self.__dict__ }}", "{% extends 'handout.txt.j2' %}", "{{ h.gettext('Phone') }}",
]


@st.composite
def template_folders(draw: Callable[..., Any]) -> list[tuple[str, bytes]]:
    files = []
    for name in draw(st.lists(st.sampled_from(["handout.txt.j2", "other.j2", "handout.html.j2"]), min_size=1, max_size=2,
                              unique=True)):
        source = "".join(draw(st.lists(st.sampled_from(FRAGMENTS), max_size=6)))
        data = source.encode()
        if draw(st.integers(0, 6)) == 0:
            data += b"\xe9\xff"
        files.append((name, data))
    return files


@FUZZ
@given(files=template_folders(), link=st.booleans())
def test_fuzz_template_folders(capfdbinary: Any, files: list[tuple[str, bytes]], link: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        templates = root / "templates"
        templates.mkdir()
        for name, data in files:
            (templates / name).write_bytes(data)
        if link:
            (templates / "linked.j2").symlink_to("/etc/hostname")
        (root / "clinic.yaml").write_text("name: Fuzz Clinic\nphone: 613-555-0100\ntemplates_dir: templates\n")
        run_and_check(capfdbinary, "sets and templates", root, ["check", "templates"])
        for fmt in ("text", "html"):
            run_and_check(capfdbinary, "sets and templates", root,
                          ["render", "--start", "9:00", *DAY, "--clinic", "clinic.yaml", "--format", fmt,
                           "--patient", NAMES[0], "--output", f"out.{fmt}"], root / f"out.{fmt}")
