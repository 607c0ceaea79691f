"""Build aside, swap at the end: the published database changes only by an atomic rename of a complete file.

Readers that have the old file open keep reading the old inode; a failed build never touches it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from dagster_project.errors import SloError


class PublishError(SloError):
    """The build cannot be published as it is."""


def _assert_no_writer(target: Path) -> None:
    """Refuse to replace a file a process has open for writing: its WAL would later replay onto our file.
    Readers are fine: they keep the old file open and see the new one when they reopen."""
    if not target.exists():
        return
    try:
        duckdb.connect(str(target), read_only=True).close()  # readers share; only a writer blocks this
    except (duckdb.IOException, duckdb.ConnectionException) as exc:  # another process / this one, read-write
        raise PublishError(
            f"{target} is open for writing by another process ({str(exc).splitlines()[0]}); "
            "open the published database read-only"
        ) from None


def publish(build: Path, target: Path) -> int:
    """Copy the finished build database over `target` atomically; returns the published size in bytes."""
    _assert_no_writer(target)
    con = duckdb.connect(str(build))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".publishing")
    shutil.copyfile(build, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    # Nothing writes to the published file, so a WAL beside it is left from a crash and must not replay on the new one.
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    os.replace(tmp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return target.stat().st_size
