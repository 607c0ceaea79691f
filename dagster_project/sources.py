"""The source contract: which files the data product reads and the columns each must have.

One definition serves the generator (what it writes), the loader (what it demands) and the docs, so the three cannot
drift apart. Types are DuckDB type names; timestamps are UTC without a zone suffix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dagster_project.errors import SourceDataError


@dataclass(frozen=True)
class SourceColumn:
    name: str
    duckdb_type: str
    description: str
    pii: bool = False


@dataclass(frozen=True)
class SourceTable:
    name: str
    description: str
    columns: tuple[SourceColumn, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)


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

FILE_FORMATS = ("csv", "parquet")


def find_source_file(data_dir: Path, table: SourceTable) -> Path | None:
    """The file holding `table` in `data_dir`, or None. A table must be in exactly one format."""
    found = [data_dir / f"{table.name}.{fmt}" for fmt in FILE_FORMATS if (data_dir / f"{table.name}.{fmt}").exists()]
    if len(found) > 1:
        raise SourceDataError(found[0], f"both {found[0].name} and {found[1].name} exist; keep one")
    return found[0] if found else None
