"""Engine benchmark: the same plan on DuckDB, PostgreSQL and Spark, each against a hand-written floor (issue 13).

For each size (order lines) the DuckDB database eval_bench's `database()` gives (built by build_bench, else built
now) is copied to the other engines with datagen/transfer.py: into a PostgreSQL database (a private cluster started
as the tests start theirs, or `--postgres-url`) and into a folder of Parquet tables that a local Spark session
(local[2], UTC, spark.sql.session.timeZone=UTC) registers as external tables. Then, per engine:

(a) scans: our plan's scans only (engines/evaluate.py `evaluate` on the plan's scan SLOs: one fused SELECT per
    dataset, plus the catalog read it needs) against a floor of one hand-written SELECT per dataset computing just
    those metrics in one pass. The floor is eval_bench's DuckDB floor (floor_tables), transpiled with sqlglot to
    PostgreSQL and Spark, with what sqlglot does not translate written per dialect: a full regex match is `~` /
    RLIKE with the pattern's own anchors, PostgreSQL counts with `count(*) FILTER (WHERE ...)` (its idiom; sqlglot
    writes sum(CASE ...)), Spark's epoch seconds are unix_micros / 1e6 (unix_timestamp drops the fraction) and its
    distinct pairs count(DISTINCT a, b). The floor runs on the engine's own connection (no adapter: no read-only
    transaction, no time limit, no statement check), so whatever the adapter costs counts against us. Before timing
    the floor must give our numbers (1e-9), else the run stops.
(b) the whole shipped plan (SLOs the engine cannot run left out: `slo.definition.runs_on(engine)`), and the values
    compared with DuckDB's (1e-9; the latency SLO's value is a timing and only checked positive).
(c) the queries each engine receives in one whole-plan evaluation (the adapter's fetch wrapped, catalog reads
    counted apart): per query the datasets it names, and per dataset how many table scans the engine itself plans for
    its fused scan query (DuckDB and PostgreSQL EXPLAIN, Spark's executed physical plan).

Timed runs alternate per round and engine (floor scans, our scans, whole plan; every other round ours first) for
`--repeats` rounds; medians and the median of the per-round ratios are reported. Then each dataset's scan alone,
ours against the floor (medians of `--part-repeats`), shows where a gap comes from, and for every dataset whose scan
is over `--target` times its floor the engine's own account is written next to the JSON (EXPLAIN ANALYZE on
PostgreSQL and DuckDB, the formatted physical plan on Spark). The machine is shared: ratios measured in the same
invocation are the results, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from benchmarks.eval_bench import (
    AS_OF,
    check_text_columns,
    database,
    differences,
    floor_tables,
    load_plan,
    scans_only,
    values,
)
from dagster_project.engines.adapter import Catalog, Column
from dagster_project.engines.evaluate import evaluate
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.plan import CheckPlan, compile_plan

ENGINES = ("duckdb", "postgres", "spark")
TOLERANCE = 1e-9


class CountingAdapter:
    """An adapter that keeps every statement it is asked to run (and counts catalog reads), then passes it on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.dialect: str = inner.dialect
        self.label: str = inner.label
        self.queries: list[str] = []
        self.catalog_reads = 0

    def reset(self) -> None:
        self.queries, self.catalog_reads = [], 0

    def catalog(self) -> Catalog:
        self.catalog_reads += 1
        catalog: Catalog = self.inner.catalog()
        return catalog

    def fetch(self, sql: str, timeout_s: float, max_rows: int | None = 2) -> list[tuple[Any, ...]]:
        self.queries.append(sql)
        rows: list[tuple[Any, ...]] = self.inner.fetch(sql, timeout_s, max_rows)
        return rows

    def same_type(self, expected: str, actual: Column) -> bool:
        return bool(self.inner.same_type(expected, actual))

    def describe(self, sql: str, timeout_s: float) -> list[Column]:
        columns: list[Column] = self.inner.describe(sql, timeout_s)
        return columns

    def close(self) -> None:
        self.inner.close()


# --- the floor, per dialect ---------------------------------------------------------------------------------------


