"""`ketaprep init DIR`: a clinic's own folder, ready for its medical staff to review.

DIR/clinic.yaml names every key a clinic profile accepts, each with a one-line comment, and
points `sets_dir` at DIR/sets, which holds a copy of every built-in set. Each copy says at
its top which built-in version it came from and that the clinic's staff must review it.
Nothing is ever overwritten: if any of these files exists, nothing is written at all.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import msgspec

from ketaprep import __version__
from ketaprep.errors import KetaprepError
from ketaprep.loader import SetLibrary, builtin_dir
from ketaprep.models import Clinic

SETS = "sets"

PROFILE_KEYS: dict[str, tuple[str, str]] = {
    "name": ("The clinic's name, printed at the top of every sheet.", ""),
    "phone": ('The number patients call, printed on every sheet, e.g. "416-555-0199".', "~"),
    "address": ('One line printed under the name, e.g. "200 Front Street West, Toronto, ON".', "~"),
    "timezone": ("The clinic's time zone (an IANA name): every time is worked out in it.", "America/Toronto"),
    "hours": ('Earliest and latest start, e.g. {earliest: "07:00", latest: "17:00"}; empty: only 22:00-05:59 '
              "is refused.", "~"),
    "default_set": ("The set used when neither --set nor the day's list names one (see: ketaprep sets).",
                    "iv-pain-4h"),
    "lang": ("The sheets' language: en, fr, or en+fr for a bilingual sheet.", "en"),
    "clock": ("12 or 24-hour times on English sheets (empty: 12); French sheets are always 24-hour.", "~"),
    "sets_dir": ("This clinic's reviewed sets (a folder, relative to this file), used before the built-in ones.",
                 SETS),
    "templates_dir": ("A folder of the clinic's own templates, relative to this file; empty: the built-in ones.",
                      "~"),
    "alarm_minutes": ("Calendar reminders ring this many minutes before each cut-off.", "30"),
    "printer": ("The printer (CUPS queue) for --print; empty: the computer's default (see ketaprep printers).",
                "~"),
    "evening_reminder": ("A reminder due at night (22:00 to 05:59) rings the evening before, at this time.",
                         '"20:00"'),
    "qr_codes": ("Print QR codes that add the times to the patient's phone calendar (true or false).", "true"),
    "appointment_types": ("A list's type column or FHIR code -> set, e.g. {KET-IV-PAIN: iv-pain-4h}.", "{}"),
}
"""Every key of the clinic profile, in the order written: (one-line comment, value as written)."""


@dataclass(frozen=True)
class Made:
    """What `init` wrote."""

    folder: Path
    profile: Path
    sets: tuple[Path, ...]


def profile_keys() -> list[str]:
    """The keys `Clinic` accepts, as a clinic writes them."""
    info = msgspec.inspect.type_info(Clinic)
    assert isinstance(info, msgspec.inspect.StructType)
    return [f.encode_name for f in info.fields]


def profile_text(name: str, phone: str | None) -> str:
    """clinic.yaml: every key the profile accepts, each with its one-line comment."""
    lines = [
        f"# Clinic profile for ketaprep, made by `ketaprep init` (ketaprep {__version__}).",
        "# Every key the profile accepts is below; a key set to ~ (empty) takes its default.",
        "# After any change: ketaprep check --clinic clinic.yaml",
    ]
    keys = profile_keys()
    for key in [k for k in PROFILE_KEYS if k in keys] + [k for k in keys if k not in PROFILE_KEYS]:
        comment, value = PROFILE_KEYS.get(key, (f"See the README for {key}.", "~"))
        if key == "name":
            value = json.dumps(name, ensure_ascii=False)
        elif key == "phone" and phone:
            value = json.dumps(phone, ensure_ascii=False)
        lines += ["", f"# {comment}", f"{key}: {value}"]
    return "\n".join(lines) + "\n"


def copy_header(set_id: str, version: str, short_hash: str) -> str:
    return (
        f"# Copied by `ketaprep init` from ketaprep {__version__}'s built-in set {set_id}, version {version}\n"
        f"# (content hash {short_hash}). The clinic's medical staff must review every value and every\n"
        "# sentence below before this set is used for a patient, then give it a version of the clinic's\n"
        "# own (e.g. version: \"clinic-2026-12\"), so each sheet's footer shows which reviewed copy it\n"
        "# came from. Check it after any change: ketaprep check --clinic clinic.yaml\n"
    )


def make_folder(folder: Path, name: str, phone: str | None = None) -> Made:
    """Write DIR/clinic.yaml and DIR/sets/*.yaml, or nothing at all if any of them exists."""
    if folder.exists() and not folder.is_dir():
        raise KetaprepError(f"{folder}: is a file; give a folder name for the clinic, e.g. my-clinic")
    parent = folder.parent if str(folder.parent) else Path(".")
    if not parent.is_dir():
        raise KetaprepError(f"{folder}: the folder {parent} does not exist; create it first or choose another")
    library = SetLibrary([builtin_dir()])
    sources = library.files()
    files: dict[Path, str] = {folder / "clinic.yaml": profile_text(name, phone)}
    for set_id, source in sorted(sources.items()):
        loaded = library.load(set_id)
        text = source.read_text(encoding="utf-8")
        files[folder / SETS / source.name] = copy_header(set_id, loaded.model.version, loaded.short_hash) + text
    existing = [path for path in files if path.exists() or path.is_symlink()]
    if existing:
        shown = ", ".join(str(p) for p in existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise KetaprepError(f"{shown}: already there; init never overwrites a file, so nothing was written. "
                            "Choose a new folder, or move these files away first")
    created: list[Path] = []
    try:
        for directory in (folder, folder / SETS):
            if not directory.is_dir():
                directory.mkdir()
                created.append(directory)
        for path, text in files.items():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            created.append(path)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
    except OSError as exc:
        for path in reversed(created):  # leave the folder as it was
            try:
                path.rmdir() if path.is_dir() else path.unlink()
            except OSError:
                pass
        raise KetaprepError(f"{exc.filename or folder}: could not be written ({exc.strerror}); nothing was kept") from None
    return Made(folder, folder / "clinic.yaml", tuple(sorted(p for p in files if p.parent.name == SETS)))
