"""`ketaprep init DIR`: a clinic folder that check passes and render uses; never an overwrite."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from ketaprep.clinic_folder import PROFILE_KEYS, profile_keys
from ketaprep.loader import SetLibrary, builtin_dir, load_clinic

BUILTIN = sorted(SetLibrary().files())


def test_init_writes_a_profile_with_every_key_commented_and_a_copy_of_every_set(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "my-clinic"
    result = cli("init", str(folder), "--name", "Clinique Lakeshore", "--phone", "416-555-0199")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == f"Made {folder}:"
    assert f"  3. ketaprep check --clinic {folder / 'clinic.yaml'}" in result.out
    text = (folder / "clinic.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for key in profile_keys():  # every key the profile accepts, each under its own one-line comment
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{key}: "))
        assert lines[index - 1].startswith("# ") and len(lines[index - 1]) > 20, key
        assert key in PROFILE_KEYS, f"{key}: give it a comment in clinic_folder.PROFILE_KEYS"
    for key in ("name", "phone", "address", "timezone", "hours", "default_set", "lang", "clock",
                "appointment_types", "templates_dir", "sets_dir"):
        assert re.search(rf"^{key}: ", text, re.M), key
    clinic = load_clinic(folder / "clinic.yaml")
    assert (clinic.name, clinic.phone, clinic.sets_dir, clinic.timezone) == (
        "Clinique Lakeshore", "416-555-0199", "sets", "America/Toronto")
    assert sorted(p.stem for p in (folder / "sets").glob("*.yaml")) == BUILTIN
    for set_id in BUILTIN:
        copy = (folder / "sets" / f"{set_id}.yaml").read_text(encoding="utf-8")
        original = (builtin_dir() / f"{set_id}.yaml").read_text(encoding="utf-8")
        header, _, rest = copy.partition("\n# ")
        assert copy.endswith(original)
        version = yaml.safe_load(original)["version"]
        assert copy.startswith("# Copied by `ketaprep init` from ketaprep ")
        assert f"built-in set {set_id}, version {version}" in copy.splitlines()[0]
        assert "The clinic's medical staff must review every value and every" in copy[: copy.index(original)]


def test_check_passes_on_the_fresh_folder_and_render_uses_the_copies(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "my-clinic"
    assert cli("init", str(folder), "--name", "Lakeshore Clinic", "--phone", "416-555-0199").code == 0
    profile = folder / "clinic.yaml"
    checked = cli("check", "--clinic", str(profile))
    assert checked.code == 0, checked.out
    assert checked.out.splitlines()[-1] == f"{1 + len(BUILTIN)} file(s) checked: 0 error(s), 0 warning(s)"
    for set_id in BUILTIN:
        assert f"ok    {folder / 'sets' / (set_id + '.yaml')}" in checked.out
    rendered = cli("render", "--start", "09:00", "--date", "2026-11-24", "--clinic", str(profile), "--format", "json")
    assert rendered.code == 0, rendered.err
    data = json.loads(rendered.out)
    copy = (folder / "sets" / "iv-pain-4h.yaml").read_bytes()
    assert data["set"]["sha256"] == hashlib.sha256(copy).hexdigest()
    assert data["set"]["sha256"] != hashlib.sha256((builtin_dir() / "iv-pain-4h.yaml").read_bytes()).hexdigest()
    text = cli("render", "--start", "09:00", "--date", "2026-11-24", "--clinic", str(profile), "--format", "text",
               "--lang", "fr")
    assert "Lakeshore Clinic | Téléphone\u00a0: 416-555-0199" in text.out
    # the clinic edits its copy; its sheets follow it
    edited = copy.decode("utf-8").replace('version: "2026.11"', 'version: "clinic-2026-12"')
    (folder / "sets" / "iv-pain-4h.yaml").write_text(edited, encoding="utf-8")
    again = cli("render", "--start", "09:00", "--date", "2026-11-24", "--clinic", str(profile), "--format", "text")
    assert "Instructions: iv-pain-4h clinic-2026-12 (" in again.out


def test_a_fresh_folder_without_a_phone_checks_with_one_warning(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    assert cli("init", str(folder)).code == 0
    checked = cli("check", "--clinic", str(folder / "clinic.yaml"))
    assert checked.code == 0
    assert "warning: line 9: phone: missing; every handout should give the clinic's phone number" in checked.out
    assert checked.out.splitlines()[-1].endswith(": 0 error(s), 1 warning(s)")


def test_init_never_overwrites_and_changes_nothing(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "my-clinic"
    (folder / "sets").mkdir(parents=True)
    mine = folder / "sets" / "iv-pain-4h.yaml"
    mine.write_text("id: mine\n", encoding="utf-8")
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    result = cli("init", str(folder))
    assert result.code == 1
    assert result.out == ""
    assert result.err == (f"error: {mine}: already there; init never overwrites a file, so nothing was written. "
                          "Choose a new folder, or move these files away first\n")
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert mine.read_text(encoding="utf-8") == "id: mine\n"
    assert not (folder / "clinic.yaml").exists()


def test_init_a_second_time_is_refused(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "my-clinic"
    assert cli("init", str(folder)).code == 0
    profile = (folder / "clinic.yaml").read_bytes()
    result = cli("init", str(folder), "--name", "Other")
    assert result.code == 1
    assert result.err.startswith(f"error: {folder / 'clinic.yaml'}, {folder / 'sets' / 'esketamine-nasal.yaml'}, ")
    assert " and 3 more: already there;" in result.err
    assert (folder / "clinic.yaml").read_bytes() == profile


def test_init_into_an_empty_existing_folder_works(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    assert cli("init", str(folder)).code == 0
    assert (folder / "clinic.yaml").is_file()


def test_init_refuses_a_file_or_a_missing_parent(cli: Any, tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    result = cli("init", str(a_file))
    assert (result.code, result.err) == (1, f"error: {a_file}: is a file; give a folder name for the clinic, "
                                            "e.g. my-clinic\n")
    deep = tmp_path / "no" / "such" / "clinic"
    result = cli("init", str(deep))
    assert (result.code, result.err) == (1, f"error: {deep}: the folder {deep.parent} does not exist; create it "
                                            "first or choose another\n")
    assert not (tmp_path / "no").exists()
