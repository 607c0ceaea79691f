"""The native DuckDB engine: computes the observed value of every planned SLO.

Each dataset's scan indicators run as one SELECT (one pass over the table). If that query fails (a missing column,
a bad regex, or it runs past the longest of their time limits), each of its SLOs is retried alone, so one broken or
runaway check is recorded as an error and the others still produce values. Every query runs under its SLO's time
limit (spec: timeout; engines/time_limit.py). Nothing here decides pass or fail.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.engines.error_text import safe_error
from dagster_project.engines.native_sql import scan_expression, single_query, table_ref
from dagster_project.engines.time_limit import QueryTimedOut, time_limit
from dagster_project.slo.domain import Slo
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.plan import CheckPlan
from dagster_project.spec.free_sql import FreeSqlRejected, require_single_select
from dagster_project.warehouse.build_log import BUILD_LOG_SCHEMA
from dagster_project.warehouse.connection import connect, resolve

FREE_SQL_KINDS = frozenset({"custom_sql", "query_latency", "query_availability"})


@contextmanager
def open_for_checks(db: Path, landing: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The database (and its landing file, by default the one beside it) read-only, with no access to other files:
    free SQL from a spec can read the tables and nothing else."""
    landing = landing if landing is not None else db.with_name(db.name + ".landing")
    with connect(db, landing=landing if landing.exists() else None, read_only=True) as con:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con


def _error(exc: BaseException) -> str:
    """What is kept of a failed query: never a data value (error_text.py)."""
    return safe_error(exc)


def _number(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} returned a value of type {type(value).__name__}, not a number")  # not the value
    number = float(value)
    if math.isnan(number):
        return None
    return number


