"""The short report `slo run` prints: row counts, the strongest affinities, the North Star."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from dagster_project.cli.table import render_table
from dagster_project.product.north_star import NORTH_STAR_METRIC
from dagster_project.product.tables import BUILT_TABLES, RAW_TABLES
from dagster_project.warehouse.connection import connect, row_count

NORTH_STAR_WINDOW_DAYS = 28


def print_summary(database: Path, landing: Path, as_of: datetime, top: int = 5) -> None:
    with connect(database, landing=landing, read_only=True) as con:
        names = [*RAW_TABLES, *(t.name for t in BUILT_TABLES)]
        print()
        print(render_table(["table", "rows"], [[n, f"{row_count(con, n):,}"] for n in names], align="lr"))
        pairs = con.execute(
            """
            SELECT a.product_name || ' + ' || b.product_name, p.pair_orders, p.confidence_ab, p.lift
            FROM product_affinity.product_pair_affinity p
            JOIN staging.products a ON a.product_id = p.product_a
            JOIN staging.products b ON b.product_id = p.product_b
            ORDER BY p.lift DESC, p.product_a, p.product_b LIMIT ?
            """,
            [top],
        ).fetchall()
        print()
        print(f"strongest product affinities (by lift, top {top}):")
        if pairs:
            rows = [[str(n), f"{o:,}", f"{c:.2f}", f"{lift:.1f}"] for n, o, c, lift in pairs]
            print(render_table(["pair", "orders", "confidence", "lift"], rows, align="lrrr"))
        else:
            print("  none: no product pair was bought together in enough orders (min_pair_orders)")
        since = (as_of - timedelta(days=NORTH_STAR_WINDOW_DAYS)).date()
        share = con.execute(
            """
            SELECT sum(value) FILTER (WHERE metric = 'cross_sell_revenue')
                   / nullif(sum(value) FILTER (WHERE metric = 'total_revenue'), 0)
            FROM product_affinity.north_star_daily WHERE metric_date > ?
            """,
            [since],
        ).fetchall()[0][0]
    print()
    value = "n/a (no revenue in the window)" if share is None else f"{share:.1%}"
    print(f"North Star {NORTH_STAR_METRIC} (last {NORTH_STAR_WINDOW_DAYS} days): {value}")
