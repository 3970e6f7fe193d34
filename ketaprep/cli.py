"""The `ketaprep` command: thin Typer commands over the library, one error boundary.

Heavy modules are imported inside each command so `ketaprep --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

# typer 0.28 ships its own copy of click; these are its exception classes.
from typer._click import exceptions as click_exceptions

from ketaprep.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, KetaprepError, MissingFile, SetError, UsageError

if TYPE_CHECKING:
    import datetime as dt

    from ketaprep.batch import Outcome as BatchOutcome
    from ketaprep.loader import LoadedSet, SetLibrary
    from ketaprep.models import Clinic
    from ketaprep.sheet import Format, Paper, Sheet
    from ketaprep.timefmt import Clock

HELP = """Print a patient's ketamine treatment instructions with every time worked out.

\b
Examples:
  ketaprep render --start 09:00
  ketaprep render --start 9:30am --date 2026-11-24 --patient "Ada Test"
  ketaprep render --start 13:00 --set iv-depression-40m --format text
  ketaprep render --start 09:00 --set iv-variable --duration 90m
  ketaprep sets
  ketaprep show iv-pain-4h
  ketaprep check
  ketaprep serve

\b
Times can be written 9:00, 09:00, 9am, 9:30 pm or 21:30.
Set up your clinic's name and phone once with --clinic clinic.yaml
or the KETAPREP_CLINIC environment variable.
"""

app = typer.Typer(
    help=HELP,
    rich_markup_mode=None,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 88},
)


class OutputFormat(str, Enum):
    terminal = "terminal"
    text = "text"
    html = "html"
    pdf = "pdf"
    json = "json"
    ics = "ics"


FORMAT_NAMES: dict[OutputFormat, Format] = {
    OutputFormat.terminal: "terminal",
    OutputFormat.text: "text",
    OutputFormat.html: "html",
    OutputFormat.pdf: "pdf",
    OutputFormat.json: "json",
    OutputFormat.ics: "ics",
}


class PaperChoice(str, Enum):
    letter = "letter"
    a4 = "a4"


class ClockChoice(str, Enum):
    h12 = "12"
    h24 = "24"


def _shown(value: str) -> str:
    """A value as a message may repeat it: escapes written out (\\x1b), cut to a sensible length."""
    from ketaprep.limits import shown

    return shown(value)


def _parse_start(value: str) -> str:
    from ketaprep.parsing import TIME_EXAMPLES, parse_clock_time

    if parse_clock_time(value) is None:
        raise typer.BadParameter(f'"{_shown(value)}" is not a time (examples: {TIME_EXAMPLES})')
    return value


def _parse_date_option(value: Optional[str]) -> Optional[str]:
    from ketaprep.parsing import parse_date

    if value is not None and parse_date(value) is None:
        import re

        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip(), re.ASCII):
            raise typer.BadParameter(f'"{_shown(value)}" is not a day of the calendar (that month has no such day)')
        raise typer.BadParameter(f'"{_shown(value)}" is not a date; write it as YYYY-MM-DD (e.g. 2026-11-24)')
    return value


MAX_PATIENT = 200
"""Characters in a patient's name: the same bound as a batch row."""


def _parse_patient(value: str) -> str:
    """A name as the nurse typed it; control characters (an escape code, a newline) are refused."""
    import unicodedata

    if any(unicodedata.category(c) == "Cs" for c in value):  # a byte that is not UTF-8, kept by surrogateescape
        raise typer.BadParameter("the name is not valid UTF-8 text (a byte from another encoding); "
                                 "type it again or set the terminal to UTF-8")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise typer.BadParameter("the name has a control character (a tab, a line break or an escape code); "
                                 "type it on one line")
    value = "".join(" " if unicodedata.category(c) == "Zs" else c for c in value)  # a pasted U+00A0 is a space
    if len(value.strip()) > MAX_PATIENT:
        raise typer.BadParameter(f"the name is longer than {MAX_PATIENT} characters")
    return value


