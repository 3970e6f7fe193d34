"""`ketaprep check`: is every set, clinic profile and template directory fit to reach a patient?

Errors block printing (exit 1); warnings are for the clinic's staff to review (exit 0).
A set is checked for: its schema and placeholders (file and line), the required safety
content, its text in every declared language (and the fixed wording's catalog for each),
English left in the French, French typography, the reading grade of every section, and
clinical plausibility. A clinic profile: schema, time zone, phone, languages. A template
directory: template syntax and the translation of its fixed wording.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ketaprep import readability
from ketaprep.errors import KetaprepError, MissingFile, SetError
from ketaprep.i18n import DOMAIN, LOCALE_DIR, SOURCE_LANGUAGE, catalog_path, has_catalog
from ketaprep.loader import SetLibrary, clinic_problems, load_set
from ketaprep.safety import SECTION_NAMES, Problem, plausibility, problems, texts_of
from ketaprep.yamlsource import PathKey, dotted, load_yaml, where

if TYPE_CHECKING:
    from ketaprep.loader import LoadedSet

Level = Literal["error", "warning", "note"]
Grades = dict[str, dict[str, float | None]]
"""section -> language -> reading grade (None: no formula for that language)."""

_WHERE = re.compile(r"^(?P<file>.+?), line (?P<line>\d+)(?::\s*|$)")


@dataclass(frozen=True)
class Finding:
    level: Level
    line: int | None
    message: str


@dataclass
class Report:
    """What `check` found in one file or directory."""

    file: str
    kind: Literal["set", "clinic", "templates", "unknown"]
    findings: list[Finding] = field(default_factory=list)
    grades: Grades = field(default_factory=dict)

    def add(self, level: Level, message: str, line: int | None = None) -> None:
        """Add a finding; `file, line N: ...` at the front of the message becomes the line."""
        match = _WHERE.match(message)
        if match and line is None and match.group("file") == self.file:
            line = int(match.group("line"))
            message = message[match.end() :]
        self.findings.append(Finding(level, line, message))

    def problem(self, problem: Problem) -> None:
        self.add(problem.level, str(problem))

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.level == "warning")


# --- sets --------------------------------------------------------------------------------


@contextmanager
def _all_problems() -> Iterator[None]:
    """Loading stops at a set's first safety error; `check` wants every problem, so it lists them itself."""
    import ketaprep.safety as safety

    original = safety.require_safe
    safety.require_safe = lambda loaded: None
    try:
        yield
    finally:
        safety.require_safe = original


def check_set(path: Path, library: SetLibrary) -> Report:
    return _checked_set(path, library)[0]


def _checked_set(path: Path, library: SetLibrary) -> tuple[Report, LoadedSet | None]:
    """The set's report, and the set itself when it loads (even with errors)."""
    report = Report(str(path), "set")
    try:
        with _all_problems():
            loaded = load_set(path, library)
    except KetaprepError as exc:
        report.add("error", exc.message)
        return report, None
    for problem in problems(loaded) + plausibility(loaded):
        report.problem(problem)
    _check_languages(loaded, report)
    _check_grades(loaded, report)
    return report, loaded


