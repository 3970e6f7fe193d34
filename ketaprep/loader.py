"""Finding and loading instruction sets and clinic profiles from YAML files."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from ketaprep.errors import SetError
from ketaprep.models import Clinic, InstructionSet, dec_hook
from ketaprep.yamlsource import LineMap, PathKey, dotted, load_yaml, where

T = TypeVar("T", InstructionSet, Clinic)
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def builtin_dir() -> Path:
    """The built-in sets: inside the installed package, or `instructions/` in a checkout."""
    packaged = Path(__file__).parent / "instructions"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parent.parent / "instructions"


@dataclass
class LoadedSet:
    """A validated set with where it came from and the hash of what was loaded."""

    model: InstructionSet
    path: Path
    sha256: str
    lines: LineMap
    builtin: bool

    @property
    def short_hash(self) -> str:
        return self.sha256[:8]

    @cached_property
    def texts(self) -> Any:
        from ketaprep.placeholders import CompiledTexts

        return CompiledTexts(self)


@dataclass
class SetLibrary:
    """The directories sets are found in: the clinic's first, then the built-in ones."""

    dirs: list[Path] = field(default_factory=lambda: [builtin_dir()])

    def files(self) -> dict[str, Path]:
        """id -> file, the first directory winning (a clinic overrides a built-in id)."""
        found: dict[str, Path] = {}
        for directory in self.dirs:
            if not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
                found.setdefault(path.stem, path)
        return found

    def resolve(self, id_or_path: str) -> Path:
        if id_or_path.endswith((".yaml", ".yml")) or "/" in id_or_path or "\\" in id_or_path:
            return Path(id_or_path)
        files = self.files()
        if id_or_path in files:
            return files[id_or_path]
        known = ", ".join(sorted(files)) or "none found"
        raise SetError(f'unknown set "{id_or_path}"; available sets: {known}')

    def resolve_parent(self, parent_id: str, exclude: set[Path]) -> Path:
        """The file `extends: parent_id` means: the first one with that id that is not the child
        itself, so a clinic's `iv-pain-4h.yaml` may extend the built-in `iv-pain-4h`."""
        if parent_id.endswith((".yaml", ".yml")) or "/" in parent_id or "\\" in parent_id:
            return Path(parent_id)
        for directory in self.dirs:
            for suffix in (".yaml", ".yml"):
                path = directory / f"{parent_id}{suffix}"
                if path.is_file() and path.resolve() not in exclude:
                    return path
        return self.resolve(parent_id)

    def load(self, id_or_path: str) -> LoadedSet:
        return load_set(self.resolve(id_or_path), self)

    def is_builtin(self, path: Path) -> bool:
        return path.resolve().parent == builtin_dir().resolve()


def _merge(base: Any, over: Any) -> Any:
    """Deep-merge mappings (the child wins); lists and values are replaced whole."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return over


def _parse_error_path(message: str) -> tuple[str, PathKey]:
    """Split msgspec's "problem - at `$.a.b[0]`" into the problem and the path."""
    match = re.search(r" - at `\$(.*)`$", message)
    if not match:
        return message, ()
    parts: list[str | int] = []
    for token in re.findall(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]", match.group(1)):
        if token[0]:
            parts.append(token[0])
        elif token[1] != "...":
            parts.append(int(token[1]))
    return message[: match.start()], tuple(parts)


def _allowed_here(model: type, path: PathKey) -> str:
    """The allowed field names or values at `path` of the model, for the message."""
    info: Any = msgspec.inspect.type_info(model)
    for part in path:
        while isinstance(info, msgspec.inspect.UnionType):
            info = next((t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)), info)
        if isinstance(info, msgspec.inspect.StructType) and isinstance(part, str):
            info = next((f.type for f in info.fields if f.encode_name == part), None)
        elif isinstance(info, msgspec.inspect.ListType) and isinstance(part, int):
            info = info.item_type
        elif isinstance(info, msgspec.inspect.DictType):
            info = info.value_type
        else:
            return ""
        if info is None:
            return ""
    while isinstance(info, msgspec.inspect.UnionType):
        info = next((t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)), info)
    if isinstance(info, msgspec.inspect.StructType):
        return "allowed fields: " + ", ".join(f.encode_name for f in info.fields)
    if isinstance(info, msgspec.inspect.LiteralType):
        return "allowed values: " + ", ".join(str(v) for v in info.values)
    return ""


