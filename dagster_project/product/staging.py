"""Staging: typed, deduplicated, personal data dropped, customers known only by a salted hash.

Rows without their key are dropped here (completeness SLOs on the raw tables report them). Values are not otherwise
cleaned: a negative price stays negative so that validity SLOs can see it.
"""

from __future__ import annotations

import duckdb

from dagster_project.settings import BuildParams

STAGING_SCHEMA = "staging"
# 16 hex digits (64 bits) of SHA-256: collisions are negligible below billions of customers.
CUSTOMER_KEY_HEX_DIGITS = 16


def customer_key_sql(column: str) -> str:
    """SQL for the salted customer key of `column`; the salt is the statement's first parameter."""
    return f"substr(sha256($salt || CAST({column} AS VARCHAR)), 1, {CUSTOMER_KEY_HEX_DIGITS})"


def _create(con: duckdb.DuckDBPyConnection, table: str, select: str, params: dict[str, object] | None = None) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {STAGING_SCHEMA}.{table} AS {select}", params or {})


def build_customers(con: duckdb.DuckDBPyConnection, params: BuildParams) -> None:
    _create(
        con,
        "customers",
        f"""
        SELECT {customer_key_sql("customer_id")} AS customer_key, country, signup_ts
        FROM raw.customers
        WHERE customer_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY signup_ts NULLS LAST) = 1
        """,
        {"salt": params.customer_salt},
    )


def build_products(con: duckdb.DuckDBPyConnection, params: BuildParams) -> None:
    _create(
        con,
        "products",
        """
        SELECT product_id, product_name, category, list_price
        FROM raw.products
        WHERE product_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY product_name) = 1
        """,
    )


def build_orders(con: duckdb.DuckDBPyConnection, params: BuildParams) -> None:
    _create(
        con,
        "orders",
        f"""
        SELECT order_id, {customer_key_sql("customer_id")} AS customer_key, order_ts, channel
        FROM raw.orders
        WHERE order_id IS NOT NULL AND order_ts IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY order_ts) = 1
        """,
        {"salt": params.customer_salt},
    )


def build_order_items(con: duckdb.DuckDBPyConnection, params: BuildParams) -> None:
    _create(
        con,
        "order_items",
        """
        SELECT DISTINCT ON (order_id, line_number) order_id, line_number, product_id, quantity, unit_price
        FROM raw.order_items
        WHERE order_id IS NOT NULL AND product_id IS NOT NULL
        """,
    )


def build_order_lines(con: duckdb.DuckDBPyConnection, params: BuildParams) -> None:
    """Order lines of known orders and known products, with what every product table needs from both."""
    _create(
        con,
        "order_lines",
        """
        SELECT i.order_id, o.customer_key, o.order_ts, i.product_id, p.category, i.quantity, i.unit_price,
               i.quantity * i.unit_price AS revenue
        FROM staging.order_items i
        JOIN staging.orders o USING (order_id)
        JOIN staging.products p USING (product_id)
        """,
    )
