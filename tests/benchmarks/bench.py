"""ketaprep's performance bars (PRODUCT.md, "Performance bars"), measured: a script, not a test.

README line:  /tmp/kv/bin/python tests/benchmarks/bench.py [--runs N] [--only NAME ...] [--list]

Each benchmark prints the median of N runs (after one warm-up run), the ratio to a bare
`python -c pass` measured in the same run (so slow and fast machines can be compared), the
target, and OK or OVER. For processes, the CPU time (user + system) and peak memory (the
process's own maximum resident set) come from os.wait4; on a busy machine the CPU time is
the steadier figure, but the bars are on wall time. Exit status: 0 all measured benchmarks within target, 1 if
any is over (a skipped one counts as neither).

pytest never collects this file (its name does not match `test_*.py` or `*_test.py`).
The console script is the one in the same environment as `sys.executable`.

Adding a benchmark: write a function taking `Context` and returning a list of `Row`s (or
raising `Skip("why")`), and decorate it with `@benchmark("name")`. See "Batch benchmarks"
below for the ones the batch work adds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
KETAPREP = BIN / "ketaprep"
DAY = "2026-11-24"
EPOCH = "1795000000"


class Skip(Exception):
    """A benchmark that cannot run here (missing writer, tool, ...); the message says why."""


@dataclass
class Row:
    name: str
    median: float  # seconds
    target: float | None = None  # seconds; None = no bar, just a figure
    ratio_to: str = "python -c pass"  # which baseline `ratio` divides by
    baseline: float | None = None  # seconds of that baseline; None = the run's `python -c pass`
    peak_mb: float | None = None
    cpu: float | None = None  # seconds of user + system CPU (less sensitive than wall time to a busy machine)
    peak_target_mb: float | None = None
    note: str = ""

    @property
    def over(self) -> bool:
        late = self.target is not None and self.median > self.target
        heavy = self.peak_target_mb is not None and self.peak_mb is not None and self.peak_mb > self.peak_target_mb
        return late or heavy


@dataclass
class Context:
    runs: int
    tmp: Path
    env: dict[str, str]
    _python_pass: float | None = field(default=None, repr=False)

    def python_pass(self) -> float:
        """The baseline: median wall time of a bare `python -c pass` (measured once per run)."""
        if self._python_pass is None:
            self._python_pass = median_process([sys.executable, "-c", "pass"], self).seconds
        return self._python_pass


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    cpu: float
    tree_mb: float | None = None  # the process and its children together (sampled), when asked


BENCHMARKS: dict[str, Callable[[Context], list[Row]]] = {}


def benchmark(name: str) -> Callable[[Callable[[Context], list[Row]]], Callable[[Context], list[Row]]]:
    def register(fn: Callable[[Context], list[Row]]) -> Callable[[Context], list[Row]]:
        BENCHMARKS[name] = fn
        return fn

    return register


# --- measuring helpers ---------------------------------------------------------------------------


def tree_pss_mb(root: int) -> float:
    """The proportional set size (shared pages divided among their users) of a process and all
    its descendants (a batch's PDF workers), in MB: what they hold together at this moment."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
            except (OSError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(more)
        tree |= more
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def spawn(argv: Sequence[str], ctx: Context, env: dict[str, str] | None = None, tree: bool = False) -> Measure:
    """One process: wall time and its own peak resident memory (Linux: ru_maxrss in KiB, the
    largest of the process and its children). With `tree`, the peak of the whole process tree's
    memory together is sampled too (every 100 ms, from /proc; it costs the run a little CPU)."""
    import threading

    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (argv is fixed by this script)
        list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or ctx.env, cwd=ctx.tmp
    )
    assert process.stderr is not None
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], tree_pss_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True) if tree else None
    if sampler:
        sampler.start()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    if sampler:
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode != 0:
        raise Skip(f"`{' '.join(argv[:3])} ...` exited {process.returncode}: {err.decode(errors='replace').strip()[:200]}")
    return Measure(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, peak[0] or None)