def _parse_lang_option(value: Optional[str]) -> Optional[str]:
    """`en`, `fr`, `en+fr`, or any language with a translation catalog (ketaprep/locale/<lang>)."""
    from ketaprep.parsing import parse_language

    if value is None:
        return None
    try:
        return parse_language(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


class CheckFormat(str, Enum):
    text = "text"
    json = "json"


def _parse_duration_option(value: Optional[str]) -> Optional[str]:
    from ketaprep.parsing import DURATION_EXAMPLES, read_duration

    if value is not None and read_duration(value) is None:
        raise typer.BadParameter(f'"{_shown(value)}" is not a duration (examples: {DURATION_EXAMPLES})')
    return value


ClinicOption = Annotated[
    Optional[Path],
    typer.Option(
        "--clinic",
        metavar="FILE",
        help="Clinic profile (YAML: name, phone, address, time zone, defaults). "
        "Default: the KETAPREP_CLINIC environment variable.",
        show_default=False,
    ),
]


LargePrintOption = Annotated[bool, typer.Option("--large-print", help="Large print (16 pt and up) for html and pdf.")]
PaperOption = Annotated[PaperChoice, typer.Option(help="Paper size for html and pdf.")]
ClockOption = Annotated[
    Optional[ClockChoice],
    typer.Option(help="12 or 24-hour times in English (default 12). French is always 24-hour.", show_default=False),
]
TzOption = Annotated[
    Optional[str],
    typer.Option("--tz", metavar="AREA/CITY", help="Clinic time zone, e.g. America/Toronto (the default).",
                 show_default=False),
]


PrintOption = Annotated[bool, typer.Option("--print", help="Send the PDF to a printer (CUPS); see `ketaprep printers`.")]
PrinterOption = Annotated[
    Optional[str],
    typer.Option("--printer", metavar="NAME", help="With --print: the CUPS queue. Default: the clinic profile's "
                 "printer, else the computer's default printer.", show_default=False),
]
CopiesOption = Annotated[
    Optional[int],
    typer.Option("--copies", metavar="N", min=1, max=100, help="With --print: how many copies (default 1).",
                 show_default=False),
]

EXTENSION_FORMATS: dict[str, OutputFormat] = {
    ".pdf": OutputFormat.pdf,
    ".html": OutputFormat.html,
    ".htm": OutputFormat.html,
    ".txt": OutputFormat.text,
    ".json": OutputFormat.json,
    ".ics": OutputFormat.ics,
}
"""`--output FILE` without `--format`: the format the file's name says."""


def _output_format(format_: Optional[OutputFormat], output: Optional[str], print_: bool) -> OutputFormat:
    """--format, else the --output file's extension, else PDF for --print, else the terminal's.

    A name that says another format than --format (or than --print's PDF) is a usage error,
    raised before anything is written."""
    suffix = Path(output).suffix.lower() if output not in (None, "-") else ""
    by_name = EXTENSION_FORMATS.get(suffix)
    if format_ is None:
        if by_name is None and suffix:
            known = ", ".join(sorted(EXTENSION_FORMATS))
            raise UsageError(f"--output {output}: {suffix} does not say which format to write (known: {known}); "
                             "add --format, e.g. --format text")
        format_ = by_name or (OutputFormat.pdf if print_ else OutputFormat.terminal)
    elif by_name is not None and by_name != format_ and not (format_ == OutputFormat.terminal and by_name == OutputFormat.text):
        raise UsageError(f"--output {output} is a .{by_name.value if by_name != OutputFormat.text else 'txt'} name but "
                         f"--format is {format_.value}; make them agree (e.g. --output "
                         f"{Path(output or '').with_suffix(_SUFFIXES[format_]).name})")
    if print_ and format_ != OutputFormat.pdf:
        raise UsageError(f"--print sends a PDF, but the format is {format_.value}; leave out --format "
                         "(or use --format pdf), and name any --output file .pdf")
    return format_


_SUFFIXES = {OutputFormat.terminal: ".txt", OutputFormat.text: ".txt", OutputFormat.html: ".html",
             OutputFormat.pdf: ".pdf", OutputFormat.json: ".json", OutputFormat.ics: ".ics"}


def _check_print_options(print_: bool, printer: Optional[str], copies: Optional[int]) -> None:
    """--printer and --copies only say how to print: without --print they are likely a slip."""
    if not print_:
        given = [name for name, value in (("--printer", printer), ("--copies", copies)) if value is not None]
        if given:
            raise UsageError(f"{' and '.join(given)} only appl{'y' if len(given) > 1 else 'ies'} when printing; "
                             "add --print to send the handout "
                             "to the printer")
    if printer is not None and not printer.strip():
        raise UsageError("--printer is empty; give a queue's name (see: ketaprep printers) or leave it out")


def _send_to_printer(data: bytes, printer: Optional[str], profile: Optional[Clinic], copies: Optional[int],
                     duplex: bool, title: str) -> None:
    """Send the PDF; one line names the printer and CUPS's job id."""
    from ketaprep.printing import send_pdf

    queue = printer.strip() if printer else (profile.printer if profile else None)
    job = send_pdf(data, printer=queue, copies=copies or 1, duplex=duplex, title=title)
    count = copies or 1
    sides = ", two-sided" if duplex else ""
    typer.echo(f'printed: sent to printer "{job.printer}" as job {job.job_id} '
               f"({count} {'copy' if count == 1 else 'copies'}{sides})")


def _clock(choice: Optional[ClockChoice]) -> Optional[Clock]:
    return 12 if choice == ClockChoice.h12 else 24 if choice == ClockChoice.h24 else None


def _paper(choice: PaperChoice) -> Paper:
    return "a4" if choice == PaperChoice.a4 else "letter"


NO_PROFILE_NOTE = ("note: no clinic profile, so the handout shows a neutral clinic line; "
                   "set one with --clinic clinic.yaml or KETAPREP_CLINIC=clinic.yaml")


def _load_clinic(path: Optional[Path]) -> Optional[Clinic]:
    """The clinic profile (--clinic, else KETAPREP_CLINIC), or None. Every error in it is refused."""
    from ketaprep.loader import load_clinic

    if path is None and os.environ.get("KETAPREP_CLINIC"):
        path = Path(os.environ["KETAPREP_CLINIC"])
    return load_clinic(path) if path is not None else None


def _note_no_profile(profile: Optional[Clinic]) -> None:
    """Said once, after the handouts are made: never before (or instead of) an error."""
    if profile is None:
        typer.echo(NO_PROFILE_NOTE, err=True)


def _library(clinic: Optional[Clinic], clinic_path: Optional[Path], checked: bool = False) -> SetLibrary:
    """The sets: the clinic's folder, KETAPREP_SETS, then the built-in ones. `checked` (render and
    batch): a set that fails `ketaprep check` is refused, and its warnings go to stderr."""
    from ketaprep.loader import SetLibrary, builtin_dir

    dirs = []
    if clinic and clinic.sets_dir:
        base = (clinic_path or Path(os.environ.get("KETAPREP_CLINIC", "."))).parent
        dirs.append(base / clinic.sets_dir)
    if os.environ.get("KETAPREP_SETS"):
        dirs.append(Path(os.environ["KETAPREP_SETS"]))
    dirs.append(builtin_dir())
    return SetLibrary(dirs, checked=checked, warn=_warn if checked else None)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def _clinic_path(path: Optional[Path]) -> Optional[Path]:
    if path is None and os.environ.get("KETAPREP_CLINIC"):
        return Path(os.environ["KETAPREP_CLINIC"])
    return path


def _now() -> dt.datetime:
    """The one place the commands read the clock (tests replace it); the core takes "now" as an argument."""
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def _today(zone_name: str, now: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(zone_name)).date()


def _emit(data: bytes, output: Optional[str], binary: bool) -> None:
    from ketaprep.files import write_atomic

    if output in (None, "-"):
        if binary and output is None and sys.stdout.isatty():
            raise UsageError("PDF output is binary: give --output handout.pdf (or --output - to pipe it)")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_atomic(Path(output), data)


@app.command(
    help="""Print one patient's handout.

\b
Examples:
  ketaprep render --start 09:00
  ketaprep render --start 9:30am --date 2026-11-24 --patient "Ada Test"
  ketaprep render --start 13:00 --set iv-depression-40m --format text
  ketaprep render --start 09:00 --set iv-variable --duration 90m
  ketaprep render --start 09:00 --format json --output handout.json
  ketaprep render --start 09:00 --output handout.pdf
  ketaprep render --start 09:00 --patient "Ada Test" --print
  ketaprep render --start 09:00 --print --printer front-desk --copies 2
""",
    no_args_is_help=True,
)
def render(
    start: Annotated[
        str,
        typer.Option(
            "--start",
            metavar="TIME",
            help="When the treatment starts (the infusion; for im-depression, the injection, not the "
            "start of the 2-hour visit): 9:00, 09:00, 9am, 9:30 pm or 21:30. The sheet works out "
            "the arrival time.",
            callback=_parse_start,
            show_default=False,
        ),
    ],
    date: Annotated[
        Optional[str],
        typer.Option(metavar="YYYY-MM-DD",
                     help="Appointment date, YYYY-MM-DD. Default: today in the clinic's time zone.",
                     callback=_parse_date_option, show_default=False),
    ] = None,
    set_: Annotated[
        Optional[str],
        typer.Option("--set", metavar="ID|FILE",
                     help="Instruction set id (see `ketaprep sets`) or a .yaml file. Default: iv-pain-4h "
                     "or the clinic's default_set.", show_default=False),
    ] = None,
    patient: Annotated[str, typer.Option(help='Patient name as it should be printed, e.g. "Ada Test".',
                                         callback=_parse_patient, metavar="NAME")] = "",
    lang: Annotated[
        Optional[str],
        typer.Option(help="Language: en, fr, or en+fr for a bilingual sheet. Default: the clinic's, else en.",
                     callback=_parse_lang_option, show_default=False, metavar="en|fr|en+fr"),
    ] = None,
    format_: Annotated[
        Optional[OutputFormat],
        typer.Option("--format", help="terminal, text, html, pdf, json or ics. Default: what the --output "
                     "file's name ends in (.pdf, .html, .txt, .json, .ics), else terminal.", show_default=False),
    ] = None,
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", metavar="FILE", help="File to write; - for standard output (the default). "
                     "A regular file is replaced in one step, never half-written; a device, FIFO or terminal "
                     "(/dev/stdout, a named pipe) is written into, never replaced; a symbolic link is followed: "
                     "the file it points to is replaced and the link is kept.",
                     show_default=False),
    ] = None,
    print_: PrintOption = False,
    printer: PrinterOption = None,
    copies: CopiesOption = None,
    duplex: Annotated[bool, typer.Option("--duplex", help="Two-sided printing (long edge); a bilingual sheet's "
                                         "second language starts on the front of a new sheet.")] = False,
    large_print: LargePrintOption = False,
    paper: PaperOption = PaperChoice.letter,
    clock: ClockOption = None,
    tz: TzOption = None,
    clinic: ClinicOption = None,
    duration: Annotated[
        Optional[str],
        typer.Option(metavar="LENGTH",
                     help="Treatment length for sets whose length varies, e.g. 90m or 1h30m.",
                     callback=_parse_duration_option, show_default=False),
    ] = None,
) -> None:
    from ketaprep.parsing import parse_clock_time, parse_date, read_duration
    from ketaprep.reminders import DEFAULT_EVENING as EVENING
    from ketaprep.sheet import Options, generated_date, make_sheet, write
    from ketaprep.timeline import Appointment
    from ketaprep.zones import check_zone

    format_ = _output_format(format_, output, print_)
    _check_print_options(print_, printer, copies)
    clinic_path = _clinic_path(clinic)
    profile = _load_clinic(clinic_path)
    zone = tz if tz is not None else (profile.timezone if profile else "America/Toronto")
    check_zone(zone, "--tz", usage=True)
    library = _library(profile, clinic_path, checked=True)
    # an empty --set "$SET" is an error, never silently the default protocol
    loaded = _load_set(library, set_, profile, clinic_path)
    now = _now()
    day = parse_date(date) if date else _today(zone, now)
    start_time = parse_clock_time(start)
    assert day is not None and start_time is not None  # checked by the option callbacks
    appointment = Appointment(day, start_time, zone, patient.strip(), read_duration(duration) if duration else None)
    language = lang or (profile.lang if profile else "en")
    clock_value = _clock(clock)
    sheet = make_sheet(loaded, appointment, profile, language, clock_value, generated_date(_today(zone, now)))
    is_tty = output in (None, "-") and sys.stdout.isatty()
    width = 80
    if is_tty:
        import shutil

        width = max(60, min(shutil.get_terminal_size((80, 24)).columns, 100))
    options = Options(
        paper=_paper(paper),
        large_print=large_print,
        duplex=duplex,
        templates_dir=_templates_dir(profile, clinic_path),
        width=width,
        color=is_tty and format_ == OutputFormat.terminal and "NO_COLOR" not in os.environ,
        alarm_minutes=profile.alarm_minutes if profile else 30,
        evening_reminder=profile.evening_reminder.time if profile else EVENING,
        qr_codes=profile.qr_codes if profile else True,
    )
    data = write(FORMAT_NAMES[format_], [sheet], options)
    if not print_ or output is not None:
        _emit(data, output, binary=format_ == OutputFormat.pdf)
    if print_:
        from ketaprep.printing import handout_job_title

        title = handout_job_title(appointment.date, start_time, loaded.model.id)
        _send_to_printer(data, printer, profile, copies, duplex, title)
    _warn_passed_cutoffs(sheet, now, clock_value or (profile.clock if profile else None))
    _note_no_profile(profile)


