"""The persistent, append-only results store: every evaluation of every SLO, from every run, kept.

SQLite in WAL mode, not DuckDB: DuckDB admits one writing process at a time, and the store is written by Dagster runs
and the CLI while the exporter reads it. WAL lets readers work during a write, `busy_timeout` queues concurrent
writers instead of failing them, and each run's evaluations go in as one transaction, so a run killed mid-write
leaves either all of its evaluations or none.

Rows are never updated or deleted. `evaluated_at` is the time the evaluation speaks for (the run's as-of, which is
"now" unless a run asks otherwise); `recorded_at` is when it was written.

A store knows itself: SQLite's application id (APPLICATION_ID) and the schema version (user_version). Anything else
at the path (an empty or truncated file, another application's database, not SQLite at all) is refused with its name
and left as it is: only a path that does not exist gets a new store, built beside it and linked into place whole, so
no process ever sees (or adopts) a half-made one. Stores written before the application id (versions 1 to 3, id 0)
are recognised by their `evaluations` columns and labelled when upgraded. Before appending, a process runs SQLite's
`quick_check` once per store file and again after INTEGRITY_EVERY_S (0.65 s on a store of a million evaluations,
264 MB; commands run once per call remember it in the state folder for the next: remember_checks_in): a damaged
store is refused for appends, and a reader that meets damage says so in one line naming the file.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from dagster_project.errors import SloError
from dagster_project.results import postgres as pg
from dagster_project.results.address import PostgresUrl, StoreAddress, parse_store_address
from dagster_project.slo.report import KEPT_AS_EXTRA

SCHEMA_VERSION = 4
APPLICATION_ID = 0x534C4F72  # b"SLOr": PRAGMA application_id of every results store (offset 68 of SQLite's header)
BUSY_TIMEOUT_MS = 30_000
INTEGRITY_EVERY_S = 3600.0  # a process appending for longer than this checks the store's integrity again

_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26

# The columns of `evaluations` in each version: a store written before stores carried the application id is
# recognised by its version and exactly these columns.
_V1_COLUMNS = (
    "seq", "run_id", "slo_id", "product", "dimension", "dataset", "evaluated_at", "recorded_at", "observed", "bound",
    "threshold", "passed", "severity", "engine", "error",
)  # fmt: skip
_V3_COLUMNS = (*_V1_COLUMNS, "detail", "indicator", "objective")
COLUMNS = {
    1: _V1_COLUMNS,
    2: (*_V1_COLUMNS, "detail"),
    3: _V3_COLUMNS,
    4: (*_V3_COLUMNS, "threshold_max", "status", "extra"),
}

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
    objective    REAL,               -- the objective in force when evaluated (NULL before version 3)
    threshold_max REAL,              -- the max of a between threshold (bound is then 'min'), NULL for one bound
    status       TEXT,               -- ok | warn | FAIL | ERROR, warn levels included (NULL before version 4)
    extra        TEXT                -- JSON: the warn level and what else the evaluation kept (NULL: nothing)
);
CREATE INDEX IF NOT EXISTS evaluations_by_slo ON evaluations (slo_id, evaluated_at);
CREATE INDEX IF NOT EXISTS evaluations_by_run ON evaluations (run_id);
"""


# From an older version to this one, run before _SCHEMA (which only creates what is missing).
_UPGRADES = {
    1: ["ALTER TABLE evaluations ADD COLUMN detail TEXT"],
    2: ["ALTER TABLE evaluations ADD COLUMN indicator TEXT", "ALTER TABLE evaluations ADD COLUMN objective REAL"],
    3: [
        "ALTER TABLE evaluations ADD COLUMN threshold_max REAL",
        "ALTER TABLE evaluations ADD COLUMN status TEXT",
        "ALTER TABLE evaluations ADD COLUMN extra TEXT",
    ],
}


class ResultsStoreError(SloError):
    """The results store cannot be opened or written (not a store, a newer version, damaged, a full disk)."""


@dataclass(frozen=True)
class Identity:
    """What identify() found at a path: a results store of this version, labelled with our application id or
    written before stores carried one (labelled when next opened)."""

    version: int
    labelled: bool