def median_process(argv: Sequence[str], ctx: Context) -> Measure:
    """Median wall time and highest peak memory of N runs after one warm-up."""
    spawn(argv, ctx)
    measures = [spawn(argv, ctx) for _ in range(ctx.runs)]
    return Measure(
        statistics.median(m.seconds for m in measures),
        max(m.peak_mb for m in measures),
        statistics.median(m.cpu for m in measures),
    )


def median_call(fn: Callable[[], Any], runs: int) -> float:
    """Median wall time of N in-process calls after one warm-up."""
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def ketaprep(*args: str) -> list[str]:
    if not KETAPREP.exists():
        raise Skip(f"{KETAPREP} not found: install ketaprep in the environment of {sys.executable}")
    return [str(KETAPREP), *args]


def sheets(count: int, lang: str = "en") -> list[Any]:
    """`count` synthetic patients on iv-pain-4h, 07:00 to 14:00 on DAY."""
    import datetime as dt

    from ketaprep.loader import SetLibrary
    from ketaprep.sheet import make_sheet
    from ketaprep.timeline import Appointment

    loaded = SetLibrary().load("iv-pain-4h")
    day = dt.date.fromisoformat(DAY)
    out = []
    for n in range(count):
        start = dt.time(7 + n % 8, 15 * (n % 4)) if n % 8 < 7 else dt.time(14)
        out.append(make_sheet(loaded, Appointment(day, start, patient=f"Test Patient {n:05d}"), None, lang, None, day))
    return out


def pdf_writer() -> Callable[[list[Any]], bytes]:
    """`sheet.write("pdf", ...)`, or Skip when the PDF writer is missing or fails."""
    if not (REPO / "ketaprep" / "formats" / "pdf_format.py").exists():
        raise Skip("ketaprep/formats/pdf_format.py is missing")
    from ketaprep.sheet import Options, write

    def render(batch: list[Any]) -> bytes:
        return write("pdf", batch, Options())

    try:
        data = render(sheets(1))
    except Exception as exc:  # any failure of a writer under construction: report it, measure the rest
        raise Skip(f"the PDF writer fails: {type(exc).__name__}: {exc}") from exc
    if not data.startswith(b"%PDF"):
        raise Skip("the PDF writer does not return a PDF")
    return render


# --- command-line start-up (PRODUCT.md: --help < 0.2 s, render --format text < 0.4 s) -------------


@benchmark("baseline")
def bench_baseline(ctx: Context) -> list[Row]:
    m = median_process([sys.executable, "-c", "pass"], ctx)
    return [Row("python -c pass", ctx.python_pass(), peak_mb=m.peak_mb, cpu=m.cpu)]


@benchmark("help")
def bench_help(ctx: Context) -> list[Row]:
    m = median_process(ketaprep("--help"), ctx)
    return [Row("ketaprep --help (process)", m.seconds, target=0.2, peak_mb=m.peak_mb, cpu=m.cpu)]


@benchmark("render-text")
def bench_render_text(ctx: Context) -> list[Row]:
    m = median_process(ketaprep("render", "--start", "09:00", "--date", DAY, "--format", "text"), ctx)
    return [Row("ketaprep render --format text (process)", m.seconds, target=0.4, peak_mb=m.peak_mb, cpu=m.cpu)]


# --- PDF --------------------------------------------------------------------------------------------


@benchmark("pdf-process")
def bench_pdf_process(ctx: Context) -> list[Row]:
    pdf_writer()  # skip early, with the reason, if the writer is not there yet
    out = ctx.tmp / "handout.pdf"
    m = median_process(ketaprep("render", "--start", "09:00", "--date", DAY, "--format", "pdf", "--output", str(out)), ctx)
    return [Row("ketaprep render --format pdf (process)", m.seconds, peak_mb=m.peak_mb, cpu=m.cpu)]


@benchmark("pdf-one")
def bench_pdf_one(ctx: Context) -> list[Row]:
    render = pdf_writer()
    one = sheets(1)
    return [Row("1 handout to PDF (in-process)", median_call(lambda: render(one), ctx.runs))]