def _load_set(library: SetLibrary, set_: Optional[str], profile: Optional[Clinic], clinic_path: Optional[Path]) -> LoadedSet:
    """--set, else the clinic's default_set (an unknown one names the clinic file), else iv-pain-4h."""
    if set_ is not None or profile is None:
        return library.load(set_ if set_ is not None else "iv-pain-4h")
    try:
        return library.load(profile.default_set)
    except KetaprepError as exc:  # a default_set that names a missing file is the profile's error
        raise (SetError if isinstance(exc, MissingFile) else type(exc))(f"{clinic_path}: default_set: {exc.message}") from None


def _warn_passed_cutoffs(sheet: Sheet, now: dt.datetime, clock: Optional[Clock]) -> None:
    """On stderr, never on the sheet: a cut-off already past now means phoning the patient instead."""
    from ketaprep.safety import passed_cutoffs

    for message in passed_cutoffs(sheet.timeline, now, clock or 12):
        typer.echo(f"warning: {message}", err=True)


def _templates_dirs(profile: Optional[Clinic], clinic_path: Optional[Path]) -> list[Path]:
    found = _templates_dir(profile, clinic_path)
    return [found] if found else []


def _templates_dir(profile: Optional[Clinic], clinic_path: Optional[Path]) -> Optional[Path]:
    if profile and profile.templates_dir:
        return (clinic_path.parent if clinic_path else Path(".")) / profile.templates_dir
    return None


