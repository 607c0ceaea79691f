"""The persistent, append-only results store: every evaluation of every SLO, from every run, kept.

SQLite in WAL mode, not DuckDB: DuckDB admits one writing process at a time, and the store is written by Dagster runs
and the CLI while the exporter reads it. WAL lets readers work during a write, `busy_timeout` queues concurrent
writers instead of failing them, and each run's evaluations go in as one transaction, so a run killed mid-write
leaves either all of its evaluations or none.

Rows are never updated or deleted. `evaluated_at` is the time the evaluation speaks for (the run's as-of, which is
"now" unless a run asks otherwise); `recorded_at` is when it was written.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster_project.errors import SloError

SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evaluations (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT    NOT NULL,
    slo_id       TEXT    NOT NULL,
    product      TEXT    NOT NULL,
    dimension    TEXT    NOT NULL,
    dataset      TEXT    NOT NULL,
    evaluated_at REAL    NOT NULL,  -- unix seconds, UTC
    recorded_at  REAL    NOT NULL,
    observed     REAL,
    bound        TEXT    NOT NULL CHECK (bound IN ('min', 'max')),
    threshold    REAL    NOT NULL,
    passed       INTEGER CHECK (passed IN (0, 1)),  -- NULL: the check could not run (see error)
    severity     TEXT    NOT NULL CHECK (severity IN ('warn', 'error')),
    engine       TEXT    NOT NULL,
    error        TEXT,
    detail       TEXT,               -- what lies behind the number (e.g. the columns a schema lacks)
    indicator    TEXT,               -- the indicator type (NULL in rows written before version 3)
    objective    REAL                -- the objective in force when evaluated (NULL before version 3)
);
CREATE INDEX IF NOT EXISTS evaluations_by_slo ON evaluations (slo_id, evaluated_at);
CREATE INDEX IF NOT EXISTS evaluations_by_run ON evaluations (run_id);
"""


# From an older version to this one, run before _SCHEMA (which only creates what is missing).
_UPGRADES = {
    1: ["ALTER TABLE evaluations ADD COLUMN detail TEXT"],
    2: ["ALTER TABLE evaluations ADD COLUMN indicator TEXT", "ALTER TABLE evaluations ADD COLUMN objective REAL"],
}


class ResultsStoreError(SloError):
    """The results store cannot be opened or written (not a store, a newer version, a full disk)."""


@dataclass(frozen=True)
class StoredEvaluation:
    seq: int
    run_id: str
    slo_id: str
    product: str
    dimension: str
    dataset: str
    evaluated_at: datetime
    recorded_at: datetime
    observed: float | None
    bound: str
    threshold: float
    passed: bool | None
    severity: str
    engine: str
    error: str | None
    detail: str | None
    indicator: str | None = None  # None in rows written before version 3
    objective: float | None = None


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)).timestamp()


def _row(record: Mapping[str, Any], run_id: str, evaluated_at: float, recorded_at: float) -> tuple[Any, ...]:
    passed = record["passed"]
    return (
        run_id,
        record["slo"],
        record["product"],
        record["dimension"],
        record["dataset"],
        evaluated_at,
        recorded_at,
        record["observed"],
        record["threshold"]["bound"],
        record["threshold"]["value"],
        None if passed is None else int(bool(passed)),
        record["severity"],
        record["engine"],
        record["error"],
        record.get("detail"),
        record.get("indicator"),
        record.get("objective"),
    )


