"""A tally of the hostile and broken inputs the tests try, per category, printed after the run.

`observe` asserts what must hold for every such input (an exit code of 0, 1 or 2, no
traceback, no "unexpected", no code run, no name from the input in the messages, no row
lost) and counts the input; the session summary prints inputs tried and each count, which
the asserts keep at zero (a failure counts once before its test fails).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

CATEGORIES = ("lists", "sets and templates", "output faults", "privacy", "interface")
COUNTS: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_SUMMARY = re.compile(r"rows read:\s*(\d+)", re.IGNORECASE)


def observe(
    category: str,
    code: int,
    err: str,
    *,
    names: Iterable[str] = (),
    canary: Path | None = None,
    rows: tuple[int, int, int, int] | None = None,
    codes: Iterable[int] = (0, 1, 2),
) -> None:
    """Count one input and assert it was handled: `rows` is (read, written, failed, skipped)."""
    assert category in CATEGORIES, category
    tally = COUNTS[category]
    tally["inputs"] += 1
    problems = []
    if "Traceback" in err:
        tally["tracebacks"] += 1
        problems.append("traceback")
    if "unexpected" in err:
        tally["unexpected"] += 1
        problems.append('"unexpected"')
    if canary is not None and canary.exists():
        tally["code executions"] += 1
        problems.append("code ran")
    leaked = [name for name in names if name and name in err]
    if leaked:
        tally["names leaked"] += 1
        problems.append("a name in stderr")
    if rows is not None and rows[0] != rows[1] + rows[2] + rows[3]:
        tally["rows lost"] += 1
        problems.append(f"rows {rows}")
    if code not in tuple(codes):
        tally["bad exit codes"] += 1
        problems.append(f"exit {code}")
    assert not problems, f"{category}: {', '.join(problems)}\n{err[-2000:]}"


def summary_lines() -> list[str]:
    if not COUNTS:
        return []
    keys = ("inputs", "tracebacks", "unexpected", "code executions", "names leaked", "rows lost")
    lines = [f"{'category':20} " + " ".join(f"{k:>15}" for k in keys)]
    for category in CATEGORIES:
        if category in COUNTS:
            lines.append(f"{category:20} " + " ".join(f"{COUNTS[category][k]:>15}" for k in keys))
    return lines