@app.command(short_help="List the instruction sets (built-in and your clinic's).",
             help="""List the instruction sets ketaprep can see (built-in and your clinic's).

\b
Example:
  ketaprep sets
""")
def sets(clinic: ClinicOption = None) -> None:
    from ketaprep.describe import sets_table

    clinic_path = _clinic_path(clinic)
    profile = _load_clinic(clinic_path)
    typer.echo(sets_table(_library(profile, clinic_path)), nl=False)


@app.command(short_help="Print one set's rules in plain words.",
             help="""Print one set's rules in plain words: windows, durations, sections.

\b
Example:
  ketaprep show iv-pain-4h
""")
def show(
    set_id: Annotated[str, typer.Argument(metavar="ID", help="Set id (see `ketaprep sets`) or a .yaml file.")],
    clinic: ClinicOption = None,
) -> None:
    from ketaprep.describe import describe

    clinic_path = _clinic_path(clinic)
    profile = _load_clinic(clinic_path)
    typer.echo(describe(_library(profile, clinic_path).load(set_id)), nl=False)


@app.command(short_help="Check sets and clinic profiles before they reach a patient.",
             help="""Check instruction sets and clinic profiles before they reach a patient.

Checks: schema and placeholders (with file and line), required safety content,
every text in every language (no English left in the French), French
typography, the reading grade of each section as it prints (warning above
grade 8, error above 10), and clinical plausibility (fasting windows,
no-driving time, clinic phone).

With no PATH, checks every set ketaprep can see (and the clinic profile, if
given). Exit 1 if there is any error; warnings alone exit 0. render and batch
refuse a set with any error.

\b
Examples:
  ketaprep check
  ketaprep check my-clinic/iv-pain-4h.yaml clinic.yaml
  ketaprep check my-clinic/templates
  ketaprep check --format json > check.json
""")
def check(
    paths: Annotated[Optional[list[Path]], typer.Argument(metavar="[PATH]...",
                                                          help="Set or clinic files, or template directories.",
                                                          show_default=False)] = None,
    clinic: ClinicOption = None,
    format_: Annotated[
        CheckFormat, typer.Option("--format", help="text (for people) or json (a list of {file, level, line, "
                                  "message, grades}, for CI).")
    ] = CheckFormat.text,
) -> None:
    from ketaprep.checker import run_check

    clinic_path = _clinic_path(clinic)
    try:
        profile = _load_clinic(clinic_path)
    except KetaprepError:
        profile = None  # `check` reports what is wrong with the profile itself
    targets = list(paths or [])
    if not targets and clinic_path is not None:
        targets = [clinic_path, *_templates_dirs(profile, clinic_path)]
    library = _library(profile, clinic_path)
    width = None
    if sys.stdout.isatty():  # on a terminal, findings wrap at its width (a pipe keeps one line each, for grep)
        import shutil

        width = max(60, min(shutil.get_terminal_size((80, 24)).columns, 120))
    extra: list[tuple[str, str]] = []
    if profile is not None and clinic_path is not None:  # the set render and batch would use, found as they find it
        try:
            _load_set(library, None, profile, clinic_path)
        except KetaprepError as exc:
            extra.append((str(clinic_path), exc.message.removeprefix(f"{clinic_path}: ")))
    text, ok = run_check(targets, library, "json" if format_ == CheckFormat.json else "text", include_library=not paths,
                         width=width, extra=extra)
    typer.echo(text, nl=False)
    if not ok:
        raise typer.Exit(EXIT_FAILED)