class ResultsStore:
    """Open per use (`with ResultsStore(path) as store:`); connections are cheap and not shared across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: sqlite3.Connection | None = None

    def __enter__(self) -> ResultsStore:
        # Switching a new store to WAL takes an exclusive lock that SQLite's busy handler does not wait for: when
        # several processes open a store that does not exist yet, the losers get "database is locked" at once.
        # They try again, within the same budget the busy timeout gives every other statement.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._con = self._open()
                return self
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise ResultsStoreError(f"{self.path}: cannot open the results store: {exc}") from None
                time.sleep(0.05)

    def _open(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ResultsStoreError(
                    f"{self.path}: results store version {version} is newer than this tool's ({SCHEMA_VERSION})"
                )
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
            if version < SCHEMA_VERSION:
                _create_or_upgrade(con)
            return con
        except sqlite3.OperationalError:
            if con is not None:
                con.close()
            raise  # __enter__ decides whether to try again
        except (sqlite3.DatabaseError, OSError, ResultsStoreError) as exc:
            if con is not None:
                con.close()
            if isinstance(exc, ResultsStoreError):
                raise
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ResultsStoreError(f"{self.path}: cannot open the results store: {reason}") from None

    def __exit__(self, *exc: object) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @property
    def con(self) -> sqlite3.Connection:
        if self._con is None:
            raise RuntimeError("ResultsStore used outside its `with` block")
        return self._con

    def append(self, run_id: str, evaluated_at: datetime, records: Sequence[Mapping[str, Any]]) -> int:
        """Append one run's result records (slo/report.py's shape) in one transaction; returns how many."""
        recorded_at = time.time()
        rows = [_row(r, run_id, _epoch(evaluated_at), recorded_at) for r in records]
        try:
            with _transaction(self.con):
                self.con.executemany(
                    "INSERT INTO evaluations (run_id, slo_id, product, dimension, dataset, evaluated_at, recorded_at,"
                    " observed, bound, threshold, passed, severity, engine, error, detail, indicator, objective)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.DatabaseError as exc:
            raise ResultsStoreError(f"{self.path}: cannot record {len(rows)} results: {exc}") from None
        return len(rows)

    def latest(self) -> dict[str, StoredEvaluation]:
        """Each SLO's latest evaluation (by evaluated-at, then by when it was written)."""
        sql = (
            "SELECT * FROM evaluations WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() OVER"
            " (PARTITION BY slo_id ORDER BY evaluated_at DESC, seq DESC) AS k FROM evaluations) WHERE k = 1)"
        )
        with closing(self.con.execute(sql)) as cursor:
            return {e.slo_id: e for e in map(_stored, cursor)}

    def count(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM evaluations").fetchone()[0])

    def evaluations(self, slo_id: str | None = None, run_id: str | None = None) -> list[StoredEvaluation]:
        """In the order they were written."""
        where, args = [], []
        if slo_id is not None:
            where.append("slo_id = ?")
            args.append(slo_id)
        if run_id is not None:
            where.append("run_id = ?")
            args.append(run_id)
        sql = "SELECT * FROM evaluations" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
        with closing(self.con.execute(sql, args)) as cursor:
            return [_stored(row) for row in cursor]


def _stored(row: tuple[Any, ...]) -> StoredEvaluation:
    (seq, run_id, slo_id, product, dimension, dataset, evaluated_at, recorded_at, observed, bound, threshold,
     passed, severity, engine, error, detail, indicator, objective) = row  # fmt: skip
    return StoredEvaluation(
        seq=seq,
        run_id=run_id,
        slo_id=slo_id,
        product=product,
        dimension=dimension,
        dataset=dataset,
        evaluated_at=datetime.fromtimestamp(evaluated_at, UTC),
        recorded_at=datetime.fromtimestamp(recorded_at, UTC),
        observed=observed,
        bound=bound,
        threshold=threshold,
        passed=None if passed is None else bool(passed),
        severity=severity,
        engine=engine,
        error=error,
        detail=detail,
        indicator=indicator,
        objective=objective,
    )


def _create_or_upgrade(con: sqlite3.Connection) -> None:
    """In one write transaction, re-reading the version inside it: two processes creating or upgrading the same
    store at once both succeed, and the second finds the work done."""
    with _transaction(con):
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA_VERSION:
            return
        statements = [s for v in sorted(_UPGRADES) if v >= version > 0 for s in _UPGRADES[v]]
        statements += [s for s in _SCHEMA.split(";") if s.strip()]
        for statement in statements:
            con.execute(statement)
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextmanager
def _transaction(con: sqlite3.Connection) -> Iterator[None]:
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def record(path: Path, run_id: str, evaluated_at: datetime, records: Sequence[Mapping[str, Any]]) -> int:
    """Open, append one run's records, close."""
    with ResultsStore(path) as store:
        return store.append(run_id, evaluated_at, records)
