"""Build benchmark (`make bench`): whole build, pair-affinity step against a floor, and mlxtend, in one invocation.

1. For each size (order lines), generate the sources once (cached by manifest), then run `slo run` in a child
   process: wall time, Dagster run duration, per-step durations, peak RSS of the child (wait4).
2. On that database, time the pair-affinity step and a floor - one hand-written DuckDB query computing the pair
   counts (distinct order/product pairs self-joined on order id, grouped) - alternately, same connection settings;
   the ratio of medians is the result.
   With --repeats N, the build runs N times alternating with its **floor** - the same loads, SQL, SLO checks and
   publish as plain function calls, a DuckDB connection per step as the build opens them, no Dagster, no results
   store (FLOOR_CHILD) - and medians and ranges are printed: the build's overhead beyond its SQL is its wall time
   minus the floor's.
3. mlxtend (apriori + association_rules) on growing samples until one takes over a minute; at the largest size it
   finished, the same pairs are checked equal to ours and the speed ratio is reported.

Ratios, not absolute seconds, are the results: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.datagen.generator import GeneratorConfig, generate
from dagster_project.product.affinity import build_product_pair_affinity
from dagster_project.product.params import AffinityParams as BuildParams
from dagster_project.warehouse.connection import connect

AS_OF = datetime(2026, 11, 27, tzinfo=UTC)
LINES_PER_ORDER = 3.89  # measured mean basket size of the generator
FLOOR_SQL = """
CREATE OR REPLACE TABLE bench_floor AS
WITH baskets AS (SELECT DISTINCT order_id, product_id FROM staging.order_lines)
SELECT x.product_id AS product_a, y.product_id AS product_b, count(*) AS pair_orders
FROM baskets x JOIN baskets y ON x.order_id = y.order_id AND x.product_id < y.product_id
GROUP BY x.product_id, y.product_id
"""


@dataclass
class BuildResult:
    order_lines: int
    wall_s: float
    dagster_run_s: float
    peak_rss_mb: float
    steps_s: dict[str, float] = field(default_factory=dict)
    pair_step_s: float = 0.0
    floor_s: float = 0.0
    cpu_s: float = 0.0  # the child's user + system time
    load_before: float = 0.0  # 1-minute load average when it started (the machine is shared)

    @property
    def pair_vs_floor(self) -> float:
        return self.pair_step_s / self.floor_s


def sources(root: Path, lines: int) -> Path:
    out = root / f"src_{lines}"
    orders = max(1, round(lines / LINES_PER_ORDER))
    manifest = out / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("orders") == orders:
        return out
    print(f"  generating {orders:,} orders (~{lines:,} lines) in {out}", flush=True)
    generate(GeneratorConfig(out_dir=out, as_of=AS_OF, orders=orders))
    return out


def run_build(root: Path, src: Path, lines: int, pair_step: bool = True) -> BuildResult:
    state = root / f"state_{lines}"
    shutil.rmtree(state, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "dagster_project.cli.main",
        "run",
        "--data-dir",
        str(src),
        "--state-dir",
        str(state),
        "--as-of",
        AS_OF.isoformat(),
    ]
    load = os.getloadavg()[0]
    child = run_child(cmd)
    out = child.out
    if child.status != 0:
        raise SystemExit(f"build failed ({child.status}): {child.err}")
    run_id = next(w for line in out.splitlines() if line.startswith("dagster run ") for w in [line.split()[2][:-1]])
    steps, run_s = step_durations(state / "dagster", run_id)
    result = BuildResult(
        order_lines=lines,
        wall_s=child.wall_s,
        dagster_run_s=run_s,
        peak_rss_mb=child.peak_rss_kb / 1024,
        steps_s=steps,
        cpu_s=child.cpu_s,
        load_before=load,
    )
    if pair_step:
        measure_pair_step(state / "warehouse.duckdb", root / f"pairs_{lines}.duckdb", result)
    return result


@dataclass
class Child:
    status: int
    wall_s: float
    cpu_s: float  # user + system
    peak_rss_kb: int
    out: str
    err: str


def run_child(cmd: list[str]) -> Child:
    """Run a command to its end; wall time, and its CPU time and peak RSS from wait4 (output through files, so a
    chatty child cannot fill a pipe while we wait)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out.read(), err.read())