def _portable(node: exp.Expr, dialect: str) -> exp.Expr:
    """What sqlglot does not translate from the DuckDB floor, written as each engine's users would."""
    if isinstance(node, exp.RegexpFullMatch):  # the floor's patterns carry their own ^...$ anchors
        return exp.RegexpLike(this=node.this, expression=node.expression)
    if dialect == "spark" and isinstance(node, exp.TimeToUnix):
        return exp.Div(this=exp.UnixMicros(this=node.this), expression=exp.Literal.number("1000000.0"))
    pair = dialect == "spark" and isinstance(node, exp.Distinct) and len(node.expressions) == 1
    if pair and isinstance(node.expressions[0], exp.Tuple):  # count(DISTINCT a, b): the pairs with neither null
        return exp.Distinct(expressions=list(node.expressions[0].expressions))
    return node


def _count_filter(node: exp.Expr) -> exp.Expr:
    """count_if(c) as PostgreSQL's own count(*) FILTER (WHERE c) (sqlglot would write sum(CASE ...))."""
    if isinstance(node, exp.CountIf):
        return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=node.this))
    return node


def floor_sql(dataset: str, metrics: dict[str, str], dialect: str) -> str:
    """One SELECT of `metrics` (DuckDB expressions, eval_bench.floor_tables) over `dataset`, in `dialect`."""
    select = ", ".join(f"{expression} AS {name}" for name, expression in metrics.items())
    duckdb_sql = f"SELECT {select} FROM {dataset}"
    if dialect == "duckdb":
        return duckdb_sql
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    tree = tree.transform(lambda n: _portable(n, dialect))
    if dialect == "postgres":  # second: a replaced node's children are not visited again
        tree = tree.transform(_count_filter)
    return tree.sql(dialect=dialect)


def floor_queries(plan: CheckPlan, as_of: datetime, dialect: str) -> list[tuple[str, list[str], str]]:
    """(dataset, metric names, SQL) of the floor of `plan`'s scans."""
    tables = floor_tables(as_of)
    out = []
    for dataset, slos in plan.scans:
        ids = {s.id for s in slos}
        metrics = {k: v for k, v in tables[dataset].items() if k in ids}
        if set(metrics) != ids:
            raise SystemExit(f"the floor of {dataset} lacks {sorted(ids - set(metrics))}")
        out.append((dataset, list(metrics), floor_sql(dataset, metrics, dialect)))
    return out


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


# --- engines --------------------------------------------------------------------------------------------------------


@dataclass
class Engine:
    """An engine under test: our adapter (counting), a raw way to run one floor query, and its plan's scan count."""

    name: str
    adapter: CountingAdapter
    raw_row: Callable[[str], tuple[Any, ...]]  # one row of a floor query, on the engine's own connection
    scans_in: Callable[[str], Counter[str]]  # table scans the engine plans for a query, per dataset
    profile: Callable[[str], str]  # the engine's own account of running a query (EXPLAIN ANALYZE, physical plan)
    load_s: float | None = None


def _walk_postgres(plan: dict[str, Any], out: Counter[str]) -> None:
    if "Relation Name" in plan:
        out[f"{plan.get('Schema', '?')}.{plan['Relation Name']}"] += 1
    for child in plan.get("Plans", []):
        _walk_postgres(child, out)


def _walk_duckdb(node: dict[str, Any], out: Counter[str]) -> None:
    extra = node.get("extra_info") or {}
    if isinstance(extra, dict) and "Table" in extra and "SCAN" in str(node.get("name", "")).upper():
        out[str(extra["Table"])] += 1
    for child in node.get("children", []):
        _walk_duckdb(child, out)


@contextmanager
def duckdb_engine(db: Path) -> Iterator[Engine]:
    from dagster_project.engines.duckdb_adapter import open_adapter

    with open_adapter(db) as inner:
        con = inner.con
        check_text_columns(con)

        def raw_row(sql: str) -> tuple[Any, ...]:
            return tuple(con.execute(sql).fetchall()[0])

        def scans_in(sql: str) -> Counter[str]:
            out: Counter[str] = Counter()
            for _kind, text in con.execute(f"EXPLAIN (FORMAT json) {sql}").fetchall():
                for root in json.loads(text):
                    _walk_duckdb(root, out)
            return out  # table names without their schema: DuckDB's plan names only the table

        def profile(sql: str) -> str:
            return "\n".join(str(r[1]) for r in con.execute(f"EXPLAIN ANALYZE {sql}").fetchall())

        yield Engine("duckdb", CountingAdapter(inner), raw_row, scans_in, profile)


