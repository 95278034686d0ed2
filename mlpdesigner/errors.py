"""User-facing errors and the exit codes every command shares.

An error is raised with a message that names the place and what was expected;
the CLI prints it without a traceback and exits with :func:`exit_code_for`.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit status of every ``mlpdesigner`` command (the README's CLI section lists them)."""

    #: Done: the files are valid, the run completed (or was stopped on request), the export passed its check.
    OK = 0
    #: The input was read, and the work found it wanting: ``validate`` found errors in a spec,
    #: a training run failed (NaN loss, out of memory), an export failed its parity check.
    FAILED = 1
    #: Bad input: a usage error, a missing or unreadable file, an invalid spec given to a command
    #: that needs a valid one, bad data, an output path that cannot be written.
    BAD_INPUT = 2
    #: A bug in MLP Designer (the message says how to get the traceback).
    INTERNAL = 3
    #: Interrupted by Ctrl+C before the command could finish (128 + SIGINT, as shells report it).
    INTERRUPTED = 130


class UserError(Exception):
    """A problem with the user's input (file, data, arguments): :attr:`ExitCode.BAD_INPUT` in the CLI.

    The message is shown as it is, without a traceback. Subclasses for a check
    that ran and failed set ``exit_code = ExitCode.FAILED``.
    """

    exit_code: int = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  hint: {self.hint}" if self.hint else base


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an exception that ended a command (see :class:`ExitCode`)."""
    from .spec import SpecError

    if isinstance(exc, UserError):
        return int(exc.exit_code)
    if isinstance(exc, SpecError):
        return ExitCode.BAD_INPUT
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.INTERNAL
