"""The writer thread: each patient's file is created and renamed while the next sheet is laid out."""

from __future__ import annotations

from collections.abc import Callable

from ketaprep.batch.atomic import DiskError, Folder
from ketaprep.batch.request import Entry
from ketaprep.batch.signals import checkpoint, recording
from ketaprep.sheet import Sheet


class Writer:
    """Each patient's file, written by a background thread: creating and renaming files runs
    outside Python's lock, so the next sheet is laid out meanwhile. A file counts as written
    (manifest, progress) only once it is complete under its final name."""

    DEPTH = 32

    def __init__(self, folder: Folder, wrote: Callable[[Entry, str, bytes, Sheet], None]) -> None:
        import queue
        import threading

        self.folder = folder
        self.wrote = wrote
        self.todo: queue.Queue[tuple[Entry, str, bytes | Callable[[], bytes], Sheet] | Callable[[], None] | None]
        self.todo = queue.Queue(maxsize=self.DEPTH)
        self.done: queue.SimpleQueue[tuple[Entry, str, bytes, Sheet]] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="ketaprep-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.todo.get()
            if item is None:
                return
            if self.error is not None:
                continue
            try:
                if callable(item):  # work handed over in order, e.g. adding a piece to the print file
                    if not self.cancelled:  # after a stop there is no print file to add to
                        item()
                    continue
                entry, name, data, sheet = item
                if callable(data):  # made here, beside the main thread's next Typst compile
                    data = data()
                self.folder.write(name, data)
            except BaseException as exc:  # handed to the main thread
                self.error = exc
                continue
            self.done.put((entry, name, data, sheet))

    def save(self, entry: Entry, name: str, data: bytes | Callable[[], bytes], sheet: Sheet) -> None:
        """Write a file (its bytes, or a function that makes them, called in the writer thread)."""
        self._hand_over((entry, name, data, sheet))

    def later(self, work: Callable[[], None]) -> None:
        """Run `work` in the writer thread, after every file handed over before it."""
        self._hand_over(work)

    def _hand_over(self, item: tuple[Entry, str, bytes | Callable[[], bytes], Sheet] | Callable[[], None]) -> None:
        checkpoint()
        self._check()
        self.todo.put(item)
        self._drain()

    def _drain(self) -> None:
        import queue

        while True:
            with recording():
                try:
                    item = self.done.get_nowait()
                except queue.Empty:
                    return
                self.wrote(*item)

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def flush(self) -> None:
        """Wait until every file handed over is written; raise what went wrong, if anything."""
        self.todo.put(None)
        self.thread.join()
        self._drain()
        self._check()

    def cancel(self) -> None:
        """Stop: every file already handed over is finished (at most DEPTH, milliseconds of work),
        unless writing has failed; nothing more is handed over.

        Which files a stop leaves written depends only on where the main thread was, never on
        how far the writer thread had got: dropping the queued files instead made the count
        (and the test that checks it) a matter of thread timing.
        """
        self.cancelled = True
        if self.thread.is_alive():
            self.todo.put(None)  # the thread is running and empties the queue: this never waits long
            self.thread.join()
        while True:  # a full disk may fail the manifest too: every file on disk is still counted
            try:
                self._drain()
                return
            except DiskError:
                continue
