"""The Apache Spark adapter (PySpark): a local session, a cluster (`master`), or a Spark Connect server (`remote`).

Spark has no read-only transaction, so nothing but one SELECT is ever sent: every statement is parsed with sqlglot in
Spark's dialect first and anything else is refused before it reaches the session. Each query carries a job tag; past
its time limit the watchdog (engines/time_limit.py) interrupts the tag and the query becomes QueryTimedOut.
Timestamps come back naive in UTC whatever the Python process's zone (PySpark converts TIMESTAMP values to local
time: they are converted back here).

With `tables:` the adapter registers a folder of Parquet tables (<schema>/<table>/) as external tables, in the
session's own in-memory catalog only (never a shared metastore): the files are read, never written.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_project.engines.adapter import Catalog, Column, EngineError, TypeFamily
from dagster_project.engines.error_text import redact
from dagster_project.engines.time_limit import QueryTimedOut, watched
from dagster_project.engines.types import same_type

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from dagster_project.spec.server import SparkServer

_FAMILIES: dict[str, TypeFamily] = {
    "string": "text", "varchar": "text", "char": "text",
    "tinyint": "integer", "smallint": "integer", "int": "integer", "bigint": "integer",
    "decimal": "decimal", "float": "float", "double": "float", "boolean": "boolean", "date": "date",
    "timestamp": "timestamp", "timestamp_ntz": "timestamp", "timestamp_ltz": "timestamp",
}  # fmt: skip


def family(type_name: str) -> TypeFamily:
    return _FAMILIES.get(type_name.split("(", 1)[0].strip().lower(), "other")


def require_one_select(sql: str) -> None:
    """Refuse anything but exactly one SELECT (Spark cannot run a read-only transaction)."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, dialect="spark") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise EngineError(f"not a valid Spark SQL statement: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise EngineError("refused: Spark runs only one SELECT statement")
    writes = (exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Merge, exp.Alter, exp.Command)
    if any(True for _ in statements[0].find_all(*writes)):
        raise EngineError("refused: Spark runs only one SELECT statement")


def _message(exc: BaseException) -> str:
    """The first line of Spark's error, without values unless it is about the query itself (analysis, parsing)."""
    from pyspark.errors import AnalysisException, ParseException

    lines = str(exc).strip().splitlines()
    first = lines[0].strip() if lines else type(exc).__name__
    if isinstance(exc, AnalysisException | ParseException):
        return first
    return redact(first)


class _Tag:
    """What the watchdog interrupts: every Spark job of one query. A job is only cancelled once it runs, and planning
    may outlast a short limit: once the limit has passed, the jobs are cancelled every 0.2 s until the query ends."""

    def __init__(self, session: SparkSession, tag: str) -> None:
        self.session, self.tag = session, tag
        self.context = _spark_context(session)
        self.done = threading.Event()

    def __enter__(self) -> _Tag:
        if self.context is not None:  # a classic session: job tags, and running tasks interrupted on cancel
            self.context.addJobTag(self.tag)
            self.context.setInterruptOnCancel(True)
        else:  # Spark Connect
            self.session.addTag(self.tag)
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        if self.context is not None:
            self.context.removeJobTag(self.tag)
        else:
            self.session.removeTag(self.tag)

    def _cancel(self) -> None:
        if self.context is not None:
            self.context.cancelJobsWithTag(self.tag)
        else:
            self.session.interruptTag(self.tag)

    def interrupt(self) -> None:
        def keep_cancelling() -> None:
            while True:
                try:
                    self._cancel()
                except Exception:  # the session is stopping: nothing left to cancel
                    return
                if self.done.wait(0.2):
                    return

        threading.Thread(target=keep_cancelling, name="slo-spark-cancel", daemon=True).start()


def _spark_context(session: SparkSession) -> Any:
    """The SparkContext of a classic session; None for Spark Connect, which has none."""
    try:
        return session.sparkContext
    except Exception:
        return None


