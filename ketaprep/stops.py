"""Ctrl-C and SIGTERM in a batch's helper processes (the PDF workers, the print file's joiner):
the main process's alone to handle.

A Ctrl-C at the terminal reaches every process of the group. The helpers are started with
both held back (`held_back`, inherited by the new process) and ignore them from their first
instruction on (`ignored`), so only the main process stops, says what was written, and then
stops its helpers itself; no helper prints a traceback. Kept light: a helper imports it first.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

STOPPING = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def held_back() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back in this thread while helper processes start (they inherit
    it); in this process a signal that came meanwhile is delivered, not lost, once released."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)


def ignored() -> None:
    """In a helper process, first: Ctrl-C and SIGTERM ignored (one held back since its start is
    dropped)."""
    for signum in STOPPING:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)