@app.command(
    short_help="Make your clinic's own folder of settings and sets to review.",
    help="""Make your clinic's own folder: a clinic profile and copies of the sets to review.

\b
Example:
  ketaprep init my-clinic --name "Lakeshore Clinic" --phone 416-555-0199
\b
Writes my-clinic/clinic.yaml (every setting, each explained in one line) and
my-clinic/sets/ (a copy of every built-in set, each saying which version it
came from). Your medical staff review the copies; ketaprep then uses them:
  ketaprep check --clinic my-clinic/clinic.yaml
  ketaprep render --start 09:00 --clinic my-clinic/clinic.yaml
Never overwrites a file: if any is already there, nothing is written.
""",
    no_args_is_help=True,
)
def init(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The folder to make (it may exist, empty).",
                                           show_default=False)],
    name: Annotated[str, typer.Option(metavar="NAME", help="The clinic's name, as printed on every sheet.")] = "My Clinic",
    phone: Annotated[
        Optional[str],
        typer.Option(metavar="NUMBER", help="The number patients call, e.g. 416-555-0199.", show_default=False),
    ] = None,
) -> None:
    from ketaprep.clinic_folder import make_folder

    made = make_folder(folder, name.strip() or "My Clinic", phone.strip() if phone else None)
    profile = made.profile
    typer.echo(f"Made {made.folder}:")
    typer.echo(f"  {profile}  the clinic profile (every setting, explained)")
    typer.echo(f"  {made.folder / 'sets'}/  {len(made.sets)} sets copied from the built-in ones")
    typer.echo("Next:")
    typer.echo(f"  1. Check the name, phone and address in {profile}.")
    typer.echo(f"  2. Have your medical staff review every set in {made.folder / 'sets'}/.")
    typer.echo(f"  3. ketaprep check --clinic {profile}")
    typer.echo(f"  4. ketaprep render --start 09:00 --clinic {profile}")


class BatchFormat(str, Enum):
    html = "html"
    pdf = "pdf"
    text = "text"
    json = "json"
    ics = "ics"


class DateOrderChoice(str, Enum):
    dmy = "dmy"
    mdy = "mdy"


