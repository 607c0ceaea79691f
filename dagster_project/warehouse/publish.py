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


def discard_unsafe_build_file(build: Path) -> bool:
    """Delete a build file made before raw data moved to the landing file; True if it was deleted.

    Such a file once held raw.customers: dropping the schema only frees its blocks, and the publish copies the file
    byte for byte, so old personal data could ride along. Starting from an empty file is the only safe cleanup.
    """
    if not build.exists():
        return False
    con = duckdb.connect(str(build))
    try:
        legacy = con.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'raw'").fetchall()
    finally:
        con.close()
    if legacy[0][0] == 0:
        return False
    build.unlink()
    build.with_name(build.name + ".wal").unlink(missing_ok=True)
    return True


def _assert_no_writer(target: Path) -> None:
    """Refuse to replace a file a process has open for writing: its WAL would later replay onto our file.
    Readers are fine: they keep the old file open and see the new one when they reopen."""
    if not target.exists():
        return
    try:
        duckdb.connect(str(target), read_only=True).close()  # readers share; only a writer blocks this
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        reason = str(exc).splitlines()[0]
        if "lock" in reason.lower() or isinstance(exc, duckdb.ConnectionException):
            raise PublishError(
                f"{target} is open for writing by another process ({reason}); open the published database read-only"
            ) from None
        raise PublishError(f"{target} exists and is not a DuckDB database this version can open ({reason})") from None


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