class _Catalog:
    """Every table's columns and types, read once per evaluation: a lookup per dataset cost more than a small scan."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.columns: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        rows = con.execute(
            "SELECT database_name, schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "ORDER BY database_name, schema_name, table_name, column_index"
        ).fetchall()
        for catalog, schema, table, column, type_ in rows:
            self.columns.setdefault((catalog, schema, table), []).append((column, type_))

    def exists(self, dataset: str) -> bool:
        return resolve(dataset) in self.columns

    def schema(self, dataset: str) -> list[tuple[str, str]]:
        return self.columns.get(resolve(dataset), [])

    def text_columns(self, dataset: str) -> list[str]:
        return [name for name, type_ in self.schema(dataset) if type_ == "VARCHAR"]


def _scan(
    con: duckdb.DuckDBPyConnection, catalog: _Catalog, dataset: str, slos: tuple[Slo, ...], as_of: datetime
) -> list[Evaluation]:
    if not catalog.exists(dataset):
        return [Evaluation(s, None, f"dataset {dataset} does not exist") for s in slos]
    text_columns = catalog.text_columns(dataset)
    expressions = [scan_expression(s, as_of, text_columns) for s in slos]
    select = ", ".join(f"({e}) AS m{i}" for i, e in enumerate(expressions))
    try:
        with time_limit(con, max(s.timeout_s for s in slos)):
            row = con.execute(f"SELECT {select} FROM {table_ref(dataset)}").fetchall()[0]
        return [_judgeable(s, v) for s, v in zip(slos, row, strict=True)]
    except (duckdb.Error, QueryTimedOut):
        pass  # find which one: each alone
    out = []
    for slo, expression in zip(slos, expressions, strict=True):
        try:
            with time_limit(con, slo.timeout_s):
                value = con.execute(f"SELECT {expression} FROM {table_ref(dataset)}").fetchall()[0][0]
            out.append(_judgeable(slo, value))
        except QueryTimedOut as exc:
            out.append(Evaluation(slo, None, str(exc)))
        except duckdb.Error as exc:
            out.append(Evaluation(slo, None, _error(exc)))
    return out


def _judgeable(slo: Slo, value: object) -> Evaluation:
    try:
        number = _number(value, slo.kind)
    except TypeError as exc:
        return Evaluation(slo, None, str(exc))
    if number is None:
        if slo.kind == "row_volume":
            return Evaluation(slo, None, "no value: no rows in the baseline periods to compare with")
        if slo.kind == "max_age":
            return Evaluation(slo, None, f"no value: {slo.dataset} has no rows at or before the evaluation time")
        return Evaluation(slo, None, f"no value: {slo.dataset} has no rows to judge")
    return Evaluation(slo, number)


def _missing_reference(catalog: _Catalog, slo: Slo) -> str | None:
    """For the two-table indicators, which table or column is missing, said plainly (DuckDB's binder errors about
    the query's aliases would confuse)."""
    if slo.kind not in ("referential_integrity", "reconciliation"):
        return None
    for dataset, column in (
        (slo.dataset, slo.params["column"]),
        (slo.params["reference_dataset"], slo.params["reference_column"]),
    ):
        if not catalog.exists(dataset):
            return f"dataset {dataset} does not exist"
        if column not in {name for name, _type in catalog.schema(dataset)}:
            return f"column {column} not found in {dataset}"
    return None


def _scalar_query(con: duckdb.DuckDBPyConnection, slo: Slo, as_of: datetime) -> Evaluation:
    sql = single_query(slo, as_of)
    if slo.kind == "custom_sql":
        require_single_select(sql)
    rows = con.execute(sql).fetchmany(2)
    if slo.kind == "custom_sql" and (len(rows) != 1 or len(rows[0]) != 1):
        return Evaluation(slo, None, "custom SQL must return exactly one row with one column")
    return _judgeable(slo, rows[0][0] if rows else None)


def _schema(con: duckdb.DuckDBPyConnection, catalog: _Catalog, slo: Slo) -> Evaluation:
    if not catalog.exists(slo.dataset):
        return Evaluation(slo, None, f"dataset {slo.dataset} does not exist")
    actual = dict(catalog.schema(slo.dataset))
    expected: dict[str, str] = slo.params["columns"]
    # DuckDB's own spelling of each expected type, so INT64 matches BIGINT and DECIMAL(10, 2) matches DECIMAL(10,2).
    spelled = con.execute("SELECT " + ", ".join(f"typeof(CAST(NULL AS {t}))" for t in expected.values())).fetchall()
    canonical = dict(zip(expected, spelled[0], strict=True))
    matched = sum(1 for name, type_ in canonical.items() if actual.get(name) == type_)
    missing = [name for name in canonical if name not in actual]
    retyped = [f"{name} is {actual[name]}, not {t}" for name, t in canonical.items() if actual.get(name, t) != t]
    problems = ([f"missing {', '.join(missing)}"] if missing else []) + retyped
    return Evaluation(slo, matched / len(expected), detail="; ".join(problems) or None)


def _timed_runs(con: duckdb.DuckDBPyConnection, sql: str, runs: int, timeout_s: float) -> tuple[list[float], int]:
    """Timings of the runs that succeeded and the number that failed; a run past the time limit ends them all
    (QueryTimedOut): how slow is not known, only that it is slower than the SLO allows any query to be."""
    timings, failures = [], 0
    for _ in range(runs):
        try:
            with time_limit(con, timeout_s):
                started = time.perf_counter()  # the timer's thread is started: only the query is timed
                con.execute(sql).fetchall()
                timings.append(time.perf_counter() - started)
        except duckdb.Error:
            failures += 1
    return timings, failures


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _query(con: duckdb.DuckDBPyConnection, slo: Slo) -> Evaluation:
    require_single_select(slo.params["sql"])
    timings, failures = _timed_runs(con, slo.params["sql"], int(slo.params["runs"]), slo.timeout_s)
    if slo.kind == "query_availability":
        return Evaluation(slo, len(timings) / (len(timings) + failures))
    if not timings:
        return Evaluation(slo, None, f"consumer query {slo.params['query']} failed on every run")
    return Evaluation(slo, percentile(timings, float(slo.params["percentile"])))


def _build_duration(con: duckdb.DuckDBPyConnection, catalog: _Catalog, slo: Slo) -> Evaluation:
    if not catalog.exists(f"{BUILD_LOG_SCHEMA}.runs"):
        return Evaluation(slo, None, "no build recorded in this database")
    rows = con.execute(
        f"SELECT epoch(finished_at) - epoch(started_at) FROM {BUILD_LOG_SCHEMA}.runs ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()
    return _judgeable(slo, rows[0][0] if rows else None)


def _single(con: duckdb.DuckDBPyConnection, catalog: _Catalog, slo: Slo, as_of: datetime) -> Evaluation:
    try:
        if slo.kind in ("query_latency", "query_availability"):
            return _query(con, slo)  # a time limit per run
        with time_limit(con, slo.timeout_s):
            if slo.kind == "schema":
                return _schema(con, catalog, slo)
            if slo.kind == "build_duration":
                return _build_duration(con, catalog, slo)
            missing = _missing_reference(catalog, slo)
            if missing is not None:
                return Evaluation(slo, None, missing)
            return _scalar_query(con, slo, as_of)
    except QueryTimedOut as exc:
        return Evaluation(slo, None, str(exc))
    except FreeSqlRejected as exc:
        return Evaluation(slo, None, f"free SQL {exc}")
    except duckdb.Error as exc:
        return Evaluation(slo, None, _error(exc))


def evaluate(con: duckdb.DuckDBPyConnection, plan: CheckPlan, as_of: datetime) -> list[Evaluation]:
    """One evaluation per planned SLO, in plan order; errors are evaluations too."""
    by_id: dict[str, Evaluation] = {}
    catalog = _Catalog(con)
    for dataset, slos in plan.scans:
        for evaluation in _scan(con, catalog, dataset, slos, as_of):
            by_id[evaluation.slo.id] = evaluation
    # SQL written in specs last: even a rejected statement never runs before another check.
    for slo in sorted(plan.singles, key=lambda s: s.kind in FREE_SQL_KINDS):
        by_id[slo.id] = _single(con, catalog, slo, as_of)
    return [by_id[s.id] for s in plan.slos]
