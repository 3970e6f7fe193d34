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


def main() -> None:
    signal.signal(signal.SIGINT, _stop)
    from ketaprep.cli import main as cli_main

    cli_main(sys.argv[1:], interrupt_guarded=True)