def identify(path: Path) -> Identity:
    """Recognise a results store without changing the file (its header, then a read-only connection); raises
    ResultsStoreError, naming the file, for anything else."""
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise ResultsStoreError(f"{path}: cannot open the results store: {exc.strerror or exc}") from None
    if not header:
        raise ResultsStoreError(
            f"{path}: cannot open the results store: the file is empty (0 bytes), not a results store; left as it"
            " is (restore a backup; only a path that does not exist gets a new store)"
        )
    if not header.startswith(_SQLITE_MAGIC):
        raise ResultsStoreError(f"{path}: cannot open the results store: not an SQLite database")
    if len(header) < 100:
        raise ResultsStoreError(damaged(path, f"{len(header)} bytes, shorter than an SQLite header"))
    con = connect_existing(path, "ro")
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        columns = tuple(row[1] for row in con.execute("PRAGMA table_info(evaluations)"))
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise  # ResultsStore tries again
        raise ResultsStoreError(unreadable(path, exc)) from None
    except sqlite3.DatabaseError as exc:
        raise ResultsStoreError(unreadable(path, exc)) from None
    finally:
        con.close()
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise ResultsStoreError(
                f"{path}: results store version {version} is newer than this tool's ({SCHEMA_VERSION})"
            )
        return Identity(version, labelled=True)
    if app_id == 0 and columns and columns == COLUMNS.get(version):
        return Identity(version, labelled=False)
    if not columns:
        table = "no evaluations table"
    elif columns in COLUMNS.values():
        table = "an evaluations table like a store's, but not its version"
    else:
        table = "an evaluations table of other columns"
    raise ResultsStoreError(
        f"{path}: not a results store: an SQLite database of another application (application_id {app_id},"
        f" user_version {version}, {table}); left as it is"
    )


def damaged(path: object, reason: object) -> str:
    return f"{path}: the results store is damaged ({reason}); see `slo store check` and restore a backup"


def unreadable(path: Path, exc: sqlite3.Error) -> str:
    """One line for an SQLite error met on the store: damage said as such, anything else as it is."""
    if _is_damage(exc):
        return damaged(path, exc)
    return f"{path}: cannot read the results store: {exc}"


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
    threshold_max: float | None = None  # the max of a between threshold
    status: str | None = None  # ok | warn | FAIL | ERROR; None in rows written before version 4 (see `level`)
    extra: Mapping[str, Any] = field(default_factory=dict)  # the warn level ("warn": {min, max}) and more

    @property
    def level(self) -> str:
        """ok | warn | FAIL | ERROR: as recorded, or (rows before version 4) from the verdict and severity."""
        if self.status is not None:
            return self.status
        if self.passed is None:
            return "ERROR"
        return "ok" if self.passed else "FAIL" if self.severity == "error" else "warn"


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
        record["threshold"].get("max") if record["threshold"].get("min") is not None else None,
        record.get("status"),
        _extra_json(record),
    )


def _extra_json(record: Mapping[str, Any]) -> str | None:
    """What a record keeps beyond the columns, as JSON (None when nothing)."""
    extra = {key: record[key] for key in KEPT_AS_EXTRA if record.get(key)}
    return json.dumps(extra, sort_keys=True, separators=(",", ":")) if extra else None


# (device, inode) of each store this process has found intact -> when (time.monotonic()).
_intact: dict[tuple[int, int], float] = {}
# Where the checks are remembered between processes (remember_checks_in), None: in this process only.
_checks_file: Path | None = None
CHECKS_FILE_NAME = "store_checks.json"


def remember_checks_in(state_dir: Path) -> None:
    """Remember when each store was last found intact in `<state_dir>/cache/store_checks.json` too, for the
    commands that run once per call (`slo check`, `slo run`): without it each call read the whole store again
    (0.16 s a call for a year of hourly checks of 31 SLOs), so a check got slower as its history grew. Another
    process within INTEGRITY_EVERY_S of a passing check skips it, as one long-lived process does; the file is written
    only when the state folder exists, and one that cannot be read or written means checking again, never an
    error."""
    global _checks_file
    _checks_file = state_dir / "cache" / CHECKS_FILE_NAME


