"""The semantic model's named measures, evaluated where the product's data lives (its spec's `server:`, else the
published DuckDB database), in that engine's dialect: the North Star over its window and
each goal's actual value. A measure is an aggregate expression over one table (spec: semantic_model.measures); when
its table has the North Star's time dimension, it is taken over the North Star window, as the North Star is, so a
goal on the North Star measure reads the same number.

Expressions come from the spec, so each runs as one SELECT (checked) on the engines' read-only connection with
external access off, within a time limit (the default SLO timeout: a measure belongs to no SLO); a measure that
cannot be computed, or takes longer, is None with its reason, never an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_project.engines.adapter import EngineAdapter, EngineError
from dagster_project.engines.error_text import safe_error
from dagster_project.engines.native_sql import table_ref, timestamp_literal
from dagster_project.engines.time_limit import DEFAULT_TIMEOUT_S, QueryTimedOut
from dagster_project.indicators.lazy import sql as neutral
from dagster_project.spec.durations import parse_duration
from dagster_project.spec.free_sql import FreeSqlRejected, require_measure_query
from dagster_project.warehouse.connection import quote_ident

if TYPE_CHECKING:  # measure_query is `slo validate`'s, which opens no database: DuckDB loads when one is used
    import duckdb

    # The spec's models (pydantic): a caller measuring a spec has them loaded already; the evaluation path, which
    # imports this module, loads none.
    from dagster_project.spec.models import Measure, SemanticDimension, SpecFile


def _model_parts(spec: SpecFile) -> tuple[list[Measure], list[SemanticDimension]]:
    """The semantic model's measures and dimensions (spec/models.py model_parts, without importing the models)."""
    from dagster_project.spec.models import model_parts

    return model_parts(spec)


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeasureValue:
    name: str
    value: float | None
    error: str | None = None


def _time_dimension(spec: SpecFile) -> SemanticDimension | None:
    """The North Star's time dimension, if the spec has a North Star."""
    if spec.north_star is None:
        return None
    return next((d for d in _model_parts(spec)[1] if d.name == spec.north_star.time_dimension), None)


def _spelling(dialect: str) -> tuple[Callable[[str], str], Callable[[str], str], Callable[[datetime], str]]:
    """How `dialect` spells a table, a column and a timestamp (DuckDB's as it always was)."""
    if dialect == "duckdb":
        return table_ref, quote_ident, timestamp_literal
    return (
        lambda name: neutral.render(neutral.table(name), dialect),
        lambda name: neutral.render(neutral.col(name), dialect),
        lambda ts: neutral.render(neutral.timestamp(ts), dialect),
    )


def measure_query(spec: SpecFile, measure: Measure, as_of: datetime, dialect: str = "duckdb") -> str:
    """The one SELECT that computes `measure` (over the North Star window when its table has the time dimension;
    over the whole table when the spec has no North Star): what measure_values runs and what `slo validate --db` /
    `slo check` prepare. The expression is the spec's text as written; the table, the column and the window's
    bounds around it are spelt in `dialect` (sqlglot's names: duckdb, postgres, spark)."""
    table, quote, stamp = _spelling(dialect)
    time_dim = _time_dimension(spec)
    where = ""
    if spec.north_star is not None and time_dim is not None and time_dim.table == measure.table:
        since = as_of - timedelta(seconds=parse_duration(spec.north_star.window).total_seconds())
        column = quote(time_dim.column)
        where = f" WHERE {column} > {stamp(since)} AND {column} <= {stamp(as_of)}"
    return f"SELECT ({measure.expression}) FROM {table(measure.table)}{where}"


