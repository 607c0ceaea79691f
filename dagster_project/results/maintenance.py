"""Checking, copying and moving a results store (`slo store check|backup|copy`).

The check is SQLite's full `integrity_check` (indexes against their tables too: 1.9 s for a million evaluations);
the backup is SQLite's online backup API in one step, which copies the store as one read transaction sees it, so
writers carry on (WAL) and the copy holds whole runs only. The copy is made beside its destination, checked, and
renamed into place: a failed backup never leaves a half-written file or spoils the previous one.

`slo store copy FROM TO` moves a whole history between backends (a SQLite file and a PostgreSQL database, either
way): rows keep their seq, go in batches of whole transactions, and the copy resumes where an interrupted one
stopped (the destination must hold exactly the source's first rows, checked by count and checksum before anything
is written). It ends by comparing the row counts and a SHA-256 checksum of every row on both sides.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster_project.errors import UsageError
from dagster_project.results import postgres as pg
from dagster_project.results.address import PostgresUrl, StoreAddress
from dagster_project.results.store import (
    APPLICATION_ID,
    COLUMNS,
    SCHEMA_VERSION,
    ResultsStore,
    ResultsStoreError,
    connect_existing,
    damaged,
    identify,
    integrity_problems,
    quick_check,
    unreadable,
)

MAX_PROBLEMS = 10


@dataclass(frozen=True)
class StoreHealth:
    path: StoreAddress
    version: int
    labelled: bool  # carries the application id (False: written before stores did; given one at its next use)
    problems: list[str]  # from integrity_check; empty when intact
    evaluations: int | None  # None when they cannot be counted
    runs: int | None

    @property
    def intact(self) -> bool:
        return not self.problems and self.evaluations is not None


def check(path: StoreAddress) -> StoreHealth:
    """Identity, version, integrity and size of the store at `path`; raises ResultsStoreError when it is not a
    results store at all (missing, empty, another application's, not SQLite)."""
    if isinstance(path, PostgresUrl):
        return _check_postgres(path)
    if not path.exists():
        raise ResultsStoreError(f"{path}: no such results store")
    identity = identify(path)
    # Read-write although it only reads: closing the last connection then removes the -wal and -shm files, which a
    # read-only one would leave behind. Nothing is written but the WAL's committed pages (a checkpoint).
    with closing(connect_existing(path, "rw")) as con:
        problems = integrity_problems(con, f"integrity_check({MAX_PROBLEMS})")
        try:
            evaluations, runs = con.execute("SELECT count(*), count(DISTINCT run_id) FROM evaluations").fetchall()[0]
        except sqlite3.DatabaseError as exc:
            evaluations = runs = None
            problems = problems or [str(exc)]
    return StoreHealth(path, identity.version, identity.labelled, problems, evaluations, runs)


def _check_postgres(url: PostgresUrl) -> StoreHealth:
    """The same report for a store in PostgreSQL: integrity is the server's, so "problems" are what a store there
    must have (its columns); counted in one statement."""
    from dagster_project.results.store import identify_postgres

    try:
        with closing(pg.connect(url)) as con:
            if not any(pg.found(con)):
                raise ResultsStoreError(f"{url}: no results store in this database (`slo store migrate` makes one)")
            identity = identify_postgres(con, url)
            columns = pg.columns(con)
            problems = [] if columns == COLUMNS[identity.version] else [f"unexpected columns {', '.join(columns)}"]
            evaluations, runs = con.execute("SELECT count(*), count(DISTINCT run_id) FROM evaluations").fetchall()[0]
    except Exception as exc:
        if pg.is_error(exc):
            raise ResultsStoreError(f"{url}: cannot read the results store: {pg.error_text(exc)}") from None
        raise
    return StoreHealth(url, identity.version, identity.labelled, problems, int(evaluations), int(runs))


def describe(health: StoreHealth) -> list[str]:
    """The report `slo store check` prints."""
    identity = (
        f"results store (application_id {APPLICATION_ID:#x})"
        if health.labelled
        else "results store written before stores carried an application id (given one at its next use)"
    )
    count = "cannot be counted" if health.evaluations is None else f"{health.evaluations:,} in {health.runs:,} runs"
    lines = [
        f"store        {health.path}",
        f"identity     {identity}",
        f"version      {health.version}",
        f"integrity    {'ok' if not health.problems else health.problems[0]}"
        + (
            " (PostgreSQL: the server's; columns as expected)"
            if isinstance(health.path, PostgresUrl) and not health.problems
            else ""
        ),
        *(f"             {p}" for p in health.problems[1:]),
        f"evaluations  {count}",
    ]
    if health.version < SCHEMA_VERSION or not health.labelled:
        lines.append(f"migrate      run `slo store migrate --results {health.path}` (this tool uses {SCHEMA_VERSION})")
    return lines


def backup(path: StoreAddress, dest: Path) -> int:
    """Copy the store at `path` to `dest` while writers may be active; returns the evaluations copied. `dest`
    may be an earlier backup (replaced whole), never the store itself nor a file that is not a results store."""
    if isinstance(path, PostgresUrl):
        raise UsageError(
            f"{path}: a store in PostgreSQL is backed up with the server's tools (pg_dump), or copied to a SQLite"
            f" file with `slo store copy {path} FILE`"
        )
    if not path.exists():
        raise ResultsStoreError(f"{path}: no such results store")
    identify(path)
    if dest.exists():
        if os.path.samefile(dest, path):
            raise UsageError(f"{dest}: is the results store itself; back it up to another file")
        try:
            identify(dest)
        except ResultsStoreError as exc:
            raise ResultsStoreError(f"{dest}: will not overwrite a file that is not a results store ({exc})") from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    new = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        with (
            closing(connect_existing(path, "rw")) as source,
            closing(sqlite3.connect(new, isolation_level=None)) as copy,
        ):
            try:
                source.backup(copy)  # all pages in one step: one consistent snapshot
            except sqlite3.DatabaseError as exc:
                raise ResultsStoreError(unreadable(path, exc)) from None
            problems = quick_check(copy)
            if problems:
                raise ResultsStoreError(f"{damaged(path, problems[0])}; no backup written")
            evaluations = int(copy.execute("SELECT count(*) FROM evaluations").fetchone()[0])
        os.replace(new, dest)
    finally:
        for leftover in (new, new.with_name(new.name + "-wal"), new.with_name(new.name + "-shm")):
            leftover.unlink(missing_ok=True)
    return evaluations


COPY_BATCH = 50_000
# The columns a copy carries and checksums, in this order (every column of the current version).
_COPY_COLUMNS = ("seq", *COLUMNS[SCHEMA_VERSION][1:])
_FLOATS = {"evaluated_at", "recorded_at", "observed", "threshold", "objective"}


@dataclass(frozen=True)
class CopyReport:
    copied: int  # rows written by this run
    already: int  # rows the destination held before (from an interrupted copy)
    evaluations: int  # rows on both sides, up to the source's last row when the copy began
    checksum: str  # sha256 of those rows, the same on both sides


def _canonical(row: tuple[Any, ...]) -> bytes:
    """One row as the checksum sees it: floats by repr (exact on both backends: 8-byte doubles), NULL as such."""
    parts = []
    for name, value in zip(_COPY_COLUMNS, row, strict=True):
        if value is None:
            parts.append("\\N")
        elif name in _FLOATS:
            parts.append(repr(float(value)))
        else:
            parts.append(str(value))
    return ("\t".join(parts) + "\n").encode()


def _digest(store: ResultsStore, upto: int, batch: int = COPY_BATCH) -> tuple[int, str]:
    """(rows, sha256) of the store's rows with seq <= upto, in seq order, read in batches."""
    digest, rows, last = hashlib.sha256(), 0, 0
    while True:
        chunk = list(
            store.execute(
                f"SELECT {', '.join(_COPY_COLUMNS)} FROM evaluations WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                (last, upto, batch),
            )
        )
        for row in chunk:
            digest.update(_canonical(row))
        rows += len(chunk)
        if len(chunk) < batch:
            return rows, digest.hexdigest()
        last = chunk[-1][0]


def _same_store(source: StoreAddress, dest: StoreAddress) -> bool:
    if isinstance(source, Path) and isinstance(dest, Path):
        return dest.exists() and source.exists() and os.path.samefile(source, dest)
    return str(source) == str(dest)


def copy_store(
    source: StoreAddress,
    dest: StoreAddress,
    batch: int = COPY_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> CopyReport:
    """Copy every evaluation of `source` (as of now: rows written meanwhile wait for the next copy) to `dest`,
    made when missing. Resumes an interrupted copy; refuses a destination holding other rows. `progress(done,
    total)` is called after each batch."""
    if _same_store(source, dest):
        raise UsageError(f"{dest}: is the source store itself; copy to another store")
    if isinstance(source, Path) and not source.exists():
        raise ResultsStoreError(f"{source}: no such results store")
    with ResultsStore(source) as src, ResultsStore(dest) as dst:
        upto = src.newest_seq()
        already_upto = dst.newest_seq()
        already, theirs = _digest(dst, already_upto, batch)
        mine = _digest(src, already_upto, batch)
        if (already, theirs) != mine or already_upto > upto:
            raise ResultsStoreError(
                f"{dest}: holds {already:,} evaluations that are not the first ones of {source}; copy into a new or"
                " empty store (or one an interrupted copy from the same source left)"
            )
        total = src.count() if upto else 0
        done, last = already, already_upto
        while last < upto:
            rows = list(
                src.execute(
                    f"SELECT {', '.join(_COPY_COLUMNS)} FROM evaluations WHERE seq > ? AND seq <= ?"
                    " ORDER BY seq LIMIT ?",
                    (last, upto, batch),
                )
            )
            if not rows:
                break
            dst.insert_copied(_COPY_COLUMNS, rows)
            done += len(rows)
            last = rows[-1][0]
            if progress is not None:
                progress(done, total)
        count, checksum = _digest(src, upto, batch)
        dest_count, dest_checksum = _digest(dst, dst.newest_seq(), batch)
        if (count, checksum) != (dest_count, dest_checksum):
            raise ResultsStoreError(
                f"{dest}: the copy does not match {source} ({dest_count:,} evaluations, checksum {dest_checksum[:12]}"
                f" against {count:,}, {checksum[:12]}); nothing was removed, run the copy again"
            )
    return CopyReport(copied=done - already, already=already, evaluations=count, checksum=checksum)
