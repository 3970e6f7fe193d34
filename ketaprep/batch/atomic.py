"""The output folder: every file written under a hidden temporary name and renamed when
complete, so an interruption never leaves a half-written file under a final name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ketaprep.errors import KetaprepError, UsageError

TEMP_PREFIX, TEMP_SUFFIX = ".ketaprep-", ".part"
INCOMPLETE = (
    b'{\n  "complete": false,\n  "note": "a ketaprep batch is writing this folder again; until it ends, '
    b'the files here may not match an earlier manifest"\n}\n'
)


class DiskError(Exception):
    """Writing failed (a full disk, no permission): stop, say what was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _open_fd(fd: int) -> IO[bytes]:
    return os.fdopen(fd, "wb", buffering=1 << 16)


class Folder:
    """The output folder: atomic files, and every temporary file tracked for cleaning up."""

    _fdopen = staticmethod(_open_fd)  # tests put a full disk here

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temps: set[str] = set()
        self._lock: int | None = None

    def prepare(self) -> None:
        try:
            if self.path.exists() and not self.path.is_dir():
                raise UsageError(f"{self.path}: exists and is not a folder; choose another --output-dir")
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._take_lock()
            for stale in self.path.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):  # left by a run that was killed
                stale.unlink(missing_ok=True)
            if (self.path / "manifest.json").exists():
                # before anything is replaced: a run killed midway never leaves `complete: true` over
                # files that no longer match it
                self.write("manifest.json", INCOMPLETE, sync=True)
        except DiskError as exc:
            self.release()
            raise KetaprepError(exc.message) from None
        except OSError as exc:
            self.release()
            raise KetaprepError(f"{self.path}: cannot write here ({exc.strerror})") from None

    def _take_lock(self) -> None:
        import fcntl

        # the folder itself is locked (flock), so no lock file is left among the handouts
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise UsageError(
                    f"{self.path}: another ketaprep batch is writing into this folder right now; "
                    "wait for it to finish, or choose another --output-dir"
                ) from None
            raise
        self._lock = fd

    def release(self) -> None:
        """Let the next batch into the folder."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)
            self._lock = None

    @contextlib.contextmanager
    def open(self, name: str, sync: bool = False) -> Iterator[IO[bytes]]:
        """A file under a temporary name, renamed to `name` only once complete."""
        with self._open(name, sync) as (_temp, handle):
            yield handle

    @contextlib.contextmanager
    def open_elsewhere(self, name: str, sync: bool = False) -> Iterator[str]:
        """`open` for a file another process writes: the temporary file's path, renamed to `name`
        once the block ends (an OSError raised in it is a DiskError, as for `open`)."""
        with self._open(name, sync) as (temp, _handle):
            yield temp

    @contextlib.contextmanager
    def _open(self, name: str, sync: bool) -> Iterator[tuple[str, IO[bytes]]]:
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        try:
            fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=self.path)
        except OSError as exc:
            raise DiskError(disk_message(exc, self.path)) from None
        self.temps.add(temp)
        try:
            with self._fdopen(fd) as handle:
                yield temp, handle
                handle.flush()
                if sync:
                    os.fsync(handle.fileno())
            os.replace(temp, self.path / name)  # mkstemp made it 0600: readable by the owner only
            self.temps.discard(temp)
        except OSError as exc:
            raise DiskError(disk_message(exc, self.path)) from None
        finally:
            if temp in self.temps:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                self.temps.discard(temp)

    def write(self, name: str, data: bytes, sync: bool = False) -> None:
        with self.open(name, sync) as handle:
            handle.write(data)

    def clean(self) -> None:
        for temp in list(self.temps):
            with contextlib.suppress(OSError):
                os.unlink(temp)
            self.temps.discard(temp)
        self.release()


def disk_message(exc: OSError, folder: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{folder}: the disk is full; free some space"
    return f"{folder}: cannot write here ({exc.strerror})"
