"""Evaluation benchmark: all shipped SLOs with the native engine against a floor, and the GX engine, in one invocation.

For each size (order lines) the database built by build_bench (`<root>/state_<lines>/warehouse.duckdb` and its
landing file) is reused if it exists, else sources are generated and `slo run` builds it. It is copied to a private
folder first, so a concurrent build cannot replace it mid-measurement. Then, on one read-only connection opened as
the engines open it (`open_for_checks`: same memory cap, threads and settings for everything timed):

1. native: `engines.native.evaluate` over the whole plan of the shipped SLOs - the fused scans, the row-volume
   windows, referential-integrity joins, the reconciliation sums, custom SQL, schema and build-duration lookups and
   the consumer queries (run as many times as their SLOs say, 20).
2. floor: the same numbers computed by hand - for every table one SELECT computing all of that table's metrics in a
   single pass (its scan SLOs, and the single-table parts of the others: the row-volume windows, the custom lift
   rule, each side's reconciliation sum; the windows end at the newest order at or before the evaluation time, so
   that query also reads order_ts once more for that anchor), the two referential-integrity checks as hand-written
   semi-joins, one information_schema query for both schema SLOs, the build-duration lookup, and the same consumer
   queries the same number of times. The floor is checked to give the native engine's numbers (1e-9; the latency
   SLO's value is a timing, so only checked positive) and the run stops loudly if it does not.
3. the scan-only part on its own: the native engine with only the plan's scans against, for each of those
   datasets, one hand-written single-scan query of just those metrics.
4. GX (`engines.gx.evaluate`, build_docs=False) on the same connection, after one warm-up call that pays for
   importing Great Expectations (~6 s); then one run with Data Docs. Its numbers are compared with the native ones.

Timed runs alternate (floor, native, floor scans, native scans, GX) for `--repeats` rounds; medians are reported.
With `--without ID,...` each round also times the native engine on the plan without those SLOs, right after the
whole plan: the difference is what those SLOs cost.
Ratios against the floor measured in the same invocation are the results: the machine is shared and noisy.
Peak RSS is each engine's own: a fresh Python process opens the database and evaluates once, and reports its
VmHWM (/proc/self/status), with the high-water mark after imports, before evaluating, beside it. Not wait4's
ru_maxrss: Linux carries the parent's RSS at fork into the child's ru_maxrss across exec, and by then this parent
holds the GX import and DuckDB's cache (it read 728 MB for every child at 1M); VmHWM belongs to the new image.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from dagster_project.engines.native import evaluate, open_for_checks
from dagster_project.engines.native_sql import PII_PATTERNS
from dagster_project.indicators.query_availability import QueryAvailabilityIndicator
from dagster_project.indicators.query_latency import QueryLatencyIndicator
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.from_spec import all_slos
from dagster_project.slo.plan import CheckPlan, compile_plan
from dagster_project.spec.validate import validate

AS_OF = datetime(2026, 11, 27, tzinfo=UTC)  # build_bench.AS_OF: the data is generated up to this instant
TOLERANCE = 1e-9
T = TypeVar("T")
TIMED = "dashboard_query_latency"  # its observed value is a timing: different on every run, checked positive only

# The shipped SLOs this floor is written for; anything else in slo_definitions/ and the floor is out of date.
SHIPPED = {
    "orders_fresh": "max_age",
    "customer_metrics_fresh": "max_age",
    "orders_customer_present": "non_null_ratio",
    "order_items_keys_present": "non_null_ratio",
    "order_items_values_present": "non_null_ratio",
    "products_category_present": "non_null_ratio",
    "orders_daily_volume": "row_volume",
    "orders_unique": "uniqueness",
    "pair_affinity_unique": "uniqueness",
    "order_item_prices_valid": "in_range",
    "order_item_quantities_valid": "in_range",
    "order_channels_known": "in_set",
    "orders_not_in_future": "not_in_future",
    "customer_keys_well_formed": "matches_pattern",
    "order_items_products_known": "referential_integrity",
    "order_items_orders_known": "referential_integrity",
    "customer_spend_reconciles": "reconciliation",
    "lift_is_positive": "custom_sql",
    "order_items_schema": "schema",
    "recommendations_schema": "schema",
    "dashboard_query_latency": "query_latency",
    "recommendations_query_available": "query_availability",
    "build_duration": "build_duration",
    "recommendations_free_of_pii": "no_pii",
    "category_affinity_free_of_pii": "no_pii",
    "customer_metrics_free_of_pii": "no_pii",
    "staging_customers_free_of_pii": "no_pii",
    "staging_products_free_of_pii": "no_pii",
    "staging_orders_free_of_pii": "no_pii",
    "staging_order_lines_free_of_pii": "no_pii",
    "north_star_free_of_pii": "no_pii",
}
# The text columns the PII SLOs scan (the native engine finds them in the catalogue; checked at start).
TEXT_COLUMNS = {
    "product_affinity.category_affinity": ["category_a", "category_b"],
    "product_affinity.cross_sell_recommendations": ["customer_key"],
    "product_affinity.customer_metrics": ["customer_key"],
    "product_affinity.north_star_daily": ["metric"],
    "staging.customers": ["country"],
    "staging.products": ["product_name", "category"],
    "staging.orders": ["channel"],
    "staging.order_lines": ["category"],
}
PII = "'" + "|".join(f"(?:{PII_PATTERNS[name]})" for name in ("email", "phone")).replace("'", "''") + "'"
SCHEMAS = {
    ("raw", "main", "order_items"): (
        "order_items_schema",
        {"order_id": "BIGINT", "line_number": "INTEGER", "product_id": "BIGINT", "quantity": "INTEGER"}
        | {"unit_price": "DOUBLE"},
    ),
    ("warehouse", "product_affinity", "cross_sell_recommendations"): (
        "recommendations_schema",
        {"customer_key": "VARCHAR", "rank": "BIGINT", "product_id": "BIGINT", "score": "DOUBLE"},
    ),
}
SCHEMA_SQL = """
SELECT table_catalog, table_schema, table_name, column_name, data_type FROM information_schema.columns
WHERE (table_catalog = 'raw' AND table_schema = 'main' AND table_name = 'order_items')
   OR (table_catalog = 'warehouse' AND table_schema = 'product_affinity' AND table_name = 'cross_sell_recommendations')
