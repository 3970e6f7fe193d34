"""A batch's PDFs from one Typst compile per piece: each patient's file split out of the piece,
and the pieces joined into the print file (pypdf).

Typst lays out a piece of up to `batch.PDF_CHUNK` sheets in one compile (one compile of a
whole day's list would need gigabytes). Each handout of the PDF template starts with a
level-1 heading, which Typst makes a top-level bookmark: those bookmarks give the page
where each patient starts. If a clinic's template does not give one bookmark per handout,
each patient's file is compiled on its own instead (slower, same result).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from typing import IO, Any

from ketaprep.sheet import Options, Sheet


def _starts(reader: Any) -> list[int] | None:
    """The first page (0-based) of each top-level bookmark, or None.

    Walks only the top level of the outline (pypdf's `outline` would read every entry)."""
    try:
        pages = {page.indirect_reference.idnum: index for index, page in enumerate(reader.pages)}
        outlines = reader.trailer["/Root"].get("/Outlines")
        item = outlines.get_object().get("/First") if outlines is not None else None
        starts: list[int] = []
        seen: set[int] = set()
        while item is not None:
            if item.idnum in seen:  # a loop in a damaged outline
                return None
            seen.add(item.idnum)
            entry = item.get_object()
            dest = entry.get("/Dest")
            if dest is None and "/A" in entry:
                dest = entry["/A"].get_object().get("/D")
            dest = dest.get_object() if dest is not None else None
            if not isinstance(dest, list) or not dest:
                return None
            starts.append(pages[dest[0].idnum])
            item = entry.get("/Next")
    except Exception:  # a damaged or unusual outline (named destinations...): compile each sheet instead
        return None
    return starts


def _blank(page: Any) -> bool:
    """A duplex padding page: no text at all."""
    try:
        return not page.extract_text().strip()
    except Exception:
        return False


def split(whole: bytes, sheets: list[Sheet], options: Options) -> tuple[Any, list[bytes | Callable[[], bytes]]]:
    """One PDF per sheet out of `whole` (the sheets' combined PDF), and the PDF as read.

    A part is its bytes, or a function that makes them from the reader: the batch's writer
    thread calls it, in order, while the main thread compiles the next piece. The reader is
    then used by that thread only (pypdf objects are not shared between threads)."""
    from pypdf import PdfReader

    from ketaprep.formats.pdf_format import write

    try:  # strict: Typst's output is well formed, and pypdf then skips re-checking every object
        reader = PdfReader(io.BytesIO(whole), strict=True)
        reader.pages[0]
    except Exception:
        reader = PdfReader(io.BytesIO(whole))
    if len(sheets) == 1:
        return reader, [whole]
    total = len(reader.pages)
    starts = _starts(reader)
    expected = sum(len(sheet.handouts) for sheet in sheets)
    if not starts or len(starts) != expected or starts[0] != 0 or starts != sorted(starts) or starts[-1] >= total:
        return reader, [write([sheet], options) for sheet in sheets]
    firsts: list[int] = []
    position = 0
    for sheet in sheets:
        firsts.append(starts[position])
        position += len(sheet.handouts)
    if len(set(firsts)) != len(firsts):
        return reader, [write([sheet], options) for sheet in sheets]
    parts: list[bytes | Callable[[], bytes]] = []
    metadata = dict(reader.metadata or {})
    for index, first in enumerate(firsts):
        end = firsts[index + 1] if index + 1 < len(firsts) else total
        while options.duplex and end - 1 > first and _blank(reader.pages[end - 1]):
            end -= 1
        sheet = sheets[index]
        own = {**metadata, "/Title": sheet.handouts[0].title}  # the piece's title is its first sheet's
        parts.append(partial(_extract, reader, range(first, end), own, sheet.handouts[0].lang))
    return reader, parts


def _extract(reader: Any, pages: range, metadata: dict[str, Any], lang: str | None = None) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    writer = PdfWriter()
    for number in pages:
        writer.add_page(reader.pages[number])
    if metadata:
        writer.add_metadata(metadata)
    if lang:  # the handout's language, for screen readers (Typst sets it; splitting drops it)
        writer._root_object[NameObject("/Lang")] = TextStringObject(lang)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


class PdfJoiner:
    """The print file: the pieces one after the other. In duplex, a piece with an odd number
    of pages is followed by a blank page, so the next patient starts on the front of a sheet."""

    def __init__(self, duplex: bool, title: str | None = None) -> None:
        from pypdf import PdfWriter

        self.duplex = duplex
        self.title = title or "Handouts to print"
        self.writer = PdfWriter()
        self.pages = 0
        self.metadata: dict[str, Any] | None = None

    def add(self, reader: Any) -> None:
        """Append a piece (a pypdf PdfReader)."""
        if self.metadata is None:  # the patients' own titles differ: the print file has its own
            self.metadata = {**dict(reader.metadata or {}), "/Title": self.title}
        if self.duplex and self.pages % 2:
            last = self.writer.pages[-1]
            self.writer.add_blank_page(float(last.mediabox.width), float(last.mediabox.height))
            self.pages += 1
        for page in reader.pages:
            self.writer.add_page(page)
        self.pages += len(reader.pages)

    def write(self, handle: IO[bytes]) -> None:
        if self.metadata:
            self.writer.add_metadata(self.metadata)
        self.writer.write(handle)