def load_for_print(library: SetLibrary, id_or_path: str) -> tuple[LoadedSet, list[str]]:
    """A set that passes `ketaprep check`, with the check's warnings (for stderr).

    Any error the check would report (schema, safety content, translations, a reading grade
    above 10, a restriction that ends before discharge) refuses the set in one line that
    names the file and says how to see the errors: nothing of it reaches a patient's sheet.
    """
    path = library.resolve(id_or_path)
    try:
        os.lstat(path)  # a FIFO or a device is not "no such file": load_set names what it is
    except FileNotFoundError:
        raise MissingFile(f"{path}: no such file") from None
    except OSError:
        pass  # a name too long, a folder that is not one: load_set says which
    from ketaprep.loader import builtin_dir

    if path.resolve().parent == builtin_dir().resolve():
        # a built-in set, shipped inside the package: its check (0 errors, 0 warnings) is held
        # by the test suite (tests/test_check.py), so it is not graded again on every render
        # (~300 ms). A clinic's own file, even a copy or an `extends:` of a built-in, is checked.
        return load_set(path, library), []
    report, loaded = _checked_set(path, library)
    if report.errors or loaded is None:
        first = next(f for f in report.findings if f.level == "error")
        where_ = f", line {first.line}" if first.line else ""
        more = f" (and {report.errors - 1} more)" if report.errors > 1 else ""
        from ketaprep.limits import shown_path

        name = shown_path(path)  # a 300-character name is cut, not repeated whole
        message = first.message.splitlines()[0].removeprefix(f"{path}: ").removeprefix(f"{name}: ")
        raise SetError(f"{name}{where_}: {message}{more}; "
                       f"nothing is printed until it passes: ketaprep check {name}")
    warnings = []
    for finding in report.findings:
        if finding.level == "warning":
            where_ = f", line {finding.line}" if finding.line else ""
            warnings.append(f"{path}{where_}: {finding.message.splitlines()[0]}")
    return loaded, warnings


def _line(loaded: LoadedSet, path: PathKey) -> int | None:
    match = _WHERE.match(where(loaded.lines, path, str(loaded.path)) + ":")
    return int(match.group("line")) if match else None


def _check_languages(loaded: LoadedSet, report: Report) -> None:
    model = loaded.model
    for lang in model.languages:
        if lang == SOURCE_LANGUAGE:
            continue
        if not has_catalog(lang):
            report.add(
                "error",
                f"languages: no catalog for {lang}, so headings and labels would print in English; "
                f"add ketaprep/locale/{lang}/LC_MESSAGES/ketaprep.po and compile it (see babel.cfg)",
                _line(loaded, ("languages",)),
            )
            continue
        for msgid in untranslated(lang):
            report.add("error", f'the {lang} catalog does not translate "{msgid}"', _line(loaded, ("languages",)))
    if "en" not in model.languages:
        return
    for path, text in texts_of(loaded):
        english = text.get("en", "")
        for lang, value in text.items():
            if lang == "en" or not value.strip():
                continue
            line = _line(loaded, path + (lang,))
            where_ = f"{dotted(path)} ({lang})"
            if _same_text(value, english):
                report.add("error", f"{where_}: is the same as the English text; translate it", line)
                continue
            found = (english_words(value) + copied_phrases(value, english)) if lang != "en" else []
            if found:
                shown = ", ".join(f'"{word}"' for word in found[:4])
                report.add("error", f"{where_}: looks like English ({shown}); translate it", line)
            if lang == "fr":
                for message in french_typography(value):
                    report.add("warning", f"{where_}: {message}", line)


SAMPLE_DAY = (2026, 11, 24)
"""The sample appointment grades are taken on: a Tuesday at 9:00 (or the set's earliest hour)."""


def printed_sections(loaded: LoadedSet) -> dict[str, dict[str, list[str]]]:
    """language -> section -> its items as they print on a sample 9:00 sheet (times in place).

    A placeholder graded as a bare word would hide what the patient reads: "jusqu’au jeudi
    26 novembre à 17 h" is six words, not one. Where no sample sheet can be made (the set has
    other errors), the written text is graded instead.
    """
    import datetime as dt

    from ketaprep.sheet import make_sheet
    from ketaprep.timeline import Appointment

    model = loaded.model
    start = dt.time(9, 0)
    if model.hours is not None and not model.hours.earliest.time <= start <= model.hours.latest.time:
        start = model.hours.earliest.time
    length = None if model.treatment.duration else (model.treatment.max_duration or model.treatment.min_duration)
    appointment = Appointment(dt.date(*SAMPLE_DAY), start, duration=length.delta if length else None)
    out: dict[str, dict[str, list[str]]] = {}
    for lang in model.languages:
        try:
            sheet = make_sheet(loaded, appointment, None, lang, None, dt.date(*SAMPLE_DAY))
        except (KetaprepError, LookupError, ValueError, RuntimeError, StopIteration):
            continue  # the set's other errors are reported; its written text is graded
        handout = sheet.handouts[0]
        out[lang] = {section.key: list(section.items) for section in (*handout.sections, handout.emergency)}
    return out


