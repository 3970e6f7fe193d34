"""Safe YAML loading that remembers the line of every key, for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ketaprep.errors import SetError

MAX_FILE_BYTES = 1_000_000

PathKey = tuple[str | int, ...]
LineMap = dict[PathKey, tuple[str, int]]
"""(key, key, index, ...) -> (file name, 1-based line)."""


class _LineLoader(yaml.SafeLoader):
    """SafeLoader: plain data only, no Python objects."""


def load_yaml(path: Path) -> tuple[Any, LineMap, bytes]:
    """Read a YAML file safely; return its data, the line of each key, and its bytes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SetError(f"{path}: no such file") from None
    except OSError as exc:
        raise SetError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SetError(f"{path}: file is larger than {MAX_FILE_BYTES:,} bytes; is it the right file?")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SetError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise SetError(f"{path}{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise SetError(f"{path}: YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    lines: LineMap = {}
    if node is not None:
        _walk(node, (), str(path), lines)
    return data, lines, raw


def _walk(node: yaml.Node, prefix: PathKey, name: str, lines: LineMap) -> None:
    lines.setdefault(prefix, (name, node.start_mark.line + 1))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            lines[prefix + (key,)] = (name, key_node.start_mark.line + 1)
            _walk(value_node, prefix + (key,), name, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[prefix + (index,)] = (name, item.start_mark.line + 1)
            _walk(item, prefix + (index,), name, lines)


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
