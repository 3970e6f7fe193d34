"""A batch's PDF print file: every patient's own PDF, one after the other (pikepdf, qpdf's
library: about a millisecond a patient; pypdf took four).

For a long list on several cores the print file is put together in a process of its own
(`JoinerProcess`): in the batch's main process that millisecond a patient held Python's lock
against the sheets being laid out and the workers being fed, and was a third of what the main
process did. Kept light (pikepdf and the standard library): that process imports only this.

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

    from ketaprep.batch.atomic import Folder

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
        for page in source.pages:  # one by one: pikepdf's `extend` took twice as long, for the same bytes
            self.pdf.pages.append(page)
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

    def save_in(self, folder: Folder, name: str) -> None:
        """The print file written into the batch's folder (atomically, synced)."""
        with folder.open(name, sync=True) as handle:
            self.write(handle)

    def close(self) -> None:
        """Nothing to end (the same steps as `JoinerProcess`)."""


class JoinerProcess:
    """`PdfJoiner` in a process of its own: each patient's file is named to it (in order) once
    written, and `write_to` has it write the print file to a path. If the process dies (killed,
    out of memory), the print file is put together here from the same files: nothing is lost.
    Ctrl-C and SIGTERM are the main process's (`ketaprep.stops`); `close` ends the process."""

    def __init__(self, duplex: bool, title: str | None = None) -> None:
        import multiprocessing

        from ketaprep.stops import held_back

        self.duplex = duplex
        self.title = title
        self.paths: list[Path] = []
        context = multiprocessing.get_context("spawn")  # not fork: the main process runs threads
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, duplex, title), name="ketaprep-print-file",
                                       daemon=True)
        with held_back():
            self.process.start()
        child.close()
        self.lost = False

    @property
    def pages(self) -> int:
        """Patients added (the print file is written when there is at least one)."""
        return len(self.paths)

    def add(self, path: Path) -> None:
        self.paths.append(path)
        if not self.lost:
            try:
                self.conn.send(str(path))
            except OSError:  # the process is gone: put together here at the end
                self.lost = True

    def write_to(self, temp: str) -> None:
        """The print file written to `temp` (by the process; here if it is gone or failed)."""
        reply: tuple[str, ...] | None = ("lost",)
        if not self.lost:
            try:
                self.conn.send(("write", temp))
                reply = self.conn.recv()
            except (OSError, EOFError):
                reply = ("lost",)
        self.close()
        if reply is None:
            return
        if reply[0] == "disk":  # the disk, not the process: said as for any file (atomic.Folder)
            raise OSError(int(reply[1]), reply[2])
        here = PdfJoiner(self.duplex, self.title)
        for path in self.paths:
            here.add(path)
        with open(temp, "wb") as handle:
            here.write(handle)

    def save_in(self, folder: Folder, name: str) -> None:
        """The print file written into the batch's folder by the process (atomically, synced)."""
        with folder.open_elsewhere(name, sync=True) as temp:
            self.write_to(temp)

    def close(self) -> None:
        """End the process (after a stop it is killed: its work is not wanted)."""
        if self.process.is_alive():
            self.process.kill()  # SIGTERM is ignored there; nothing is read from it any more
        self.process.join()
        self.conn.close()


def _serve(conn: Any, duplex: bool, title: str | None) -> None:
    """The joiner process: paths in order, then ("write", path): None when written, or
    ("disk", errno, message), or ("failed", what)."""
    from ketaprep.stops import ignored

    ignored()
    joiner = PdfJoiner(duplex, title)
    failed: str | None = None
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the main process is gone
            return
        if isinstance(message, str):
            if failed is None:
                try:
                    joiner.add(Path(message))
                except Exception as exc:  # noqa: BLE001  # said at the end; the main process tries again
                    failed = type(exc).__name__
            continue
        try:
            if failed is not None:
                conn.send(("failed", failed))
                return
            with open(message[1], "wb") as handle:
                joiner.write(handle)
            conn.send(None)
        except OSError as exc:
            conn.send(("disk", str(exc.errno or 0), exc.strerror or str(exc)))
        except Exception as exc:  # noqa: BLE001
            conn.send(("failed", type(exc).__name__))
        return