@contextmanager
def postgres_server(url: str | None) -> Iterator[tuple[Callable[[str], str], str]]:
    """(conninfo of a database by name, what the server is): `url`'s server, or a private cluster."""
    if url is not None:
        base = url.rsplit("/", 1)[0]
        yield (lambda name: f"{base}/{name}"), base
        return
    from tests.server_support import start_postgres_cluster

    with start_postgres_cluster() as cluster:
        yield cluster.dsn, f"private cluster 127.0.0.1:{cluster.port} ({cluster.bin_dir.parent.name})"


@contextmanager
def postgres_engine(db: Path, conninfo: Callable[[str], str], name: str) -> Iterator[Engine]:
    """`db` copied into the database `name` (replaced) of the server `conninfo` reaches."""
    import psycopg

    from dagster_project.datagen.transfer import to_postgres
    from dagster_project.engines.postgres import PostgresAdapter

    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"'.encode())
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    t = time.perf_counter()
    to_postgres(db, conninfo(name), landing=db.with_name(db.name + ".landing"))
    with psycopg.connect(conninfo(name), autocommit=True) as con:
        con.execute(b"VACUUM ANALYZE")  # visibility map and hint bits set once, as on a table that has been read
    load_s = time.perf_counter() - t
    con = psycopg.connect(conninfo(name))
    inner = PostgresAdapter.from_connection(con, name)

    def raw_row(sql: str) -> tuple[Any, ...]:
        row = con.execute(sql.encode()).fetchone()
        assert row is not None
        return tuple(row)

    def scans_in(sql: str) -> Counter[str]:
        row = con.execute(f"EXPLAIN (VERBOSE, FORMAT JSON) {sql}".encode()).fetchone()
        assert row is not None
        out: Counter[str] = Counter()
        for entry in row[0]:
            _walk_postgres(entry["Plan"], out)
        return out

    def profile(sql: str) -> str:
        rows = con.execute(f"EXPLAIN (ANALYZE, VERBOSE, BUFFERS) {sql}".encode()).fetchall()
        return "\n".join(str(r[0]) for r in rows)

    try:
        yield Engine("postgres", CountingAdapter(inner), raw_row, scans_in, profile, load_s)
    finally:
        inner.close()


# A scan operator in Spark's formatted plan: "(7) Scan parquet spark_catalog.raw.orders" (its details section).
_SPARK_SCAN = re.compile(r"^\((\d+)\) Scan parquet spark_catalog\.(\w+)\.(\w+)", re.MULTILINE)


@contextmanager
def spark_session(root: Path, memory: str) -> Iterator[Any]:
    from tests.server_support import start_spark_session

    warehouse = root / "spark-warehouse"
    with start_spark_session(warehouse, memory=memory, app="slo-engine-bench") as session:
        yield session


def _formatted(session: Any, frame: Any) -> str:
    """Spark's formatted physical plan of a DataFrame (what EXPLAIN FORMATTED prints)."""
    return str(session._jvm.PythonSQLUtils.explainString(frame._jdf.queryExecution(), "formatted"))


@contextmanager
def spark_engine(db: Path, session: Any, folder: Path) -> Iterator[Engine]:
    from dagster_project.datagen.transfer import to_parquet_folder
    from dagster_project.engines.spark import SparkAdapter

    shutil.rmtree(folder, ignore_errors=True)
    t = time.perf_counter()
    to_parquet_folder(db, folder, landing=db.with_name(db.name + ".landing"))
    inner = SparkAdapter(session)
    inner.register_parquet_tables(folder.resolve(), replace=True)  # a relative LOCATION is not read from here
    load_s = time.perf_counter() - t

    def raw_row(sql: str) -> tuple[Any, ...]:
        return tuple(session.sql(sql).collect()[0])

    def scans_in(sql: str) -> Counter[str]:
        plan = _formatted(session, session.sql(sql))
        return Counter(f"{a}.{b}" for _id, a, b in set(_SPARK_SCAN.findall(plan)))

    def profile(sql: str) -> str:
        frame = session.sql(sql)
        frame.collect()  # adaptive execution settles the final plan once it has run
        return _formatted(session, frame)

    yield Engine("spark", CountingAdapter(inner), raw_row, scans_in, profile, load_s)


# --- measuring ------------------------------------------------------------------------------------------------------


