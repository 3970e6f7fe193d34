"""Writing output files atomically and readable by the owner only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ketaprep.errors import KetaprepError


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
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