def _check_grades(loaded: LoadedSet, report: Report) -> None:
    model = loaded.model
    printed = printed_sections(loaded)
    for name in SECTION_NAMES:
        items = getattr(model.sections, name)
        if not items:
            continue
        report.grades[name] = {}
        for lang in model.languages:
            texts = printed.get(lang, {}).get(name) or [item.get(lang, "") for item in items]
            value = readability.grade(texts, lang)
            report.grades[name][lang] = None if value is None else round(value, 1)
            if value is None or value <= readability.WARN_ABOVE:
                continue
            level: Level = "error" if value > readability.ERROR_ABOVE else "warning"
            limit = readability.ERROR_ABOVE if level == "error" else readability.WARN_ABOVE
            report.add(
                level,
                f"sections.{name} ({lang}): reading grade {value:.1f} is above {limit:g}; "
                "use shorter sentences and everyday words",
                _line(loaded, ("sections", name)),
            )


_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
ENGLISH_ONLY = frozenset(
    "the and your you with before after until will must not of is for this that have has may "
    "to at be by from please who what when it we our any should would does don't eat drink "
    "take call tell ask".split()
)
"""Common English words that do not occur in French prose: one of them in a French text is English left in."""


def english_words(text: str) -> list[str]:
    """The English-only words in a text, in order, without repeats."""
    seen: list[str] = []
    for word in _WORD.findall(_PLACEHOLDER.sub(" ", text)):
        lower = word.lower().replace("’", "'")
        if lower in ENGLISH_ONLY and lower not in seen:
            seen.append(lower)
    return seen


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(_PLACEHOLDER.sub(" | ", text))]


def copied_phrases(translation: str, english: str) -> list[str]:
    """Two-word phrases of the English text found, as they are, in its translation ("chest pain").

    Single shared words are normal (infusion, confusion, ECG); the same two words in a row are
    English left in, such as an emergency sign pasted untranslated.
    """
    def pairs(words: list[str]) -> list[str]:
        return [f"{a} {b}" for a, b in zip(words, words[1:], strict=False) if max(len(a), len(b)) >= 3]

    theirs = set(pairs(_words(english)))
    found: list[str] = []
    for pair in pairs(_words(translation)):
        if pair in theirs and pair not in found:
            found.append(pair)
    return found


def _same_text(value: str, english: str) -> bool:
    """A translation identical to the English, with words in it (not just a number or an acronym)."""
    words = [w for w in _WORD.findall(_PLACEHOLDER.sub(" ", value)) if len(w) >= 3 and not w.isupper()]
    return bool(words) and value.strip() == english.strip()


def french_typography(text: str) -> list[str]:
    """French typography problems: « » for quotes, a non-breaking space before : ; ! ? and inside « »."""
    out: list[str] = []
    plain = _PLACEHOLDER.sub("x", text)
    if '"' in plain or "“" in plain or "”" in plain:
        out.append("use « » for quotation marks in French")
    for match in re.finditer(r"(\S?)(\s?)([:;!?])", plain):
        before, space, mark = match.groups()
        after = plain[match.end() : match.end() + 2]
        if mark == ":" and (before.isdigit() and after[:1].isdigit() or after.startswith("//")):
            continue  # 9:00, https://
        if space in ("\u00a0", "\u202f") or (not before and not space):
            continue
        out.append(f"put a non-breaking space (U+00A0) before « {mark} »")
    if re.search(r"«(?![\u00a0\u202f])", plain) or re.search(r"(?<![\u00a0\u202f])»", plain):
        out.append("put non-breaking spaces (U+00A0) inside « »")
    return list(dict.fromkeys(out))


@cache
def _catalog_ids() -> frozenset[str]:
    """Every msgid of the fixed wording, from the shipped template (ketaprep.pot)."""
    from babel.messages.pofile import read_po

    pot = LOCALE_DIR / f"{DOMAIN}.pot"
    with pot.open("rb") as handle:
        return frozenset(str(m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle) if m.id)


