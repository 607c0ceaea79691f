"""Build aside, swap at the end: the published database changes only by an atomic rename of a complete file.

Readers that have the old file open keep reading the old inode; a failed build never touches it. The build's
landing file (its raw tables, beside the build) is published the same way right after, as `<published>.landing`:
a build that is stopped changes neither, so `slo check` reads the raw tables of the data it publishes.
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


def _replace(source: Path, target: Path) -> None:
    """Copy the DuckDB file `source` (checkpointed first) over `target` by one atomic rename."""
    con = duckdb.connect(str(source))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    tmp = target.with_name(target.name + ".publishing")
    shutil.copyfile(source, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    # Nothing writes to the published file, so a WAL beside it is left from a crash and must not replay on the new one.
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    os.replace(tmp, target)


def publish(build: Path, target: Path, landing: Path | None = None) -> int:
    """Copy the finished build database over `target` atomically, then the build's `landing` file (when given and
    not already the published one) over `<target>.landing`; returns the published size in bytes."""
    published_landing = target.with_name(target.name + ".landing")
    _assert_no_writer(target)
    if landing is not None and landing != published_landing and landing.exists():
        _assert_no_writer(published_landing)
    else:
        landing = None
    target.parent.mkdir(parents=True, exist_ok=True)
    _replace(build, target)
    if landing is not None:
        _replace(landing, published_landing)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return target.stat().st_size
