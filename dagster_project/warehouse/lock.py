"""One build at a time per build file.

DuckDB's own file lock covers one connection, and each build step opens its own; without a lock held for the whole
run, a CLI build and a UI build could interleave their steps in one build file and publish the blend.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from dagster_project.errors import SloError


class BuildBusy(SloError):
    """Another build holds the lock."""


class BuildLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BuildBusy(f"another build is running on {self.path.with_suffix('')} (lock {self.path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
