"""`ketaprep check`: is every set and clinic profile fit to reach a patient?"""

from __future__ import annotations

from pathlib import Path

from ketaprep.errors import KetaprepError
from ketaprep.loader import SetLibrary, load_clinic, load_set
from ketaprep.safety import Problem, problems
from ketaprep.yamlsource import load_yaml


def _is_clinic(path: Path) -> bool:
    try:
        data, _lines, _raw = load_yaml(path)
    except KetaprepError:
        return False
    return isinstance(data, dict) and "id" not in data and "name" in data


def check_file(path: Path, library: SetLibrary) -> list[Problem]:
    """Every problem in one file; an unloadable file is one error."""
    try:
        if _is_clinic(path):
            load_clinic(path)
            return []
        loaded = load_set(path, library)
    except KetaprepError as exc:
        return [Problem("error", str(path), exc.message)]
    return problems(loaded)


def run_check(paths: list[Path], library: SetLibrary) -> tuple[str, bool]:
    """A report for people and whether everything passed (no errors)."""
    targets = paths or sorted(library.files().values())
    lines: list[str] = []
    errors = warnings = 0
    for path in targets:
        found = check_file(path, library)
        file_errors = [p for p in found if p.level == "error"]
        errors += len(file_errors)
        warnings += len(found) - len(file_errors)
        status = "FAIL" if file_errors else "ok"
        lines.append(f"{status:4}  {path}")
        for problem in found:
            message = problem.message if problem.message.startswith(str(path)) else str(problem)
            lines.append(f"      {problem.level}: {message}")
    lines.append(f"{len(targets)} file(s) checked: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines) + "\n", errors == 0
