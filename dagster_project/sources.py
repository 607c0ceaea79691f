"""The Product Affinity example's source contract: which files it reads and the columns each must have.

One definition serves the sample data generator (what it writes), the example's build (product/build.py declares
these as its sources, and the loader demands them) and the docs, so the three cannot drift apart. The types are the
public build API's (build_api.py). Types are DuckDB type names; timestamps are UTC without a zone suffix.
"""

from __future__ import annotations

from dagster_project.build_api import FILE_FORMATS, SourceColumn, SourceTable, find_source_file

__all__ = [
    "CUSTOMERS",
    "FILE_FORMATS",
    "ORDERS",
    "ORDER_ITEMS",
    "PRODUCTS",
    "SOURCE_TABLES",
    "SourceColumn",
    "SourceTable",
    "find_source_file",
]

CUSTOMERS = SourceTable(
    name="customers",
    description="One row per customer, with personal data that must never reach the data product.",
    columns=(
        SourceColumn("customer_id", "BIGINT", "Source system customer id."),
        SourceColumn("full_name", "VARCHAR", "Customer name.", pii=True),
        SourceColumn("email", "VARCHAR", "Customer e-mail address.", pii=True),
        SourceColumn("phone", "VARCHAR", "Customer phone number.", pii=True),
        SourceColumn("country", "VARCHAR", "ISO 3166 alpha-2 country code."),
        SourceColumn("signup_ts", "TIMESTAMP", "When the customer signed up (UTC)."),
    ),
)

PRODUCTS = SourceTable(
    name="products",
    description="The product catalogue.",
    columns=(
        SourceColumn("product_id", "BIGINT", "Product id."),
        SourceColumn("product_name", "VARCHAR", "Display name."),
        SourceColumn("category", "VARCHAR", "Product category."),
        SourceColumn("list_price", "DOUBLE", "Catalogue price."),
    ),
)

ORDERS = SourceTable(
    name="orders",
    description="One row per order.",
    columns=(
        SourceColumn("order_id", "BIGINT", "Order id."),
        SourceColumn("customer_id", "BIGINT", "Customer who placed the order."),
        SourceColumn("order_ts", "TIMESTAMP", "When the order was placed (UTC)."),
        SourceColumn("channel", "VARCHAR", "Sales channel: web, app or store."),
    ),
)

ORDER_ITEMS = SourceTable(
    name="order_items",
    description="One row per order line; a product may appear on several lines of one order.",
    columns=(
        SourceColumn("order_id", "BIGINT", "Order the line belongs to."),
        SourceColumn("line_number", "INTEGER", "Line number within the order, from 1."),
        SourceColumn("product_id", "BIGINT", "Product on the line."),
        SourceColumn("quantity", "INTEGER", "Units bought."),
        SourceColumn("unit_price", "DOUBLE", "Price paid per unit."),
    ),
)

SOURCE_TABLES: tuple[SourceTable, ...] = (CUSTOMERS, PRODUCTS, ORDERS, ORDER_ITEMS)
