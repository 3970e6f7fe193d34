"""`manifest.json`: row -> file, set id/version/hash and the timeline, streamed as files are written."""

from __future__ import annotations

import contextlib
import hashlib
import json

from ketaprep.batch.atomic import DiskError, Folder, disk_message
from ketaprep.batch.request import Entry, Outcome, Request
from ketaprep.sheet import Sheet

MANIFEST = "manifest.json"


class Manifest:
    """`manifest.json`, streamed: one object per handout as it is written, then the summary."""

    def __init__(self, folder: Folder, request: Request, is_fhir: bool) -> None:
        self.folder = folder
        self.request = request
        self.key = "entry" if is_fhir else "row"
        self._cm = folder.open(MANIFEST, sync=True)
        self.handle = self._cm.__enter__()
        self.count = 0
        self.broken = False
        head = {
            "ketaprep": _version(),
            "list": request.list_path.name,
            "format": request.fmt,
            "generated": request.generated.isoformat(),
        }
        self._write(json.dumps(head, ensure_ascii=False, indent=2)[:-2].encode() + b',\n  "handouts": [')

    def _write(self, data: bytes) -> None:
        if self.broken:
            raise DiskError(f"{self.folder.path}: {MANIFEST} could not be written")
        try:
            self.handle.write(data)
        except OSError as exc:
            self.broken = True
            raise DiskError(disk_message(exc, self.folder.path)) from None

    def add(self, entry: Entry, file: str, data: bytes, sheet: Sheet) -> None:
        from ketaprep.formats.json_format import timeline_object

        if self.broken:
            return  # it will not be kept; the run is stopping

        item = {self.key: entry.number, "file": file, "sha256": hashlib.sha256(data).hexdigest(), **timeline_object(sheet)}
        text = json.dumps(item, ensure_ascii=False)  # one line per handout (and the fast C encoder)
        self._write((",\n    " if self.count else "\n    ").encode() + text.encode())
        self.count += 1

    def close(self, outcome: Outcome) -> None:
        failed = ",\n    ".join(json.dumps({self.key: f.number, "error": f.message}, ensure_ascii=False)
                                  for f in outcome.failures)
        tail = {
            "combined": outcome.combined.name if outcome.combined else None,
            "complete": outcome.stopped is None,
            "skipped": [{self.key: skip.number, "reason": skip.reason} for skip in outcome.skipped],
            "summary": {"rows": outcome.rows, "written": outcome.written, "failed": outcome.failed,
                        "skipped": len(outcome.skipped)},
        }
        body = json.dumps(tail, ensure_ascii=False, indent=2)[1:]
        text = ("\n  ]" if self.count else "]") + ',\n  "failed": [' + (f"\n    {failed}\n  ]" if failed else "]")
        self._write(text.encode() + b"," + body.encode() + b"\n")
        self._cm.__exit__(None, None, None)

    def abandon(self) -> None:
        with contextlib.suppress(BaseException):
            self._cm.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None)


def _version() -> str:
    from ketaprep import __version__

    return __version__
