"""The Jinja environments for handout templates and set text: sandboxed, strict, bounded.

Every template, built-in or a clinic's, runs in a `SandboxedEnvironment` with `StrictUndefined`:
no attribute starting with `_`, no Python objects reached through them. On top of the sandbox,
a template is bounded (see `ketaprep.limits`): the characters it writes and the loop turns it
takes per patient, the size of the strings and numbers it builds, the widths and counts it
passes to filters. A clinic's template file must be a regular UTF-8 file inside its folder:
a link pointing outside it, a FIFO or a device is refused.
"""

from __future__ import annotations

import os
import posixpath
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, Literal

from jinja2 import BaseLoader, ChoiceLoader, StrictUndefined, Template, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import _PassArg

from ketaprep.errors import KetaprepError
from ketaprep.limits import (
    MAX_TEMPLATE_BYTES,
    MAX_TEMPLATE_INT_BITS,
    MAX_TEMPLATE_LOOPS,
    MAX_TEMPLATE_OUTPUT,
    MAX_TEMPLATE_STRING,
    read_bounded,
)

TEMPLATE_DIR = Path(__file__).parent / "templates"
Kind = Literal["text", "html", "typst"]
MAX_ARGUMENT = 100_000
"""A width, count or length passed to a filter or method (`center(80)`, `truncate(200)`)."""


class TemplateLimit(SecurityError):
    """A template or set text went past one of its bounds."""


# --- the per-rendering budget -----------------------------------------------------------


class _Budget:
    __slots__ = ("loops", "output")

    def __init__(self) -> None:
        self.loops = 0
        self.output = 0

    def reset(self) -> None:
        self.loops = 0
        self.output = 0


_local = threading.local()


def _current() -> _Budget:
    budget: _Budget | None = getattr(_local, "budget", None)
    if budget is None:
        budget = _local.budget = _Budget()
    return budget


class BoundedTemplate(Template):
    """A template whose rendering stops at `MAX_TEMPLATE_OUTPUT` characters and
    `MAX_TEMPLATE_LOOPS` loop turns (both counted afresh for each patient's sheet it loops over)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        return "".join(self.generate(*args, **kwargs))

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        budget = _Budget()
        inner = super().generate(*args, **kwargs)
        while True:
            previous = getattr(_local, "budget", None)
            _local.budget = budget
            try:
                piece = next(inner)
            except StopIteration:
                return
            finally:
                _local.budget = previous
            budget.output += len(piece)
            if budget.output > MAX_TEMPLATE_OUTPUT:
                error = TemplateLimit(f"writes more than {MAX_TEMPLATE_OUTPUT:,} characters for one patient (the limit)")
                error.filename = self.filename  # type: ignore[attr-defined]
                raise error
            yield piece


def _bounded_loop(iterable: Iterable[Any]) -> Iterator[Any]:
    """What every `{% for %}` loops over: each turn counted against the rendering's budget."""
    from ketaprep.sheet import Sheet

    budget = _current()
    for item in iterable:
        if isinstance(item, Sheet):  # each patient gets the whole allowance
            budget.reset()
        budget.loops += 1
        if budget.loops > MAX_TEMPLATE_LOOPS:
            raise TemplateLimit(f"loops more than {MAX_TEMPLATE_LOOPS:,} times for one patient (the limit)")
        yield item


def _check_value(value: Any) -> Any:
    if isinstance(value, (str, bytes, list, tuple, dict)) and len(value) > MAX_TEMPLATE_STRING:
        raise TemplateLimit(f"builds a text or list longer than {MAX_TEMPLATE_STRING:,} (the limit)")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_TEMPLATE_INT_BITS:
        raise TemplateLimit("builds a number too large to print")
    return value


