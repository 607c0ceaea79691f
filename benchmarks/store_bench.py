"""Results store benchmark: SQLite against PostgreSQL, side by side (issue 16).

1. Exporter: the 1,000-SLO spec and the stores of metrics_bench (N evaluations over the last 28 days, 1% failed),
   one SQLite file and one PostgreSQL database per size, filled with the same rows; then metrics_bench.measure on
   each: a fresh `slo serve` (refresh every 5 s), its start-up (the first full load of the history), `--scrapes`
   GETs of /metrics at ~50/s while it refreshes, p50/p99/max, RSS, and the refresh duration it reports.
2. Writes: `slo check`'s way of keeping results - one `record()` per run (open, one transaction, close) of 1,000
   evaluations (every SLO) - run after run by one writer, then by `--writers` spawned processes at once:
   evaluations per second on each backend.

PostgreSQL: `--url postgresql://user@host:port/db` (password from PGPASSWORD or .pgpass; the database is emptied),
else a private cluster started as the tests start theirs (tests/server_support.py) and stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.metrics_bench import WINDOW_S, Result, markdown, measure, write_spec
from dagster_project.results.address import PostgresUrl, StoreAddress
from dagster_project.results.maintenance import _COPY_COLUMNS
from dagster_project.results.store import ResultsStore, record

RUN = 1000  # evaluations per run in the write benchmark: one per SLO


@contextmanager
def postgres_database(url: str | None) -> Iterator[str]:
    """A PostgreSQL server URL (no database): the one given, or a private cluster for the benchmark's duration."""
    if url is not None:
        yield url.rsplit("/", 1)[0]
        return
    from tests.server_support import start_postgres_cluster

    with start_postgres_cluster() as cluster:
        os.environ["PGPASSWORD"] = cluster.password
        yield cluster.url("postgres").rsplit("/", 1)[0]


def fresh_database(server: str, name: str) -> PostgresUrl:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"'.encode())
        con.execute(f'CREATE DATABASE "{name}"'.encode())
    return PostgresUrl(f"{server}/{name}")


def fill(address: StoreAddress, ids: list[str], target: int, now: float) -> None:
    """The same `target` rows as metrics_bench.fill_store writes (seq 1..target), in batches of 100,000."""
    rng = random.Random(target)
    with ResultsStore(address) as store:
        rows: list[tuple[Any, ...]] = []
        for k in range(target):
            at = now - WINDOW_S + WINDOW_S * k / target
            passed = 0 if rng.random() < 0.01 else 1
            rows.append(
                (k + 1, "bench", ids[k % len(ids)], "product_affinity", "validity", "raw.orders", at, at, 0.99, "min",
                 0.9, passed, "error", "native", None, None, None, None)
            )  # fmt: skip
            if len(rows) == 100_000 or k == target - 1:
                store.insert_copied(_COPY_COLUMNS, rows)
                rows = []


def _records(ids: list[str]) -> list[dict[str, Any]]:
    return [
        {"slo": slo, "product": "product_affinity", "dimension": "validity", "dataset": "raw.orders",
         "observed": 0.995, "threshold": {"bound": "min", "value": 0.99}, "passed": True, "severity": "error",
         "engine": "native", "error": None, "indicator": "in_range", "objective": 0.999}
        for slo in ids
    ]  # fmt: skip


def _writer(address: str, ids: list[str], runs: int, tag: str, start: Any) -> None:
    records = _records(ids)
    start.wait()  # every writer imported and ready: the clock measures writing, not start-up
    for i in range(runs):
        record(address, f"{tag}-{i}", datetime.now(UTC), records)


def write_throughput(address: StoreAddress, ids: list[str], runs: int, writers: int) -> dict[str, float]:
    records = _records(ids)
    record(address, "warm-up", datetime.now(UTC), records)  # the store made and checked once, as a process does
    started = time.perf_counter()
    for i in range(runs):
        record(address, f"one-{i}", datetime.now(UTC), records)
    one = runs * len(records) / (time.perf_counter() - started)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(writers + 1)
    procs = [ctx.Process(target=_writer, args=(str(address), ids, runs, f"w{k}", start)) for k in range(writers)]
    for p in procs:
        p.start()
    start.wait()
    started = time.perf_counter()
    for p in procs:
        p.join()
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit("a writer failed")
    many = writers * runs * len(records) / (time.perf_counter() - started)
    with ResultsStore(address) as store:
        assert store.count() == (1 + runs + writers * runs) * len(records)
    return {"one_writer_eval_per_s": one, f"{writers}_writers_eval_per_s": many}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="stored evaluations, comma-separated")
    parser.add_argument("--scrapes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=50, help="runs of 1,000 evaluations per writer (writes)")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--url", help="a PostgreSQL server to use (its databases slo_bench_* are replaced)")
    parser.add_argument("--root", type=Path, default=Path(".slo_state/bench/store"))
    parser.add_argument("--port", type=int, default=19479)
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    spec = args.root / "thousand.yaml"
    ids = write_spec(spec)
    now = time.time()
    out: dict[str, Any] = {"slos": len(ids), "exporter": {}, "writes": {}}
    with postgres_database(args.url) as server:
        for backend in ("sqlite", "postgresql"):
            results: list[Result] = []
            for size in sorted(int(s) for s in args.sizes.split(",")):
                address: StoreAddress
                if backend == "sqlite":
                    address = args.root / f"results_{size}.sqlite"
                    for leftover in args.root.glob(f"results_{size}.sqlite*"):
                        leftover.unlink()
                else:
                    address = fresh_database(server, f"slo_bench_{size}")
                t0 = time.perf_counter()
                fill(address, ids, size, now)
                filled = time.perf_counter() - t0
                result = measure(spec, address, size, args.scrapes, args.port, db=args.root / "none.duckdb")
                print(f"{backend} {size:,}: filled in {filled:.1f} s; {json.dumps(asdict(result))}", flush=True)
                results.append(result)
            out["exporter"][backend] = [asdict(r) for r in results]
            print(f"\n{backend}\n{markdown(results)}\n", flush=True)
            writes_at: StoreAddress = (
                args.root / "writes.sqlite" if backend == "sqlite" else fresh_database(server, "slo_bench_writes")
            )
            if isinstance(writes_at, Path):
                for leftover in args.root.glob("writes.sqlite*"):
                    leftover.unlink()
            out["writes"][backend] = write_throughput(writes_at, ids, args.runs, args.writers)
            print(f"{backend} writes: {json.dumps(out['writes'][backend])}", flush=True)
    (args.root / "store_bench.json").write_text(json.dumps(out, indent=2))
    print(f"\nwritten {args.root / 'store_bench.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