"""
REFERENTIAL = {
    "order_items_products_known": "SELECT coalesce(count_if(product_id IN (SELECT product_id FROM raw.products))"
    " / nullif(count(product_id), 0), 1.0) FROM raw.order_items",
    "order_items_orders_known": "SELECT coalesce(count_if(order_id IN (SELECT order_id FROM raw.orders))"
    " / nullif(count(order_id), 0), 1.0) FROM raw.order_items",
}
BUILD_SQL = "SELECT epoch(finished_at) - epoch(started_at) FROM build_log.runs ORDER BY finished_at DESC LIMIT 1"


def _share(condition: str, of: str) -> str:
    return f"coalesce(count_if({condition}) / nullif(count({of}), 0), 1.0)"


def _pii(table: str) -> str:
    """Rows matching the PII pattern, summed over the table's text columns (a null matches nothing)."""
    return " + ".join(f"count_if(regexp_matches({c}, {PII}))" for c in TEXT_COLUMNS[table])


def _now(as_of: datetime) -> str:
    return f"TIMESTAMP '{as_of:%Y-%m-%d %H:%M:%S}'"


def floor_tables(as_of: datetime) -> dict[str, dict[str, str]]:
    """Per table, the metrics of its one scan: SLO ids, and `_` names for parts of multi-table or windowed SLOs.

    The row-volume windows end at the newest order at or before `as_of` (`anchor`, from `floor_sources`)."""
    now = _now(as_of)
    return {
        "raw.orders": {
            "orders_fresh": f"epoch({now}) - epoch(max(order_ts) FILTER (WHERE order_ts <= {now}))",
            "orders_customer_present": _share(
                "order_id IS NOT NULL AND customer_id IS NOT NULL AND order_ts IS NOT NULL", "*"
            ),
            "order_channels_known": _share("channel IN ('web', 'app', 'store')", "channel"),
            "orders_not_in_future": _share(f"order_ts <= {now} + INTERVAL 5 MINUTE", "order_ts"),
            "orders_unique": "coalesce(count(DISTINCT order_id) / nullif(count(order_id), 0), 1.0)",
            "_volume_last_day": "count_if(order_ts > anchor - INTERVAL 1 DAY AND order_ts <= anchor)",
            "_volume_7_days_before": "count_if(order_ts > anchor - INTERVAL 8 DAY"
            " AND order_ts <= anchor - INTERVAL 1 DAY)",
        },
        "raw.order_items": {
            "order_item_prices_valid": _share("unit_price >= 0.01 AND unit_price <= 10000", "unit_price"),
            "order_item_quantities_valid": _share("quantity >= 1 AND quantity <= 100", "quantity"),
            "order_items_keys_present": _share("order_id IS NOT NULL AND product_id IS NOT NULL", "*"),
            "order_items_values_present": _share(
                "line_number IS NOT NULL AND quantity IS NOT NULL AND unit_price IS NOT NULL", "*"
            ),
        },
        "raw.products": {
            "products_category_present": _share("product_id IS NOT NULL AND category IS NOT NULL", "*"),
        },
        "product_affinity.customer_metrics": {
            "customer_keys_well_formed": _share("regexp_full_match(customer_key, '^[0-9a-f]{16}$')", "customer_key"),
            "customer_metrics_free_of_pii": _pii("product_affinity.customer_metrics"),
            "customer_metrics_fresh": f"epoch({now}) - epoch(max(last_order_ts) FILTER (WHERE last_order_ts <= {now}))",
            "_spend": "sum(total_spend)",
        },
        "product_affinity.product_pair_affinity": {
            "pair_affinity_unique": "coalesce(count(DISTINCT (product_a, product_b))"
            " FILTER (WHERE product_a IS NOT NULL AND product_b IS NOT NULL)"
            " / nullif(count_if(product_a IS NOT NULL AND product_b IS NOT NULL), 0), 1.0)",
            "lift_is_positive": _share("lift > 0", "*"),
        },
        "product_affinity.cross_sell_recommendations": {
            "recommendations_free_of_pii": _pii("product_affinity.cross_sell_recommendations"),
        },
        "product_affinity.category_affinity": {
            "category_affinity_free_of_pii": _pii("product_affinity.category_affinity"),
        },
        "product_affinity.north_star_daily": {"north_star_free_of_pii": _pii("product_affinity.north_star_daily")},
        "staging.customers": {"staging_customers_free_of_pii": _pii("staging.customers")},
        "staging.products": {"staging_products_free_of_pii": _pii("staging.products")},
        "staging.orders": {"staging_orders_free_of_pii": _pii("staging.orders")},
        "staging.order_lines": {
            "staging_order_lines_free_of_pii": _pii("staging.order_lines"),
            "_revenue": "sum(revenue)",
        },
    }


