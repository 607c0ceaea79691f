"""Per-customer purchase metrics.

purchase_frequency is orders per 30 days of tenure, where tenure runs from the customer's first order to the build's
as-of time and counts as at least one day (so a customer whose first order was an hour ago has frequency 30 x orders).
Spend is quantity x unit_price summed over the customer's order lines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dagster_project.product.params import AffinityParams
from dagster_project.product.schemas import PRODUCT_SCHEMA
from dagster_project.product.staging import customer_key_sql

if TYPE_CHECKING:  # annotations only: `slo validate` imports the build to check it, without opening DuckDB
    import duckdb

FREQUENCY_DAYS = 30


def build_customer_metrics(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    as_of = (params.as_of or datetime.now(UTC)).astimezone(UTC)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PRODUCT_SCHEMA}")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {PRODUCT_SCHEMA}.customer_metrics AS
        WITH per_customer AS (
            SELECT customer_sk,
                   count(DISTINCT order_id) AS orders,
                   sum(revenue) AS total_spend,
                   count(DISTINCT category) AS distinct_categories,
                   min(order_ts) AS first_order_ts,
                   max(order_ts) AS last_order_ts
            FROM staging.order_lines
            WHERE customer_sk IS NOT NULL
            GROUP BY customer_sk
        )
        SELECT {customer_key_sql("customer_sk")} AS customer_key, orders,
               orders * {FREQUENCY_DAYS}.0
                 / greatest(epoch($as_of::TIMESTAMP - first_order_ts) / 86400.0, 1.0) AS purchase_frequency,
               total_spend,
               total_spend / orders AS avg_order_value,
               distinct_categories, first_order_ts, last_order_ts
        FROM per_customer
        ORDER BY customer_key
        """,
        {"as_of": as_of.replace(tzinfo=None)},
    )
