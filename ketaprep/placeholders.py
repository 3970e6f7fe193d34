"""Placeholders in a set's text ({{ last_meal }}, {{ patient }}), rendered in a sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from ketaprep.errors import SetError
from ketaprep.timefmt import single_period
from ketaprep.yamlsource import PathKey, dotted, where

if TYPE_CHECKING:
    from jinja2 import Template

    from ketaprep.loader import LoadedSet

FIELDS = ("patient", "clinic_name", "clinic_phone", "appointment_date", "start_time", "treatment_length",
          "monitoring_length")
"""Patient and appointment fields a text may use, besides the set's event keys."""

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class CompiledTexts:
    """Every text of a set compiled once, with unknown placeholders refused at load time."""

    def __init__(self, loaded: LoadedSet) -> None:
        from ketaprep.safety import event_keys, texts_of

        allowed = set(FIELDS) | set(event_keys(loaded))
        self._templates: dict[tuple[PathKey, str], Template | str] = {}
        name = str(loaded.path)
        sample = {key: "9:00 a.m." for key in allowed}
        self._where: dict[tuple[PathKey, str], str] = {}
        for path, text in texts_of(loaded):
            for lang, value in text.items():
                if "{" not in value:
                    self._templates[(path, lang)] = value
                    continue
                at = f"{where(loaded.lines, path + (lang,), name)}: {dotted(path)} ({lang})"
                self._where[(path, lang)] = at
                try:
                    tree = _ENV.parse(value)
                except TemplateSyntaxError as exc:
                    raise SetError(f"{at}: placeholder syntax error: {exc.message}") from None
                unknown = meta.find_undeclared_variables(tree) - allowed
                if unknown:
                    raise SetError(
                        f"{at}: unknown placeholder {{{{ {sorted(unknown)[0]} }}}}\n  allowed: {', '.join(sorted(allowed))}"
                    )
                hidden = [n.attr for n in tree.find_all(nodes.Getattr)] + [
                    str(getattr(n.arg, "value", "")) for n in tree.find_all(nodes.Getitem)
                ]
                if any(attr.startswith("_") for attr in hidden):
                    raise SetError(f"{at}: placeholder is not allowed; write a plain one such as {{{{ last_meal }}}}")
                template = _ENV.from_string(value)
                try:  # a trial render with sample values: what fails here would fail on a patient's sheet
                    template.render(sample)
                except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
                    raise SetError(f"{at}: placeholder cannot be filled in ({exc}); write a plain one such as "
                                   "{{ last_meal }}") from None
                self._templates[(path, lang)] = template

    def render(self, path: PathKey, lang: str, context: dict[str, Any]) -> str:
        template = self._templates[(path, lang)]
        if isinstance(template, str):
            return template
        try:
            rendered = template.render(context)
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError):
            # no details: the values are this patient's
            raise SetError(f"{self._where[(path, lang)]}: placeholder cannot be filled in for this appointment") from None
        return single_period(rendered)
