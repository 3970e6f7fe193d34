"""Placeholders in a set's text ({{ last_meal }}, {{ patient }}), rendered in a sandbox."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from ketaprep.errors import SetError
from ketaprep.yamlsource import PathKey, dotted, where

if TYPE_CHECKING:
    from jinja2 import Template

    from ketaprep.loader import LoadedSet

FIELDS = ("patient", "clinic_name", "clinic_phone", "appointment_date", "start_time", "treatment_length")
"""Patient and appointment fields a text may use, besides the set's event keys."""

_DOUBLE_PERIOD = re.compile(r"(\b[ap]\.m\.)\.")
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class CompiledTexts:
    """Every text of a set compiled once, with unknown placeholders refused at load time."""

    def __init__(self, loaded: LoadedSet) -> None:
        from ketaprep.safety import event_keys, texts_of

        allowed = set(FIELDS) | set(event_keys(loaded))
        self._templates: dict[tuple[PathKey, str], Template | str] = {}
        name = str(loaded.path)
        for path, text in texts_of(loaded):
            for lang, value in text.items():
                if "{" not in value:
                    self._templates[(path, lang)] = value
                    continue
                try:
                    unknown = meta.find_undeclared_variables(_ENV.parse(value)) - allowed
                except TemplateSyntaxError as exc:
                    raise SetError(
                        f"{where(loaded.lines, path, name)}: {dotted(path)} ({lang}): placeholder syntax error: "
                        f"{exc.message}"
                    ) from None
                if unknown:
                    raise SetError(
                        f"{where(loaded.lines, path, name)}: {dotted(path)} ({lang}): unknown placeholder "
                        f"{{{{ {sorted(unknown)[0]} }}}}\n  allowed: {', '.join(sorted(allowed))}"
                    )
                self._templates[(path, lang)] = _ENV.from_string(value)

    def render(self, path: PathKey, lang: str, context: dict[str, Any]) -> str:
        template = self._templates[(path, lang)]
        if isinstance(template, str):
            return template
        # "until 9:00 a.m.." reads as a typo: a sentence ending in an abbreviation keeps one period.
        return _DOUBLE_PERIOD.sub(r"\1", template.render(context))