@dataclass
class EngineResult:
    engine: str
    order_lines: int
    slos: int = 0
    left_out: list[str] = field(default_factory=list)
    load_s: float | None = None
    runs_s: dict[str, list[float]] = field(default_factory=dict)
    floor_max_abs_diff: float = 0.0
    differs_from_duckdb: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    catalog_reads: int = 0
    queries: list[dict[str, Any]] = field(default_factory=list)
    scan_datasets: int = 0
    engine_scans: dict[str, dict[str, int]] = field(default_factory=dict)  # dataset -> its fused query's scans
    floor_engine_scans: dict[str, dict[str, int]] = field(default_factory=dict)
    parts_s: dict[str, dict[str, float]] = field(default_factory=dict)  # dataset -> {"ours": s, "floor": s}
    profiles: dict[str, str] = field(default_factory=dict)  # dataset -> file with the engine's account
    observed: dict[str, float | None] = field(default_factory=dict)

    def median(self, key: str) -> float:
        return statistics.median(self.runs_s[key])

    def paired(self, ours: str, floor: str) -> float:
        return statistics.median(a / b for a, b in zip(self.runs_s[ours], self.runs_s[floor], strict=True))


def _datasets(sql: str, dialect: str) -> list[str]:
    """The tables a statement names (each reference once: a table named twice is listed twice)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return ["?"]
    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    return sorted(f"{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.db or t.name not in ctes)


def _clock(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def run_floor(engine: Engine, floors: list[tuple[str, list[str], str]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for _dataset, names, sql in floors:
        out |= {k: _number(v) for k, v in zip(names, engine.raw_row(sql), strict=True)}
    return out


def check(evaluations: list[Evaluation], what: str) -> dict[str, float | None]:
    errors = [f"{e.slo.id}: {e.error}" for e in evaluations if e.error is not None]
    if errors:
        raise SystemExit(f"{what}: evaluation errors:\n  " + "\n  ".join(errors))
    return values(evaluations)


def engine_plan(plan: CheckPlan, engine: str) -> tuple[CheckPlan, list[str]]:
    kept = [s for s in plan.slos if s.definition.runs_on(engine)]
    return compile_plan(kept), sorted(s.id for s in plan.slos if not s.definition.runs_on(engine))


def prepare(engine: Engine, plan: CheckPlan, lines: int, as_of: datetime) -> tuple[EngineResult, Any]:
    """Correctness first: floor against ours, the whole plan once; the queries it sends and the scans they plan."""
    whole, left_out = engine_plan(plan, engine.name)
    scans = scans_only(whole)
    floors = floor_queries(whole, as_of, engine.adapter.dialect)
    result = EngineResult(engine.name, lines, slos=len(whole.slos), left_out=left_out, load_s=engine.load_s)
    ours = check(evaluate(engine.adapter, scans, as_of), f"{engine.name} scans")
    floor = run_floor(engine, floors)
    worst, bad = differences(ours, floor)
    if bad:
        raise SystemExit(
            f"{engine.name} at {lines:,} lines: the floor does not give our numbers:\n  "
            + "\n  ".join(bad)
            + "\nfloor queries:\n  "
            + "\n  ".join(sql for _, _, sql in floors)
        )
    result.floor_max_abs_diff = worst
    engine.adapter.reset()
    evaluations = evaluate(engine.adapter, whole, as_of)
    result.errors = [f"{e.slo.id}: {e.error}" for e in evaluations if e.error is not None]
    result.observed = values(evaluations)
    result.catalog_reads = engine.adapter.catalog_reads
    scan_sql = {}
    fused_by_dataset = {ds: {s.id for s in slos} for ds, slos in whole.scans}
    for sql in engine.adapter.queries:
        names = _datasets(sql, engine.adapter.dialect)
        result.queries.append({"datasets": names, "chars": len(sql)})
    # Each fused scan query is the one query naming its dataset in the FROM of the outer SELECT with m0, m1, ...
    for sql in engine.adapter.queries:
        try:
            tree = sqlglot.parse_one(sql, read=engine.adapter.dialect)
        except sqlglot.errors.ParseError:
            continue
        outer = tree.args.get("from_") or tree.args.get("from")
        aliases = [e.alias for e in tree.expressions] if isinstance(tree, exp.Select) else []
        if outer is not None and isinstance(outer.this, exp.Table) and aliases[:1] == ["m0"]:
            dataset = f"{outer.this.db}.{outer.this.name}"
            if dataset in fused_by_dataset:
                scan_sql[dataset] = sql
    result.scan_datasets = len(scan_sql)
    missing = set(fused_by_dataset) - set(scan_sql)
    if missing:
        raise SystemExit(f"{engine.name}: no fused scan query seen for {sorted(missing)}")
    for dataset, sql in scan_sql.items():
        result.engine_scans[dataset] = dict(engine.scans_in(sql))
    for dataset, _names, sql in floors:
        result.floor_engine_scans[dataset] = dict(engine.scans_in(sql))
    result.runs_s = {"floor_scans": [], "ours_scans": [], "whole": []}
    return result, (whole, scans, floors, scan_sql)


def time_round(engine: Engine, result: EngineResult, state: Any, as_of: datetime, ours_first: bool) -> None:
    whole, scans, floors, _scan_sql = state
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("floor_scans", lambda: run_floor(engine, floors)),
        ("ours_scans", lambda: evaluate(engine.adapter, scans, as_of)),
    ]
    if ours_first:
        steps.reverse()
    steps.append(("whole", lambda: evaluate(engine.adapter, whole, as_of)))
    for key, step in steps:
        engine.adapter.reset()
        result.runs_s[key].append(_clock(step)[0])


def time_parts(engine: Engine, result: EngineResult, state: Any, as_of: datetime, repeats: int) -> None:
    """Each dataset's scan alone: our fused query (through the adapter) against its floor query (raw)."""
    _whole, scans, floors, scan_sql = state
    floor_by_dataset = {ds: sql for ds, _names, sql in floors}
    timeout = 3600.0
    samples: dict[str, dict[str, list[float]]] = {ds: {"ours": [], "floor": []} for ds in scan_sql}
    for i in range(repeats):
        for dataset, sql in scan_sql.items():
            pair = [
                ("ours", lambda sql=sql: engine.adapter.fetch(sql, timeout, 1)),
                ("floor", lambda ds=dataset: engine.raw_row(floor_by_dataset[ds])),
            ]
            if i % 2:
                pair.reverse()
            for key, step in pair:
                samples[dataset][key].append(_clock(step)[0])
    # The catalog read our evaluation adds (once per evaluation, not per dataset).
    catalog = [_clock(engine.adapter.catalog)[0] for _ in range(repeats)]
    result.parts_s = {ds: {k: statistics.median(v) for k, v in s.items()} for ds, s in samples.items()}
    result.parts_s["(catalog read)"] = {"ours": statistics.median(catalog), "floor": 0.0}
    del scans


