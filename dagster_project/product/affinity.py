"""Pair affinity (support, confidence, lift) for products and for categories, from one SQL shape.

An order is a basket of distinct items: a product on two lines of one order counts once. total_orders is the number
of orders with at least one item (orders whose lines all name unknown products do not count).

    support       = pair_orders / total_orders
    confidence_ab = pair_orders / orders containing a
    confidence_ba = pair_orders / orders containing b
    lift          = confidence_ab / (orders containing b / total_orders)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster_project.product.params import AffinityParams
from dagster_project.product.schemas import PRODUCT_SCHEMA

if TYPE_CHECKING:  # annotations only: `slo validate` imports the build to check it, without opening DuckDB
    import duckdb


def pair_affinity_sql(source: str, item: str, target: str, a: str, b: str, min_pair_orders: int) -> str:
    """CREATE statement for an affinity table of `item` over the baskets in `source` (order_id, item)."""
    if min_pair_orders < 1:
        raise ValueError("min_pair_orders must be at least 1")
    return f"""
    CREATE OR REPLACE TABLE {target} AS
    WITH baskets AS (
        SELECT DISTINCT order_id, {item} AS item FROM {source} WHERE {item} IS NOT NULL
    ),
    item_orders AS (SELECT item, count(*) AS n FROM baskets GROUP BY item),
    total AS (SELECT count(DISTINCT order_id) AS n FROM baskets),
    pairs AS (
        SELECT x.item AS item_a, y.item AS item_b, count(*) AS pair_orders
        FROM baskets x JOIN baskets y ON x.order_id = y.order_id AND x.item < y.item
        GROUP BY x.item, y.item
        HAVING count(*) >= {int(min_pair_orders)}
    )
    SELECT p.item_a AS {a}, p.item_b AS {b}, p.pair_orders,
           p.pair_orders / t.n::DOUBLE AS support,
           p.pair_orders / ia.n::DOUBLE AS confidence_ab,
           p.pair_orders / ib.n::DOUBLE AS confidence_ba,
           (p.pair_orders / ia.n::DOUBLE) / (ib.n / t.n::DOUBLE) AS lift
    FROM pairs p
    JOIN item_orders ia ON ia.item = p.item_a
    JOIN item_orders ib ON ib.item = p.item_b
    CROSS JOIN total t
    ORDER BY {a}, {b}
    """


def build_product_pair_affinity(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PRODUCT_SCHEMA}")
    con.execute(
        pair_affinity_sql(
            "staging.order_lines",
            "product_id",
            f"{PRODUCT_SCHEMA}.product_pair_affinity",
            "product_a",
            "product_b",
            params.min_pair_orders,
        )
    )


def build_category_affinity(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PRODUCT_SCHEMA}")
    con.execute(
        pair_affinity_sql(
            "staging.order_lines",
            "category",
            f"{PRODUCT_SCHEMA}.category_affinity",
            "category_a",
            "category_b",
            params.min_pair_orders,
        )
    )
