"""Safe YAML loading that remembers the line of every key, for error messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ketaprep.errors import KetaprepError, MissingFile, SetError
from ketaprep.limits import MAX_DEPTH, MAX_NUMBER_DIGITS, MAX_SET_BYTES, read_bounded
from ketaprep.limits import MAX_YAML_NODES as MAX_NODES

MAX_FILE_BYTES = MAX_SET_BYTES
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

PathKey = tuple[str | int, ...]
LineMap = dict[PathKey, tuple[str, int]]
"""(key, key, index, ...) -> (file name, 1-based line)."""


# YAML 1.1 reads an unquoted `07:00` as the base-60 number 420; a set means a clock time.
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


class _LineLoader(yaml.SafeLoader):
    """SafeLoader: plain data only, no Python objects; `07:00` stays the text "07:00"."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0] and isinstance(value, str) and _SEXAGESIMAL.match(value):
            return "tag:yaml.org,2002:str"
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def load_yaml(path: Path, what: str = "set", confine: Path | None = None) -> tuple[Any, LineMap, bytes]:
    """Read a YAML file safely; return its data, the line of each key, and its bytes.

    The file is bounded before it is read (a regular file of at most MAX_FILE_BYTES; `confine`:
    a link out of that folder is refused), then by nesting depth, values and number size.
    """
    try:
        raw = read_bounded(path, MAX_FILE_BYTES, what, confine=confine)
    except (SetError, MissingFile):
        raise
    except KetaprepError as exc:
        raise SetError(exc.message) from None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise SetError(f"{path}, line {line}: holds a NUL byte, so it is not a text file (UTF-16 or binary?); "
                       "save it as UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SetError(f"{path}, line {line}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    lines: LineMap = {}
    loader = None
    try:
        loader = _LineLoader(text)  # the reader refuses control characters here
        node = loader.get_single_node()
        if node is not None:  # before construction, which folds `<<` merge keys into the mapping
            _walk(node, (), str(path), lines, [MAX_NODES])
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f", line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise SetError(f"{path}{at}: YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise SetError(f"{path}, line {line}: holds a control character (code {exc.character!r}); "
                       "save it as plain UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise SetError(f"{path}: YAML syntax error: {type(exc).__name__}") from None
    except RecursionError:
        raise SetError(f"{path}: nested more than {MAX_DEPTH} levels deep (the limit); write the set out plainly") from None
    except (ValueError, OverflowError):  # a number Python will not build (over 4,300 digits)
        raise SetError(f"{path}: holds a number with more than {MAX_NUMBER_DIGITS} digits (the limit)") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines, raw


def _walk(node: yaml.Node, prefix: PathKey, name: str, lines: LineMap, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0 or len(prefix) > MAX_DEPTH:  # aliases can nest without end ("billion laughs")
        raise SetError(
            f"{name}, line {node.start_mark.line + 1}: too deeply nested or repeated (YAML anchors and aliases); "
            "write the set out plainly"
        )
    lines.setdefault(prefix, (name, node.start_mark.line + 1))
    if isinstance(node, yaml.ScalarNode) and len(node.value) > MAX_NUMBER_DIGITS and node.tag in _NUMBER_TAGS:
        raise SetError(f"{name}, line {node.start_mark.line + 1}: {dotted(prefix)}: a number with more than "
                       f"{MAX_NUMBER_DIGITS} digits (the limit); is it a mistake?")
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            if prefix + (key,) in lines and key != "<<":  # YAML would silently keep the last one
                raise SetError(
                    f"{name}, line {line}: {dotted(prefix + (key,))}: given twice "
                    f"(also on line {lines[prefix + (key,)][1]}); keep only one"
                )
            lines[prefix + (key,)] = (name, line)
            _walk(value_node, prefix + (key,), name, lines, budget)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[prefix + (index,)] = (name, item.start_mark.line + 1)
            _walk(item, prefix + (index,), name, lines, budget)


def where(lines: LineMap, path: PathKey, fallback: str) -> str:
    """`file, line N` for the deepest known part of `path`."""
    for end in range(len(path), -1, -1):
        found = lines.get(path[:end])
        if found:
            return f"{found[0]}, line {found[1]}"
    return fallback


def dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
