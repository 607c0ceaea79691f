"""One build at a time per build file.

DuckDB's own file lock covers one connection, and each build step opens its own; without a lock held for the whole
run, a CLI build and a UI build could interleave their steps in one build file and publish the blend.

The lock is an flock on `<build>.lock`: the kernel releases it when the holder dies, so a killed build never leaves
it stuck. It is re-entrant within a process, because the CLI takes it before generating sample data and the Dagster
resource takes it again for the run it launches in the same process.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from dagster_project.errors import SloError

_held: dict[Path, tuple[int, int]] = {}  # lock path -> (fd, depth) for locks this process holds
_guard = threading.Lock()


class BuildBusy(SloError):
    """Another process holds the build lock."""


def lock_path(build_database: Path) -> Path:
    return build_database.with_name(build_database.name + ".lock")


class BuildLock:
    def __init__(self, path: Path) -> None:
        self.path = path.resolve()

    def acquire(self) -> None:
        with _guard:
            if self.path in _held:
                fd, depth = _held[self.path]
                _held[self.path] = (fd, depth + 1)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise BuildBusy(
                    f"another build is running on {self.path.with_suffix('')} (lock {self.path}); try again when "
                    "it has finished"
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            _held[self.path] = (fd, 1)

    def release(self) -> None:
        with _guard:
            if self.path not in _held:
                return
            fd, depth = _held[self.path]
            if depth > 1:
                _held[self.path] = (fd, depth - 1)
                return
            del _held[self.path]
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