def floor_sources(as_of: datetime) -> dict[str, str]:
    """What a table's whole-plan scan reads, where that is more than the table: raw.orders joins its row-volume
    anchor, the newest order at or before `as_of` (the windows cannot be counted before it is known)."""
    now = _now(as_of)
    return {
        "raw.orders": f"raw.orders, (SELECT max(order_ts) AS anchor FROM raw.orders WHERE order_ts <= {now}) AS a",
    }


def _timed(parts: dict[str, float] | None, name: str, started: float) -> None:
    if parts is not None:
        parts[name] = parts.get(name, 0.0) + time.perf_counter() - started


def _scan(
    con: duckdb.DuckDBPyConnection, table: str, metrics: dict[str, str], source: str | None = None
) -> dict[str, Any]:
    select = ", ".join(f"{expression} AS {name}" for name, expression in metrics.items())
    row = con.execute(f"SELECT {select} FROM {source or table}").fetchall()[0]
    return dict(zip(metrics, row, strict=True))


def floor_evaluate(
    con: duckdb.DuckDBPyConnection, plan: CheckPlan, as_of: datetime, parts: dict[str, float] | None = None
) -> dict[str, float | None]:
    """Every shipped SLO's observed value, by hand (`parts`, if given, collects the time of each query)."""
    raw: dict[str, Any] = {}
    sources = floor_sources(as_of)
    for table, metrics in floor_tables(as_of).items():
        t = time.perf_counter()
        raw |= _scan(con, table, metrics, sources.get(table))
        _timed(parts, f"scan {table}", t)
    for slo_id, sql in REFERENTIAL.items():
        t = time.perf_counter()
        raw[slo_id] = con.execute(sql).fetchall()[0][0]
        _timed(parts, slo_id, t)
    t = time.perf_counter()
    actual: dict[tuple[str, str, str], dict[str, str]] = {}
    for catalog, schema, table, column, type_ in con.execute(SCHEMA_SQL).fetchall():
        actual.setdefault((catalog, schema, table), {})[column] = type_
    for key, (slo_id, expected) in SCHEMAS.items():
        got = actual.get(key, {})
        raw[slo_id] = sum(1 for c, type_ in expected.items() if got.get(c) == type_) / len(expected)
    _timed(parts, "schemas", t)
    t = time.perf_counter()
    rows = con.execute(BUILD_SQL).fetchall()
    raw["build_duration"] = rows[0][0] if rows else None
    _timed(parts, "build_duration", t)
    for slo in plan.slos:
        ind = slo.indicator
        if isinstance(ind, QueryLatencyIndicator | QueryAvailabilityIndicator):
            t = time.perf_counter()
            timings, failures = [], 0
            for _ in range(ind.runs):
                started = time.perf_counter()
                try:
                    con.execute(ind.sql).fetchall()
                    timings.append(time.perf_counter() - started)
                except duckdb.Error:
                    failures += 1
            if isinstance(ind, QueryAvailabilityIndicator):
                raw[slo.id] = len(timings) / (len(timings) + failures)
            else:
                ordered = sorted(timings)
                raw[slo.id] = ordered[max(1, math.ceil(ind.percentile / 100 * len(ordered))) - 1]
            _timed(parts, slo.id, t)
    last, before = raw.pop("_volume_last_day"), raw.pop("_volume_7_days_before")
    raw["orders_daily_volume"] = last / (before / 7) if before else None
    spend, revenue = raw.pop("_spend") or 0.0, raw.pop("_revenue")
    if not revenue:
        raw["customer_spend_reconciles"] = 0.0 if spend == 0 else 1.0
    else:
        raw["customer_spend_reconciles"] = abs(spend - revenue) / abs(revenue)
    return {k: None if v is None else float(v) for k, v in raw.items()}


