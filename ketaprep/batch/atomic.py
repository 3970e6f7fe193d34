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

    def prepare(self) -> None:
        try:
            if self.path.exists() and not self.path.is_dir():
                raise UsageError(f"{self.path}: exists and is not a folder; choose another --output-dir")
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            for stale in self.path.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):  # left by a run that was killed
                stale.unlink(missing_ok=True)
        except OSError as exc:
            raise KetaprepError(f"{self.path}: cannot write here ({exc.strerror})") from None

    @contextlib.contextmanager
    def open(self, name: str, sync: bool = False) -> Iterator[IO[bytes]]:
        """A file under a temporary name, renamed to `name` only once complete."""
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        try:
            fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=self.path)
        except OSError as exc:
            raise DiskError(disk_message(exc, self.path)) from None
        self.temps.add(temp)
        try:
            with self._fdopen(fd) as handle:
                yield handle
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


def disk_message(exc: OSError, folder: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{folder}: the disk is full; free some space"
    return f"{folder}: cannot write here ({exc.strerror})"
