"""Every bound on what ketaprep reads, in one place (the CLI and the web form share them).

A file is opened without blocking and checked on the open file before a byte is read, so a
device (`/dev/zero`), a FIFO or a socket never hangs or fills memory, and a file that is
larger than its bound is refused with the file's name and the limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ketaprep.errors import KetaprepError, MissingFile

# --- files --------------------------------------------------------------------------------
MAX_SET_BYTES = 1_000_000
"""An instruction set or clinic profile (YAML)."""
MAX_TEMPLATE_BYTES = 1_000_000
"""One handout template (Jinja) or a file a Typst template reads."""
MAX_LIST_BYTES = 50_000_000
"""A day's list: CSV, FHIR JSON, XLSX/XLS/ODS as stored."""

# --- structured data ----------------------------------------------------------------------
MAX_DEPTH = 40
"""Nesting of a YAML set or profile (mappings and lists)."""
MAX_JSON_DEPTH = 64
"""Nesting of a FHIR JSON list."""
MAX_NUMBER_DIGITS = 30
"""Digits in one number of a YAML or JSON file (a clock or a count never needs more)."""
MAX_YAML_NODES = 100_000
"""Values in one YAML file, aliases counted each time they are used."""

# --- spreadsheets -------------------------------------------------------------------------
MAX_SHEET_ROWS = 100_000
MAX_SHEET_COLUMNS = 1_000
MAX_SHEET_CELLS = 2_000_000
MAX_UNCOMPRESSED_BYTES = 200_000_000
"""All the members of an XLSX/ODS zip, once unpacked."""

# --- templates and set text ---------------------------------------------------------------
MAX_TEMPLATE_OUTPUT = 5_000_000
"""Characters one template or set text may produce per patient."""
MAX_TEMPLATE_LOOPS = 200_000
"""Loop turns one template may take per patient."""
MAX_TEMPLATE_STRING = 1_000_000
"""Length of one string (or list) a template or set text builds."""
MAX_TEMPLATE_INT_BITS = 256
"""Size of a number a template or set text builds (about 77 digits)."""

# --- echoed values ------------------------------------------------------------------------
MAX_ECHO = 40
"""Characters of a user's value repeated in an error message."""


def open_bounded(path: Path, limit: int, what: str, error: type[KetaprepError] = KetaprepError,
                 too_large: str = "is it the right file?") -> int:
    """A descriptor open on `path`, once the open file is known to be a regular file of at most `limit`
    bytes (opened without blocking: a FIFO or a device never hangs); else `error` naming the file."""
    name = shown_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise MissingFile(f"{name}: no such file") from None
    except OSError as exc:
        raise error(f"{name}: cannot be read ({_reason(exc)})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{name}: is a folder; give the {what} file inside it")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{name}: is not a regular file (a device, FIFO or socket); give a {what} file")
        if info.st_size > limit:
            raise error(f"{name}: the {what} is larger than {limit:,} bytes (the limit); {too_large}")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bounded(path: Path, limit: int, what: str, confine: Path | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or a KetaprepError naming the file.

    `confine`: the folder the file must stay in; a symbolic link that points outside it is
    refused (a template linked to /etc/passwd). A device, FIFO or socket is refused everywhere.
    """
    if confine is not None:
        check_confined(path, confine, what)
    fd = open_bounded(path, limit, what)
    chunks: list[bytes] = []
    try:
        left = limit + 1
        while left > 0:  # a file growing while it is read is still cut at the limit
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise KetaprepError(f"{shown_path(path)}: cannot be read ({_reason(exc)})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise KetaprepError(f"{shown_path(path)}: the {what} is larger than {limit:,} bytes (the limit); is it the right file?")
    return data


def check_confined(path: Path, folder: Path, what: str) -> None:
    """Refuse a file that is, or passes through, a link to somewhere outside `folder`."""
    try:
        real = path.resolve(strict=False)
        root = folder.resolve(strict=False)
    except (OSError, RuntimeError):  # a link loop
        raise KetaprepError(f"{path}: is a link that loops; give the {what} file itself") from None
    if real != root and root not in real.parents:
        raise KetaprepError(f"{path}: is a link to a file outside {folder}; copy the {what} into the folder instead")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return exc.strerror or type(exc).__name__


def shown_path(path: Path | str) -> str:
    """A path as a message shows it: a part longer than 60 characters is cut in the middle."""
    parts = str(path).split("/")
    return "/".join(part if len(part) <= 60 else f"{part[:24]}…{part[-12:]}" for part in parts)


def shown(value: str, limit: int = MAX_ECHO) -> str:
    """A user's value as an error message may repeat it: control and escape characters written as
    `\\x1b`, never sent to the terminal; bytes that are not text as `\\xff`; cut to `limit` characters."""
    out = []
    for char in value[:limit]:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000 or code in (0x2028, 0x2029):
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out) + ("…" if len(value) > limit else "")


def safe_message(message: str) -> str:
    """A whole message made safe for the terminal: line breaks kept, every other control character escaped."""
    return "\n".join(shown(line, limit=max(len(line), 1)) for line in message.split("\n"))
