"""Plain UTF-8 text, for an EMR note or an SMS."""

from __future__ import annotations

from ketaprep.sheet import Options, Sheet
from ketaprep.templates_env import environment


def write(sheets: list[Sheet], options: Options) -> bytes:
    template = environment("text", options.templates_dir).get_template("handout.txt.j2")
    parts = [template.render(sheet=sheet, handouts=sheet.handouts) for sheet in sheets]
    return ("\f\n".join(parts)).encode("utf-8")