class SparkAdapter:
    name = "spark"
    dialect = "spark"

    def __init__(self, session: SparkSession, label: str = "spark", owns_session: bool = False) -> None:
        self.session = session
        self.label = label
        self.owns_session = owns_session
        self.scratch: str | None = None  # the warehouse folder we made for the session (open), removed on close

    @classmethod
    def open(cls, server: SparkServer, base: Path) -> SparkAdapter:
        """A session as `server` says (relative `tables` paths are read from `base`, the spec's folder)."""
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise EngineError("PySpark is not installed: pip install 'slo-monitor[spark]' (needs Java 17+)") from None
        scratch: str | None = None
        try:
            if server.remote is not None:
                label = server.remote
                builder = SparkSession.builder.remote(server.remote)
            else:
                label = server.master or "local[*]"
                builder = SparkSession.builder.master(label).config("spark.ui.enabled", "false")
            builder = builder.appName("slo-monitor").config("spark.sql.session.timeZone", "UTC")
            if server.remote is None and "spark.sql.warehouse.dir" not in server.conf:
                # Spark's default warehouse is ./spark-warehouse, made in whatever folder we were started from (a
                # `tables:` schema is a database there): a folder of our own instead, removed on close.
                scratch = tempfile.mkdtemp(prefix="slo-spark-warehouse-")
                builder = builder.config("spark.sql.warehouse.dir", scratch)
            for key, value in server.conf.items():
                builder = builder.config(key, value)
            session = builder.getOrCreate()
        except Exception as exc:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise EngineError(f"cannot start Spark ({label}): {_message(exc)}") from None
        adapter = cls(session, label, owns_session=True)
        adapter.scratch = scratch
        if server.tables is not None:
            try:
                adapter.register_parquet_tables((base / server.tables).resolve())
            except BaseException:
                adapter.close()
                raise
        return adapter

    def register_parquet_tables(self, folder: Path, replace: bool = False) -> None:
        """Each <folder>/<schema>/<table>/ (or <table>.parquet) as the external table schema.table, in this session's
        in-memory catalog (refused on a shared metastore, which would be written). With `replace`, a table already
        registered under that name is registered again here (an external table: its files are never touched)."""
        if not folder.is_dir():
            raise EngineError(f"Spark tables folder {folder} does not exist")
        implementation = self.session.conf.get("spark.sql.catalogImplementation", "in-memory")
        if implementation != "in-memory":
            raise EngineError(
                f"tables: registers tables in the session's catalog; this session's is {implementation} (shared): "
                "register them there yourself and leave tables: out"
            )
        for schema_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            self.session.sql(f"CREATE DATABASE IF NOT EXISTS `{schema_dir.name}`")
            for table in sorted(schema_dir.iterdir()):
                name = table.name.removesuffix(".parquet")
                location = str(table).replace("'", "\\'")
                if replace:
                    self.session.sql(f"DROP TABLE IF EXISTS `{schema_dir.name}`.`{name}`")
                self.session.sql(
                    f"CREATE TABLE IF NOT EXISTS `{schema_dir.name}`.`{name}` USING parquet LOCATION '{location}'"
                )

    def catalog(self) -> Catalog:
        """Every table of every database of the current catalog, its columns from the analysed table's schema, types
        spelt as listColumns spells them. SHOW NAMESPACES / SHOW TABLES and one schema per table: the catalog API's
        listTables and listColumns (with its deprecated dbName) resolved every table again and took ~1-2 s at 20
        tables, most of an evaluation's fixed cost on a small product."""
        tables: dict[str, tuple[Column, ...]] = {}
        try:
            for (namespace,) in self.session.sql("SHOW NAMESPACES").collect():
                for row in self.session.sql(f"SHOW TABLES IN {_quoted(namespace)}").collect():
                    if row["isTemporary"]:
                        continue
                    qualified = f"{_quoted(namespace)}.{_quoted(row['tableName'])}"
                    fields = self.session.table(qualified).schema.fields
                    tables[f"{namespace}.{row['tableName']}"] = tuple(_column(f) for f in fields)
        except Exception as exc:
            raise EngineError(f"cannot read Spark's catalog: {_message(exc)}") from None
        return Catalog(tables)

    def fetch(self, sql: str, timeout_s: float, max_rows: int | None = 2) -> list[tuple[Any, ...]]:
        require_one_select(sql)
        from pyspark.sql.types import TimestampType

        with _Tag(self.session, f"slo-{uuid.uuid4().hex}") as tag, watched(tag, timeout_s) as guard:
            try:
                frame = self.session.sql(sql)
                rows = frame.collect() if max_rows is None else frame.take(max_rows)
                zoned = [isinstance(f.dataType, TimestampType) for f in frame.schema.fields]
            except Exception as exc:
                if guard.fired:
                    raise QueryTimedOut(timeout_s) from None
                raise EngineError(_message(exc)) from None
        return [tuple(_plain(v, z) for v, z in zip(row, zoned, strict=True)) for row in rows]

    def describe(self, sql: str, timeout_s: float) -> list[Column]:
        """Analysed, never run: a DataFrame's schema needs only Spark's analyser (after the one-SELECT check)."""
        require_one_select(sql)
        with _Tag(self.session, f"slo-{uuid.uuid4().hex}") as tag, watched(tag, timeout_s) as guard:
            try:
                fields = self.session.sql(sql).schema.fields
            except Exception as exc:
                if guard.fired:
                    raise QueryTimedOut(timeout_s) from None
                raise EngineError(_message(exc)) from None
        return [Column(f.name, f.dataType.simpleString(), family(f.dataType.simpleString())) for f in fields]

    def same_type(self, expected: str, actual: Column) -> bool:
        return same_type(expected, actual.type, "spark")

    def close(self) -> None:
        if self.owns_session:
            self.session.stop()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _column(field: Any) -> Column:
    """A schema field as listColumns names its type: its simple string (bigint, decimal(10,2); CHAR/VARCHAR read as
    string)."""
    type_ = field.dataType.simpleString()
    return Column(field.name, type_, family(type_))


def _plain(value: Any, zoned: bool) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if zoned and isinstance(value, datetime) and value.tzinfo is None:
        # PySpark gives a TIMESTAMP as the process's local wall time: back to UTC.
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
