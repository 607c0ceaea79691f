"""Errors the user can act on. Each carries the file (and where known, the place) it is about.

The CLI prints them as one line and exits with the code documented in the README; anything else is a bug and
keeps its traceback (shown with --debug).
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_SLO_FAILED = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3


class SloError(Exception):
    """Base of the errors reported to the user without a traceback."""

    exit_code = EXIT_RUNTIME


class UsageError(SloError):
    exit_code = EXIT_USAGE


class SourceDataError(SloError):
    """A source file is missing, empty, unreadable or does not match the source contract."""

    exit_code = EXIT_RUNTIME

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    @classmethod
    def from_message(cls, message: str) -> SourceDataError:
        """Rebuild the error from its one-line form 'path: problem' (as it comes back from a Dagster step)."""
        path, _sep, problem = message.partition(": ")
        return cls(path, problem)