@cache
def _translated(lang: str) -> frozenset[str]:
    from babel.messages.mofile import read_mo

    with catalog_path(lang).open("rb") as handle:
        catalog = read_mo(handle)
    return frozenset(
        str(m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, (tuple, list)) else m.string)
    )


def untranslated(lang: str) -> list[str]:
    """msgids of the fixed wording that the language's compiled catalog does not translate."""
    if lang == SOURCE_LANGUAGE:
        return []
    return sorted(_catalog_ids() - _translated(lang))


# --- clinic profiles and template directories ---------------------------------------------


def _is_clinic(path: Path) -> bool:
    try:
        data, _lines, _raw = load_yaml(path)
    except KetaprepError:
        return False
    return isinstance(data, dict) and "id" not in data and "name" in data


def check_clinic(path: Path) -> list[Report]:
    """The profile's report, then its own templates' (they are part of what its handouts print)."""
    report = Report(str(path), "clinic")
    try:
        clinic, found = clinic_problems(path)
    except KetaprepError as exc:
        report.add("error", exc.message)
        return [report]
    for message in found:
        report.add("error", message)
    if clinic is None:
        return [report]
    _data, lines, _raw = load_yaml(path)

    def line(key: str) -> int | None:
        found = lines.get((key,))
        return found[1] if found else None

    if not (clinic.phone or "").strip():
        report.add("warning", "phone: missing; every handout should give the clinic's phone number",
                   line("phone") or line("name"))
    for lang in clinic.lang.split("+"):
        if lang and not has_catalog(lang) and not any(m.startswith(f"{path}, line {line('lang')}:") for m in found):
            report.add("error", f'lang: no catalog for "{lang}"', line("lang"))
    templates = path.parent / clinic.templates_dir if clinic.templates_dir else None
    if templates is not None and templates.is_dir():
        return [report, check_templates(templates)]
    return [report]


_TRIAL_FORMATS = {"handout.html.j2": "html", "html_style.css.j2": "html", "handout.typ.j2": "pdf", "handout.txt.j2": "text"}


def _trial_render(directory: Path, template_name: str) -> str | None:
    """Render a sample handout (iv-pain-4h, every language, and bilingual) with the clinic's templates.

    What fails here would fail at the desk, in front of a patient: the error, with the template's
    file and line; None if it renders.
    """
    import datetime as dt

    from jinja2 import TemplateError

    from ketaprep.i18n import available_languages
    from ketaprep.loader import SetLibrary
    from ketaprep.models import Clinic
    from ketaprep.sheet import Options, make_sheet, write
    from ketaprep.templates_env import TemplateFailure, environment, in_template, template_error_message
    from ketaprep.timeline import Appointment

    fmt = _TRIAL_FORMATS.get(template_name)
    if fmt is None:
        return None
    loaded = SetLibrary().load("iv-pain-4h")
    clinic = Clinic(name="Sample Clinic", phone="555-0100", address="1 Sample Street")
    appointment = Appointment(dt.date(2026, 11, 24), dt.time(9, 0), patient="Sample Patient")
    langs = [lang for lang in available_languages() if lang in loaded.model.languages]
    environment.cache_clear()  # a template edited since the last check is read again
    for lang in [*langs, "+".join(langs[:2])] if len(langs) > 1 else langs:
        sheet = make_sheet(loaded, appointment, clinic, lang, None, dt.date(2026, 11, 24))
        try:
            write(fmt, [sheet], Options(templates_dir=directory))  # type: ignore[arg-type]
        except TemplateFailure as exc:
            return f"{exc.detail} (in a sample {lang} handout)"
        except KetaprepError as exc:
            return f"{directory / template_name}: {exc.message} (in a sample {lang} handout)"
        except Exception as exc:  # a Jinja error, or a TypeError from `{{ h.set_id - 1 }}`: all the template's
            message = template_error_message(exc) if isinstance(exc, TemplateError) or in_template(exc) else (
                f"{directory / template_name}: {type(exc).__name__}: {exc}")
            return f"{message} (in a sample {lang} handout)"
    return None