def write_profiles(
    engine: Engine, result: EngineResult, state: Any, target: float, folder: Path, min_gap_s: float
) -> None:
    _whole, _scans, floors, scan_sql = state
    floor_by_dataset = {ds: sql for ds, _names, sql in floors}
    folder.mkdir(parents=True, exist_ok=True)
    for dataset, part in result.parts_s.items():
        if dataset not in scan_sql or part["floor"] <= 0:
            continue
        if part["ours"] / part["floor"] <= target or part["ours"] - part["floor"] < min_gap_s:
            continue
        out = folder / f"{engine.name}_{result.order_lines}_{dataset}.txt"
        out.write_text(
            f"-- ours ({part['ours']:.3f} s median)\n{scan_sql[dataset]}\n\n{engine.profile(scan_sql[dataset])}\n\n"
            f"-- floor ({part['floor']:.3f} s median)\n{floor_by_dataset[dataset]}\n\n"
            f"{engine.profile(floor_by_dataset[dataset])}\n"
        )
        result.profiles[dataset] = str(out)


def measure_size(
    lines: int, args: argparse.Namespace, plan: CheckPlan, stack: ExitStack, shared: dict[str, Any]
) -> list[EngineResult]:
    as_of = AS_OF.astimezone(UTC).replace(tzinfo=None)
    db, reused = database(args.root, lines)
    print(f"  database {'reused' if reused else 'built'}: {db}", flush=True)
    engines: list[Engine] = []
    with ExitStack() as size_stack:
        for name in args.engines:
            t = time.perf_counter()
            if name == "duckdb":
                engine = size_stack.enter_context(duckdb_engine(db))
            elif name == "postgres":
                if "postgres" not in shared:
                    shared["postgres"] = stack.enter_context(postgres_server(args.postgres_url))
                    print(f"  PostgreSQL: {shared['postgres'][1]}", flush=True)
                engine = size_stack.enter_context(postgres_engine(db, shared["postgres"][0], f"slo_engines_{lines}"))
            else:
                if "spark" not in shared:
                    shared["spark"] = stack.enter_context(spark_session(args.root / "engines", args.spark_memory))
                folder = args.root / "engines" / f"parquet_{lines}"
                engine = size_stack.enter_context(spark_engine(db, shared["spark"], folder))
            print(
                f"  {name}: ready in {time.perf_counter() - t:.1f}s"
                + (f" (copy and load {engine.load_s:.1f}s)" if engine.load_s is not None else ""),
                flush=True,
            )
            engines.append(engine)
        results, states = [], []
        for engine in engines:
            t = time.perf_counter()
            result, state = prepare(engine, plan, lines, as_of)
            print(
                f"  {engine.name}: floor agrees (max abs diff {result.floor_max_abs_diff:.1e}); whole plan of "
                f"{result.slos} SLOs sends {len(result.queries)} queries and {result.catalog_reads} catalog read"
                f"{'s' if result.catalog_reads != 1 else ''} ({time.perf_counter() - t:.1f}s)",
                flush=True,
            )
            if result.errors:
                print(f"  {engine.name}: errors: {'; '.join(result.errors)}", flush=True)
            results.append(result)
            states.append(state)
        reference = next((r for r in results if r.engine == "duckdb"), None)
        if reference is not None:
            for r in results:
                if r is not reference:
                    common = {k: v for k, v in reference.observed.items() if k in r.observed}
                    r.differs_from_duckdb = differences(common, r.observed)[1]
        for i in range(args.repeats):
            line = []
            for engine, result, state in zip(engines, results, states, strict=True):
                time_round(engine, result, state, as_of, ours_first=bool(i % 2))
                runs = result.runs_s
                line.append(
                    f"{engine.name} scans {runs['ours_scans'][-1]:.3f}/{runs['floor_scans'][-1]:.3f}s "
                    f"whole {runs['whole'][-1]:.3f}s"
                )
            print(f"  round {i + 1}: " + ", ".join(line), flush=True)
        for engine, result, state in zip(engines, results, states, strict=True):
            time_parts(engine, result, state, as_of, args.part_repeats)
            write_profiles(engine, result, state, args.target, args.root / "engines" / "profiles", args.min_gap)
    return results