@benchmark("pdf-100")
def bench_pdf_100(ctx: Context) -> list[Row]:
    render = pdf_writer()
    many = sheets(100)
    runs = max(1, min(ctx.runs, 3))
    separate = median_call(lambda: [render([sheet]) for sheet in many], runs)
    combined = median_call(lambda: render(many), runs)
    return [
        Row("100 handouts to PDF, one file each (in-process)", separate, note=f"{separate / 100 * 1000:.1f} ms each"),
        Row("100 handouts to one combined PDF (in-process)", combined),
    ]


# --- Batch benchmarks ------------------------------------------------------------------------------
# HOOK LIST for the batch work (issue 4 point 6). Add each as a `@benchmark("NAME")` function
# here, using the helpers above: `spawn`/`median_process` give a process's wall time and peak
# memory (the memory bars are about the process), `median_call` times in-process calls, and a
# second `Row(..., ratio_to="plain Jinja loop", baseline=seconds)` reports the ratio to a plain
# loop rendering the same Jinja template 1,000 times with the same data.
#   batch-html       1,000 patients to one combined HTML        < 2 s
#   batch-pdf        1,000 patients to one combined PDF         < 10 s, peak memory < 500 MB
#   batch-html-flat  10,000 rows to HTML: memory flat (streamed) < 200 MB
# -----------------------------------------------------------------------------------------------------


def day_list(ctx: Context, rows: int) -> Path:
    """A CSV day list as an EMR exports it: "Last, First" names, 12 h times, extra columns."""
    path = ctx.tmp / f"day-{rows}.csv"
    if not path.exists():
        lines = ["Appointment Date,Time,Patient,Provider,Notes"]
        for n in range(rows):
            hour, minute = 7 + n % 8 if n % 8 < 7 else 14, 15 * (n % 4) if n % 8 < 7 else 0
            clock = f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"
            lines.append(f'{DAY},{clock},"Patient {n:05d}, Test",Dr. Example,')
        path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def jinja_floor(count: int) -> float:
    """The floor: a plain loop rendering the HTML handout template `count` times, sheets prepared
    (through the writer's own `chunks`, so the template gets the context it needs)."""
    from ketaprep.formats.html_format import chunks
    from ketaprep.sheet import Options

    prepared = sheets(count)
    options = Options()

    def loop() -> None:
        for sheet in prepared:
            "".join(chunks([sheet], options))

    return median_call(loop, 3)


def batch_rows(ctx: Context, fmt: str, rows: int, target: float | None, peak_target: float | None) -> list[Row]:
    listed = day_list(ctx, rows)
    out = ctx.tmp / f"out-{fmt}-{rows}"
    runs = ctx.runs if rows <= 1000 and fmt == "html" else max(1, min(ctx.runs, 3))
    argv = ketaprep("batch", str(listed), "--format", fmt, "--output-dir", str(out))
    spawn(argv, ctx)
    measures = [spawn(argv, ctx) for _ in range(runs)]
    m = Measure(
        statistics.median(x.seconds for x in measures),
        max(x.peak_mb for x in measures),
        statistics.median(x.cpu for x in measures),
    )
    written = len(list(out.glob(f"*.{fmt}"))) - 1
    name = f"batch {rows:,} rows to {fmt} (process)"
    return [Row(name, m.seconds, target=target, peak_mb=m.peak_mb, cpu=m.cpu, peak_target_mb=peak_target,
                note=f"{written} files + combined, {m.seconds / rows * 1000:.2f} ms/row")]


@benchmark("batch-html")
def bench_batch_html(ctx: Context) -> list[Row]:
    rows = batch_rows(ctx, "html", 1000, 2.0, None)
    floor = jinja_floor(1000)
    rows.append(Row("  same, against the plain Jinja loop (1,000 renders)", rows[0].median,
                    ratio_to="plain Jinja loop", baseline=floor, note=f"loop {floor * 1000:.0f} ms"))
    return rows