@app.command(
    short_help="Write handouts for the day's list, plus one file to print.",
    help="""Write handouts for the day's list: one file per patient, plus one file to print.

\b
Examples:
  ketaprep batch today.csv
  ketaprep batch today.xlsx --format pdf --duplex
  ketaprep batch today.csv --format pdf --duplex --print
  ketaprep batch export.csv --date 2026-11-24 --column start="Booked At"
  ketaprep batch appointments.json --clinic clinic.yaml
  ketaprep batch plain.csv --column patient=1,2 --column start=5
\b
The list: a CSV as Excel, OpenEMR or OSCAR writes it; a workbook (.xlsx, .xls,
.ods); or FHIR R4 (a Bundle of Appointment resources, or NDJSON). Columns are
found by name, in any case and spacing, English or French:
  Patient, Name or Nom (and First Name or Prénom); Date;
  Start, Time, Appt Time or Heure; Set, Protocol, Type or Protocole;
  Lang, Language or Langue; Duration or Durée; Status or Statut.
Other columns are ignored; name a column yourself with --column, or give
columns by position (counted from 1) for a list with no header row.
Names: "Ada Test", "Test, Ada", "TEST,ADA". Times: 9:00, 9am, 9:30 pm, 21:30,
13:30:00, 13 h 30. A Type is mapped to a set by the clinic profile's
appointment_types. A Duration sets the length only for sets whose length
varies. Cancelled, no-show and entered-in-error rows are skipped and counted.
\b
Every row is checked before anything is written. A bad row is named by its
row number (never the patient's name) and every other row is still written;
the exit status is then 1. The folder gets one file per patient (e.g.
0900-ada-test.html), handouts.html or handouts.pdf to print (patients in
appointment order, each on a new sheet), and manifest.json.
If a run is stopped (Ctrl-C, a full disk), run the same command again: it
writes every handout again and replaces the earlier files, so the folder ends
up complete. No file is ever left half-written.
""",
    no_args_is_help=True,
)
def batch(
    list_file: Annotated[
        Path, typer.Argument(metavar="LIST", help="The day's list: .csv, .xlsx, .xls, .ods, or FHIR .json/.ndjson.",
                             show_default=False)
    ],
    output_dir: Annotated[
        Optional[str],
        typer.Option("--output-dir", "-o", metavar="FOLDER",
                     help="Folder for the handouts. Default: ./handouts-YYYY-MM-DD "
                     "(the list's first date).", show_default=False),
    ] = None,
    format_: Annotated[
        Optional[BatchFormat],
        typer.Option("--format", help="html, pdf, text, json or ics. Default: html (pdf with --print).",
                     show_default=False),
    ] = None,
    date: Annotated[
        Optional[str],
        typer.Option(metavar="YYYY-MM-DD",
                     help="Appointment date for every row, YYYY-MM-DD, when the list has no date column.",
                     callback=_parse_date_option, show_default=False),
    ] = None,
    column: Annotated[
        Optional[list[str]],
        typer.Option(metavar="FIELD=NAME",
                     help='Which column holds a field, by name (--column start="Booked At") or position '
                     "(--column start=5; patient=1,2 joins family and given names). Fields: patient, first, date, "
                     "start, set, lang, duration, status. Repeat for more; --column duration= ignores a column.",
                     show_default=False),
    ] = None,
    sheet: Annotated[
        Optional[str],
        typer.Option(metavar="NAME", help="A workbook's sheet, by name (or number). Default: the first sheet.",
                     show_default=False),
    ] = None,
    date_order: Annotated[
        Optional[DateOrderChoice],
        typer.Option(help="How the list writes dates like 03/04/2026: dmy (3 April) or mdy (March 4). "
                     "Without it, the order the list's other dates show (11/24/2026), or a bad row.",
                     show_default=False),
    ] = None,
    set_: Annotated[
        Optional[str],
        typer.Option("--set", metavar="ID|FILE",
                     help="Instruction set for rows with no set column. Default: iv-pain-4h or the "
                     "clinic's default_set.", show_default=False),
    ] = None,
    lang: Annotated[
        Optional[str],
        typer.Option(metavar="en|fr|en+fr",
                     help="Language for rows with no language column: en, fr or en+fr. Default: the clinic's, "
                     "else en.", callback=_parse_lang_option, show_default=False),
    ] = None,
    duration: Annotated[
        Optional[str],
        typer.Option(metavar="LENGTH",
                     help="Treatment length for rows of sets whose length varies, when the list has none "
                     "(e.g. 90m).", callback=_parse_duration_option, show_default=False),
    ] = None,
    duplex: Annotated[bool, typer.Option("--duplex", help="Two-sided printing: each patient starts on a new "
                                         "sheet of paper, never on the back of the one before; with --print, "
                                         "the printer is asked for two-sided (long edge).")] = False,
    print_: Annotated[bool, typer.Option("--print", help="Send the print file (handouts.pdf) to a printer "
                                         "as one job; see `ketaprep printers`.")] = False,
    printer: PrinterOption = None,
    copies: CopiesOption = None,
    large_print: LargePrintOption = False,
    paper: PaperOption = PaperChoice.letter,
    clock: ClockOption = None,
    tz: TzOption = None,
    clinic: ClinicOption = None,
) -> None:
    from ketaprep import batch as batching
    from ketaprep.lists import parse_column_options
    from ketaprep.parsing import parse_date, read_duration
    from ketaprep.reminders import DEFAULT_EVENING as EVENING
    from ketaprep.sheet import Options, generated_date
    from ketaprep.zones import check_zone

    if format_ is None:
        format_ = BatchFormat.pdf if print_ else BatchFormat.html
    elif print_ and format_ != BatchFormat.pdf:
        raise UsageError(f"--print sends the PDF print file, but --format is {format_.value}; "
                         "use --format pdf (or leave --format out)")
    _check_print_options(print_, printer, copies)
    columns = parse_column_options(column or [])
    if output_dir is not None and not output_dir.strip():  # "" would quietly be the current folder
        raise UsageError('--output-dir: the folder name is empty; give a folder, e.g. --output-dir handouts')
    now = _now()
    clinic_path = _clinic_path(clinic)
    profile = _load_clinic(clinic_path)
    zone = tz if tz is not None else (profile.timezone if profile else "America/Toronto")
    check_zone(zone, "--tz", usage=True)
    library = _library(profile, clinic_path, checked=True)
    if set_ is not None and not set_.strip():  # an empty --set "$SET" is an error, never the default protocol
        library.resolve(set_)
    request = batching.Request(
        list_path=list_file,
        fmt=FORMAT_NAMES[OutputFormat(format_.value)],
        options=Options(
            paper=_paper(paper),
            large_print=large_print,
            duplex=duplex,
            templates_dir=_templates_dir(profile, clinic_path),
            alarm_minutes=profile.alarm_minutes if profile else 30,
            evening_reminder=profile.evening_reminder.time if profile else EVENING,
            qr_codes=profile.qr_codes if profile else True,
        ),
        library=library,
        clinic=profile,
        zone=zone,
        default_set=set_ if set_ is not None else (profile.default_set if profile else "iv-pain-4h"),
        default_lang=lang or (profile.lang if profile else "en"),
        output_dir=Path(output_dir) if output_dir is not None else None,
        date=parse_date(date) if date else None,
        duration=read_duration(duration) if duration else None,
        clock=_clock(clock),
        columns=columns,
        sheet=sheet,
        date_order="dmy" if date_order == DateOrderChoice.dmy else "mdy" if date_order == DateOrderChoice.mdy else None,
        generated=generated_date(_today(zone, now)),
        today=_today(zone, now),
        now=now,
    )
    reporter = batching.ConsoleReporter(progress=sys.stderr.isatty())
    with batching.stop_on_signals():
        try:
            outcome = batching.run(request, reporter)
        except batching.Stopped as exc:
            typer.echo("stopped before anything was written.", err=True)
            _STOP_SAID.append(exc.signum)
            raise typer.Exit(128 + exc.signum) from None
    batching.print_summary(outcome, sys.stdout.isatty())
    _note_no_profile(profile)
    if outcome.signum is not None:
        _STOP_SAID.append(outcome.signum)  # the batch has said what was written: no "stopped." after it
        raise typer.Exit(128 + outcome.signum)
    if print_:
        _print_batch(outcome, list_file, printer, profile, copies, duplex)
    raise typer.Exit(EXIT_FAILED if outcome.failed or outcome.stopped else EXIT_OK)