def _check_arguments(args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ARGUMENT:
            raise TemplateLimit(f"passes a width or count above {MAX_ARGUMENT:,} to a filter (the limit)")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 1


def _check_expansion(subject: Any, name: str, args: tuple[Any, ...]) -> None:
    """`replace` and `join` can build far more than their inputs: estimate before doing it."""
    if name == "replace" and len(args) >= 2 and isinstance(subject, str):
        size = len(subject) + (len(subject) + 1) * _length(args[1])
    elif name == "join" and isinstance(subject, (list, tuple)):
        size = sum(_length(item) for item in subject) + len(subject) * _length(args[0] if args else "")
    elif name == "join" and isinstance(subject, str) and args and isinstance(args[0], (list, tuple)):
        size = sum(_length(item) for item in args[0]) + len(args[0]) * len(subject)
    else:
        return
    if size > MAX_TEMPLATE_STRING:
        raise TemplateLimit(f"builds a text longer than {MAX_TEMPLATE_STRING:,} (the limit)")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    skip = 1 if _PassArg.from_obj(function) is not None else 0  # a context or environment comes first

    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = args[skip:]
        _check_arguments(values[1:], kwargs)
        if values:
            if name == "format" and isinstance(values[0], str):
                _check_format(values[0])
            _check_expansion(values[0], name, tuple(values[1:]))
        return _check_value(function(*args, **kwargs))

    return bounded


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox with every operator that can build something large checked first."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})
    template_class = BoundedTemplate

    def __init__(self, **options: Any) -> None:
        super().__init__(undefined=StrictUndefined, **options)
        for name, function in list(self.filters.items()):
            self.filters[name] = _bounded_filter(name, function)
        self.filters["_ketaprep_loop"] = _bounded_loop

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and max(left.bit_length(), 1) * right > MAX_TEMPLATE_INT_BITS:
                raise TemplateLimit("builds a number too large to print")
        elif operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and len(seq) * count > MAX_TEMPLATE_STRING:
                    raise TemplateLimit(f"builds a text or list longer than {MAX_TEMPLATE_STRING:,} (the limit)")
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        return _check_value(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_arguments(args, kwargs)
        name = getattr(__obj, "__name__", "")
        subject = getattr(__obj, "__self__", None)
        if name in ("format", "format_map") and isinstance(subject, str):
            _check_format(subject)
        _check_expansion(subject, name, args)
        return _check_value(super().call(__context, __obj, *args, **kwargs))

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_ketaprep_loop", [], [], None, None, lineno=loop.iter.lineno)
        return tree


def _check_format(text: str) -> None:
    """A format string with a width or precision of six digits or more (`{:>999999}`, `%999999s`)."""
    import re

    if re.search(r"[{%][^}%]*?\d{6,}", text):
        raise TemplateLimit(f"formats a value wider than {MAX_ARGUMENT:,} characters (the limit)")


def sandbox(**options: Any) -> BoundedSandbox:
    """A bounded sandbox for set text (placeholders) or a template."""
    return BoundedSandbox(**options)


# --- loading templates ------------------------------------------------------------------


class FolderLoader(BaseLoader):
    """Templates from one folder: regular UTF-8 files, bounded in size, never a link out of the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        filename = posixpath.join(str(self.folder), *pieces)
        if not os.path.lexists(filename):
            raise TemplateNotFound(template)
        path = Path(filename)
        raw = read_bounded(path, MAX_TEMPLATE_BYTES, "template", confine=self.folder)
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise KetaprepError(f"{path}, line {line}: the template is not UTF-8 text; save it as UTF-8") from None
        mtime = os.stat(filename).st_mtime

        def uptodate() -> bool:
            try:
                return os.stat(filename).st_mtime == mtime
            except OSError:
                return False

        return source, os.path.normpath(filename), uptodate


@lru_cache(maxsize=8)
def environment(kind: Kind, clinic_dir: Path | None = None) -> BoundedSandbox:
    """A clinic's template directory comes first, so it can override one template."""
    loaders: list[BaseLoader] = [FolderLoader(clinic_dir)] if clinic_dir else []
    loaders.append(FolderLoader(TEMPLATE_DIR))
    env = sandbox(
        loader=ChoiceLoader(loaders),
        autoescape=(kind == "html"),  # noqa: S701 (explicit: escaped for HTML; text and Typst have their own)
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    if kind == "typst":
        from ketaprep.formats.typst_escape import typst_escape, typst_str, whole_dates

        env.filters["typst"] = typst_escape
        env.filters["typst_str"] = typst_str
        env.filters["whole_dates"] = whole_dates
        env.finalize = typst_escape
    return env


# --- naming a template's error ----------------------------------------------------------


def _template_frame(exc: BaseException) -> tuple[str, int] | None:
    """The deepest traceback frame in a .j2 file (Jinja gives templates their own file and
    line there): where the template went wrong, or None when no template was running."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


class TemplateFailure(KetaprepError):
    """A template failed for this sheet: its file and line, never a value (exit 1; in a batch, that row's)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"template {detail}\n  run: ketaprep check on the clinic's templates folder")
        self.detail = detail


def template_failure(exc: BaseException) -> TemplateFailure:
    return TemplateFailure(template_error_message(exc))


def is_template_error(exc: BaseException) -> bool:
    from jinja2 import TemplateError

    return not isinstance(exc, KetaprepError) and (isinstance(exc, TemplateError) or in_template(exc))


def in_template(exc: BaseException) -> bool:
    """Did this exception happen while a template was rendering?"""
    return isinstance(exc, TemplateLimit) or _template_frame(exc) is not None


def template_error_message(exc: BaseException) -> str:
    """`handout.html.j2, line 12: uses a value that is not defined` from an error in a template.

    The message names the template, the line and the kind of problem, never a value (a value
    can be a patient's name): only a syntax error, whose text is the template's own, is quoted.
    """
    name, line = getattr(exc, "filename", None) or getattr(exc, "name", None), getattr(exc, "lineno", None)
    frame = _template_frame(exc)
    if frame is not None:
        name, line = frame
    where = f"{name}, line {line}" if name and line else (str(name) if name else "a template")
    return f"{where}: {_problem(exc, _source_line(name, line))}"


def _source_line(name: object, line: object) -> str:
    """The template's own text at that line (to tell a name the template wrote from a value)."""
    if not isinstance(name, str) or not isinstance(line, int) or not name.endswith(".j2"):
        return ""
    try:
        text = read_bounded(Path(name), MAX_TEMPLATE_BYTES, "template").decode("utf-8", "replace")
    except KetaprepError:
        return ""
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _undefined_name(exc: BaseException, source_line: str) -> str | None:
    """The attribute or name an UndefinedError is about, when the template's line spells it out."""
    import re

    match = re.search(r"(?:has no attribute|is undefined)\W*'?([A-Za-z_][A-Za-z0-9_]{0,39})'?\s*$", str(exc)) or \
        re.match(r"'([A-Za-z_][A-Za-z0-9_]{0,39})' is undefined", str(exc))
    if match and re.search(rf"\b{match.group(1)}\b", source_line):
        return match.group(1)
    return None


def _problem(exc: BaseException, source_line: str = "") -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"template syntax error: {exc.message}"
    if isinstance(exc, TemplateLimit):
        return str(exc)
    if isinstance(exc, SecurityError) or (isinstance(exc, UndefinedError) and "unsafe" in str(exc)):
        return "tries to reach beyond the sandbox (Python internals are not available to templates)"
    if isinstance(exc, UndefinedError):
        found = _undefined_name(exc, source_line)
        return f'uses "{found}", which is not defined' if found else "uses a value or attribute that is not defined"
    if isinstance(exc, RecursionError):
        return "calls itself without end"
    if isinstance(exc, KetaprepError):
        return exc.message
    if isinstance(exc, (TypeError, ArithmeticError)) and _names_types_only(str(exc)):
        return str(exc)  # "unsupported operand type(s) for -: 'str' and 'int'" holds no value
    return f"cannot be filled in ({type(exc).__name__})"


def _names_types_only(message: str) -> bool:
    """Does the message quote nothing but type names (`'str'`, `'ketaprep.handout.Handout object'`)?"""
    import re

    if len(message) > 200 or not message.isprintable():
        return False
    quoted = re.findall(r"'([^']*)'", message)
    rest = re.sub(r"'[^']*'", "", message)
    if '"' in rest or any(ch.isdigit() for ch in rest.replace("-:", "")):
        return False
    import builtins

    def is_type(name: str) -> bool:
        name = name.removesuffix(" object")
        return name in _TYPE_NAMES or isinstance(getattr(builtins, name, None), type) or (
            re.fullmatch(r"[a-z_]\w*(?:\.\w+)+", name) is not None)

    return all(is_type(q) for q in quoted)


_TYPE_NAMES = frozenset({"NoneType", "Markup", "Undefined", "StrictUndefined", "LoopContext"})