TYPST_FLOOR = """
import sys, typst
patients = int(sys.argv[1])
page = "\\n".join(f"- Line {n} of a plain page of thirty bullet lines" for n in range(1, 31))
body = "\\n#pagebreak()\\n".join(page for _ in range(2 * patients))
typst.compile(("#set page(paper: \\"us-letter\\")\\n" + body).encode(), format="pdf")
"""


def typst_floor(ctx: Context, patients: int) -> Measure:
    """Issue 12's floor: one bare Typst compile, in one process, of a plain document of two pages
    of 30 bullet lines per patient (the process's wall time, Python start included as in a batch)."""
    argv = [sys.executable, "-c", TYPST_FLOOR, str(patients)]
    measures = [spawn(argv, ctx) for _ in range(max(1, min(ctx.runs, 3)))]
    return Measure(statistics.median(x.seconds for x in measures), max(x.peak_mb for x in measures),
                   statistics.median(x.cpu for x in measures))


def batch_pdf(ctx: Context, rows: int, workers: str | None) -> Measure:
    """`batch` of `rows` to PDF (every patient's file tagged, PDF/UA-1): median time of the runs,
    the peak of the main process alone, and (from one more run, sampled) of all its processes
    together."""
    listed = day_list(ctx, rows)
    out = ctx.tmp / f"out-pdf-{rows}-{workers}"
    argv = ketaprep("batch", str(listed), "--format", "pdf", "--output-dir", str(out))
    env = dict(ctx.env)
    env.pop("KETAPREP_PDF_WORKERS", None)
    if workers is not None:
        env["KETAPREP_PDF_WORKERS"] = workers
    spawn(argv, ctx, env)
    measures = [spawn(argv, ctx, env) for _ in range(max(1, min(ctx.runs, 3)))]
    memory = spawn(argv, ctx, env, tree=True)  # a run of its own: sampling /proc costs CPU time
    written = len(list(out.glob("*.pdf"))) - 1
    if written != rows:
        raise Skip(f"the batch wrote {written} PDFs of {rows}")
    return Measure(statistics.median(m.seconds for m in measures), max(m.peak_mb for m in [*measures, memory]),
                   statistics.median(m.cpu for m in measures), memory.tree_mb)


@benchmark("batch-pdf")
def bench_batch_pdf(ctx: Context) -> list[Row]:
    """Issue 12: 1,000 patients to PDF, each patient's file tagged and compiled on its own across
    processes, against one bare Typst compile of 2,000 plain pages in one process, timed in the
    same run; and against the same batch on one core (KETAPREP_PDF_WORKERS=0)."""
    pdf_writer()
    cores = len(os.sched_getaffinity(0))
    every = batch_pdf(ctx, 1000, None)
    one = batch_pdf(ctx, 1000, "0")
    bare = typst_floor(ctx, 1000)
    alone = main_alone(ctx, 1000)
    name = "batch 1,000 rows to pdf, tagged (process)"
    return [
        Row(name, every.seconds, target=6.0, cpu=every.cpu, peak_mb=every.tree_mb, peak_target_mb=500,
            note=f"{cores} cores; peak of all its processes together (PSS); largest single process {every.peak_mb:.0f} MB"),
        Row("  same on one core (KETAPREP_PDF_WORKERS=0)", one.seconds, cpu=one.cpu, peak_mb=one.tree_mb,
            note=f"speed-up with {cores} cores: x{one.seconds / every.seconds:.2f}"),
        Row("bare Typst compile, 2,000 plain pages (process)", bare.seconds, peak_mb=bare.peak_mb, cpu=bare.cpu,
            note="issue 12's floor: two pages of 30 bullet lines per patient"),
        Row("  batch 1,000 to pdf, against the bare Typst floor", every.seconds, target=bare.seconds,
            ratio_to="bare Typst 2,000 pages", baseline=bare.seconds,
            note=f"target: the floor; load {os.getloadavg()[0]:.1f}"),
        Row("  its main process alone (Typst compiles replaced)", alone.seconds, cpu=alone.cpu,
            ratio_to="bare Typst 2,000 pages", baseline=bare.seconds,
            note="the least any number of cores can bring the batch to"),
    ]


