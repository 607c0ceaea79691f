"""What `slo run` prints after the Product Affinity tables are published: the strongest affinities, the North Star."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dagster_project.product.north_star import NORTH_STAR_METRIC

if TYPE_CHECKING:  # annotations only: `slo validate` imports the build to check it, without opening DuckDB
    import duckdb

NORTH_STAR_WINDOW_DAYS = 28
TOP_PAIRS = 5


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def summary(con: duckdb.DuckDBPyConnection, as_of: datetime) -> str:
    pairs = con.execute(
        """
        SELECT a.product_name || ' + ' || b.product_name, p.pair_orders, p.confidence_ab, p.lift
        FROM product_affinity.product_pair_affinity p
        JOIN staging.products a ON a.product_id = p.product_a
        JOIN staging.products b ON b.product_id = p.product_b
        ORDER BY p.lift DESC, p.product_a, p.product_b LIMIT ?
        """,
        [TOP_PAIRS],
    ).fetchall()
    out = [f"strongest product affinities (by lift, top {TOP_PAIRS}):"]
    if pairs:
        rows = [[str(n), f"{o:,}", f"{c:.2f}", f"{lift:.1f}"] for n, o, c, lift in pairs]
        out += _table(["pair", "orders", "confidence", "lift"], rows)
    else:
        out.append("  none: no product pair was bought together in enough orders (min_pair_orders)")
    since = (as_of - timedelta(days=NORTH_STAR_WINDOW_DAYS)).date()
    share = con.execute(
        """
        SELECT sum(value) FILTER (WHERE metric = 'cross_sell_revenue')
               / nullif(sum(value) FILTER (WHERE metric = 'total_revenue'), 0)
        FROM product_affinity.north_star_daily WHERE metric_date > ?
        """,
        [since],
    ).fetchall()[0][0]
    value = "n/a (no revenue in the window)" if share is None else f"{share:.1%}"
    out += ["", f"North Star {NORTH_STAR_METRIC} (last {NORTH_STAR_WINDOW_DAYS} days): {value}"]
    return "\n".join(out)
