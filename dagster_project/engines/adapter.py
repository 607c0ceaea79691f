"""What an engine is to the checks: a small adapter around one database connection.

The plan (slo/plan.py) and the indicator registry say *what* to compute, as dialect-neutral SQL trees; an adapter only
knows how to talk to its engine: connect, describe the catalog, run one query under a time limit, keep everything
read-only, and hand back timestamps in UTC. The same evaluator runs every adapter, so an indicator means the same on
DuckDB, PostgreSQL and Spark.

Contract every adapter keeps:
- `dialect` is a sqlglot dialect name ("duckdb", "postgres", "spark"); queries arrive already rendered in it.
- `fetch` runs one statement read-only and returns at most `max_rows` rows of plain Python values: numbers as int or
  float (Decimal is converted), timestamps as naive datetimes in UTC, text as str.
- Any engine error is raised as EngineError with a message that never contains a data value (engines/error_text.py);
  a query past `timeout_s` is interrupted and raised as QueryTimedOut. A broken connection (server gone, wrong
  credentials) is an EngineError too, raised from `open` or `fetch`, never a crash.
- `catalog()` is read once per evaluation.
- `describe` gives the result columns of one SELECT without running it (bound and typed, at most planned), under the
  same time limit and read-only guarantees as `fetch`: what validation prepares (verify/database.py).
- `label` names the engine's place in messages: the database file, host:port/database, the Spark master.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from dagster_project.engines.time_limit import QueryTimedOut

__all__ = ["Catalog", "Column", "EngineAdapter", "EngineError", "PermissionDenied", "QueryTimedOut", "TypeFamily"]

# What an indicator needs to know of a column's type, whatever the engine calls it.
TypeFamily = Literal["text", "integer", "decimal", "float", "boolean", "date", "timestamp", "other"]


class EngineError(Exception):
    """A query or connection failed; the message is safe to keep and export (no data values)."""


class PermissionDenied(EngineError):
    """The engine refused to read a table (or schema) to the credentials in use: a matter for whoever grants access,
    not a mistake in the spec - validation leaves it to the evaluation, which records it as the SLO's error."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the engine's own spelling, e.g. BIGINT, character varying, string
    family: TypeFamily


@dataclass(frozen=True)
class Catalog:
    """Every table the adapter sees, as 'schema.table' -> its columns in order; `denied` are those of them the
    credentials in use may not read (their queries fail with PermissionDenied)."""

    tables: dict[str, tuple[Column, ...]] = field(default_factory=dict)
    denied: frozenset[str] = frozenset()

    def exists(self, dataset: str) -> bool:
        return dataset in self.tables

    def columns(self, dataset: str) -> tuple[Column, ...]:
        return self.tables.get(dataset, ())

    def column_names(self, dataset: str) -> list[str]:
        return [c.name for c in self.columns(dataset)]

    def text_columns(self, dataset: str) -> list[str]:
        return [c.name for c in self.columns(dataset) if c.family == "text"]


class EngineAdapter(Protocol):
    """One open connection to one engine (see the module docstring for the contract)."""

    name: str  # "duckdb", "postgres", "spark": what messages and results call the engine
    dialect: str  # the sqlglot dialect queries are rendered in
    label: str  # where the data is, for messages: a file, host:port/database, a Spark master or Connect URL

    def catalog(self) -> Catalog: ...

    def describe(self, sql: str, timeout_s: float) -> list[Column]:
        """The result columns of `sql` (one SELECT), bound but not run; EngineError or QueryTimedOut otherwise."""
        ...

    def fetch(self, sql: str, timeout_s: float, max_rows: int | None = 2) -> list[tuple[Any, ...]]:
        """At most `max_rows` rows; None: every row (a consumer query being timed is fetched whole, as its users
        would)."""
        ...

    def same_type(self, expected: str, actual: Column) -> bool:
        """Whether the column's type is the spec's `expected` type name (a schema SLO), in this engine's terms."""
        ...

    def close(self) -> None: ...


def first_value(rows: Sequence[tuple[Any, ...]]) -> Any:
    return rows[0][0] if rows else None