def main_alone(ctx: Context, rows: int) -> Measure:
    """The batch's main process on its own: each patient's Typst compile replaced by one fixed
    PDF (tests/benchmarks/main_only.py), the print file put together as on several cores."""
    listed = day_list(ctx, rows)
    one = ctx.tmp / "out-pdf-1000-None"
    sample = next((p for p in sorted(one.glob("*.pdf")) if p.name != "handouts.pdf"), None)
    if sample is None:
        raise Skip("no patient PDF to stand in for the compiles")
    out = ctx.tmp / "out-pdf-main-alone"
    argv = [sys.executable, str(Path(__file__).with_name("main_only.py")), str(sample), "batch", str(listed),
            "--format", "pdf", "--output-dir", str(out)]
    spawn(argv, ctx)
    measures = [spawn(argv, ctx) for _ in range(max(1, min(ctx.runs, 3)))]
    return Measure(statistics.median(m.seconds for m in measures), max(m.peak_mb for m in measures),
                   statistics.median(m.cpu for m in measures))


@benchmark("batch-html-flat")
def bench_batch_html_flat(ctx: Context) -> list[Row]:
    small = batch_rows(ctx, "html", 1000, None, None)[0]
    large = batch_rows(ctx, "html", 10_000, None, 200)[0]
    floor = jinja_floor(1000) * 10
    large.note += f"; peak at 1,000 rows {small.peak_mb:.0f} MB (flat: the same within a few MB)"
    return [large, Row("  same, against the plain Jinja loop (10,000 renders)", large.median,
                       ratio_to="plain Jinja loop", baseline=floor, note=f"loop {floor * 1000:.0f} ms")]


# --- ketaprep serve (PRODUCT.md: a single sheet shown in under 100 ms median at the server) ------------


