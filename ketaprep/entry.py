"""The `ketaprep` program's entry point: Ctrl-C is honoured from the first instant.

Importing the command line (Typer, Click, Rich) takes a while; a Ctrl-C then would end in a
Python traceback. Until the command line's own error boundary takes over, Ctrl-C prints
"stopped." and exits 130, the shell's code for an interrupted program.
"""

import os
import signal
import sys


def _stop(signum: int, frame: object) -> None:
    os.write(2, b"stopped.\n")
    os._exit(128 + signum)


def _unraisable(args: "sys.UnraisableHookArgs") -> None:
    """A Ctrl-C that lands in a callback Python cannot raise from (an import lock's weakref
    callback, a destructor) would print "Exception ignored ... KeyboardInterrupt" and then be
    swallowed, the command going on as if no one had pressed it: stop as at start-up instead.
    (Batch runs under its own SIGINT handler, which sets a flag, so this never cuts a batch.)"""
    if args.exc_type is not None and issubclass(args.exc_type, KeyboardInterrupt):
        _stop(signal.SIGINT, None)
    sys.__unraisablehook__(args)


def main() -> None:
    signal.signal(signal.SIGINT, _stop)
    sys.unraisablehook = _unraisable
    from ketaprep.cli import main as cli_main

    cli_main(sys.argv[1:], interrupt_guarded=True)
