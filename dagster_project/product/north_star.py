"""The North Star metric per day, with the input measures it is computed from.

Cross-sell revenue share = revenue of orders spanning two or more categories / total revenue, per order date (UTC).
Rows are (metric_date, metric, value) so that inputs and the metric sit side by side and new measures need no new
columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster_project.product.params import AffinityParams
from dagster_project.product.schemas import PRODUCT_SCHEMA

if TYPE_CHECKING:  # annotations only: `slo validate` imports the build to check it, without opening DuckDB
    import duckdb

NORTH_STAR_METRIC = "cross_sell_revenue_share"
INPUT_MEASURES = ("total_revenue", "cross_sell_revenue", "orders", "cross_sell_orders")


def build_north_star_daily(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PRODUCT_SCHEMA}")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {PRODUCT_SCHEMA}.north_star_daily AS
        WITH per_order AS (
            SELECT order_id, min(order_ts)::DATE AS metric_date, sum(revenue) AS revenue,
                   -- two or more categories; min <> max is twice as fast as count(DISTINCT) >= 2
                   min(category) <> max(category) AS cross_sell
            FROM staging.order_lines GROUP BY order_id
        ),
        daily AS (
            SELECT metric_date,
                   sum(revenue) AS total_revenue,
                   coalesce(sum(revenue) FILTER (WHERE cross_sell), 0) AS cross_sell_revenue,
                   count(*) AS orders,
                   count(*) FILTER (WHERE cross_sell) AS cross_sell_orders
            FROM per_order GROUP BY metric_date
        )
        SELECT metric_date, metric, value FROM (
            SELECT metric_date,
                   CASE WHEN total_revenue = 0 THEN NULL ELSE cross_sell_revenue / total_revenue END
                       AS {NORTH_STAR_METRIC},
                   total_revenue::DOUBLE AS total_revenue, cross_sell_revenue::DOUBLE AS cross_sell_revenue,
                   orders::DOUBLE AS orders, cross_sell_orders::DOUBLE AS cross_sell_orders
            FROM daily
        ) UNPIVOT INCLUDE NULLS (value FOR metric IN ({NORTH_STAR_METRIC}, {", ".join(INPUT_MEASURES)}))
        ORDER BY metric_date, metric
        """
    )
