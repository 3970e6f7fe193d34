"""The Jinja environments for handout templates: strict, and escaped where markup is."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

TEMPLATE_DIR = Path(__file__).parent / "templates"
Kind = Literal["text", "html", "typst"]


@lru_cache(maxsize=8)
def environment(kind: Kind, clinic_dir: Path | None = None) -> Environment:
    """A clinic's template directory comes first, so it can override one template."""
    loaders = [FileSystemLoader(str(clinic_dir))] if clinic_dir else []
    loaders.append(FileSystemLoader(str(TEMPLATE_DIR)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=(kind == "html"),  # noqa: S701 (explicit: escaped for HTML; text and Typst have their own)
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    if kind == "typst":
        from ketaprep.formats.typst_escape import typst_escape, typst_str

        env.filters["typst"] = typst_escape
        env.filters["typst_str"] = typst_str
        env.finalize = typst_escape
    return env


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


def in_template(exc: BaseException) -> bool:
    """Did this exception happen while a template was rendering?"""
    return _template_frame(exc) is not None


def template_error_message(exc: Exception) -> str:
    """`handout.html.j2, line 12: 'Handout' has no attribute 'nosuch'` from a Jinja error.

    The message never holds a value, only names.
    """
    name, line = getattr(exc, "filename", None) or getattr(exc, "name", None), getattr(exc, "lineno", None)
    frame = _template_frame(exc)
    if frame is not None:
        name, line = frame
    message = getattr(exc, "message", None) or str(exc)
    where = f"{name}, line {line}" if name and line else (str(name) if name else "a template")
    return f"{where}: {message}"
