"""The Dagster instance `slo run` builds in: the persistent one under <state>/dagster, with quicker SQLite files.

Dagster's SQLite event log opens a new engine and connection for every event and commits each one with an fsync: a
small build spends more time there than in its SQL (issue 11: 172 events, 2.6 s in a profile). `BuildEventLogStorage`
writes the same files with the same schema - `dagster dev` on the same folder (`make dev`) reads them with Dagster's
own class - but keeps one engine and one open connection per file for the process (a transaction per operation, as
Dagster's), in SQLite's write-ahead log with `synchronous = NORMAL`: a commit no longer waits for the disk. An
application crash loses nothing committed; a power loss may lose the last events of a run, never the files'
consistency. The data product and the results store keep their own, stricter, durability.

The same two settings apply to every SQLite file of the instance (run storage, schedule storage, the event log's
shards), from the moment each is created: Dagster creates a fresh instance's tables one statement at a time, each
committed with fsyncs, which took 1-2 s of a small build's wall time on a busy disk (issue 11).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import sqlalchemy as db
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage import sql as dagster_sql
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

try:  # Dagster's own busy timeout for its SQLite storages (not in every 1.13 release: the same value then)
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
except ImportError:  # pragma: no cover - the oldest supported Dagster
    SQLITE_BUSY_TIMEOUT_SECONDS = 30

# `slo run` does not capture its steps' stdout and stderr into files for the UI: they reach the user's terminal as
# they are, and capturing them cost four `tail` processes per build (issue 11). Runs launched from the UI (`make dev`)
# read dagster.yaml, which this override does not change, and capture as before.
NO_CAPTURE = {"module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}

SQLITE_PRAGMAS = ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL")


_HOMES: set[Path] = set()  # the instance folders whose SQLite files get SQLITE_PRAGMAS
# One idle connection per file, open while the instance is: SQLite checkpoints the write-ahead log into the file, with
# an fsync, whenever the last connection to it closes - and Dagster's run and schedule storages open and close one
# per operation.
_KEEPERS: dict[str, sqlite3.Connection] = {}
_KEEPERS_LOCK = threading.Lock()


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """On every new SQLite connection of the process: the pragmas, when its file is in a build instance's folder.
    (Dagster's run and schedule storages open their own engines, so this listens on every pool.)"""
    if not _HOMES or not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        files = [row[2] for row in cursor.execute("PRAGMA database_list").fetchall() if row[1] == "main"]
        if not files or not files[0] or not any(Path(files[0]).is_relative_to(home) for home in tuple(_HOMES)):
            return
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()
    with _KEEPERS_LOCK:
        if files[0] not in _KEEPERS:
            keeper = sqlite3.connect(files[0], check_same_thread=False)
            keeper.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the write-ahead log and holds it
            _KEEPERS[files[0]] = keeper


def _release(home: Path) -> None:
    """Close the idle connections to the files under `home` (the last one to close checkpoints); later connections
    to them (Dagster's own classes, reading the instance in the same process) get SQLite's defaults again."""
    with _KEEPERS_LOCK:
        _HOMES.discard(home)
        keepers = [_KEEPERS.pop(f) for f in list(_KEEPERS) if Path(f).is_relative_to(home)]
    for keeper in keepers:
        keeper.close()


class _ReadOnce(ScriptDirectory):
    """Dagster's migration scripts, read once per process. Dagster reads its ~90 scripts anew (importing each) every
    time it checks or stamps a SQLite file's schema revision: seven times for a fresh instance and its first run,
    ~0.1 s of a small build (issue 11). They are files of the installed package, the same for the whole process;
    any other alembic configuration is read as alembic reads it."""

    _read: ClassVar[dict[str, ScriptDirectory]] = {}

    @classmethod
    def from_config(cls, config: AlembicConfig) -> ScriptDirectory:
        location = config.get_main_option("script_location")
        if location != dagster_sql.ALEMBIC_SCRIPTS_LOCATION:
            return ScriptDirectory.from_config(config)
        scripts = cls._read.get(location)
        if scripts is None:
            scripts = cls._read[location] = ScriptDirectory.from_config(config)
        return scripts


def _read_migrations_once() -> None:
    """Where Dagster checks (storage/sql.py) and stamps (alembic's stamp command) a file's revision."""
    for module in (dagster_sql, alembic_command):
        if getattr(module, "ScriptDirectory", None) is ScriptDirectory:
            module.ScriptDirectory = _ReadOnce  # type: ignore[attr-defined]


class BuildEventLogStorage(SqliteEventLogStorage):
    """Dagster's per-run-sharded SQLite event log with one engine and one open connection per shard (a transaction per
    operation, as Dagster's) and commits without an fsync."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: dict[str, Engine] = {}
        self._connections: dict[str, Connection] = {}  # one per shard, a transaction per operation
        self._tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> BuildEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            # Uses are serialised by the storage's lock, so a pooled connection may serve any thread.
            engine = create_engine(
                self.conn_string_for_shard(shard),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            self._engines[shard] = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            conn = self._connections.get(shard)
            if conn is None:
                engine = self._engine(shard)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                conn = self._connections[shard] = engine.connect()
            try:
                with conn.begin():
                    yield conn
            except BaseException:
                if conn.invalidated or conn.closed:
                    self._connections.pop(shard, None)
                raise

    def has_table(self, table_name: str) -> bool:
        """Asked on every asset event; a table, once there, stays."""
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            connections, self._connections = self._connections, {}
            engines, self._engines = self._engines, {}
        for conn in connections.values():
            conn.close()
        for engine in engines.values():
            engine.dispose()
        _release(Path(self._base_dir).resolve().parent.parent)  # <home>/history/runs/


def build_instance(home: Path) -> dg.DagsterInstance:
    """The persistent instance at `home` (created with a dagster.yaml that turns telemetry off), its event log
    written by BuildEventLogStorage into the directory Dagster's default storage uses, every SQLite file of it
    opened with SQLITE_PRAGMAS, Dagster's migration scripts read once (_ReadOnce)."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    _HOMES.add(home)
    _read_migrations_once()
    if not db.event.contains(db.pool.Pool, "connect", _set_pragmas):
        db.event.listen(db.pool.Pool, "connect", _set_pragmas)
    config = home / "dagster.yaml"
    if not config.exists():  # this tool never phones home; the banner asking about it would clutter every run
        config.write_text("telemetry:\n  enabled: false\n")
    event_log = {
        "module": __name__,
        "class": BuildEventLogStorage.__name__,
        "config": {"base_dir": os.path.join(str(home), "history", "runs", "")},
    }
    overrides = {"event_log_storage": event_log, "compute_logs": NO_CAPTURE}
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=overrides))