def _remembered_checks() -> dict[str, float]:
    """The remembered checks still within the interval ('device:inode' -> when, wall clock), or none."""
    if _checks_file is None:
        return {}
    try:
        stored = json.loads(_checks_file.read_text(encoding="utf-8"))
        now = time.time()
        return {
            str(k): float(v)
            for k, v in stored.items()
            if isinstance(v, int | float) and 0 <= now - float(v) < INTEGRITY_EVERY_S
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _remember_check(key: str) -> None:
    if _checks_file is None or not _checks_file.parent.parent.is_dir():
        return
    checks = {**_remembered_checks(), key: time.time()}
    tmp = _checks_file.with_name(f".{CHECKS_FILE_NAME}.{os.getpid()}.tmp")
    try:
        _checks_file.parent.mkdir(exist_ok=True)
        tmp.write_text(json.dumps(checks, sort_keys=True), encoding="utf-8")
        os.replace(tmp, _checks_file)
    except OSError:  # not written: the next process checks again
        with suppress(OSError):
            tmp.unlink()


INSERT_COLUMNS = (
    "run_id", "slo_id", "product", "dimension", "dataset", "evaluated_at", "recorded_at", "observed", "bound",
    "threshold", "passed", "severity", "engine", "error", "detail", "indicator", "objective", "threshold_max", "status",
    "extra",
)  # fmt: skip


class OlderStoreError(ResultsStoreError):
    """A store of an older schema version: only `slo store migrate` upgrades it."""


def older(address: object, version: int, labelled: bool) -> str:
    what = f"version {version}" if labelled else f"version {version}, written before stores carried an identity"
    return (
        f"{address}: the results store is of an older version ({what}; this tool uses {SCHEMA_VERSION}): run"
        f" `slo store migrate --results {address}` once (safe to repeat); nothing was read or written"
    )


class ResultsStore:
    """Open per use (`with ResultsStore(address) as store:`); connections are cheap and not shared across threads.
    `address` is a SQLite file (Path) or a PostgreSQL database (address.PostgresUrl); both behave the same.
    A database error inside the block leaves it as a ResultsStoreError naming the store."""

    def __init__(self, address: StoreAddress | str) -> None:
        self.address: StoreAddress = (
            parse_store_address(address, "results store") if isinstance(address, str) else address
        )
        self._con: sqlite3.Connection | None = None
        self._pg: Any = None  # a psycopg connection for a PostgreSQL store

    @property
    def path(self) -> Path:
        """The SQLite file (SQLite stores only)."""
        if not isinstance(self.address, Path):
            raise TypeError(f"{self.address}: not a SQLite store")
        return self.address

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.address, PostgresUrl)

    def __enter__(self) -> ResultsStore:
        if isinstance(self.address, PostgresUrl):
            self._pg = _open_postgres(self.address)
            return self
        # Some locks are not waited for by SQLite's busy handler (switching a store to WAL, recovering a WAL left by
        # a killed process): whoever meets "database is locked" there tries again, within the same budget the
        # busy timeout gives every other statement.
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
            if not os.path.lexists(self.path):
                _create(self.path)
            identity = identify(self.path)
            if identity.version < SCHEMA_VERSION or not identity.labelled:
                raise OlderStoreError(older(self.path, identity.version, identity.labelled))
            con = connect_existing(self.path, "rw")
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
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
            if isinstance(exc, sqlite3.DatabaseError) and _is_damage(exc):
                raise ResultsStoreError(damaged(self.path, exc)) from None
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ResultsStoreError(f"{self.path}: cannot open the results store: {reason}") from None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._pg is not None:
            with suppress(Exception):
                self._pg.close()
            self._pg = None
        if isinstance(exc, sqlite3.DatabaseError):  # a reader that met damage (or a full disk): one line, the file
            raise ResultsStoreError(unreadable(self.path, exc)) from None
        if exc is not None and pg.is_error(exc):
            raise ResultsStoreError(f"{self.address}: cannot read the results store: {pg.error_text(exc)}") from None

    @property
    def con(self) -> sqlite3.Connection:
        """The SQLite connection (SQLite stores only; everything else goes through the methods below)."""
        if self._con is None:
            raise RuntimeError("ResultsStore used outside its `with` block, or not a SQLite store")
        return self._con

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """A cursor over `sql` (written with ? placeholders, in the SQL both databases speak)."""
        if self._pg is not None:
            return self._pg.execute(sql.replace("?", "%s"), args)
        return self.con.execute(sql, args)

    def append(self, run_id: str, evaluated_at: datetime, records: Sequence[Mapping[str, Any]]) -> int:
        """Append one run's result records (slo/report.py's shape) in one transaction; returns how many."""
        recorded_at = time.time()
        rows = [_row(r, run_id, _epoch(evaluated_at), recorded_at) for r in records]
        if self._pg is not None:
            try:
                with pg.transaction(self._pg, "writers"):
                    pg.insert(self._pg, INSERT_COLUMNS, rows)
            except Exception as exc:
                if pg.is_error(exc):
                    raise ResultsStoreError(
                        f"{self.address}: cannot record {len(rows)} results: {pg.error_text(exc)}; nothing was recorded"
                    ) from None
                raise
            return len(rows)
        self._check_integrity()
        try:
            with _transaction(self.con):
                self.con.executemany(
                    f"INSERT INTO evaluations ({', '.join(INSERT_COLUMNS)})"
                    f" VALUES ({', '.join('?' * len(INSERT_COLUMNS))})",
                    rows,
                )
        except sqlite3.DatabaseError as exc:
            if _is_damage(exc):
                raise ResultsStoreError(f"{damaged(self.path, exc)}; nothing was recorded") from None
            raise ResultsStoreError(f"{self.path}: cannot record {len(rows)} results: {exc}") from None
        return len(rows)

    def insert_copied(self, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows of another store, their seq kept (`slo store copy`), in one transaction (under the writers' lock on
        PostgreSQL): an interrupted copy leaves whole batches, and new rows are numbered after the highest seq."""
        if self._pg is not None:
            with pg.transaction(self._pg, "writers"):
                pg.insert(self._pg, names, rows)
                pg.follow_sequence(self._pg)
            return
        with _transaction(self.con):
            self.con.executemany(
                f"INSERT INTO evaluations ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows
            )

    def _check_integrity(self) -> None:
        """Refuse to append to a damaged store. quick_check reads the whole file (0.65 s for a million
        evaluations), so a process does it once per store and again after INTEGRITY_EVERY_S, not per append."""
        stat = os.stat(self.path)
        key, now = (stat.st_dev, stat.st_ino), time.monotonic()
        checked = _intact.get(key)
        if checked is not None and now - checked < INTEGRITY_EVERY_S:
            return
        remembered = f"{stat.st_dev}:{stat.st_ino}"
        if remembered in _remembered_checks():  # found intact by another process within the interval
            return
        problems = quick_check(self.con)
        if problems:
            raise ResultsStoreError(f"{damaged(self.path, problems[0])}; nothing was recorded")
        _intact[key] = now
        _remember_check(remembered)

    def identity(self) -> object:
        """What tells this store from another at the same address: the file's (device, inode), or the id a
        PostgreSQL store was given when made (a store dropped and made again is another one)."""
        if self._pg is not None:
            return str(pg.marker(self._pg)[0][2])
        stat = os.stat(self.path)
        return (stat.st_dev, stat.st_ino)

    def latest(self) -> dict[str, StoredEvaluation]:
        """Each SLO's latest evaluation (by evaluated-at, then by when it was written)."""
        sql = (
            "SELECT * FROM evaluations WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() OVER"
            " (PARTITION BY slo_id ORDER BY evaluated_at DESC, seq DESC) AS k FROM evaluations) AS ranked"
            " WHERE k = 1)"
        )
        with closing(self.execute(sql)) as cursor:
            return {e.slo_id: e for e in map(_stored, cursor)}

    def count(self) -> int:
        return int(self.execute("SELECT count(*) FROM evaluations").fetchone()[0])

    def newest_seq(self) -> int:
        return int(self.execute("SELECT coalesce(max(seq), 0) FROM evaluations").fetchone()[0])

    def rows_after(
        self, seq: int, limit: int
    ) -> list[tuple[int, str, float, int | None, float | None, float, str | None, str | None, str | None]]:
        """What the exporter's history needs of the rows written after `seq`, in the order they were written; the
        threshold is the max of a between threshold (what an age is judged against)."""
        with closing(
            self.execute(
                "SELECT seq, slo_id, evaluated_at, passed, observed, coalesce(threshold_max, threshold), indicator,"
                " status, extra FROM evaluations"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            )
        ) as cursor:
            return list(cursor)

    def extras(self, seqs: Sequence[int]) -> list[tuple[int, str | None]]:
        """The extra JSON (groups, kept values) of the rows with these seqs."""
        if not seqs:
            return []
        marks = ", ".join("?" * len(seqs))
        with closing(self.execute(f"SELECT seq, extra FROM evaluations WHERE seq IN ({marks})", list(seqs))) as cursor:
            return list(cursor)

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
        with closing(self.execute(sql, args)) as cursor:
            return [_stored(row) for row in cursor]


def _open_postgres(url: PostgresUrl) -> Any:
    """A connection to the store in the database at `url`, made there when the database holds none; refused
    (ResultsStoreError naming the URL) when the database holds something else or another version."""
    con = None
    try:
        con = pg.connect(url)
        if not any(pg.found(con)):
            pg.create(con, SCHEMA_VERSION, APPLICATION_ID)
        check_postgres(con, url)
        return con
    except Exception as exc:
        if con is not None:
            with suppress(Exception):
                con.close()
        if isinstance(exc, ResultsStoreError):
            raise
        if pg.is_error(exc):
            raise ResultsStoreError(f"{url}: cannot open the results store: {pg.error_text(exc)}") from None
        raise


def identify_postgres(con: Any, url: PostgresUrl) -> Identity:
    """Recognise the store in a database (which must hold one), as identify() does a file."""
    has_marker, has_table = pg.found(con)
    if not has_marker:
        what = "an evaluations table of another application" if has_table else "no results store"
        raise ResultsStoreError(f"{url}: not a results store: the database holds {what}; left as it is")
    rows = pg.marker(con)
    if len(rows) != 1 or rows[0][0] != APPLICATION_ID:
        raise ResultsStoreError(
            f"{url}: not a results store: its {pg.META_TABLE} table is not one a results store writes; left as it is"
        )
    version = int(rows[0][1])
    if version > SCHEMA_VERSION:
        raise ResultsStoreError(f"{url}: results store version {version} is newer than this tool's ({SCHEMA_VERSION})")
    if not has_table:
        raise ResultsStoreError(f"{url}: the results store is damaged (its evaluations table is missing)")
    return Identity(version, labelled=True)


def check_postgres(con: Any, url: PostgresUrl) -> None:
    identity = identify_postgres(con, url)
    if identity.version < SCHEMA_VERSION:
        raise OlderStoreError(older(url, identity.version, True))


def _stored(row: tuple[Any, ...]) -> StoredEvaluation:
    (seq, run_id, slo_id, product, dimension, dataset, evaluated_at, recorded_at, observed, bound, threshold,
     passed, severity, engine, error, detail, indicator, objective, threshold_max, status, extra) = row  # fmt: skip
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
        threshold_max=threshold_max,
        status=status,
        extra=json.loads(extra) if extra else {},
    )