FLOOR_CHILD = r"""
from collections import defaultdict
import sys
from datetime import UTC, datetime
from pathlib import Path
from dagster_project.engines.native import evaluate, open_for_checks
from dagster_project.product.tables import BUILT_TABLES, RAW_TABLES
from dagster_project.product.params import AffinityParams as BuildParams
from dagster_project.settings import default_spec_paths
from dagster_project.slo.from_spec import all_slos
from dagster_project.slo.plan import compile_plan
from dagster_project.sources import SOURCE_TABLES
from dagster_project.spec.validate import validate
from dagster_project.warehouse.connection import connect
from dagster_project.warehouse.loading import load_source
from dagster_project.warehouse.publish import publish
src, work = Path(sys.argv[1]), Path(sys.argv[2])
as_of = datetime.fromisoformat(sys.argv[3]).astimezone(UTC)
build, landing, target = work / "floor.duckdb.build", work / "floor.duckdb.build.landing", work / "floor.duckdb"
params = BuildParams(as_of=as_of)
tables = set(RAW_TABLES) | {t.name for t in BUILT_TABLES}
specs, issues = validate(default_spec_paths())
by_table = defaultdict(list)
for slo in all_slos([x.spec for x in specs]):
    if slo.dataset in tables and slo.kind != "build_duration":
        by_table[slo.dataset].append(slo)
def check(table):  # as a check step does: its own read-only connection
    if by_table[table]:
        with open_for_checks(build, landing=landing) as con:
            evaluate(con, compile_plan(by_table[table]), as_of.replace(tzinfo=None))
for table in SOURCE_TABLES:  # as the assets do: a connection per step, the table's checks after it
    with connect(build, landing=landing) as con:
        load_source(con, src, table)
    check(f"raw.{table.name}")
for spec in BUILT_TABLES:
    with connect(build, landing=landing) as con:
        spec.build(con, params)
    check(spec.name)
publish(build, target, landing=landing)
"""


def run_floor(root: Path, src: Path, lines: int) -> tuple[float, float]:
    """(wall, cpu) of the build's work without Dagster: loads, SQL, SLO checks, publish, in a fresh process."""
    work = root / f"floor_{lines}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cmd = [sys.executable, "-c", FLOOR_CHILD, str(src), str(work), AS_OF.isoformat()]
    child = run_child(cmd)
    if child.status != 0:
        raise SystemExit(f"floor build failed ({child.status}): {child.err}")
    shutil.rmtree(work, ignore_errors=True)
    return child.wall_s, child.cpu_s


def step_durations(dagster_home: Path, run_id: str) -> tuple[dict[str, float], float]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home.resolve())) as instance:
        stats = instance.get_run_step_stats(run_id)
        run = instance.get_run_record_by_id(run_id)
        assert run is not None and run.start_time is not None and run.end_time is not None
        steps = {s.step_key: (s.end_time or 0) - (s.start_time or 0) for s in stats}
        return steps, run.end_time - run.start_time


def measure_pair_step(published: Path, work: Path, result: BuildResult, repeats: int = 5) -> None:
    shutil.copyfile(published, work)
    pair, floor = [], []
    with connect(work) as con:
        for _ in range(repeats):
            t = time.perf_counter()
            con.execute(FLOOR_SQL)
            floor.append(time.perf_counter() - t)
            t = time.perf_counter()
            build_product_pair_affinity(con, BuildParams(as_of=AS_OF))
            pair.append(time.perf_counter() - t)
        n_floor = con.execute("SELECT count(*) FROM bench_floor WHERE pair_orders >= 3").fetchall()[0][0]
        n_pairs = con.execute("SELECT count(*) FROM product_affinity.product_pair_affinity").fetchall()[0][0]
        assert n_floor == n_pairs, (n_floor, n_pairs)
    work.unlink()
    result.pair_step_s, result.floor_s = statistics.median(pair), statistics.median(floor)


MLXTEND_CHILD = r"""
import json, sys, time
import duckdb, numpy as np, pandas as pd
from mlxtend.frequent_patterns import apriori, association_rules
db, orders, min_pair = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
con = duckdb.connect(db, read_only=True)
lines = con.execute(
    f"SELECT DISTINCT order_id, product_id FROM staging.order_lines WHERE order_id <= {orders}").fetchnumpy()
ids, orders_idx = np.unique(lines["order_id"], return_inverse=True)
products, prod_idx = np.unique(lines["product_id"], return_inverse=True)
onehot = np.zeros((len(ids), len(products)), dtype=bool)
onehot[orders_idx, prod_idx] = True
frame = pd.DataFrame(onehot, columns=[int(p) for p in products])
t = time.perf_counter()
itemsets = apriori(frame, min_support=(min_pair - 0.5) / len(ids), use_colnames=True, max_len=2)
rules = association_rules(itemsets, num_itemsets=len(ids), metric="lift", min_threshold=0.0)
mlx_s = time.perf_counter() - t
pairs = {}
for r in rules.itertuples(index=False):
    a, b = next(iter(r.antecedents)), next(iter(r.consequents))
    if a < b:
        pairs[f"{a},{b}"] = [r.support, r.confidence, r.lift]
print(json.dumps({"seconds": mlx_s, "orders": len(ids), "lines": int(len(lines["order_id"])), "pairs": pairs}))
"""


