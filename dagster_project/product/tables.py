"""Every table the build makes, in one registry: name, what it depends on, how it is built, what its columns mean.

The build (build.py) hands these to the service through the public API; the Dagster layer turns each entry into an
asset, and the docs and the column tests read the same entries. The product
tables (schema product_affinity) are a public contract: names and columns change only with a major version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster_project.build_api import TableBuild
from dagster_project.product import affinity, customers, north_star, staging
from dagster_project.product.params import AffinityParams
from dagster_project.sources import SOURCE_TABLES

if TYPE_CHECKING:  # annotations only: `slo validate` imports the build to check it, without opening DuckDB
    import duckdb

__all__ = ["BUILT_TABLES", "PRODUCT_TABLES", "RAW_TABLES", "STAGING_TABLES", "TableBuild", "table_deps"]


def _cross_sell_recommendations(con: duckdb.DuckDBPyConnection, params: AffinityParams) -> None:
    """Imported when it runs: numpy and pyarrow load only for a build, not for `slo validate` resolving the build."""
    from dagster_project.product.recommendations import build_cross_sell_recommendations

    build_cross_sell_recommendations(con, params)


RAW_TABLES = tuple(f"raw.{t.name}" for t in SOURCE_TABLES)

STAGING_TABLES: tuple[TableBuild, ...] = (
    TableBuild(
        "staging.customers",
        "Customers without personal data, keyed by salted hash.",
        ("raw.customers",),
        staging.build_customers,
    ),
    TableBuild("staging.products", "Products, one row per product_id.", ("raw.products",), staging.build_products),
    TableBuild(
        "staging.orders",
        "Orders, one row per order_id, customer as salted hash.",
        ("raw.orders",),
        staging.build_orders,
    ),
    TableBuild(
        "staging.order_items",
        "Order lines, one row per (order_id, line_number).",
        ("raw.order_items",),
        staging.build_order_items,
    ),
    TableBuild(
        "staging.order_lines",
        "Lines of known orders and products with category and revenue.",
        ("staging.order_items", "staging.orders", "staging.products"),
        staging.build_order_lines,
    ),
)

_PAIR_COLUMNS = (
    ("pair_orders", "Orders containing both items."),
    ("support", "pair_orders / total_orders."),
    ("confidence_ab", "pair_orders / orders containing the first item."),
    ("confidence_ba", "pair_orders / orders containing the second item."),
    ("lift", "confidence_ab / (orders containing the second item / total_orders); 1 = independent."),
)

PRODUCT_TABLES: tuple[TableBuild, ...] = (
    TableBuild(
        "product_affinity.product_pair_affinity",
        "Products bought together: one row per unordered product pair seen in at least min_pair_orders orders.",
        ("staging.order_lines",),
        affinity.build_product_pair_affinity,
        (
            ("product_a", "Smaller product_id of the pair."),
            ("product_b", "Larger product_id of the pair."),
            *_PAIR_COLUMNS,
        ),
    ),
    TableBuild(
        "product_affinity.category_affinity",
        "Categories bought together: one row per unordered category pair seen in at least min_pair_orders orders.",
        ("staging.order_lines",),
        affinity.build_category_affinity,
        (("category_a", "Category sorting first."), ("category_b", "Category sorting second."), *_PAIR_COLUMNS),
    ),
    TableBuild(
        "product_affinity.customer_metrics",
        "Purchase frequency and spend per customer.",
        ("staging.order_lines",),
        customers.build_customer_metrics,
        (
            ("customer_key", "First 16 hex digits of SHA-256(salt || source customer id)."),
            ("orders", "Distinct orders."),
            ("purchase_frequency", "Orders per 30 days of tenure (first order to as-of, at least one day)."),
            ("total_spend", "Sum of quantity x unit_price."),
            ("avg_order_value", "total_spend / orders."),
            ("distinct_categories", "Distinct categories bought."),
            ("first_order_ts", "First order (UTC)."),
            ("last_order_ts", "Latest order (UTC)."),
        ),
    ),
    TableBuild(
        "product_affinity.cross_sell_recommendations",
        "Top products per customer that they have not bought, scored from product affinity.",
        ("staging.order_lines", "product_affinity.product_pair_affinity"),
        _cross_sell_recommendations,
        (
            ("customer_key", "Salted customer key."),
            ("rank", "1 = best."),
            ("product_id", "Recommended product."),
            ("score", "Mean confidence(bought -> product) over the customer's distinct products, in [0, 1]."),
        ),
    ),
    TableBuild(
        "product_affinity.north_star_daily",
        "The North Star metric (cross-sell revenue share) and its input measures per day.",
        ("staging.order_lines",),
        north_star.build_north_star_daily,
        (
            ("metric_date", "Order date (UTC)."),
            ("metric", f"{north_star.NORTH_STAR_METRIC} or one of {', '.join(north_star.INPUT_MEASURES)}."),
            ("value", "The metric's value that day."),
        ),
    ),
)

BUILT_TABLES: tuple[TableBuild, ...] = STAGING_TABLES + PRODUCT_TABLES


def table_deps() -> dict[str, tuple[str, ...]]:
    """Each table the build makes -> the tables it is built from (sources have none): the product's lineage."""
    return {**{t: () for t in RAW_TABLES}, **{t.name: t.deps for t in BUILT_TABLES}}