def _print_batch(outcome: BatchOutcome, list_file: Path, printer: Optional[str], profile: Optional[Clinic],
                 copies: Optional[int], duplex: bool) -> None:
    """`batch --print`: the combined file as one job, only when the run wrote it whole."""
    if outcome.stopped:
        raise KetaprepError(f"nothing was printed: the run stopped ({outcome.stopped})")
    if outcome.combined is None:
        raise KetaprepError("nothing was printed: no handout was written (see the rows above)")
    import io

    import pikepdf

    data = outcome.combined.read_bytes()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        title = str(pdf.docinfo.get("/Title", "")) or f"Handouts to print: {list_file.name}"
    _send_to_printer(data, printer, profile, copies, duplex, f"ketaprep {title}")


@app.command(short_help="List the printers (CUPS queues) and the default.",
             help="""List the printers (CUPS queues) ketaprep can print to, and the default.

\b
Example:
  ketaprep printers
""")
def printers(clinic: ClinicOption = None) -> None:
    from ketaprep.printing import list_queues

    profile = _load_clinic(_clinic_path(clinic))
    queues = list_queues()
    if not queues:
        typer.echo("No printers are set up in CUPS. Add one in the CUPS web page (http://localhost:631) "
                   "or with lpadmin.")
        return
    width = max(len(q.name) for q in queues)
    for queue in queues:
        marks = []
        if queue.is_default:
            marks.append("default")
        if profile and profile.printer and profile.printer.casefold() == queue.name.casefold():
            marks.append("clinic profile's printer")
        state = {"idle": "ready", "printing": "printing"}.get(queue.state, "stopped")
        if not queue.accepting:
            state += ", refusing jobs"
        typer.echo(f"{queue.name:<{width}}  {state}{'  (' + ', '.join(marks) + ')' if marks else ''}")
    if not any(q.is_default for q in queues):
        typer.echo("No default printer: give --printer NAME, or set printer: in the clinic profile.")


