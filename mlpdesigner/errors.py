"""User-facing errors: raised with a message that names the place and what was expected."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (file, data, arguments); exit code 2 in the CLI.

    The message is shown as it is, without a traceback.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  hint: {self.hint}" if self.hint else base
