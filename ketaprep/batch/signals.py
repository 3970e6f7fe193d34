"""Ctrl-C and SIGTERM during a batch: a clean stop at the next checkpoint, never inside a write."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: stop cleanly, say what was written."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """While cleaning up and closing the manifest, a second Ctrl-C waits until we are done."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def hold(signum: int, _frame: FrameType | None) -> None:
        pass  # the clean-up runs to its end; the stop it was already handling is the one reported

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    _SIGNALS.critical += 1  # a stop already pending waits too: the clean-up must finish
    try:
        yield
    finally:
        _SIGNALS.critical -= 1
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _SignalState:
    critical = 0
    pending: int | None = None


_SIGNALS = _SignalState()


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """A file under its final name and its line in the manifest go together: a stop that
    arrives in between waits until both are done."""
    _SIGNALS.critical += 1
    try:
        yield
    finally:
        _SIGNALS.critical -= 1
    checkpoint()


def checkpoint() -> None:
    """Where a Ctrl-C or SIGTERM takes effect: between rows and files, never inside a lock or a
    queue operation (an exception raised there by a signal handler can lose a wake-up and hang)."""
    if not _SIGNALS.critical and _SIGNALS.pending is not None:
        signum, _SIGNALS.pending = _SIGNALS.pending, None
        raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM (and SIGINT) become a clean stop (`Stopped`), as Ctrl-C is."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        _SIGNALS.pending = signum  # acted on at the next checkpoint()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _SIGNALS.pending = None
