"""The batch's main process alone, for bench.py (a script, not a test): `ketaprep batch ...`
with each patient's Typst compile replaced by the bytes of a PDF it was given, and the list
handled as on several cores (the print file put together in its own process). What is left is
the work no number of cores takes away: reading the list, laying out the sheets, writing the
files, the manifest and the print file.

    python tests/benchmarks/main_only.py patient.pdf batch today.csv --format pdf ...
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def main() -> None:
    from ketaprep.batch import pdfpool
    from ketaprep.entry import main as ketaprep

    pdf = Path(sys.argv[1]).read_bytes()

    class Compiled(pdfpool.Compiled):
        def __init__(self, workers: int) -> None:
            super().__init__(0)

        def run(self, items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, bytes | Any]]:
            for item, _job in items:
                yield item, pdf

    pdfpool.Compiled = Compiled  # type: ignore[misc]
    pdfpool.workers_for = lambda count: 2
    sys.argv = ["ketaprep", *sys.argv[2:]]
    ketaprep()


if __name__ == "__main__":  # not in the print file's process, which imports this file again
    main()
