"""Pass 2 of a batch: the good rows written in appointment order, one file per patient,
streamed, with the combined print file (html, pdf) and `manifest.json` built alongside.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import IO

from ketaprep.batch.atomic import DiskError, Folder
from ketaprep.batch.check import Checked
from ketaprep.batch.manifest import MANIFEST, Manifest
from ketaprep.batch.request import Entry, Failure, Outcome, Reporter, Request
from ketaprep.batch.sets import SetCache
from ketaprep.batch.signals import Stopped, checkpoint, signals_deferred
from ketaprep.batch.writer import Writer
from ketaprep.errors import KetaprepError
from ketaprep.sheet import Format, Options, Sheet
from ketaprep.slug import UniqueNames, slug

EXTENSIONS: dict[str, str] = {"html": "html", "pdf": "pdf", "text": "txt", "json": "json", "ics": "ics", "terminal": "txt"}
COMBINED = {"html": "handouts.html", "pdf": "handouts.pdf"}


def default_output_dir(entries: list[Entry], request: Request) -> Path:
    days = sorted({e.appointment.date for e in entries})
    day = days[0] if days else (request.date or request.today)
    return Path(f"handouts-{day.isoformat()}")


def assign_names(entries: list[Entry]) -> None:
    """Appointment order; file stems from the time and name, unique even for the same name."""
    entries.sort(key=lambda e: (e.instant, e.number))
    several_days = len({e.appointment.date for e in entries}) > 1
    names = UniqueNames()
    for entry in entries:
        stem = slug(entry.appointment.start, entry.patient, entry.appointment.date if several_days else None)
        entry.stem = names.claim(stem)


def combined_title(request: Request, entries: list[Entry]) -> str:
    """The print file's title: the list's file name and its day ("Handouts to print: today.csv,
    Tuesday 24 November 2026"), in the list's default language, never a patient's set title."""
    from ketaprep.i18n import translations
    from ketaprep.sheet import languages
    from ketaprep.timefmt import long_date

    lang = (languages(request.default_lang) or ["en"])[0]
    _ = translations(lang).gettext
    days = sorted({entry.appointment.date for entry in entries})
    when = long_date(days[0], lang) if len(days) == 1 else f"{long_date(days[0], lang)} – {long_date(days[-1], lang)}"
    return str(_("Handouts to print: {list}, {date}")).format(list=request.list_path.name, date=when)


def write_all(checked: Checked, request: Request, reporter: Reporter) -> Outcome:
    """Pass 2: write each good row's file, the print file and the manifest."""
    entries = checked.entries
    assign_names(entries)
    folder = Folder(request.output_dir or default_output_dir(entries, request))
    outcome = Outcome(checked.rows, 0, list(checked.failures), folder.path, planned=len(entries),
                      skipped=list(checked.skipped), pending=[(e.number, e.where) for e in entries])
    folder.prepare()
    sets = checked.sets

    def builder(entry: Entry) -> Sheet:
        return sets.sheet(entry, request)

    manifest = Manifest(folder, request, checked.fhir)
    extension = EXTENSIONS[request.fmt]
    reporter.start(len(entries))

    def wrote(entry: Entry, name: str, data: bytes, sheet: Sheet) -> None:
        outcome.written += 1  # the file is complete under its name, whatever happens to the manifest
        outcome.files.append(name)
        outcome.handouts.append((entry.number, entry.where, name))
        reporter.advance()
        manifest.add(entry, name, data, sheet)

    def failed(entry: Entry, exc: KetaprepError) -> None:
        failure = Failure(entry.number, entry.where, exc.message)
        outcome.failures.append(failure)
        reporter.problem(str(failure))
        reporter.advance()

    writer = Writer(folder, wrote)
    try:
        try:
            title = combined_title(request, entries)
            if request.fmt == "pdf":
                _write_pdf(entries, builder, folder, request.options, writer, failed, outcome, title, sets)
            elif request.fmt == "html":
                _write_html(entries, builder, folder, request.options, writer, failed, outcome, title, sets)
            else:  # text, json, ics: no print file
                for _sheet in _write_each(entries, builder, request.fmt, request.options, extension, writer, failed):
                    pass
            writer.flush()
        finally:
            reporter.finish()
    except (KeyboardInterrupt, DiskError) as exc:
        with signals_deferred():
            writer.cancel()
            if isinstance(exc, DiskError):
                outcome.stopped = exc.message
            else:
                outcome.signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
                outcome.stopped = "stopped by " + ("SIGTERM" if outcome.signum == signal.SIGTERM else "Ctrl-C")
            try:
                manifest.close(outcome)
                outcome.manifest = folder.path / MANIFEST
            except (DiskError, OSError):
                manifest.abandon()
            folder.clean()
        return outcome
    with signals_deferred():
        try:
            manifest.close(outcome)
            outcome.manifest = folder.path / MANIFEST
        except DiskError as exc:
            manifest.abandon()
            outcome.stopped = exc.message
        folder.clean()
    _note_leftovers(folder.path, outcome, extension, reporter)
    return outcome


def _write_each(
    entries: list[Entry],
    builder: Callable[[Entry], Sheet],
    fmt: Format,
    options: Options,
    extension: str,
    writer: Writer,
    failed: Callable[[Entry, KetaprepError], None],
) -> Iterator[Sheet]:
    """Write each patient's file; yield the sheet so the print file is built from the same work."""
    from ketaprep.sheet import write

    for entry in entries:
        try:
            sheet = builder(entry)
            data = write(fmt, [sheet], options)
        except KetaprepError as exc:  # checked in pass 1; kept so the summary still balances
            failed(entry, exc)
            continue
        writer.save(entry, f"{entry.stem}.{extension}", data, sheet)
        yield sheet


def _write_combined_html(
    sheets: Iterator[Sheet], folder: Folder, options: Options, name: str, writer: Writer, outcome: Outcome
) -> None:
    from ketaprep.formats.html_format import chunks

    first = next(sheets, None)
    if first is None:
        return
    with folder.open(name, sync=True) as handle:
        for piece in chunks(_chain(first, sheets), options):
            handle.write(piece.encode("utf-8"))
        writer.flush()  # every patient's file first: the print file is the last to appear
    outcome.combined = folder.path / name


def splices(entries: list[Entry], builder: Callable[[Entry], Sheet], options: Options, combined: Options) -> bool:
    """Can the print file be put together from each patient's own rendering? True for the
    built-in template; checked here on the first two sheets against the real combined file
    (`combined`: the print file's options, its own title)."""
    from ketaprep.formats.html_format import chunks, parts

    if len(entries) < 2:
        return True
    try:
        first, second = builder(entries[0]), builder(entries[1])
        _own_head, body, tail = parts(first, options)
        _head, second_body, _tail = parts(second, options)
        head = parts(first, combined)[0]
        return head + body + second_body + tail == "".join(chunks([first, second], combined))
    except Exception:  # a template that cannot be split: the plain way will show what is wrong, if anything
        return False


def _write_html(
    entries: list[Entry],
    builder: Callable[[Entry], Sheet],
    folder: Folder,
    options: Options,
    writer: Writer,
    failed: Callable[[Entry, KetaprepError], None],
    outcome: Outcome,
    title: str | None,
    sets: SetCache,
) -> None:
    """Each patient's page, rendered once (once for every patient of the same set, time and
    language, with the name put in): written as its own file and appended to the print file."""
    from ketaprep.formats.html_format import parts, patient_parts

    combined_options = dataclasses.replace(options, document_title=title)
    if not splices(entries, builder, options, combined_options):  # a clinic template that needs a second rendering
        sheets = _write_each(entries, builder, "html", options, "html", writer, failed)
        _write_combined_html(sheets, folder, combined_options, COMBINED["html"], writer, outcome)
        return
    memo: dict[Hashable, tuple[str, str, str]] = {}
    with contextlib.ExitStack() as stack:
        combined: IO[bytes] | None = None
        ending = ""
        for entry in entries:
            try:
                sheet = builder(entry)
                head, body, tail = patient_parts(sheet, options, sets.shared(entry), memo)
            except KetaprepError as exc:
                failed(entry, exc)
                continue
            writer.save(entry, f"{entry.stem}.html", (head + body + tail).encode("utf-8"), sheet)
            if combined is None:
                combined = stack.enter_context(folder.open(COMBINED["html"], sync=True))
                combined.write(parts(sheet, combined_options)[0].encode("utf-8"))  # the print file's own title
                ending = tail
            combined.write(body.encode("utf-8"))
        if combined is not None:
            combined.write(ending.encode("utf-8"))
            writer.flush()  # every patient's file first: the print file is the last to appear
    if combined is not None:
        outcome.combined = folder.path / COMBINED["html"]


def _chain(first: Sheet, rest: Iterable[Sheet]) -> Iterator[Sheet]:
    yield first
    yield from rest


def _write_pdf(
    entries: list[Entry],
    builder: Callable[[Entry], Sheet],
    folder: Folder,
    options: Options,
    writer: Writer,
    failed: Callable[[Entry, KetaprepError], None],
    outcome: Outcome,
    title: str | None,
    sets: SetCache,
) -> None:
    """Each patient's PDF compiled on its own (tagged, PDF/UA-1, in the patient's language),
    across worker processes (`batch.pdfpool`), written in appointment order and appended to the
    print file."""
    from ketaprep.batch.pdfpool import each_pdf, workers_for
    from ketaprep.formats.pdf_format import check_root, creation_time, patient_source
    from ketaprep.pdf_join import JoinerProcess, PdfJoiner
    from ketaprep.typst_compile import Job

    with contextlib.ExitStack() as stack:
        own = dataclasses.replace(options, duplex=False)  # a patient's own file has no padding page
        if options.templates_dir is None:  # the built-in template reads nothing but the QR images
            import tempfile

            images = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ketaprep-qr-")))
            own = dataclasses.replace(own, image_folder=images)
            root = images
        else:  # a clinic's template may read its own files (a logo): its folder is the root
            root = options.templates_dir
            check_root(root)
        memo: dict[Hashable, str] = {}

        def jobs() -> Iterator[tuple[tuple[Entry, Sheet], Job]]:
            for entry in entries:
                checkpoint()
                try:
                    sheet = builder(entry)
                    markup = patient_source(sheet, own, sets.shared(entry), memo)
                except KetaprepError as exc:
                    failed(entry, exc)
                    continue
                yield (entry, sheet), Job(markup, str(root), creation_time(sheet), options.templates_dir is not None)

        workers = workers_for(len(entries))
        # on several cores the print file is put together beside the workers, in a process of its own
        joiner = JoinerProcess(options.duplex, title) if workers else PdfJoiner(options.duplex, title)
        stack.callback(joiner.close)
        for (entry, sheet), result in each_pdf(workers, jobs(), checkpoint):
            if isinstance(result, KetaprepError):
                failed(entry, result)
                continue
            writer.save(entry, f"{entry.stem}.pdf", result, sheet)
            writer.later(partial(joiner.add, folder.path / f"{entry.stem}.pdf"))  # in the writer thread, once written
        writer.flush()  # every patient's file first: the print file is the last to appear
        if joiner.pages:
            joiner.save_in(folder, COMBINED["pdf"])
            outcome.combined = folder.path / COMBINED["pdf"]


def _note_leftovers(path: Path, outcome: Outcome, extension: str, reporter: Reporter) -> None:
    """Files of an earlier run that this list did not write again (never deleted)."""
    ours = set(outcome.files)
    try:
        others = [p.name for p in path.glob(f"*.{extension}") if p.name not in ours and p.name not in COMBINED.values()
                  and p.name != MANIFEST]
    except OSError:
        return
    if others:
        reporter.note(
            f"{len(others)} other .{extension} file(s) in {path} are not from this list "
            "(an earlier run?); they were left as they are"
        )
