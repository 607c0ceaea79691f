"""Staging: typed, deduplicated, personal data dropped, customers known only by a salted hash.

Rows without their key are dropped here (completeness SLOs on the raw tables report them). Values are not otherwise
cleaned: a negative price stays negative so that validity SLOs can see it. Deduplication keeps the first row of each
key in a full ordering, so conflicting duplicates resolve the same way on every build.

Customers are identified by customer_sk, the first 64 bits of SHA-256(salt || customer_id) as an unsigned integer:
grouping and joining 10M lines on an integer is measurably faster than on a 16-character string. The product tables
show it as customer_key, the same 64 bits as 16 hex digits (`customer_key_sql`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster_project.product.params import AffinityParams
from dagster_project.product.schemas import STAGING_SCHEMA

if TYPE_CHECKING:  # annotations only: `slo validate` imports the build to check it, without opening DuckDB
    import duckdb

# 64 bits of SHA-256: collisions are negligible below billions of customers.
CUSTOMER_KEY_HEX_DIGITS = 16


def customer_sk_sql(column: str) -> str:
    """SQL for the salted customer surrogate of `column`; the salt is the statement's $salt parameter."""
    return f"('0x' || substr(sha256($salt || CAST({column} AS VARCHAR)), 1, {CUSTOMER_KEY_HEX_DIGITS}))::UBIGINT"


def customer_key_sql(sk_column: str) -> str:
    """The public customer_key of a customer_sk: 16 lower-case hex digits."""
    return f"printf('%0{CUSTOMER_KEY_HEX_DIGITS}x', {sk_column})"


def _create(con: duckdb.DuckDBPyConnection, table: str, select: str, params: dict[str, object] | None = None) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {STAGING_SCHEMA}.{table} AS {select}", params or {})


def build_customers(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    _create(
        con,
        "customers",
        f"""
        SELECT {customer_sk_sql("customer_id")} AS customer_sk, country, signup_ts
        FROM raw.customers
        WHERE customer_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY signup_ts NULLS LAST, country) = 1
        """,
        {"salt": params.customer_salt},
    )


def build_products(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    _create(
        con,
        "products",
        """
        SELECT product_id, product_name, category, list_price
        FROM raw.products
        WHERE product_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY product_name, category, list_price) = 1
        """,
    )


def build_orders(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    _create(
        con,
        "orders",
        # Hashing each distinct customer once and joining is 2.5x faster than hashing every order.
        f"""
        WITH keys AS (
            SELECT customer_id, {customer_sk_sql("customer_id")} AS customer_sk
            FROM (SELECT DISTINCT customer_id FROM raw.orders WHERE customer_id IS NOT NULL)
        )
        SELECT o.order_id, k.customer_sk, o.order_ts, o.channel
        FROM raw.orders o LEFT JOIN keys k USING (customer_id)
        WHERE o.order_id IS NOT NULL AND o.order_ts IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY o.order_id ORDER BY o.order_ts, o.customer_id, o.channel) = 1
        """,
        {"salt": params.customer_salt},
    )


def build_order_items(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    _create(
        con,
        "order_items",
        """
        SELECT order_id, line_number, product_id, quantity, unit_price
        FROM raw.order_items
        WHERE order_id IS NOT NULL AND product_id IS NOT NULL
        QUALIFY row_number() OVER (
            PARTITION BY order_id, line_number ORDER BY product_id, quantity, unit_price
        ) = 1
        """,
    )


def build_order_lines(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    """Order lines of known orders and known products, with what every product table needs from both."""
    _create(
        con,
        "order_lines",
        """
        SELECT i.order_id, o.customer_sk, o.order_ts, i.product_id, p.category, i.quantity, i.unit_price,
               i.quantity * i.unit_price AS revenue
        FROM staging.order_items i
        JOIN staging.orders o USING (order_id)
        JOIN staging.products p USING (product_id)
        """,
    )
