"""A batch's PDF print file: every patient's own PDF, one after the other (pikepdf, qpdf's
library: about a millisecond a patient; pypdf took four).

The print file needs no tags (each patient's own file has them); its title names the list and
its day. In duplex, a patient with an odd number of pages is followed by a blank page, so the
next patient starts on the front of a new sheet of paper.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from typing import BinaryIO

_KEPT = ("/Author", "/Creator", "/Producer", "/CreationDate", "/ModDate")
_SPARE_FILES = 256
"""Open files left for everything else while the print file's sources are held open."""


def _open_files_allowed() -> int:
    """How many patients' files may be held open: the soft limit on open files raised to the hard
    one (a day's list of a thousand would pass Linux's usual 1,024), less what the rest needs."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    except (ImportError, ValueError, OSError):
        return 0
    return max(0, (soft if soft != resource.RLIM_INFINITY else 65536) - _SPARE_FILES)


class PdfJoiner:
    """The print file, built page by page from each patient's PDF (in the order added)."""

    def __init__(self, duplex: bool, title: str | None = None) -> None:
        import pikepdf

        self.duplex = duplex
        self.title = title or "Handouts to print"
        self.pdf = pikepdf.new()
        self.sources: list[Any] = []  # qpdf copies a page's streams when the file is written
        self.pages = 0
        self.size: tuple[float, float] | None = None
        self.open_files = _open_files_allowed()

    def add(self, path: Path) -> None:
        """Append one patient's PDF, read from its file (qpdf reads the pages' data from there when
        the print file is written: less memory, and faster, than holding each file's bytes)."""
        import pikepdf

        if len(self.sources) < self.open_files:
            source = pikepdf.open(path)
        else:  # no more files may be held open: this one's bytes are held instead
            source = pikepdf.open(io.BytesIO(path.read_bytes()))
        if not self.sources:
            for key in _KEPT:
                if key in source.docinfo:
                    self.pdf.docinfo[key] = pikepdf.String(str(source.docinfo[key]))
        self.sources.append(source)
        self._pad()
        self.pdf.pages.extend(source.pages)
        self.pages += len(source.pages)
        box = source.pages[-1].mediabox
        self.size = (float(box[2]) - float(box[0]), float(box[3]) - float(box[1]))

    def _pad(self) -> None:
        if self.duplex and self.pages % 2 and self.size is not None:
            self.pdf.add_blank_page(page_size=self.size)
            self.pages += 1

    def write(self, handle: IO[bytes]) -> None:
        import pikepdf

        self._pad()  # an even number of pages in duplex, as each patient's
        self.pdf.docinfo["/Title"] = pikepdf.String(self.title)
        self.pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        self.pdf.save(cast("BinaryIO", handle), deterministic_id=True)