def check_templates(directory: Path) -> Report:
    """Each template parses, and its fixed wording is translated in every language with a catalog."""
    from jinja2 import TemplateSyntaxError, nodes
    from jinja2.ext import babel_extract

    from ketaprep.i18n import available_languages
    from ketaprep.templates_env import TEMPLATE_DIR, FolderLoader, environment

    report = Report(str(directory), "templates")
    templates = sorted(directory.glob("*.j2"))
    if not templates:
        report.add("warning", "no templates (*.j2) here")
    for template in templates:
        name = str(template)
        kind = "html" if ".html" in template.name else "typst" if ".typ" in template.name else "text"
        try:
            source, _file, _fresh = FolderLoader(directory).get_source(environment(kind, None), template.name)
        except KetaprepError as exc:
            report.add("error", exc.message)
            continue
        try:
            tree = environment(kind, None).parse(source, name=template.name, filename=name)
        except TemplateSyntaxError as exc:
            report.add("error", f"{name}, line {exc.lineno}: template syntax error: {exc.message}")
            continue
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            attr = node.attr if isinstance(node, nodes.Getattr) else str(getattr(getattr(node, "arg", None), "value", ""))
            if attr.startswith("_"):
                report.add("error", f"{name}, line {node.lineno}: tries to reach beyond the sandbox ({attr}); "
                           "templates may use the handout's own fields only")
                break
        if not (TEMPLATE_DIR / template.name).exists():
            report.add("warning", f"{name}: no built-in template has this name, so nothing uses it")
        options = {"trim_blocks": "true", "lstrip_blocks": "true"}
        import io

        messages = list(babel_extract(io.BytesIO(source.encode("utf-8")), ("_", "gettext", "ngettext"), [], options))
        problem = _trial_render(directory, template.name)
        if problem:
            report.add("error", f"{problem}; fix it before printing")
        for lineno, _func, message, _comments in messages:
            msgid = message if isinstance(message, str) else next((m for m in message or () if m), None)
            if not msgid:
                continue
            for lang in available_languages():
                if lang != SOURCE_LANGUAGE and msgid not in _translated(lang):
                    report.add("warning", f'{name}, line {lineno}: "{msgid}" has no {lang} translation; it prints in English')
    return report


# --- running and reporting ----------------------------------------------------------------


def check_path(path: Path, library: SetLibrary) -> list[Report]:
    """Reports for a file, or for a directory's templates and YAML files."""
    if path.is_dir():
        reports = []
        if any(path.glob("*.j2")):
            reports.append(check_templates(path))
        for child in sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")):
            reports.extend(check_path(child, library))
        return reports or [_unknown(path, "no sets (*.yaml), clinic profiles or templates (*.j2) here")]
    if not path.exists():
        return [_unknown(path, "no such file")]
    if path.suffix not in (".yaml", ".yml"):
        return [_unknown(path, "not a set or clinic profile (.yaml) or a template directory")]
    if not _is_clinic(path):
        return [check_set(path, library)]
    return check_clinic(path)


def _unknown(path: Path, message: str) -> Report:
    report = Report(str(path), "unknown")
    report.add("error", message)
    return report


def check_all(paths: list[Path], library: SetLibrary, include_library: bool | None = None) -> list[Report]:
    """Every report: the paths, then (by default when no path is given) every set the library can see."""
    targets = list(paths)
    if include_library or (include_library is None and not paths):
        targets += sorted(library.files().values())
    return [report for path in targets for report in check_path(path, library)]


