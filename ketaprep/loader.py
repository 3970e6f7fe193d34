"""Finding and loading instruction sets and clinic profiles from YAML files."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from ketaprep.errors import MissingFile, SetError
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
    checked: bool = False
    """Load only sets that pass `ketaprep check` (render and batch): a failing set is refused."""
    warn: Callable[[str], None] | None = None
    """Where the check's warnings go when `checked` (the CLI: stderr)."""

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
        if not self.checked:
            return load_set(self.resolve(id_or_path), self)
        from ketaprep.checker import load_for_print

        loaded, warnings = load_for_print(self, id_or_path)
        for message in warnings:
            if self.warn is not None:
                self.warn(message)
        return loaded

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
    bound = re.fullmatch(r"expected `int` ([<>]=) (-?\d+)", problem)
    if bound:
        return f"expected a whole number {'at most' if bound.group(1) == '<=' else 'at least'} {bound.group(2)}"
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
    data, lines, raw = load_yaml(path, "set", confine=path.parent)
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
        try:
            parent = load_set(parent_path, library, chain)
        except MissingFile as exc:  # the set names it: the set's error
            raise SetError(f"{where(lines, ('extends',), str(path))}: extends: {exc.message}") from None
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
    """A clinic profile, or one error listing every problem in it (each with its line)."""
    clinic, found = clinic_problems(path)
    if found or clinic is None:
        raise SetError("\n".join(found))
    return clinic


def clinic_problems(path: Path) -> tuple[Clinic | None, list[str]]:
    """The profile (None if it cannot be read as one) and every error in it, not only the first.

    Checked as strictly as a set: each field's type, the time zone, the languages, and that
    `sets_dir` and `templates_dir` are folders (relative to the profile's own folder).
    """
    data, lines, _raw = load_yaml(path, "clinic profile")
    name = str(path)
    if not isinstance(data, dict):
        return None, [f"{name}: expected a mapping of fields at the top level"]
    found: list[str] = []
    data = dict(data)
    clinic: Clinic | None = None
    reported: set[str | None] = set()
    while clinic is None:
        try:
            clinic = convert(data, Clinic, lines, name)
        except SetError as exc:
            bad = _failing_key(exc.message, lines, data)
            if bad not in reported:
                found.append(exc.message)
            if bad is None or len(found) > 50:
                return None, found
            if bad in data and bad not in reported:
                del data[bad]  # report the others too, then try without this one
            else:  # a required field is missing (or was wrong): stand one in to go on checking the rest
                data[bad] = ""
            reported.add(bad)
    from ketaprep.zones import check_zone

    try:
        check_zone(clinic.timezone, f"{where(lines, ('timezone',), name)}: timezone")
    except SetError as exc:
        found.append(exc.message)
    from ketaprep.i18n import parse_lang

    try:
        clinic.lang = "+".join(parse_lang(clinic.lang))
    except ValueError as exc:
        found.append(f"{where(lines, ('lang',), name)}: lang: {exc}")
    if clinic.hours and clinic.hours.earliest.time > clinic.hours.latest.time:
        found.append(f"{where(lines, ('hours',), name)}: hours: earliest is after latest")
    from ketaprep.reminders import EARLIEST_EVENING, NIGHT_STARTS

    if not EARLIEST_EVENING <= clinic.evening_reminder.time < NIGHT_STARTS:
        found.append(f"{where(lines, ('evening_reminder',), name)}: evening_reminder: "
                     f"{clinic.evening_reminder.time:%H:%M} is not in the evening; reminders never ring from "
                     "22:00 to 05:59,\n  so give a time from 12:00 to 21:59 (e.g. 20:00)")
    for key, value in (("sets_dir", clinic.sets_dir), ("templates_dir", clinic.templates_dir)):
        if value is not None and not (path.parent / value).is_dir():
            found.append(f'{where(lines, (key,), name)}: {key}: "{value}" is not a folder '
                         f"(it is read relative to {path.parent})")
    return clinic, sorted(found, key=_line_of)


def _line_of(message: str) -> int:
    match = re.match(r"^.*?, line (\d+):", message)
    return int(match.group(1)) if match else 0


def _failing_key(message: str, lines: LineMap, data: dict[str, Any]) -> str | None:
    """The top-level field a `convert` error is about (from `...: field.sub: problem`)."""
    first = message.splitlines()[0]
    match = re.match(r"^.*?: ([A-Za-z_][\w-]*)(?:[.\[][^:]*)?: ", first)
    if not match:
        return None
    key = match.group(1)
    if key in data or key in {f.encode_name for f in msgspec.inspect.type_info(Clinic).fields}:  # type: ignore[attr-defined]
        return key
    return None