def floor_scans(con: duckdb.DuckDBPyConnection, plan: CheckPlan, as_of: datetime) -> dict[str, float | None]:
    """Only the plan's scan SLOs: per dataset one hand-written query of just those metrics."""
    tables = floor_tables(as_of)
    out: dict[str, float | None] = {}
    for dataset, slos in plan.scans:
        ids = {s.id for s in slos}
        row = _scan(con, dataset, {k: v for k, v in tables[dataset].items() if k in ids})
        out |= {k: None if v is None else float(v) for k, v in row.items()}
    return out


def scans_only(plan: CheckPlan) -> CheckPlan:
    slos = tuple(s for _, group in plan.scans for s in group)
    return CheckPlan(slos=slos, scans=plan.scans, singles=())


def load_plan() -> CheckPlan:
    specs, issues = validate([Path("slo_definitions")])
    if issues:
        raise SystemExit("spec issues:\n" + "\n".join(map(str, issues)))
    plan = compile_plan(all_slos([s.spec for s in specs]))
    shipped = {s.id: s.kind for s in plan.slos}
    if shipped != SHIPPED:
        new = sorted(f"{k} ({v})" for k, v in shipped.items() if SHIPPED.get(k) != v)
        gone = sorted(f"{k} ({v})" for k, v in SHIPPED.items() if shipped.get(k) != v)
        raise SystemExit(
            "the floor is written for other SLOs than slo_definitions/ ships: not in the floor "
            f"{', '.join(new) or '-'}; in the floor, not shipped {', '.join(gone) or '-'}"
        )
    return plan