def quick_check(con: sqlite3.Connection) -> list[str]:
    """SQLite's quick_check (structure, not index contents): [] when the store is intact, else its first problem."""
    return integrity_problems(con, "quick_check(1)")


def integrity_problems(con: sqlite3.Connection, pragma: str) -> list[str]:
    """The problems a `PRAGMA quick_check|integrity_check` reports, one line each ([] when it says ok)."""
    try:
        rows = [str(row[0]) for row in con.execute(f"PRAGMA {pragma}")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    if rows == ["ok"]:
        return []
    lines = [line.strip() for row in rows for line in row.splitlines()]
    return [line for line in lines if line and not line.startswith("***")] or rows  # "*** in database main ***"


def _is_damage(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def connect_existing(path: Path, mode: str) -> sqlite3.Connection:
    """Never creates the file (mode=ro or rw): a store that vanished is an error, not a new empty file."""
    uri = f"{path.absolute().as_uri()}?mode={mode}"
    con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return con


def _create(path: Path) -> None:
    """A new store, made whole beside `path` and hard-linked into place: linking fails if the path exists, so when
    several processes create the same store at once one wins and the others use it, and nobody ever sees an
    empty or half-made file at the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        con = sqlite3.connect(new, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = WAL")
            with _transaction(con):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        con.execute(statement)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        finally:
            con.close()
        with suppress(FileExistsError):  # another process created it first: that one is used
            os.link(new, path)
    finally:
        for leftover in (new, new.with_name(new.name + "-wal"), new.with_name(new.name + "-shm")):
            leftover.unlink(missing_ok=True)


def _upgrade(con: sqlite3.Connection) -> None:
    """To this version, labelled, in one write transaction that re-reads the version inside it: two processes
    upgrading the same store at once both succeed, and the second finds the work done."""
    with _transaction(con):
        version = con.execute("PRAGMA user_version").fetchone()[0]
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        if version >= SCHEMA_VERSION and app_id == APPLICATION_ID:
            return
        statements = [s for v in sorted(_UPGRADES) if v >= version > 0 for s in _UPGRADES[v]]
        statements += [s for s in _SCHEMA.split(";") if s.strip()]
        for statement in statements:
            con.execute(statement)
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")


@dataclass(frozen=True)
class Migration:
    """What `slo store migrate` did: the version found (None: there was no store, one was made) and now."""

    found: int | None
    labelled: bool
    version: int

    @property
    def changed(self) -> bool:
        return self.found is None or self.found < self.version or not self.labelled


def migrate(address: StoreAddress) -> Migration:
    """Bring the store at `address` to this tool's schema version in place, in one transaction (rows kept); make
    one where there is none. Idempotent: a store already at this version is left untouched. Processes migrating
    at once all succeed (the version is read again inside the transaction)."""
    if isinstance(address, PostgresUrl):
        con = None
        try:
            con = pg.connect(address)
            if not any(pg.found(con)) and pg.create(con, SCHEMA_VERSION, APPLICATION_ID):
                return Migration(None, True, SCHEMA_VERSION)
            identity = identify_postgres(con, address)
            found = pg.upgrade(con, SCHEMA_VERSION) if identity.version < SCHEMA_VERSION else identity.version
            return Migration(found, True, SCHEMA_VERSION)
        except Exception as exc:
            if pg.is_error(exc):
                raise ResultsStoreError(f"{address}: cannot migrate the results store: {pg.error_text(exc)}") from None
            raise
        finally:
            if con is not None:
                with suppress(Exception):
                    con.close()
    try:
        if not os.path.lexists(address):
            _create(address)
            return Migration(None, True, SCHEMA_VERSION)
        identity = identify(address)
        if identity.version < SCHEMA_VERSION or not identity.labelled:
            with closing(connect_existing(address, "rw")) as lite:
                lite.execute("PRAGMA journal_mode = WAL")
                _upgrade(lite)
        return Migration(identity.version, identity.labelled, SCHEMA_VERSION)
    except sqlite3.DatabaseError as exc:
        raise ResultsStoreError(unreadable(address, exc)) from None
    except OSError as exc:
        raise ResultsStoreError(f"{address}: cannot migrate the results store: {exc.strerror or exc}") from None


@contextmanager
def _transaction(con: sqlite3.Connection) -> Iterator[None]:
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def record(
    address: StoreAddress | str, run_id: str, evaluated_at: datetime, records: Sequence[Mapping[str, Any]]
) -> int:
    """Open, append one run's records, close."""
    with ResultsStore(address) as store:
        return store.append(run_id, evaluated_at, records)
