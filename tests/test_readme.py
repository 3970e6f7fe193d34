"""The README's examples run and print what the README says (so the README cannot drift)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")
FILES = dict(re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", TEXT, flags=re.S))
CONSOLE = re.findall(r"```console\n(.*?)```", TEXT, flags=re.S)


def examples() -> list[tuple[str, str]]:
    """(command, expected stdout) for each `$ ketaprep ...` line of a console block."""
    found = []
    for block in CONSOLE:
        for part in re.split(r"^(?=\$ )", block, flags=re.M):
            if part.startswith("$ "):
                command, _, output = part.partition("\n")
                found.append((command[2:], output))
    return found


def test_the_readme_has_exactly_the_two_set_up_commands() -> None:
    setup = TEXT[TEXT.index("## Set up") : TEXT.index("## One patient")]
    assert re.findall(r"```sh\n(.*?)\n```", setup) == [
        "pip install . && ketaprep render --start 09:00",
        "pip install '.[test]' && pytest",
    ]


def test_the_readme_has_examples_to_run() -> None:
    assert len(examples()) >= 4 and {"clinic.yaml", "today.csv"} <= set(FILES)


@pytest.mark.parametrize(("command", "expected"), examples(), ids=[c for c, _ in examples()])
def test_a_readme_example_prints_what_the_readme_shows(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, expected: str
) -> None:
    for name, content in FILES.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = shlex.split(command)
    assert args[0] == "ketaprep"
    result = cli(*args[1:])
    assert result.code in (0, 1), result.err
    assert result.out == expected


def test_the_readme_set_up_command_renders_todays_handout(cli: Any) -> None:
    """`ketaprep render --start 09:00` (the first set-up command) prints a complete handout for today."""
    result = cli("render", "--start", "09:00", "--format", "text")
    assert result.code == 0, result.err
    assert "Ketamine IV infusion for chronic pain (about 4 hours)" in result.out
    assert "- Stop eating (this includes milk, gum and candy): 1:00 a.m. (the night of " in result.out
    assert "!! GO TO THE EMERGENCY ROOM OR CALL 911 IF YOU HAVE:" in result.out