def convert(data: Any, model: type[T], lines: LineMap, name: str) -> T:
    """Validate plain data against a model, explaining errors with file, line and field."""
    if not isinstance(data, dict):
        raise SetError(f"{name}: expected a mapping of fields at the top level")
    try:
        return msgspec.convert(data, model, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        problem, path = _parse_error_path(str(exc))
        missing = re.match(r"Object missing required field `([^`]+)`", problem)
        unknown = re.match(r"Object contains unknown field `([^`]+)`", problem)
        if missing:
            field_path = path + (missing.group(1),)
            problem = "required field is missing"
        elif unknown:
            field_path = path + (unknown.group(1),)
            problem = "unknown field"
        else:
            field_path = path
            problem = _plain_types(problem[0].lower() + problem[1:])
        hint = _allowed_here(model, path if (missing or unknown) else field_path)
        if re.match(r"Invalid enum value", problem, re.IGNORECASE):
            problem = problem.replace("invalid enum value", "not an allowed value")
        message = f"{where(lines, field_path, name)}: {dotted(field_path)}: {problem}"
        if hint:
            message += f"\n  {hint}"
        raise SetError(message) from None


_TYPE_WORDS = {
    "array": "a list",
    "object": "a mapping (field: value lines)",
    "str": "text",
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "null": "nothing",
}


def _plain_types(problem: str) -> str:
    """msgspec's "expected `array`, got `str`" in words a nurse knows: "expected a list, got text"."""
    match = re.fullmatch(r"expected `([^`]+)`, got `([^`]+)`", problem)
    if not match:
        return problem

    def words(names: str) -> str:
        return " or ".join(_TYPE_WORDS.get(n.strip(), n.strip()) for n in names.split("|") if n.strip() != "null")

    expected, got = words(match.group(1)) or "nothing", _TYPE_WORDS.get(match.group(2), match.group(2))
    out = f"expected {expected}, got {got}"
    if "str" in match.group(1) and match.group(2) in ("int", "float", "bool"):
        out += "; put the value in quotes"
    return out


def load_set(path: Path, library: SetLibrary | None = None, _chain: tuple[Path, ...] = ()) -> LoadedSet:
    """Load and validate one set, following `extends:`; the hash covers what was loaded."""
    library = library or SetLibrary()
    data, lines, raw = load_yaml(path)
    sha = hashlib.sha256(raw)
    if isinstance(data, dict) and isinstance(data.get("extends"), str):
        parent_id = data["extends"]
        chain = _chain + (path,)
        try:
            parent_path = library.resolve_parent(parent_id, {p.resolve() for p in chain})
        except SetError as exc:
            raise SetError(f"{where(lines, ('extends',), str(path))}: extends: {exc.message}") from None
        if parent_path.resolve() in {p.resolve() for p in chain}:
            loop = " -> ".join(str(p) for p in chain + (parent_path,))
            raise SetError(f"{where(lines, ('extends',), str(path))}: extends: \"{parent_id}\" makes a loop ({loop})")
        parent = load_set(parent_path, library, chain)
        parent_data = msgspec.to_builtins(parent.model, enc_hook=_enc_hook)
        parent_data.pop("extends", None)
        data = _merge(parent_data, data)
        lines = {**parent.lines, **lines}
        sha.update(b"\nextends:" + parent.sha256.encode())
    model = convert(data, InstructionSet, lines, str(path))
    if not _ID_RE.match(model.id):
        raise SetError(
            f"{where(lines, ('id',), str(path))}: id: \"{model.id}\" is not a set id"
            "\n  allowed: lower-case letters, digits and hyphens, e.g. iv-pain-4h"
        )
    loaded = LoadedSet(model, path, sha.hexdigest(), lines, library.is_builtin(path))
    from ketaprep.safety import require_safe

    require_safe(loaded)
    _ = loaded.texts  # compile placeholders now: an unknown placeholder fails at load time
    return loaded


def _enc_hook(value: object) -> object:
    from ketaprep.models import ClockTime, Duration
    from ketaprep.parsing import format_duration

    if isinstance(value, Duration):
        return format_duration(value.delta)
    if isinstance(value, ClockTime):
        return value.time.strftime("%H:%M")
    raise NotImplementedError(type(value))


def load_clinic(path: Path) -> Clinic:
    data, lines, _raw = load_yaml(path)
    clinic = convert(data, Clinic, lines, str(path))
    from ketaprep.zones import check_zone

    check_zone(clinic.timezone, f"{where(lines, ('timezone',), str(path))}: timezone")
    from ketaprep.i18n import parse_lang

    try:
        clinic.lang = "+".join(parse_lang(clinic.lang))
    except ValueError as exc:
        raise SetError(f"{where(lines, ('lang',), str(path))}: lang: {exc}") from None
    from ketaprep.reminders import EARLIEST_EVENING, NIGHT_STARTS

    if not EARLIEST_EVENING <= clinic.evening_reminder.time < NIGHT_STARTS:
        raise SetError(f"{where(lines, ('evening_reminder',), str(path))}: evening_reminder: "
                       f"{clinic.evening_reminder.time:%H:%M} is not in the evening; reminders never ring from "
                       "22:00 to 05:59,\n  so give a time from 12:00 to 21:59 (e.g. 20:00)")
    return clinic