class _Served:
    """`ketaprep serve --port 0` in a subprocess, with one keep-alive connection holding its cookie."""

    def __init__(self, ctx: Context) -> None:
        import http.client
        import re
        import urllib.parse

        self.process = subprocess.Popen(  # noqa: S603 (argv is fixed by this script)
            ketaprep("serve", "--port", "0"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=ctx.env, cwd=ctx.tmp,
        )
        assert self.process.stdout is not None
        url = ""
        for line in self.process.stdout:
            if line.startswith("http://"):
                url = line.strip()
                break
        if not url:
            raise Skip("ketaprep serve printed no address")
        parts = urllib.parse.urlsplit(url)
        self.port = int(parts.port or 0)
        self.host = f"127.0.0.1:{self.port}"
        self.cookie = f"ketaprep_{self.port}={urllib.parse.parse_qs(parts.query)['token'][0]}"
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for _ in range(100):
            try:
                page = self.get("/").decode()
                break
            except OSError:
                time.sleep(0.05)
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found
        self.csrf = found.group(1)

    def _send(self, method: str, path: str, body: bytes | None, content_type: str | None) -> bytes:
        import socket

        if self.connection.sock is None:  # no Nagle delay: a browser sends its request at once too
            self.connection.connect()
            self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        headers = {"Host": self.host, "Cookie": self.cookie}
        if method == "POST":
            headers["Origin"] = f"http://{self.host}"
        if content_type:
            headers["Content-Type"] = content_type
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise Skip(f"{method} {path} answered {response.status}")
        return data

    def get(self, path: str) -> bytes:
        return self._send("GET", path, None, None)

    def post(self, path: str, fields: dict[str, str]) -> bytes:
        import urllib.parse

        body = urllib.parse.urlencode({"csrf": self.csrf, **fields}).encode()
        return self._send("POST", path, body, "application/x-www-form-urlencoded")

    def upload(self, path: str, name: str, data: bytes) -> bytes:
        boundary = "ketaprep-bench-boundary"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{self.csrf}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="list"; filename="{name}"\r\n'
                "Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        return self._send("POST", path, body, f"multipart/form-data; boundary={boundary}")

    def close(self) -> None:
        import signal

        self.connection.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@benchmark("serve")
def bench_serve(ctx: Context) -> list[Row]:
    served = _Served(ctx)
    try:
        fields = {"patient": "Test Patient", "date": DAY, "start": "9:00", "set": "iv-pain-4h", "lang": "en",
                  "paper": "letter"}
        if b"handout-frame" not in served.post("/", fields):
            raise Skip("Show handout gave no handout")
        runs = max(ctx.runs, 20)
        bare = median_call(lambda: served.get("/static/form.css"), runs)
        shown = median_call(lambda: served.post("/", fields), runs)
        rows = 200
        listed = day_list(ctx, rows).read_bytes()
        page = served.upload("/list", "day.csv", listed)
        if f"Rows read: {rows}</strong>".encode() not in page:
            raise Skip("the 200-row list was not checked")
        checked = median_call(lambda: served.upload("/list", "day.csv", listed), max(1, min(ctx.runs, 5)))
    finally:
        served.close()
    return [
        Row("serve: a bare request (GET /static/form.css)", bare),
        Row('serve: "Show handout", one sheet (POST /)', shown, target=0.1, ratio_to="bare request", baseline=bare,
            note=f"{(shown - bare) * 1000:.1f} ms more than the bare request"),
        Row(f"serve: a {rows}-row list checked and shown (POST /list)", checked, target=2.0),
    ]


def _print(rows: list[Row], ctx: Context) -> None:
    base = ctx.python_pass()
    for row in rows:
        baseline = row.baseline if row.baseline is not None else base
        parts = [f"{row.name:<52} {row.median * 1000:9.1f} ms", f"x{row.median / baseline:6.2f} {row.ratio_to}"]
        if row.target is not None:
            parts.append(f"target < {row.target * 1000:.0f} ms")
        if row.cpu is not None:
            parts.append(f"cpu {row.cpu * 1000:.0f} ms")
        if row.peak_mb is not None:
            parts.append(f"peak {row.peak_mb:.0f} MB" + (f" (< {row.peak_target_mb:.0f})" if row.peak_target_mb else ""))
        if row.note:
            parts.append(row.note)
        if row.target is not None or row.peak_target_mb is not None:
            parts.append("OVER" if row.over else "OK")
        print("  ".join(parts), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per benchmark (median; default 7)")
    parser.add_argument("--only", action="append", metavar="NAME", choices=sorted(BENCHMARKS), help="run only NAME (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--no-header", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0
    header = f"python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} CPUs, median of {args.runs} runs"
    if not args.only or len(args.only) > 1:
        # Each benchmark in a fresh bench process: Linux keeps a process's peak memory across
        # exec, so a child started after an in-process benchmark had grown this process would
        # report this process's peak as its own.
        print(header, flush=True)
        status = 0
        for name in BENCHMARKS:
            if args.only and name not in args.only:
                continue
            done = subprocess.run(  # noqa: S603
                [sys.executable, __file__, "--only", name, "--runs", str(args.runs), "--no-header"], check=False
            )
            status = max(status, done.returncode)
        return status
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "NO_COLOR": "1"}
    # PYTHONDONTWRITEBYTECODE would make every process compile ketaprep from source again;
    # an installed package has its .pyc files, so the warm-up run writes them here too.
    for name in ("KETAPREP_CLINIC", "KETAPREP_SETS", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    os.environ.update({"SOURCE_DATE_EPOCH": EPOCH})
    if not args.no_header:
        print(header)
    over = False
    with tempfile.TemporaryDirectory(prefix="ketaprep-bench-") as tmp:
        ctx = Context(runs=max(1, args.runs), tmp=Path(tmp), env=env)
        for name, fn in BENCHMARKS.items():
            if args.only and name not in args.only:
                continue
            try:
                rows = fn(ctx)
            except Skip as why:
                print(f"skip {name}: {why}", flush=True)
                continue
            _print(rows, ctx)
            over = over or any(row.over for row in rows)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
