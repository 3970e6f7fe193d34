"""Loading instruction sets: schema v1 errors name the file, the line and the field and say what is allowed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from ketaprep.errors import KetaprepError, SetError
from ketaprep.loader import SetLibrary, builtin_dir, load_clinic, load_set

ALLOWED_FIELDS = (
    "allowed fields: id, version, languages, title, route, treatment, arrive_before, monitoring, contact, "
    "sections, extends, rounding, hours, fasting, caffeine, driver, companion, no_driving, events"
)

VALID = """\
id: fx-set
version: "1"
languages: [en]
title:
  en: "Fixture set"
route: iv
treatment:
  duration: 4h
arrive_before: 30m
monitoring: 1h
hours:
  earliest: 07:00
  latest: "2pm"
fasting:
  solids: 8h
  clear_liquids: 2h
caffeine:
  stop: start_of_day
driver:
  required: true
companion:
  duration: 24h
no_driving:
  duration: 24h
contact:
  en: "Call {{ clinic_name }} at {{ clinic_phone }}."
sections:
  before:
    - en: "Do not eat after {{ last_meal }}."
  emergency:
    - en: "Chest pain"
"""
"""A valid set; each test replaces one line. Line numbers below refer to this text."""


def write(directory: Path, text: str, name: str = "fx-set.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str, name: str = "fx-set.yaml") -> Any:
    return load_set(write(tmp_path, text, name), SetLibrary([tmp_path]))


def error_of(tmp_path: Path, text: str, name: str = "fx-set.yaml") -> str:
    with pytest.raises(SetError) as err:
        load_text(tmp_path, text, name)
    return err.value.message


def replace(old: str, new: str, text: str = VALID) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_valid_fixture_loads_with_its_hash_and_lines(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, VALID)
    assert loaded.model.id == "fx-set"
    assert loaded.model.hours.earliest.time == dt.time(7, 0)  # unquoted 07:00 is a time, not 420
    assert loaded.model.hours.latest.time == dt.time(14, 0)
    assert loaded.model.fasting.solids.delta == dt.timedelta(hours=8)
    assert len(loaded.sha256) == 64 and loaded.short_hash == loaded.sha256[:8]
    assert loaded.lines[("fasting", "solids")] == (str(tmp_path / "fx-set.yaml"), 15)
    assert loaded.builtin is False


def test_the_hash_covers_the_file_bytes(tmp_path: Path) -> None:
    first = load_text(tmp_path, VALID).sha256
    second = load_text(tmp_path, VALID + "# a comment\n").sha256
    assert first != second
    assert load_text(tmp_path, VALID).sha256 == first


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("languages: [en]", "languages: [en"))
    assert message == f"{tmp_path / 'fx-set.yaml'}, line 4: YAML syntax error: expected ',' or ']', but got ':'"


def test_a_tab_indent_is_a_yaml_syntax_error_with_its_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("  solids: 8h", "\tsolids: 8h"))
    assert message.startswith(f"{tmp_path / 'fx-set.yaml'}, line 15: YAML syntax error: ")


def test_a_missing_field_is_named_with_the_allowed_fields(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("monitoring: 1h\n", ""))
    assert message == f"{tmp_path / 'fx-set.yaml'}, line 1: monitoring: required field is missing\n  {ALLOWED_FIELDS}"


def test_a_missing_nested_field_names_its_mapping_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("  duration: 24h\nno_driving", "  from: treatment_end\nno_driving"))
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 21: companion.duration: required field is missing\n  allowed fields: duration, from"
    )


def test_an_unknown_field_lists_the_allowed_fields(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("monitoring: 1h", "monitor: 1h"))
    assert message == f"{tmp_path / 'fx-set.yaml'}, line 10: monitor: unknown field\n  {ALLOWED_FIELDS}"


def test_an_unknown_nested_field_lists_that_mappings_fields(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("  solids: 8h", "  solid: 8h"))
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 15: fasting.solid: unknown field\n"
        "  allowed fields: solids, clear_liquids, medications, below_guidance_reason"
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        ("languages: [en]", "languages: en", 3, "languages: expected a list, got text"),
        ("  required: true", "  required: maybe", 20, "driver.required: expected true or false, got text"),
        ('version: "1"', "version: 2026.11", 2, "version: expected text, got a number; put the value in quotes"),
        ('  en: "Fixture set"', "  en: [a, b]", 4, "title: expected text, got a list"),
        ("title:\n  en:", "title: Fixture\nx:\n  en:", 4, "title: expected a mapping (field: value lines), got text"),
    ],
)
def test_a_wrong_type_says_what_is_expected_in_plain_words(
    tmp_path: Path, old: str, new: str, line: int, expected: str
) -> None:
    message = error_of(tmp_path, replace(old, new))
    assert message.split("\n")[0] == f"{tmp_path / 'fx-set.yaml'}, line {line}: {expected}"


def test_a_duration_written_in_words_shows_the_short_form(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("solids: 8h", "solids: 8 hours"))
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 15: fasting.solids: '8 hours' is not a duration (examples: 8h, 30m, 1h30m, 90m)"
    )


@pytest.mark.parametrize("value", ["8", "8.5", "-8h", "0m", "eight"])
def test_other_bad_durations_are_refused_with_their_line(tmp_path: Path, value: str) -> None:
    message = error_of(tmp_path, replace("solids: 8h", f"solids: {value}"))
    assert message.startswith(f"{tmp_path / 'fx-set.yaml'}, line 15: fasting.solids: ")
    assert message.endswith("is not a duration (examples: 8h, 30m, 1h30m, 90m)")


def test_a_bad_clock_time_shows_the_accepted_forms(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace('latest: "2pm"', "latest: 25:00"))
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 13: hours.latest: '25:00' is not a time "
        "(examples: 9:00, 09:00, 9am, 9:30 pm, 21:30)"
    )


def test_a_bad_route_lists_the_allowed_values(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("route: iv", "route: injection"))
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 6: route: not an allowed value 'injection'\n"
        "  allowed values: im, intranasal, iv, oral, subcutaneous, sublingual"
    )


def test_a_bad_anchor_lists_the_allowed_values(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("  duration: 24h\nno_driving", "  duration: 24h\n  from: bedtime\nno_driving"))
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 23: companion.from: not an allowed value 'bedtime'\n"
        "  allowed values: discharge, treatment_end, treatment_start"
    )


def test_a_key_given_twice_is_refused_not_silently_overwritten(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("  clear_liquids: 2h", "  clear_liquids: 2h\n  solids: 2h"))
    assert message == f"{tmp_path / 'fx-set.yaml'}, line 17: fasting.solids: given twice (also on line 15); keep only one"


def test_yaml_merge_keys_override_without_being_taken_for_duplicates(tmp_path: Path) -> None:
    text = replace("companion:\n  duration: 24h\nno_driving:\n  duration: 24h\n",
                   "companion: &c\n  duration: 24h\nno_driving:\n  <<: *c\n  duration: 12h\n")
    loaded = load_text(tmp_path, text)
    assert loaded.model.no_driving.duration.delta == dt.timedelta(hours=12)


def test_nested_aliases_that_blow_up_are_refused(tmp_path: Path) -> None:
    """A "billion laughs" file: a few lines that expand to billions of values."""
    text = 'id: x\na: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n"
        previous = name
    message = error_of(tmp_path, text)
    assert message.endswith("too deeply nested or repeated (YAML anchors and aliases); write the set out plainly")


def test_a_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, "id: &x [*x]\n")
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 1: too deeply nested or repeated (YAML anchors and aliases); "
        "write the set out plainly"
    )


def test_a_set_id_must_be_a_slug(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("id: fx-set", "id: My Set"))
    assert message == (
        f'{tmp_path / "fx-set.yaml"}, line 1: id: "My Set" is not a set id'
        "\n  allowed: lower-case letters, digits and hyphens, e.g. iv-pain-4h"
    )


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, "- just\n- a list\n")
    assert message == f"{tmp_path / 'fx-set.yaml'}: expected a mapping of fields at the top level"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KetaprepError) as err:
        load_set(tmp_path / "nothing.yaml", SetLibrary([tmp_path]))
    assert err.value.message == f"{tmp_path / 'nothing.yaml'}: no such file"


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(VALID.replace("Fixture set", "Caf\xe9").encode("latin-1"))
    with pytest.raises(SetError, match=r"latin\.yaml, line 5: not UTF-8 text \(byte \d+\); save it as UTF-8"):
        load_set(path, SetLibrary([tmp_path]))


def test_an_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    message = error_of(tmp_path, VALID + "#" * 1_000_001 + "\n")
    assert message == f"{tmp_path / 'fx-set.yaml'}: the set is larger than 1,000,000 bytes (the limit); is it the right file?"


def test_yaml_tags_for_python_objects_are_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace('version: "1"', "version: !!python/object/apply:os.system ['true']"))
    assert "YAML syntax error" in message and "line 2" in message


# --- extends ----------------------------------------------------------------------------------


def test_extends_overrides_only_what_differs(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    child = write(tmp_path, "extends: fx-set\nid: fx-child\nfasting:\n  solids: 6h\n", "fx-child.yaml")
    loaded = load_set(child, SetLibrary([tmp_path]))
    assert loaded.model.id == "fx-child"
    fasting = loaded.model.fasting
    assert fasting is not None and fasting.solids is not None and fasting.clear_liquids is not None
    assert fasting.solids.delta == dt.timedelta(hours=6)
    assert fasting.clear_liquids.delta == dt.timedelta(hours=2)  # from the parent
    assert loaded.model.monitoring.delta == dt.timedelta(hours=1)
    assert loaded.model.sections.emergency == [{"en": "Chest pain"}]
    parent = load_set(tmp_path / "fx-set.yaml", SetLibrary([tmp_path]))
    assert loaded.sha256 != parent.sha256


def test_the_childs_hash_changes_when_the_parent_changes(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    child = write(tmp_path, "extends: fx-set\nid: fx-child\n", "fx-child.yaml")
    before = load_set(child, SetLibrary([tmp_path])).sha256
    write(tmp_path, replace("monitoring: 1h", "monitoring: 2h"))
    assert load_set(child, SetLibrary([tmp_path])).sha256 != before


def test_an_error_in_the_child_names_the_childs_line(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    child = write(tmp_path, "extends: fx-set\nid: fx-child\n\nmonitoring: 1 hour\n", "fx-child.yaml")
    with pytest.raises(SetError) as err:
        load_set(child, SetLibrary([tmp_path]))
    assert err.value.message == (
        f"{child}, line 4: monitoring: '1 hour' is not a duration (examples: 8h, 30m, 1h30m, 90m)"
    )


def test_an_error_in_the_parent_names_the_parents_file_and_line(tmp_path: Path) -> None:
    parent = write(tmp_path, replace("route: iv", "route: ivv"))
    child = write(tmp_path, "extends: fx-set\nid: fx-child\n", "fx-child.yaml")
    with pytest.raises(SetError) as err:
        load_set(child, SetLibrary([tmp_path]))
    assert err.value.message.startswith(f"{parent}, line 6: route: not an allowed value 'ivv'")


def test_a_child_field_inherited_from_the_parent_reports_the_parents_line(tmp_path: Path) -> None:
    """A safety error the child causes in a parent's field: the message points at the child's override."""
    write(tmp_path, VALID)
    child = write(tmp_path, "extends: fx-set\nid: fx-child\ndriver:\n  required: false\n", "fx-child.yaml")
    with pytest.raises(SetError) as err:
        load_set(child, SetLibrary([tmp_path]))
    assert err.value.message == (
        f"{child}, line 4: driver.required: must be true; every ketamine treatment needs a driver home"
    )


def test_extends_of_an_unknown_set_lists_the_available_ids(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    child = write(tmp_path, "id: fx-child\nextends: nope\n", "fx-child.yaml")
    with pytest.raises(SetError) as err:
        load_set(child, SetLibrary([tmp_path]))
    assert err.value.message == f'{child}, line 2: extends: unknown set "nope"; available sets: fx-child, fx-set'


def test_an_extends_loop_is_refused_and_shown(tmp_path: Path) -> None:
    a = write(tmp_path, "extends: fx-b\nid: fx-a\n", "fx-a.yaml")
    b = write(tmp_path, "extends: fx-a\nid: fx-b\n", "fx-b.yaml")
    with pytest.raises(SetError) as err:
        load_set(a, SetLibrary([tmp_path]))
    assert err.value.message == f'{b}, line 1: extends: "fx-a" makes a loop ({a} -> {b} -> {a})'


def test_a_set_extending_itself_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "extends: fx-self\nid: fx-self\n", "fx-self.yaml")
    with pytest.raises(SetError, match=r'line 1: extends: "fx-self" makes a loop'):
        load_set(path, SetLibrary([tmp_path]))


def test_a_clinic_set_may_extend_the_built_in_set_of_the_same_id(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    write(clinic, "extends: iv-pain-4h\nid: iv-pain-4h\nmonitoring: 2h\n", "iv-pain-4h.yaml")
    library = SetLibrary([clinic, builtin_dir()])
    loaded = library.load("iv-pain-4h")
    assert loaded.path == clinic / "iv-pain-4h.yaml"
    assert loaded.model.monitoring.delta == dt.timedelta(hours=2)
    assert loaded.model.fasting is not None and loaded.model.sections.emergency  # the rest from the built-in


def test_a_clinic_directory_overrides_a_built_in_id(tmp_path: Path) -> None:
    write(tmp_path, replace("id: fx-set", "id: iv-pain-4h"), "iv-pain-4h.yaml")
    library = SetLibrary([tmp_path, builtin_dir()])
    assert library.files()["iv-pain-4h"] == tmp_path / "iv-pain-4h.yaml"
    assert library.load("iv-pain-4h").builtin is False
    assert SetLibrary().load("iv-pain-4h").builtin is True


def test_an_unknown_set_id_lists_the_available_ids(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    with pytest.raises(SetError) as err:
        SetLibrary([tmp_path]).load("nope")
    assert err.value.message == 'unknown set "nope"; available sets: fx-set'


# --- placeholders -----------------------------------------------------------------------------


def test_an_unknown_placeholder_is_an_error_at_load_time_naming_it_and_the_allowed_ones(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("after {{ last_meal }}", "after {{ last_food }}"))
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 29: sections.before[0] (en): unknown placeholder {{{{ last_food }}}}\n"
        "  allowed: appointment_date, arrive, clinic_name, clinic_phone, companion_until, discharge, drive_again, "
        "last_clear_liquid, last_meal, monitoring_length, no_caffeine_from, patient, start_time, treatment_end, "
        "treatment_length, treatment_start"
    )


def test_a_placeholder_for_an_event_the_set_does_not_have_is_unknown(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("after {{ last_meal }}", "after {{ last_medication }}"))
    assert "unknown placeholder {{ last_medication }}" in message


def test_a_placeholder_syntax_error_names_the_line_and_language(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("after {{ last_meal }}", "after {{ last_meal }"))
    assert message.startswith(f"{tmp_path / 'fx-set.yaml'}, line 29: sections.before[0] (en): placeholder syntax error: ")


@pytest.mark.parametrize(
    "placeholder",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ patient.__class__ }}",
        "{{ patient['__class__'] }}",
        "{{ clinic_name.__init__.__globals__ }}",
    ],
)
def test_a_sandbox_escape_attempt_fails_safely_at_load_time(tmp_path: Path, placeholder: str) -> None:
    message = error_of(tmp_path, replace('en: "Fixture set"', f'en: "Fixture {placeholder}"'))
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 5: title (en): placeholder is not allowed; "
        "write a plain one such as {{ last_meal }}"
    )
    assert "object" not in message and "class" not in message


def test_a_placeholder_that_cannot_be_filled_in_is_an_error_at_load_time(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("after {{ last_meal }}", "after {{ last_meal.hour }}"))
    assert message.startswith(f"{tmp_path / 'fx-set.yaml'}, line 29: sections.before[0] (en): placeholder cannot be filled in")


def test_text_without_placeholders_is_kept_as_written(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, VALID)
    assert loaded.texts.render(("sections", "emergency", 0), "en", {}) == "Chest pain"
    assert loaded.texts.render(("sections", "before", 0), "en", {"last_meal": "1:00 a.m."}) == (
        "Do not eat after 1:00 a.m."
    )


# --- required safety content ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  emergency:\n    - en: \"Chest pain\"\n",
            "",
            "line 27: sections.emergency: every set must list the warning signs that mean going to the emergency room",
        ),
        ("driver:\n  required: true\n", "", "line 1: driver: every set must have a driver rule (driver: {required: true})"),
        (
            "companion:\n  duration: 24h\n",
            "",
            "line 1: companion: every set must say how long a responsible adult stays (e.g. companion: {duration: 24h})",
        ),
        (
            "no_driving:\n  duration: 24h\n",
            "",
            "line 1: no_driving.duration: every set must say how long not to drive (e.g. 24h)",
        ),
        (
            "fasting:\n  solids: 8h\n  clear_liquids: 2h\n",
            "",
            "line 1: fasting: route iv needs fasting windows for solids and clear_liquids (e.g. 8h and 2h)",
        ),
        (
            'title:\n  en: "Fixture set"',
            'languages: [en, fr]\ntitle:\n  en: "Fixture set"',
            "line 4: languages: given twice (also on line 3); keep only one",
        ),
    ],
)
def test_missing_safety_content_is_refused(tmp_path: Path, old: str, new: str, expected: str) -> None:
    message = error_of(tmp_path, replace(old, new))
    assert message.split("\n")[0].endswith(expected), message


def test_a_text_missing_in_a_declared_language_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("languages: [en]", "languages: [en, fr]"))
    assert message.startswith(f"{tmp_path / 'fx-set.yaml'}, line 4: title: missing the fr text")
    assert "more; run: ketaprep check" in message


def test_a_driver_rule_that_is_not_required_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, replace("required: true", "required: false"))
    assert message == (
        f"{tmp_path / 'fx-set.yaml'}, line 20: driver.required: must be true; every ketamine treatment needs a driver home"
    )


# --- the built-in sets --------------------------------------------------------------------


BUILTIN_IDS = sorted(SetLibrary().files())


def test_the_built_in_sets_are_found() -> None:
    assert "iv-pain-4h" in BUILTIN_IDS
    assert builtin_dir().is_dir()


@pytest.mark.parametrize("set_id", BUILTIN_IDS)
def test_every_built_in_set_loads_and_has_the_safety_content(set_id: str) -> None:
    loaded = SetLibrary().load(set_id)
    model = loaded.model
    assert model.id == set_id
    assert loaded.builtin is True
    assert model.sections.emergency and model.driver and model.driver.required
    assert model.companion is not None and model.no_driving is not None and model.no_driving.duration is not None


# --- clinic profiles ---------------------------------------------------------------------


def test_a_clinic_profile_loads_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, 'name: "Test Clinic"\nphone: "555-0100"\n', "clinic.yaml")
    clinic = load_clinic(path)
    assert clinic.name == "Test Clinic" and clinic.timezone == "America/Toronto" and clinic.default_set == "iv-pain-4h"


def test_a_clinic_profile_with_a_bad_time_zone_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'name: "Test Clinic"\ntimezone: Mars/Base\n', "clinic.yaml")
    with pytest.raises(SetError) as err:
        load_clinic(path)
    assert err.value.message == (
        f'{path}, line 2: timezone: "Mars/Base" is not a time zone (examples: America/Toronto, America/St_Johns, '
        "America/Vancouver)"
    )


def test_a_clinic_profile_with_an_unknown_field_lists_the_allowed_ones(tmp_path: Path) -> None:
    path = write(tmp_path, 'name: "Test Clinic"\nfax: "555"\n', "clinic.yaml")
    with pytest.raises(SetError) as err:
        load_clinic(path)
    assert err.value.message.startswith(f"{path}, line 2: fax: unknown field\n  allowed fields: name, phone, address")


def test_fixture_text_is_valid_yaml() -> None:
    assert yaml.safe_load(VALID)["id"] == "fx-set"
