"""One base exception, written for a nurse, with the exit code the CLI uses."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class KetaprepError(Exception):
    """An error whose message is shown to the user as is (one or two plain lines).

    Messages never contain patient data: name the file, line, row and field instead.
    """

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(KetaprepError):
    """The command line itself could not be understood (exit 2)."""

    exit_code = EXIT_USAGE


class MissingFile(UsageError):
    """A file named on the command line does not exist (exit 2, whether it is the list, --set or --clinic)."""


class SetError(KetaprepError):
    """An instruction set or clinic profile is invalid (exit 1)."""


class AppointmentError(KetaprepError):
    """The appointment cannot be scheduled as given (exit 1)."""