def measure_values(
    con: duckdb.DuckDBPyConnection | EngineAdapter,
    spec: SpecFile,
    as_of: datetime,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict[str, MeasureValue]:
    """Every measure of the spec (as_of naive UTC), each query within `timeout_s`, on the engine `con` is (a DuckDB
    connection: the deployment's database), in its dialect."""
    adapter = _adapter(con)
    out = {}
    for measure in _model_parts(spec)[0]:
        try:
            require_measure_query(measure_query(spec, measure, as_of), measure.expression)
            rows = adapter.fetch(measure_query(spec, measure, as_of, adapter.dialect), timeout_s, max_rows=1)
            value = rows[0][0] if rows else None
            out[measure.name] = MeasureValue(measure.name, None if value is None else float(value))
        except (FreeSqlRejected, QueryTimedOut, EngineError, TypeError, ValueError) as exc:
            out[measure.name] = MeasureValue(measure.name, None, safe_error(exc))
    return out


def _adapter(con: duckdb.DuckDBPyConnection | EngineAdapter) -> EngineAdapter:
    import duckdb

    from dagster_project.engines.duckdb_adapter import DuckDBAdapter

    return DuckDBAdapter(con) if isinstance(con, duckdb.DuckDBPyConnection) else con


def daily_values(
    con: duckdb.DuckDBPyConnection | EngineAdapter,
    spec: SpecFile,
    measure_name: str,
    since: datetime,
    until: datetime,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[tuple[str, float | None]]:
    """A measure per day of the North Star's time dimension in (since, until] - the North Star's trend. Empty when
    the measure's table has no such dimension or the query fails or runs past `timeout_s`."""
    adapter = _adapter(con)
    measure = next((m for m in _model_parts(spec)[0] if m.name == measure_name), None)
    time_dim = _time_dimension(spec)
    if measure is None or time_dim is None or time_dim.table != measure.table:
        return []
    table, quote, stamp = _spelling(adapter.dialect)
    column = quote(time_dim.column)
    day = f"CAST({column} AS DATE)"
    sql = (
        f"SELECT {day} AS day, ({measure.expression}) FROM {table(measure.table)}"
        f" WHERE {column} > {stamp(since)} AND {column} <= {stamp(until)} GROUP BY {day} ORDER BY 1"
    )
    try:
        # The expression is checked where measure_query places it; this query only groups it by day.
        require_measure_query(measure_query(spec, measure, until), measure.expression)
        rows = adapter.fetch(sql, timeout_s, max_rows=None)
    except (FreeSqlRejected, QueryTimedOut, EngineError):
        return []
    return [(str(d), None if v is None else float(v)) for d, v in rows]


@dataclass(frozen=True)
class Measured:
    """What the published database says of one product: its measures (North Star, goals) and the North Star per day
    over the last 90 days (day start as epoch seconds, value). `slo report` reads it once; `slo serve` keeps it with
    the values /metrics exports, for its live report pages."""

    measures: dict[str, MeasureValue] = field(default_factory=dict)
    star_trend: list[tuple[float, float | None]] = field(default_factory=list)


def measure_product(con: duckdb.DuckDBPyConnection | EngineAdapter, spec: SpecFile, as_of: datetime) -> Measured:
    naive = as_of.replace(tzinfo=None)
    since = naive - timedelta(days=90)
    trend = (
        [
            (datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp(), value)
            for day, value in daily_values(con, spec, spec.north_star.measure, since, naive)
        ]
        if spec.north_star is not None
        else []
    )
    return Measured(measure_values(con, spec, naive), trend)


def measure_products(
    specs: Sequence[SpecFile],
    database: Path | None,
    as_of: datetime,
    landing: Path | None = None,
    previous: Mapping[str, Measured] | None = None,
) -> dict[str, Measured]:
    """Each product measured where its data lives (its spec's `server:`; none: the deployment's DuckDB `database`),
    each server opened once. Products on the deployment's database are left out when there is none. A server that
    cannot be opened keeps the product's `previous` values when there are some, else gives each of its measures an
    error naming the product and the server."""
    from dagster_project.engines.servers import label, open_server, server_key, uses_deployment_database

    groups: dict[str, list[SpecFile]] = {}
    for spec in specs:
        if uses_deployment_database(spec.server) and (database is None or not database.is_file()):
            continue
        groups.setdefault(server_key(spec.server), []).append(spec)
    out: dict[str, Measured] = {}
    for group in groups.values():
        server = group[0].server
        try:
            with open_server(server, database or Path(), landing) as adapter:
                for spec in group:
                    out[spec.data_product.id] = measure_product(adapter, spec, as_of)
        except EngineError as exc:
            where = label(server, database)
            log.warning("cannot compute measures on %s: %s", where, exc)
            for spec in group:
                product = spec.data_product.id
                if previous is not None and product in previous:
                    out[product] = previous[product]
                    continue
                error = f"product {product}: {where}: {exc}"
                out[product] = Measured({m.name: MeasureValue(m.name, None, error) for m in _model_parts(spec)[0]})
    return out