def check_text_columns(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in TEXT_COLUMNS.items():
        schema, name = table.split(".")
        rows = con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'warehouse' AND table_schema = ?"
            " AND table_name = ? AND data_type = 'VARCHAR' ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
        if [r[0] for r in rows] != columns:
            raise SystemExit(f"floor assumes text columns {columns} in {table}, the database has {rows}")


def values(evaluations: Sequence[Evaluation]) -> dict[str, float | None]:
    return {e.slo.id: e.observed for e in evaluations}


def differences(a: dict[str, float | None], b: dict[str, float | None]) -> tuple[float, list[str]]:
    """Largest absolute difference over the SLOs both have, and what disagrees beyond the tolerance."""
    bad, worst = [], 0.0
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if key == TIMED:
            if x is None or y is None or not (0 < x < math.inf and 0 < y < math.inf):
                bad.append(f"{key}: {x!r} vs {y!r}")
            continue
        if x is None or y is None:
            if x is not y:
                bad.append(f"{key}: {x!r} vs {y!r}")
            continue
        worst = max(worst, abs(x - y))
        if abs(x - y) > TOLERANCE:
            bad.append(f"{key}: {x!r} vs {y!r}")
    return worst, bad


def require_equal(native: dict[str, float | None], floor: dict[str, float | None], what: str) -> float:
    worst, bad = differences(native, floor)
    if bad:
        raise SystemExit(f"{what}: native and floor disagree:\n  " + "\n  ".join(bad))
    return worst


@dataclass
class SizeResult:
    order_lines: int
    database_reused: bool
    native_s: float = 0.0
    floor_s: float = 0.0
    native_scans_s: float = 0.0
    floor_scans_s: float = 0.0
    max_abs_diff: float = 0.0
    native_peak_rss_mb: float = 0.0
    native_rss_before_mb: float = 0.0
    floor_peak_rss_mb: float = 0.0
    gx_s: float | None = None
    gx_with_docs_s: float | None = None
    gx_first_call_s: float | None = None
    gx_peak_rss_mb: float | None = None
    gx_rss_before_mb: float | None = None
    gx_error: str | None = None
    gx_mismatches: list[str] = field(default_factory=list)
    gx_engines: dict[str, str] = field(default_factory=dict)
    runs_s: dict[str, list[float]] = field(default_factory=dict)
    native_parts_s: dict[str, float] = field(default_factory=dict)
    without: list[str] = field(default_factory=list)
    native_without_s: float | None = None
    floor_parts_s: dict[str, float] = field(default_factory=dict)
    observed: dict[str, float | None] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.native_s / self.floor_s

    @property
    def scan_ratio(self) -> float:
        return self.native_scans_s / self.floor_scans_s

    def paired(self, ours: str, floor: str) -> float:
        """Median of the per-repeat ratios: each pair ran back to back, so it shares that moment's load."""
        return statistics.median(a / b for a, b in zip(self.runs_s[ours], self.runs_s[floor], strict=True))

    @property
    def gx_vs_native(self) -> float | None:
        return self.gx_s / self.native_s if self.gx_s is not None else None

    @property
    def gx_vs_floor(self) -> float | None:
        return self.gx_s / self.floor_s if self.gx_s is not None else None


def database(root: Path, lines: int) -> tuple[Path, bool]:
    """The built database of this size (and its landing file beside it), building it if there is none."""
    state = root / f"state_{lines}"
    db = state / "warehouse.duckdb"
    reused = db.exists() and db.with_name(db.name + ".landing").exists()
    if reused:
        print(f"  reusing the database built in {state}", flush=True)
    else:
        from benchmarks.build_bench import run_build, sources

        print(f"  no database in {state}: building it (slo run)", flush=True)
        build = run_build(root, sources(root, lines), lines)
        print(f"  built in {build.wall_s:.1f}s, peak RSS {build.peak_rss_mb:.0f} MB", flush=True)
    work = root / f"eval_{lines}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in (db.name, db.name + ".landing"):
        shutil.copyfile(state / name, work / name)
    return work / db.name, reused


def _clock(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def native_parts(con: duckdb.DuckDBPyConnection, plan: CheckPlan, as_of: datetime) -> dict[str, float]:
    """The native engine's time per scan and per single SLO (each evaluated as a plan of its own)."""
    out = {}
    for dataset, group in plan.scans:
        out[f"scan {dataset}"] = _clock(evaluate, con, compile_plan(group), as_of)[0]
    for slo in plan.singles:
        out[slo.id] = _clock(evaluate, con, compile_plan([slo]), as_of)[0]
    return out


def without_plan(plan: CheckPlan, ids: Sequence[str]) -> CheckPlan:
    """The plan without these SLOs (each must be in it)."""
    unknown = set(ids) - {s.id for s in plan.slos}
    if unknown:
        raise SystemExit(f"--without: not shipped SLOs: {', '.join(sorted(unknown))}")
    return compile_plan([s for s in plan.slos if s.id not in set(ids)])


def measure(
    db: Path,
    lines: int,
    reused: bool,
    plan: CheckPlan,
    repeats: int,
    gx_root: Path | None,
    without: Sequence[str] = (),
) -> SizeResult:
    as_of = AS_OF.astimezone(UTC).replace(tzinfo=None)
    result = SizeResult(order_lines=lines, database_reused=reused, without=list(without))
    runs: dict[str, list[float]] = {
        k: [] for k in ("native", "floor", "native_scans", "floor_scans", "gx", "native_without")
    }
    scan_plan = scans_only(plan)
    smaller = without_plan(plan, without) if without else None
    with open_for_checks(db) as con:
        check_text_columns(con)
        first = evaluate(con, plan, as_of)  # warms the buffer cache; and any error is loud at once
        native = values(first)
        errors = [f"{e.slo.id}: {e.error}" for e in first if e.error is not None]
        if errors:
            raise SystemExit("native evaluation errors:\n  " + "\n  ".join(errors))
        gx_mod: Any = None
        if gx_root is not None:
            try:
                from dagster_project.engines import gx as gx_engine

                gx_mod = gx_engine
                t = time.perf_counter()
                gx_evals, _ = gx_mod.evaluate(con, plan, as_of, gx_root, build_docs=False)
                result.gx_first_call_s = time.perf_counter() - t
                result.gx_engines = {e.slo.id: e.engine for e in gx_evals}
            except Exception as exc:
                result.gx_error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
                print(f"  GX failed: {type(exc).__name__}: {exc}", flush=True)
                gx_mod = None
        for i in range(repeats):
            s, floor = _clock(floor_evaluate, con, plan, as_of)
            runs["floor"].append(s)
            s, evals = _clock(evaluate, con, plan, as_of)
            runs["native"].append(s)
            native = values(evals)
            result.max_abs_diff = max(result.max_abs_diff, require_equal(native, floor, "whole evaluation"))
            if smaller is not None:
                runs["native_without"].append(_clock(evaluate, con, smaller, as_of)[0])
            s, floor_scan = _clock(floor_scans, con, plan, as_of)
            runs["floor_scans"].append(s)
            s, native_scan = _clock(evaluate, con, scan_plan, as_of)
            runs["native_scans"].append(s)
            require_equal(values(native_scan), floor_scan, "scans")
            line = (
                f"  repeat {i + 1}: native {runs['native'][-1]:.3f}s, floor {runs['floor'][-1]:.3f}s, "
                f"scans {runs['native_scans'][-1]:.3f}s vs {runs['floor_scans'][-1]:.3f}s"
            )
            if smaller is not None:
                line += f", native without {len(without)} SLOs {runs['native_without'][-1]:.3f}s"
            if gx_mod is not None:
                try:
                    s, (gx_evals, _run) = _clock(gx_mod.evaluate, con, plan, as_of, gx_root, build_docs=False)
                    runs["gx"].append(s)
                    gx_errors = [f"{e.slo.id}: {e.error}" for e in gx_evals if e.error is not None]
                    _worst, bad = differences(native, values(gx_evals))
                    result.gx_mismatches = sorted(set(result.gx_mismatches) | set(gx_errors) | set(bad))
                    line += f", GX {s:.3f}s"
                except Exception as exc:
                    result.gx_error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
                    print(f"  GX failed: {type(exc).__name__}: {exc}", flush=True)
                    gx_mod = None
            print(line, flush=True)
        if gx_mod is not None:
            try:
                result.gx_with_docs_s = _clock(gx_mod.evaluate, con, plan, as_of, gx_root, build_docs=True)[0]
            except Exception as exc:
                result.gx_error = f"with docs: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
        # Where the time goes: each native part alone, and the floor's queries (medians of 3).
        native_runs = [native_parts(con, plan, as_of) for _ in range(3)]
        floor_runs: list[dict[str, float]] = []
        for _ in range(3):
            parts: dict[str, float] = {}
            floor_evaluate(con, plan, as_of, parts)
            floor_runs.append(parts)
        result.native_parts_s = {k: statistics.median(r[k] for r in native_runs) for k in native_runs[0]}
        result.floor_parts_s = {k: statistics.median(r[k] for r in floor_runs) for k in floor_runs[0]}
    result.runs_s = {k: v for k, v in runs.items() if v}
    result.native_s, result.floor_s = statistics.median(runs["native"]), statistics.median(runs["floor"])
    result.native_scans_s = statistics.median(runs["native_scans"])
    result.floor_scans_s = statistics.median(runs["floor_scans"])
    if runs["gx"]:
        result.gx_s = statistics.median(runs["gx"])
    if runs["native_without"]:
        result.native_without_s = statistics.median(runs["native_without"])
    result.observed = native
    return result


def vm_hwm_mb() -> float:
    """This process image's peak RSS (VmHWM, kB) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child() -> None:
    """In a fresh process: open the database and evaluate once with one engine; print peak RSS before and after."""
    engine, db, gx_root = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    as_of = AS_OF.astimezone(UTC).replace(tzinfo=None)
    plan = load_plan()
    if engine == "gx":
        import great_expectations  # noqa: F401  (its import is not the evaluation)

        from dagster_project.engines import gx
    before = vm_hwm_mb()
    t = time.perf_counter()
    with open_for_checks(db) as con:
        if engine == "native":
            evaluate(con, plan, as_of)
        elif engine == "floor":
            floor_evaluate(con, plan, as_of)
        else:
            gx.evaluate(con, plan, as_of, gx_root, build_docs=False)
    seconds = time.perf_counter() - t
    print(json.dumps({"rss_before_mb": before, "peak_rss_mb": vm_hwm_mb(), "seconds": seconds}))


def peak_rss(engine: str, db: Path, gx_root: Path) -> tuple[float, float]:
    """(peak RSS, RSS after imports) in MB of a fresh process evaluating once with `engine`."""
    code = "from benchmarks.eval_bench import child; child()"
    proc = subprocess.run(
        [sys.executable, "-c", code, engine, str(db), str(gx_root)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} child failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(got["peak_rss_mb"]), float(got["rss_before_mb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="order lines, comma-separated")
    parser.add_argument("--root", type=Path, default=Path(".slo_state/bench"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-gx", action="store_true")
    parser.add_argument(
        "--without", default="", help="SLO ids, comma-separated: also time native without them (what they cost)"
    )
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    plan = load_plan()
    without = [i for i in args.without.split(",") if i]
    without_plan(plan, without)  # an unknown id stops before any database is built
    results = []
    for lines in (int(s) for s in args.sizes.split(",")):
        print(f"size {lines:,} order lines", flush=True)
        db, reused = database(args.root, lines)
        gx_root = None if args.skip_gx else (args.root / f"eval_{lines}" / "gx_context").resolve()
        result = measure(db, lines, reused, plan, args.repeats, gx_root, without)
        result.native_peak_rss_mb, result.native_rss_before_mb = peak_rss("native", db, args.root)
        result.floor_peak_rss_mb = peak_rss("floor", db, args.root)[0]
        if gx_root is not None and result.gx_error is None:
            try:
                result.gx_peak_rss_mb, result.gx_rss_before_mb = peak_rss("gx", db, gx_root)
            except RuntimeError as exc:
                result.gx_error = str(exc)
        results.append(result)
        print(
            f"  native {result.native_s:.3f}s vs floor {result.floor_s:.3f}s = {result.ratio:.2f}x; scans "
            f"{result.native_scans_s:.3f}s vs {result.floor_scans_s:.3f}s = {result.scan_ratio:.2f}x; native peak RSS "
            f"{result.native_peak_rss_mb:.0f} MB"
            + (
                f"; without {len(without)} SLOs {result.native_without_s:.3f}s"
                if result.native_without_s is not None
                else ""
            )
            + (f"; GX {result.gx_s:.2f}s = {result.gx_vs_native:.1f}x native" if result.gx_s is not None else ""),
            flush=True,
        )
        (args.root / f"eval_{lines}" / db.name).unlink()
        (args.root / f"eval_{lines}" / (db.name + ".landing")).unlink()
    report = {
        "as_of": AS_OF.isoformat(),
        "repeats": args.repeats,
        "results": [
            asdict(r)
            | {
                "ratio": r.ratio,
                "scan_ratio": r.scan_ratio,
                "paired_ratio": r.paired("native", "floor"),
                "paired_scan_ratio": r.paired("native_scans", "floor_scans"),
                "paired_without_ratio": r.paired("native_without", "native") if r.native_without_s else None,
                "gx_vs_native": r.gx_vs_native,
                "gx_vs_floor": r.gx_vs_floor,
            }
            for r in results
        ],
    }
    out = args.root / "eval_bench.json"
    out.write_text(json.dumps(report, indent=2))
    print()
    print(markdown(results))
    print(f"\nJSON: {out}")


def _s(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def markdown(results: list[SizeResult]) -> str:
    lines = [
        "| order lines | native (s) | floor (s) | ratio | native scans (s) | floor scans (s) | scan ratio "
        "| native peak RSS (MB) | GX (s) | GX/native | GX/floor | GX peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.order_lines:,} | {r.native_s:.3f} | {r.floor_s:.3f} | {r.ratio:.2f}x | {r.native_scans_s:.3f} "
            f"| {r.floor_scans_s:.3f} | {r.scan_ratio:.2f}x | {r.native_peak_rss_mb:.0f} | {_s(r.gx_s)} "
            f"| {_s(r.gx_vs_native, 1, 'x')} | {_s(r.gx_vs_floor, 1, 'x')} | {_s(r.gx_peak_rss_mb, 0)} |"
        )
    for r in results:
        lines.append("")
        lines.append(
            f"{r.order_lines:,} lines: database {'reused' if r.database_reused else 'built'}; native and floor agree "
            f"(max abs diff {r.max_abs_diff:.1e}); median of per-repeat ratios {r.paired('native', 'floor'):.2f}x "
            f"(scans {r.paired('native_scans', 'floor_scans'):.2f}x); native/floor per repeat: "
            + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(r.runs_s["native"], r.runs_s["floor"], strict=True))
            + f" s; peak RSS of a fresh process after imports {r.native_rss_before_mb:.0f} MB, floor's peak "
            f"{r.floor_peak_rss_mb:.0f} MB"
        )
        if r.native_without_s is not None:
            lines.append(
                f"native without {', '.join(r.without)}: {r.native_without_s:.3f}s, so they cost "
                f"{r.native_s - r.native_without_s:.3f}s of native's {r.native_s:.3f}s (median of per-repeat shares "
                f"{1 - r.paired('native_without', 'native'):.0%}); without per repeat: "
                + ", ".join(f"{a:.2f}" for a in r.runs_s["native_without"])
                + " s"
            )
        if r.gx_s is not None:
            lines.append(
                f"GX: first call in this process {_s(r.gx_first_call_s)}s (the first size's imports GX), "
                f"with Data Docs {_s(r.gx_with_docs_s)}s, peak RSS of a fresh process after imports "
                f"{_s(r.gx_rss_before_mb, 0)} MB; evaluated by GX: "
                + ", ".join(sorted(k for k, v in r.gx_engines.items() if v == "gx"))
            )
        if r.gx_mismatches:
            lines.append("GX differs from native: " + "; ".join(r.gx_mismatches))
        if r.gx_error:
            lines.append(f"GX failed: {r.gx_error.splitlines()[0]}")
        lines.append(
            "native parts (s): "
            + ", ".join(f"{k} {v:.3f}" for k, v in sorted(r.native_parts_s.items(), key=lambda kv: -kv[1]))
        )
        lines.append(
            "floor parts (s): "
            + ", ".join(f"{k} {v:.3f}" for k, v in sorted(r.floor_parts_s.items(), key=lambda kv: -kv[1]))
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
