"""Exporter benchmark: /metrics latency and exporter memory with 1,000 SLOs as the stored history grows.

1. A spec of 1,000 SLOs: the shipped spec's 23 SLOs, each cloned under new ids (same indicators, windows 7d/28d).
2. A results store filled with N evaluations (10k, 100k, 1M by default) spread over those SLOs and the last 28
   days, in time order, 1% failed - written straight into SQLite with the store's own schema.
3. For each N, a fresh `slo serve` process on that store (refresh every 5 s, as deployed): the time until it
   answers (its first full load), then `--scrapes` sequential GETs of /metrics at ~50/s while its background
   refresh runs; p50, p99 and max latency, the exporter's RSS (VmRSS, VmHWM from /proc) and its own reported
   refresh duration.

Flatness is the result that matters: the p99 at 1M against the p99 at 10k, measured in the same invocation.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from dagster_project.results.address import StoreAddress
from dagster_project.results.store import ResultsStore

SLOS = 1000
WINDOW_S = 28 * 86400


@dataclass
class Result:
    evaluations: int
    startup_s: float
    scrapes: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    rss_mb: float
    hwm_mb: float
    refresh_s: float
    body_kb: float


def write_spec(out: Path) -> list[str]:
    spec = yaml.safe_load((Path("slo_definitions") / "product_affinity.yaml").read_text())
    base = spec["slos"]
    slos = []
    for i in range(SLOS):
        clone = copy.deepcopy(base[i % len(base)])
        clone["id"] = f"{clone['id']}_{i:04d}"
        slos.append(clone)
    spec["slos"] = slos
    spec.pop("$schema", None)
    out.write_text(yaml.safe_dump(spec, sort_keys=False))
    return [s["id"] for s in slos]


def fill_store(path: Path, ids: list[str], target: int, now: float) -> None:
    """Write `target` evaluations, evenly over the SLOs and over the last 28 days, in time order."""
    with ResultsStore(path) as store:
        have = store.count()
        if have >= target:
            return
        rng = random.Random(target)
        rows = []
        total = target - have
        for k in range(total):
            at = now - WINDOW_S + WINDOW_S * (have + k) / target
            slo = ids[(have + k) % len(ids)]
            passed = 0 if rng.random() < 0.01 else 1
            rows.append(
                ("bench", slo, "product_affinity", "validity", "raw.orders", at, at, 0.99, "min", 0.9, passed,
                 "error", "native", None, None)
            )  # fmt: skip
            if len(rows) == 100_000 or k == total - 1:
                store.con.execute("BEGIN IMMEDIATE")
                store.con.executemany(
                    "INSERT INTO evaluations (run_id, slo_id, product, dimension, dataset, evaluated_at, recorded_at,"
                    " observed, bound, threshold, passed, severity, engine, error, detail)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                store.con.execute("COMMIT")
                rows = []


def _proc_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(
    spec: Path, store: StoreAddress, evaluations: int, scrapes: int, port: int, db: Path | None = None
) -> Result:
    """`db`: the (missing) published database to name; beside a SQLite store unless given."""
    url = f"http://127.0.0.1:{port}/metrics"
    if db is None:
        assert isinstance(store, Path)
        db = store.parent / "none.duckdb"
    args = [sys.executable, "-m", "dagster_project.cli.main", "serve", "--port", str(port), "--refresh", "5"]
    args += ["--slos", str(spec), "--results", str(store), "--db", str(db)]
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"slo serve exited with {proc.returncode}") from None
                time.sleep(0.1)
        startup = time.perf_counter() - started
        timings, body = [], b""
        for _ in range(scrapes):
            t0 = time.perf_counter()
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
            timings.append(time.perf_counter() - t0)
            time.sleep(max(0.0, 0.02 - timings[-1]))
        refresh = next(
            float(line.split()[1])
            for line in body.decode().splitlines()
            if line.startswith("dataslo_exporter_refresh_duration_seconds ")
        )
        timings.sort()
        return Result(
            evaluations=evaluations,
            startup_s=startup,
            scrapes=scrapes,
            p50_ms=statistics.median(timings) * 1000,
            p99_ms=timings[int(0.99 * (len(timings) - 1))] * 1000,
            max_ms=timings[-1] * 1000,
            rss_mb=_proc_mb(proc.pid, "VmRSS"),
            hwm_mb=_proc_mb(proc.pid, "VmHWM"),
            refresh_s=refresh,
            body_kb=len(body) / 1024,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def markdown(results: list[Result]) -> str:
    lines = [
        "| stored evaluations | startup (s) | scrapes | p50 (ms) | p99 (ms) | max (ms) | RSS (MB) | peak RSS (MB) "
        "| refresh (s) | body (KB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.evaluations:,} | {r.startup_s:.1f} | {r.scrapes} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{r.max_ms:.1f} | {r.rss_mb:.0f} | {r.hwm_mb:.0f} | {r.refresh_s:.2f} | {r.body_kb:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="stored evaluations, comma-separated")
    parser.add_argument("--scrapes", type=int, default=1000)
    parser.add_argument("--root", type=Path, default=Path(".slo_state/bench/metrics"))
    parser.add_argument("--port", type=int, default=19469)
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    spec = args.root / "spec" / "thousand.yaml"
    spec.parent.mkdir(exist_ok=True)
    ids = write_spec(spec)
    now = time.time()
    results = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        store = args.root / f"results_{size}.sqlite"  # one store per size, filled in time order
        for leftover in args.root.glob(f"results_{size}.sqlite*"):
            leftover.unlink()
        fill_store(store, ids, size, now)
        result = measure(spec, store, size, args.scrapes, args.port)
        print(f"{size:,} evaluations: {json.dumps(asdict(result))}", flush=True)
        results.append(result)
    print()
    print(markdown(results))
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"\np99 at {last.evaluations:,} / p99 at {first.evaluations:,}: {last.p99_ms / first.p99_ms:.2f}x")
    out: dict[str, Any] = {"slos": SLOS, "results": [asdict(r) for r in results]}
    (args.root / "metrics_bench.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