def _grade_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def text_report(reports: list[Report], width: int | None = None) -> str:
    """Findings and reading grades per file, then a summary table.

    `width` (a terminal's columns): each finding wraps at a space, its lines hanging under
    its text; without it (a pipe, a file), each finding stays on one line for grep.
    """
    import textwrap

    lines: list[str] = []
    for report in reports:
        status = "FAIL" if report.errors else "ok"
        # on a terminal, the file as the summary names it (a built-in set's site-packages path is too long)
        lines.append(f"{status:4}  {report.file if width is None else shown_path(report.file)}")
        if report.grades:
            langs = sorted({lang for grades in report.grades.values() for lang in grades}, key=_lang_order)
            column = max(len("reading grade"), *(len(name) for name in report.grades))
            lines.append("      " + "reading grade".ljust(column) + "".join(f"  {lang:>5}" for lang in langs))
            for name, grades in report.grades.items():
                lines.append("      " + name.ljust(column) + "".join(f"  {_grade_text(grades.get(lang)):>5}" for lang in langs))
        for finding in report.findings:
            where_ = f"line {finding.line}: " if finding.line else ""
            for number, part in enumerate(finding.message.split("\n")):  # a hint line stays under its message
                text = f"      {finding.level}: {where_}{part}" if number == 0 else f"        {part.strip()}"
                if width is None:
                    lines.append(text)
                else:
                    lines.extend(textwrap.wrap(text, width, subsequent_indent="        ", break_long_words=False,
                                               break_on_hyphens=False))
    lines.append("")
    lines.extend(summary_table(reports))
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warnings for r in reports)
    lines.append(f"{len(reports)} file(s) checked: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines) + "\n"


def _lang_order(lang: str) -> tuple[int, str]:
    return (0 if lang == SOURCE_LANGUAGE else 1, lang)


def shown_path(file: str) -> str:
    """A file as the summary names it, short enough for 80 columns: relative to the current
    folder when it is inside it; a built-in set by its name."""
    import os

    from ketaprep.loader import builtin_dir

    path = Path(file)
    try:
        if path.resolve().parent == builtin_dir().resolve():
            return f"{path.name} (built-in)"
        relative = os.path.relpath(path.resolve(), Path.cwd().resolve())
    except (OSError, ValueError):
        return file
    return relative if not relative.startswith("..") else file


def summary_table(reports: list[Report]) -> list[str]:
    """One line a file: result, counts, highest grade, then the file (last, so nothing wraps after it)."""
    rows = [("RESULT", "ERRORS", "WARN", "HIGHEST GRADE", "FILE")]
    for report in reports:
        graded = [(value, f"{name} {lang}") for name, grades in report.grades.items() for lang, value in grades.items()]
        highest = max(((value, where_) for value, where_ in graded if value is not None), default=None)
        rows.append(
            (
                "FAIL" if report.errors else "warn" if report.warnings else "ok",
                str(report.errors),
                str(report.warnings),
                f"{highest[0]:.1f} {highest[1]}" if highest else "-",
                shown_path(report.file) if report.kind != "clinic" else shown_path(report.file) + " (clinic)",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def json_report(reports: list[Report]) -> str:
    """A list of {file, level, line, message, grades}: one per finding, or one "ok" per clean file."""
    items: list[dict[str, Any]] = []
    for report in reports:
        grades = report.grades or None
        if not report.findings:
            items.append(
                {"file": report.file, "level": "ok", "line": None, "message": "no problems found", "grades": grades}
            )
        for finding in report.findings:
            items.append(
                {"file": report.file, "level": finding.level, "line": finding.line, "message": finding.message, "grades": grades}
            )
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def run_check(
    paths: list[Path], library: SetLibrary, fmt: Literal["text", "json"] = "text", include_library: bool | None = None,
    extra: list[tuple[str, str]] | None = None,
    width: int | None = None,
) -> tuple[str, bool]:
    """The report (for people or for CI) and whether everything passed (no errors).

    `extra`: (file, message) errors found by the caller, e.g. a clinic's default_set that render cannot load.
    """
    reports = check_all(paths, library, include_library)
    for file, message in extra or []:
        report = next((r for r in reports if r.file == file), None)
        if report is None:
            report = Report(file, "clinic")
            reports.insert(0, report)
        report.add("error", message)
    text = json_report(reports) if fmt == "json" else text_report(reports, width)
    return text, all(report.errors == 0 for report in reports)
