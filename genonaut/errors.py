"""Errors a user can act on, shared by the app's database helpers and the seed tool.

Each carries a message and a hint saying what to do next; a command prints both with `fail`
and exits with the error's code (2: "could not run"; 1 is kept for "ran, found a problem").
"""

from __future__ import annotations

import sys


class HintedError(Exception):
    """A condition the user can act on. `hint` says how."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


def fail(exc: HintedError) -> int:
    """`Error:` and `Hint:` on stderr; the exit code of the error (2)."""
    print(f"Error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"Hint: {exc.hint}", file=sys.stderr)
    return exc.exit_code