# --- report ---------------------------------------------------------------------------------------------------------


def markdown(results: list[EngineResult], target: float) -> str:
    out = [
        "| engine | order lines | SLOs | our scans (s) | floor scans (s) | ratio | per-round ratio | whole plan (s) "
        "| queries | load (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        out.append(
            f"| {r.engine} | {r.order_lines:,} | {r.slos} | {r.median('ours_scans'):.3f} | "
            f"{r.median('floor_scans'):.3f} | {r.median('ours_scans') / r.median('floor_scans'):.2f}x | "
            f"{r.paired('ours_scans', 'floor_scans'):.2f}x | {r.median('whole'):.3f} | {len(r.queries)} | "
            f"{'-' if r.load_s is None else f'{r.load_s:.1f}'} |"
        )
    sizes = sorted({r.order_lines for r in results})
    engines = list(dict.fromkeys(r.engine for r in results))
    by = {(r.engine, r.order_lines): r for r in results}
    out += ["", "Whole plan side by side (s, median) and growth:", ""]
    out.append("| order lines | " + " | ".join(engines) + " |")
    out.append("|---:|" + "---:|" * len(engines))
    for size in sizes:
        cells = [f"{by[(e, size)].median('whole'):.3f}" if (e, size) in by else "-" for e in engines]
        out.append(f"| {size:,} | " + " | ".join(cells) + " |")
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        for what, key in (("whole plan", "whole"), ("our scans", "ours_scans"), ("floor scans", "floor_scans")):
            cells = [
                f"{by[(e, hi)].median(key) / by[(e, lo)].median(key):.1f}x" if (e, hi) in by and (e, lo) in by else "-"
                for e in engines
            ]
            out.append(f"| growth {hi // lo}x lines, {what} | " + " | ".join(cells) + " |")
    for r in results:
        out += ["", f"**{r.engine}, {r.order_lines:,} lines**"]
        if r.left_out:
            out.append(f"- left out (the engine cannot run them): {', '.join(r.left_out)}")
        out.append(
            f"- floor agrees with ours (max abs diff {r.floor_max_abs_diff:.1e}); per round ours/floor scans: "
            + ", ".join(
                f"{a:.3f}/{b:.3f}" for a, b in zip(r.runs_s["ours_scans"], r.runs_s["floor_scans"], strict=True)
            )
            + "; whole: "
            + ", ".join(f"{a:.3f}" for a in r.runs_s["whole"])
        )
        if r.engine != "duckdb":
            out.append(
                "- values against DuckDB's: "
                + ("identical within 1e-9" if not r.differs_from_duckdb else "; ".join(r.differs_from_duckdb))
            )
        if r.errors:
            out.append(f"- errors: {'; '.join(r.errors)}")
        named = Counter(ds for q in r.queries for ds in set(q["datasets"]))
        out.append(
            f"- one whole-plan evaluation: {len(r.queries)} queries + {r.catalog_reads} catalog read; "
            f"{r.scan_datasets} datasets with scan indicators, each in exactly one fused query; queries naming each "
            "dataset: " + ", ".join(f"{ds} {n}" for ds, n in sorted(named.items()))
        )
        multi = {ds: s for ds, s in r.engine_scans.items() if sum(s.values()) != 1}
        out.append(
            "- table scans the engine plans per fused query: "
            + (
                "one each"
                if not multi
                else "one each except "
                + "; ".join(f"{ds}: {', '.join(f'{t} x{n}' for t, n in s.items())}" for ds, s in sorted(multi.items()))
            )
        )
        worst = sorted(r.parts_s.items(), key=lambda kv: -(kv[1]["ours"] - kv[1]["floor"]))
        out.append(
            "- per dataset alone, ours/floor (s): "
            + ", ".join(f"{ds} {p['ours']:.3f}/{p['floor']:.3f}" for ds, p in worst)
        )
        if r.profiles:
            out.append(
                f"- over {target}x its floor, profiled: " + ", ".join(f"{ds} ({p})" for ds, p in r.profiles.items())
            )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="order lines, comma-separated")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated, of " + ", ".join(ENGINES))
    parser.add_argument("--root", type=Path, default=Path(".slo_state/bench"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--part-repeats", type=int, default=3, help="repeats of each dataset's scan alone")
    parser.add_argument("--postgres-url", help="postgresql://user@host:port/db (password from PGPASSWORD); "
                        "its databases slo_engines_* are replaced. Default: a private cluster")  # fmt: skip
    parser.add_argument("--spark-memory", default="2g", help="the local Spark driver's memory")
    parser.add_argument("--target", type=float, default=1.3, help="profile dataset scans slower than this x floor")
    parser.add_argument("--min-gap", type=float, default=0.02, help="...and slower by at least this many seconds")
    args = parser.parse_args()
    args.engines = [e for e in args.engines.split(",") if e]
    unknown = set(args.engines) - set(ENGINES)
    if unknown:
        raise SystemExit(f"--engines: unknown {', '.join(sorted(unknown))} (of {', '.join(ENGINES)})")
    args.root.mkdir(parents=True, exist_ok=True)
    plan = load_plan()
    results: list[EngineResult] = []
    shared: dict[str, Any] = {}
    with ExitStack() as stack:
        for lines in (int(s) for s in args.sizes.split(",")):
            print(f"size {lines:,} order lines", flush=True)
            results += measure_size(lines, args, plan, stack, shared)
            work = args.root / f"eval_{lines}"
            for leftover in work.glob("warehouse.duckdb*"):
                leftover.unlink()
            shutil.rmtree(args.root / "engines" / f"parquet_{lines}", ignore_errors=True)
    report = {
        "as_of": AS_OF.isoformat(),
        "repeats": args.repeats,
        "argv": sys.argv[1:],
        "results": [
            asdict(r)
            | {
                "scan_ratio": r.median("ours_scans") / r.median("floor_scans"),
                "paired_scan_ratio": r.paired("ours_scans", "floor_scans"),
                "whole_s": r.median("whole"),
            }
            for r in results
        ],
    }
    out = args.root / "engine_bench.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print()
    print(markdown(results, args.target))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
