"""The DuckDB adapter: the published database (and its landing file) read-only, external access off, every query
under its time limit (engines/time_limit.py), the catalog from duckdb_columns(), types compared in DuckDB's own
spelling. Knows nothing of indicators (engines/adapter.py's contract)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.engines.adapter import Catalog, Column, EngineError, TypeFamily
from dagster_project.engines.error_text import safe_error
from dagster_project.engines.time_limit import DEFAULT_TIMEOUT_S, time_limit
from dagster_project.warehouse.connection import CATALOG, RAW_CATALOG, connect

_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
_INTEGERS |= {"UHUGEINT"}
_TIMESTAMPS = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"}


def type_family(type_: str) -> TypeFamily:
    """What an indicator needs to know of a DuckDB type, as duckdb_columns() spells it."""
    if type_ in _INTEGERS:
        return "integer"
    if type_.startswith("DECIMAL"):
        return "decimal"
    if type_ in ("FLOAT", "DOUBLE"):
        return "float"
    if type_ == "VARCHAR":
        return "text"
    if type_ == "BOOLEAN":
        return "boolean"
    if type_ == "DATE":
        return "date"
    if type_ in _TIMESTAMPS:
        return "timestamp"
    return "other"


def dataset_name(database: str, schema: str, table: str) -> str | None:
    """'schema.table' as specs write it, for a table of the connection; None for tables specs cannot name.
    raw.<table> lives in the landing file, temp.<table> in the connection's temporary catalog
    (warehouse/connection.py's resolve, the other way round)."""
    if database == CATALOG:
        return f"{schema}.{table}"
    if database in (RAW_CATALOG, "temp") and schema == "main":
        return f"{database}.{table}"
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


class DuckDBAdapter:
    """One open DuckDB connection (`con`, which the GX engine also reads its snapshots from)."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, label: str = "duckdb", fixed_catalog: bool = False) -> None:
        self.con = con
        self.label = label  # the database file, for messages
        self._spelled: dict[str, str] = {}
        # A read-only connection (open_adapter): no one can change its tables while it is open (DuckDB's file lock
        # keeps writers out, and only single SELECTs run on it), so its catalog is read once - `slo check`'s database
        # check and evaluation share it.
        self._fixed_catalog = fixed_catalog
        self._catalog: Catalog | None = None

    def catalog(self) -> Catalog:
        if self._catalog is None:
            catalog = self._read_catalog()
            if not self._fixed_catalog:
                return catalog
            self._catalog = catalog
        return self._catalog

    def _read_catalog(self) -> Catalog:
        # Every table at once: a lookup per dataset cost more than a small scan.
        rows = self.con.execute(
            "SELECT database_name, schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "ORDER BY database_name, schema_name, table_name, column_index"
        ).fetchall()
        tables: dict[str, list[Column]] = {}
        for database, schema, table, column, type_ in rows:
            name = dataset_name(database, schema, table)
            if name is not None:
                tables.setdefault(name, []).append(Column(column, type_, type_family(type_)))
        return Catalog({name: tuple(columns) for name, columns in tables.items()})

    def fetch(self, sql: str, timeout_s: float, max_rows: int | None = 2) -> list[tuple[Any, ...]]:
        try:
            with time_limit(self.con, timeout_s):
                result = self.con.execute(sql)
                rows = result.fetchall() if max_rows is None else result.fetchmany(max_rows)
        except duckdb.Error as exc:
            raise EngineError(safe_error(exc)) from None
        return [tuple(_plain(v) for v in row) for row in rows]

    def describe(self, sql: str, timeout_s: float) -> list[Column]:
        # A relation is bound when it is made, and only run when its rows are asked for. Binding can run part of a
        # query (a PIVOT reads its distinct values): under the time limit too.
        try:
            with time_limit(self.con, timeout_s):
                relation = self.con.sql(sql)
        except duckdb.Error as exc:
            raise EngineError(safe_error(exc)) from None
        if relation is None:  # not a query (callers check it is one SELECT first: spec/free_sql.py)
            raise EngineError("not a SELECT")
        return [Column(n, str(t), type_family(str(t))) for n, t in zip(relation.columns, relation.types, strict=True)]

    def same_type(self, expected: str, actual: Column) -> bool:
        # DuckDB's own spelling of the expected type, so INT64 matches BIGINT and DECIMAL(10, 2) DECIMAL(10,2).
        if expected not in self._spelled:
            rows = self.fetch(f"SELECT typeof(CAST(NULL AS {expected}))", DEFAULT_TIMEOUT_S)
            self._spelled[expected] = str(rows[0][0])
        return self._spelled[expected] == actual.type

    def close(self) -> None:
        self.con.close()


@contextmanager
def open_for_checks(db: Path, landing: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The database (and its landing file, by default the one beside it) read-only, with no access to other files:
    free SQL from a spec can read the tables and nothing else."""
    landing = landing if landing is not None else db.with_name(db.name + ".landing")
    with connect(db, landing=landing if landing.exists() else None, read_only=True) as con:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con


@contextmanager
def open_adapter(db: Path, landing: Path | None = None) -> Iterator[DuckDBAdapter]:
    """open_for_checks, as an adapter (a file that cannot be opened raises duckdb.Error, as open_for_checks does)."""
    with open_for_checks(db, landing) as con:
        yield DuckDBAdapter(con, label=str(db), fixed_catalog=True)