MLXTEND_ORDERS = (25_000, 50_000, 100_000, 200_000, 300_000, 400_000, 600_000)


def mlxtend_comparison(published: Path, root: Path, budget_s: float = 60.0) -> dict[str, object]:
    """mlxtend on the first N orders, N growing, until a run exceeds the budget or fails; ours on the same orders."""
    work = root / "mlxtend.duckdb"
    shutil.copyfile(published, work)
    best: dict[str, object] = {}
    for orders in MLXTEND_ORDERS:
        cmd = [sys.executable, "-c", MLXTEND_CHILD, str(work), str(orders), "3"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=budget_s * 3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            print(f"  mlxtend: {orders:,} orders did not finish in {budget_s * 3:.0f}s", flush=True)
            break
        if proc.returncode != 0:
            why = "killed (out of memory)" if proc.returncode == -9 else (err.strip().splitlines() or ["?"])[-1]
            print(f"  mlxtend: {orders:,} orders failed, exit {proc.returncode}: {why}", flush=True)
            break
        mlx = json.loads(out)
        print(f"  mlxtend: {mlx['orders']:,} orders / {mlx['lines']:,} lines in {mlx['seconds']:.1f}s", flush=True)
        if mlx["seconds"] > budget_s:
            break
        ours_s, max_diff = ours_on_subset(work, orders, mlx["pairs"])
        best = {
            "orders": mlx["orders"],
            "lines": mlx["lines"],
            "mlxtend_s": mlx["seconds"],
            "ours_s": ours_s,
            "speedup": mlx["seconds"] / ours_s,
            "pairs": len(mlx["pairs"]),
            "max_abs_diff": max_diff,
        }
    work.unlink(missing_ok=True)
    return best


def ours_on_subset(work: Path, orders: int, expected: dict[str, list[float]]) -> tuple[float, float]:
    with connect(work) as con:
        con.execute("CREATE OR REPLACE TABLE staging.order_lines_full AS SELECT * FROM staging.order_lines")
        con.execute(f"DELETE FROM staging.order_lines WHERE order_id > {int(orders)}")
        times = []
        for _ in range(3):
            t = time.perf_counter()
            build_product_pair_affinity(con, BuildParams(as_of=AS_OF))
            times.append(time.perf_counter() - t)
        rows = con.execute(
            "SELECT product_a, product_b, support, confidence_ab, lift FROM product_affinity.product_pair_affinity"
        ).fetchall()
        con.execute("CREATE OR REPLACE TABLE staging.order_lines AS SELECT * FROM staging.order_lines_full")
    got = {f"{a},{b}": [s, c, lift] for a, b, s, c, lift in rows}
    if set(got) != set(expected):
        raise SystemExit(f"mlxtend and ours disagree on the pair set: {len(got)} vs {len(expected)} pairs")
    max_diff = max((abs(x - y) for k, v in expected.items() for x, y in zip(got[k], v, strict=True)), default=0.0)
    if max_diff > 1e-9:
        raise SystemExit(f"mlxtend and ours disagree by {max_diff}")
    return statistics.median(times), max_diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000", help="order lines, comma-separated")
    parser.add_argument("--root", type=Path, default=Path(".slo_state/bench"))
    parser.add_argument("--skip-mlxtend", action="store_true")
    parser.add_argument(
        "--repeats",
        type=int,
        default=0,
        help="build speed only: N builds alternating with the no-Dagster floor per size, medians and ranges",
    )
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    if args.repeats:
        speed(args.root, [int(s) for s in args.sizes.split(",")], args.repeats)
        return
    results = []
    for lines in (int(s) for s in args.sizes.split(",")):
        print(f"size {lines:,} order lines", flush=True)
        src = sources(args.root, lines)
        result = run_build(args.root, src, lines)
        results.append(result)
        print(
            f"  build {result.wall_s:.1f}s wall ({result.dagster_run_s:.1f}s Dagster run), "
            f"peak RSS {result.peak_rss_mb:.0f} MB; pair step {result.pair_step_s:.2f}s vs floor "
            f"{result.floor_s:.2f}s = {result.pair_vs_floor:.2f}x",
            flush=True,
        )
    mlx: dict[str, object] = {}
    if not args.skip_mlxtend:
        mlx = mlxtend_comparison(args.root / f"state_{results[-1].order_lines}" / "warehouse.duckdb", args.root)
    report = {"results": [asdict(r) | {"pair_vs_floor": r.pair_vs_floor} for r in results], "mlxtend": mlx}
    (args.root / "build_bench.json").write_text(json.dumps(report, indent=2))
    print()
    print(markdown(results, mlx))


def _spread(values: list[float], unit: str = "s", digits: int = 1) -> str:
    return f"{statistics.median(values):.{digits}f}{unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def speed(root: Path, sizes: list[int], repeats: int) -> None:
    """`--repeats N`: the whole `slo run` N times per size, each followed by the floor (the same work without
    Dagster); medians and ranges of wall, Dagster run, CPU, peak RSS, overhead beyond the floor and every step."""
    report: dict[str, object] = {}
    for lines in sizes:
        src = sources(root, lines)
        builds: list[BuildResult] = []
        floors: list[tuple[float, float, float]] = []  # wall, cpu, load before
        for i in range(repeats):
            builds.append(run_build(root, src, lines, pair_step=False))
            load = os.getloadavg()[0]
            floors.append((*run_floor(root, src, lines), load))
            b, f = builds[-1], floors[-1]
            print(
                f"  {lines:,} lines, run {i + 1}: build {b.wall_s:.1f}s wall ({b.dagster_run_s:.1f}s Dagster, "
                f"{b.cpu_s:.1f}s CPU, {b.peak_rss_mb:.0f} MB, load {b.load_before:.1f}); "
                f"floor {f[0]:.1f}s wall ({f[1]:.1f}s CPU, load {f[2]:.1f})",
                flush=True,
            )
        overheads = [b.wall_s - f[0] for b, f in zip(builds, floors, strict=True)]
        steps = {k: [b.steps_s.get(k, 0.0) for b in builds] for k in builds[0].steps_s}
        print(f"size {lines:,} order lines, {repeats} runs, medians (ranges):")
        walls, runs = [b.wall_s for b in builds], [b.dagster_run_s for b in builds]
        print(f"  build wall {_spread(walls)}, Dagster run {_spread(runs)}")
        cpus, rss = [b.cpu_s for b in builds], [b.peak_rss_mb for b in builds]
        print(f"  build CPU {_spread(cpus)}, peak RSS {_spread(rss, ' MB', 0)}")
        print(f"  floor wall {_spread([f[0] for f in floors])}, floor CPU {_spread([f[1] for f in floors])}")
        print(f"  overhead beyond the floor (build wall - floor wall) {_spread(overheads)}")
        print(f"  load average before each build {_spread([b.load_before for b in builds], '')}")
        ranked = sorted(steps.items(), key=lambda kv: -statistics.median(kv[1]))
        print("  steps: " + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in ranked))
        report[str(lines)] = {
            "builds": [asdict(b) for b in builds],
            "floors": [{"wall_s": w, "cpu_s": c, "load_before": ld} for w, c, ld in floors],
            "median_wall_s": statistics.median(b.wall_s for b in builds),
            "median_floor_s": statistics.median(f[0] for f in floors),
            "median_overhead_s": statistics.median(overheads),
        }
    (root / "build_speed.json").write_text(json.dumps(report, indent=2))


def markdown(results: list[BuildResult], mlx: dict[str, object]) -> str:
    lines = [
        "| order lines | build wall (s) | Dagster run (s) | peak RSS (MB) | pair step (s) | floor (s) | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.order_lines:,} | {r.wall_s:.1f} | {r.dagster_run_s:.1f} | {r.peak_rss_mb:.0f} | "
            f"{r.pair_step_s:.2f} | {r.floor_s:.2f} | {r.pair_vs_floor:.2f}x |"
        )
    lines.append("")
    lines.append(
        "Steps of the largest build (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(results[-1].steps_s.items(), key=lambda kv: -kv[1]))
    )
    if mlx:
        lines.append("")
        lines.append(
            f"mlxtend at {mlx['orders']:,} orders / {mlx['lines']:,} lines: {mlx['mlxtend_s']:.1f}s; "
            f"ours {mlx['ours_s']:.3f}s on the same orders = {mlx['speedup']:.0f}x faster; "
            f"{mlx['pairs']:,} pairs equal (max abs diff {mlx['max_abs_diff']:.1e})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
