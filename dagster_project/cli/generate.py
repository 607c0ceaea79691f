"""`slo generate-data`: deterministic source files with planted affinities and optional faults."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster_project.cli.progress import ProgressBar
from dagster_project.cli.table import render_table
from dagster_project.datagen.faults import FAULT_DESCRIPTIONS, Fault
from dagster_project.errors import UsageError
from dagster_project.settings import parse_timestamp

EPILOG = (
    "faults:\n"
    + "\n".join(f"  {f.value:<13} {d}" for f, d in FAULT_DESCRIPTIONS.items())
    + """

examples:
  slo generate-data --out /tmp/src
  slo generate-data --out /tmp/big --orders 2500000 --format parquet      (about 10M order lines)
  slo generate-data --out /tmp/bad --fault nulls --fault duplicates --as-of 2026-11-27T00:00:00Z
"""
)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "generate-data",
        help="write sample source files (customers, products, orders, order_items)",
        description="Write deterministic sample source data: same seed and --as-of give the same bytes.",
        epilog=EPILOG,
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--orders", type=_positive, default=5_000, help="number of orders (default 5000; ~3.9 lines each)")
    p.add_argument("--customers", type=_positive, help="number of customers (default orders / 8)")
    p.add_argument("--days", type=_positive, default=90, help="days of history ending at --as-of (default 90)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--as-of", help="timestamp the data ends at, ISO 8601 (default: now)")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format (default csv)")
    p.add_argument("--fault", action="append", default=[], metavar="KIND", help="plant a fault (repeatable); see below")
    p.set_defaults(handler=handle)


def parse_faults(names: list[str]) -> frozenset[Fault]:
    try:
        return frozenset(Fault(n) for n in names)
    except ValueError:
        bad = next(n for n in names if n not in {f.value for f in Fault})
        raise UsageError(f"--fault: unknown kind {bad!r}; choose from {', '.join(f.value for f in Fault)}") from None


def handle(args: argparse.Namespace) -> int:
    from dagster_project.datagen.generator import GeneratorConfig, generate  # numpy and pyarrow: only when generating

    as_of = parse_timestamp(args.as_of) if args.as_of else datetime.now(UTC).replace(microsecond=0)
    config = GeneratorConfig(
        out_dir=args.out,
        as_of=as_of,
        orders=args.orders,
        seed=args.seed,
        days=args.days,
        customers=args.customers,
        faults=parse_faults(args.fault),
        file_format=args.format,
    )
    bar = ProgressBar("generating orders")
    try:
        summary = generate(config, progress=bar)
    finally:
        bar.close()
    rows = [[str(path), f"{summary.rows[name]:,}"] for name, path in summary.files.items()]
    print(render_table(["file", "rows"], rows, align="lr"))
    print(f"manifest: {summary.manifest} (seed {config.seed}, as-of {as_of:%Y-%m-%dT%H:%M:%SZ})")
    return 0
