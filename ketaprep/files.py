"""Writing output files atomically and readable by the owner only, never destroying what is there."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from ketaprep.errors import KetaprepError
from ketaprep.limits import shown_path

OUTPUT_HELP = (
    "A regular file is replaced in one step (never half-written). A device, FIFO or terminal "
    "(/dev/stdout, a named pipe) is written into, never replaced. A symbolic link is followed: "
    "the file it points to is replaced and the link is kept."
)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is read-only or not yours" if exc.errno != errno.EROFS else "the disk is read-only"
    return exc.strerror or type(exc).__name__


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file.

    The folder must exist: a mistyped folder is an error, never a new folder holding a
    patient's handout where no one will look for it. What is already at `path` is kept for
    what it is: a device or FIFO is written into, a link's target is replaced (see OUTPUT_HELP).
    """
    if len(path.name.encode("utf-8", "surrogateescape")) > 255:
        raise KetaprepError(f"{shown_path(path)}: could not be written (the file name is too long: at most 255 bytes)")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        if exc.errno == errno.ENOENT or exc.errno == errno.ENOTDIR:
            info = None
        else:
            raise KetaprepError(f"{shown_path(path)}: could not be written ({_reason(exc)})") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise KetaprepError(f"{path}: is a folder; give a file name, e.g. {path / 'handout.html'}")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_into(path, data)
        return
    if path.is_symlink():  # a link to a regular file: replace the file it points to, keep the link
        path = Path(os.path.realpath(path))
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise KetaprepError(f"{path}: the folder {directory} does not exist; create it first or choose another")
    try:
        fd, temp = tempfile.mkstemp(prefix=".ketaprep-", suffix=".part", dir=directory)
    except OSError as exc:
        raise KetaprepError(f"{directory}: cannot write here ({_reason(exc)})") from None
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
            raise KetaprepError(f"{shown_path(path)}: could not be written ({_reason(exc)})") from None
        raise


def _write_into(path: Path, data: bytes) -> None:
    """A device, FIFO or terminal: opened for writing as it is (never created, truncated or replaced)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise KetaprepError(f"{shown_path(path)}: could not be written ({_reason(exc)})") from None
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            return
        raise KetaprepError(f"{shown_path(path)}: could not be written ({_reason(exc)})") from None
    finally:
        os.close(fd)
