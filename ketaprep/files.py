"""Writing output files atomically and readable by the owner only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ketaprep.errors import KetaprepError


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file.

    The folder must exist: a mistyped folder is an error, never a new folder holding a
    patient's handout where no one will look for it.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise KetaprepError(f"{path}: the folder {directory} does not exist; create it first or choose another")
    if path.is_dir():
        raise KetaprepError(f"{path}: is a folder; give a file name, e.g. {path / 'handout.html'}")
    try:
        fd, temp = tempfile.mkstemp(prefix=".ketaprep-", suffix=".part", dir=directory)
    except OSError as exc:
        raise KetaprepError(f"{directory}: cannot write here ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise KetaprepError(f"{path}: could not be written ({exc.strerror})") from None
        raise
