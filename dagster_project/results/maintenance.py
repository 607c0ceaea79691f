"""Checking and copying a results store (`slo store check`, `slo store backup`), reading it only.

The check is SQLite's full `integrity_check` (indexes against their tables too: 1.9 s for a million evaluations);
the backup is SQLite's online backup API in one step, which copies the store as one read transaction sees it, so
writers carry on (WAL) and the copy holds whole runs only. The copy is made beside its destination, checked, and
renamed into place: a failed backup never leaves a half-written file or spoils the previous one.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from dagster_project.errors import UsageError
from dagster_project.results.store import (
    APPLICATION_ID,
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
    path: Path
    version: int
    labelled: bool  # carries the application id (False: written before stores did; given one at its next use)
    problems: list[str]  # from integrity_check; empty when intact
    evaluations: int | None  # None when they cannot be counted
    runs: int | None

    @property
    def intact(self) -> bool:
        return not self.problems and self.evaluations is not None


def check(path: Path) -> StoreHealth:
    """Identity, version, integrity and size of the store at `path`; raises ResultsStoreError when it is not a
    results store at all (missing, empty, another application's, not SQLite)."""
    if not path.exists():
        raise ResultsStoreError(f"{path}: no such results store")
    identity = identify(path)
    # Read-write although it only reads: closing the last connection then removes the -wal and -shm files, which a
    # read-only one would leave behind. Nothing is written but the WAL's committed pages (a checkpoint).
    with closing(connect_existing(path, "rw")) as con:
        problems = integrity_problems(con, f"integrity_check({MAX_PROBLEMS})")
        try:
            evaluations, runs = con.execute("SELECT count(*), count(DISTINCT run_id) FROM evaluations").fetchone()
        except sqlite3.DatabaseError as exc:
            evaluations = runs = None
            problems = problems or [str(exc)]
    return StoreHealth(path, identity.version, identity.labelled, problems, evaluations, runs)


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
        f"integrity    {'ok' if not health.problems else health.problems[0]}",
        *(f"             {p}" for p in health.problems[1:]),
        f"evaluations  {count}",
    ]
    return lines


def backup(path: Path, dest: Path) -> int:
    """Copy the store at `path` to `dest` while writers may be active; returns the evaluations copied. `dest`
    may be an earlier backup (replaced whole), never the store itself nor a file that is not a results store."""
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