@app.command(
    short_help="Open a form in the browser for one patient or the day's list.",
    help="""Open a form in the browser: one patient's handout, or the day's list.

\b
Examples:
  ketaprep serve
  ketaprep serve --open --clinic clinic.yaml
  ketaprep serve --port 8800
\b
Prints the address to open (it holds a secret for this run) and keeps
running until Ctrl-C. The form is reachable from this computer only;
nothing typed into it is saved.
""",
)
def serve(
    port: Annotated[int, typer.Option(metavar="PORT", help="Port on this computer (0: any free port).",
                                      min=0, max=65535)] = 8765,
    host: Annotated[str, typer.Option(metavar="ADDRESS",
                                      help="Address to listen on. Only this computer (127.0.0.1) unless "
                                      "--allow-network is given too.")] = "127.0.0.1",
    allow_network: Annotated[bool, typer.Option("--allow-network",
                                                help="Let other computers reach the form (with a non-loopback "
                                                "--host). Patients' names then cross the network unencrypted.")
                             ] = False,
    open_: Annotated[bool, typer.Option("--open", help="Open the form in the default browser.")] = False,
    clock: ClockOption = None,
    tz: TzOption = None,
    clinic: ClinicOption = None,
) -> None:
    from ketaprep.serve.server import serve as run_server
    from ketaprep.serve.settings import Settings, is_loopback
    from ketaprep.zones import check_zone

    if not host.strip():
        raise UsageError('--host "": give an address, e.g. 127.0.0.1')
    if not is_loopback(host) and not allow_network:
        raise UsageError(
            f"--host {host} would let other computers reach patients' names;\n"
            "  the form is for this computer (127.0.0.1); add --allow-network to allow it"
        )
    if allow_network and not is_loopback(host):
        typer.echo(f"warning: the form listens on {host}: other computers on the network can reach it,\n"
                   "  and what is typed there crosses the network unencrypted", err=True)
    clinic_path = _clinic_path(clinic)
    profile = _load_clinic(clinic_path)
    zone = tz if tz is not None else (profile.timezone if profile else "America/Toronto")
    check_zone(zone, "--tz", usage=True)
    settings = Settings(
        host="127.0.0.1" if host == "localhost" else host,
        port=port,
        library=_library(profile, clinic_path, checked=True),  # a set that `check` fails is refused, as by render
        clinic=profile,
        zone=zone,
        templates_dir=_templates_dir(profile, clinic_path),
        clock=_clock(clock) or (profile.clock if profile else None),
        allow_network=allow_network,
        printer=getattr(profile, "printer", None),
    )
    run_server(settings, open_browser=open_, started=lambda: _note_no_profile(profile))


def _safe(message: str) -> str:
    """What reaches the terminal: no escape code, no byte that is not text, from any value echoed."""
    from ketaprep.limits import safe_message

    return safe_message(message)


_STOP_SAID: list[int] = []
"""A command that stopped on Ctrl-C or SIGTERM and said so itself (the batch's stop line)."""


def main(argv: Optional[list[str]] = None, interrupt_guarded: bool = False) -> None:
    """The single error boundary: plain messages on stderr and the documented exit codes.

    `interrupt_guarded`: called by `ketaprep.entry`, which made Ctrl-C exit at once during
    start-up; from inside this boundary on, Ctrl-C is a KeyboardInterrupt handled below.
    """
    _STOP_SAID.clear()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        if interrupt_guarded:
            import signal

            signal.signal(signal.SIGINT, signal.default_int_handler)
        command = typer.main.get_command(app)
        if not args:
            with command.make_context("ketaprep", ["--help"], resilient_parsing=True) as ctx:
                typer.echo(command.get_help(ctx))
            raise SystemExit(EXIT_OK)
        code = command.main(args=args, prog_name="ketaprep", standalone_mode=False)
        if code == 130 and isinstance(code, int) and not _STOP_SAID:  # Typer turns a Ctrl-C inside a command into 130
            typer.echo("stopped.", err=True)
    except click_exceptions.NoArgsIsHelpError as exc:
        assert exc.ctx is not None
        typer.echo(exc.ctx.get_help())
        code = EXIT_OK
    except click_exceptions.UsageError as exc:
        if debug:
            raise
        where = exc.ctx.command_path if exc.ctx else "ketaprep"
        if where == "ketaprep" and args and args[0] in getattr(command, "commands", {}):
            where = f"ketaprep {args[0]}"
        typer.echo(_safe(f"{where}: {exc.format_message()}"), err=True)
        typer.echo(f"Try: {where} --help", err=True)
        code = EXIT_USAGE
    except KetaprepError as exc:
        if debug:
            raise
        typer.echo(_safe(f"error: {exc.message}"), err=True)
        code = exc.exit_code
    except typer.Exit as exc:  # typer.Exit raised outside a command (Ctrl-C in Typer's own code)
        code = exc.exit_code
        if isinstance(exc.__cause__, KeyboardInterrupt):
            typer.echo("stopped.", err=True)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("stopped.", err=True)
        code = 130
    except BrokenPipeError:
        code = EXIT_OK
    except Exception as exc:  # the last resort: still no traceback, and no patient data
        if debug:
            raise
        from jinja2 import TemplateError

        from ketaprep.templates_env import in_template, template_error_message

        if isinstance(exc, TemplateError) or in_template(exc):  # a clinic's own template: say which file and line

            typer.echo(_safe(f"error: template {template_error_message(exc)}"), err=True)
            typer.echo("  run: ketaprep check on the clinic's templates folder", err=True)
        else:
            typer.echo(f"error: unexpected {type(exc).__name__}; run again with --debug for details", err=True)
        code = EXIT_FAILED
    if interrupt_guarded:  # the work is done: a Ctrl-C while Python shuts down changes nothing
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise SystemExit(code if isinstance(code, int) else EXIT_OK)
