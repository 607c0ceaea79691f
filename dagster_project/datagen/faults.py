"""Fault kinds the generator can plant, each damaging the data in one documented way.

They exist so that SLO checks can be shown to catch what they claim to catch: every fault should make at least one
SLO of the matching dimension fail. The numbers are deliberately well past the shipped thresholds.
"""

from __future__ import annotations

from enum import StrEnum


class Fault(StrEnum):
    STALE = "stale"
    NULLS = "nulls"
    DUPLICATES = "duplicates"
    OUT_OF_RANGE = "out_of_range"
    ORPHANS = "orphans"
    PII_LEAK = "pii_leak"
    SCHEMA_DRIFT = "schema_drift"
    VOLUME_DROP = "volume_drop"
    FUTURE_TS = "future_ts"
    MISSING_VALUES = "missing_values"


STALE_DAYS = 3
NULL_SHARE = 0.03
DUPLICATE_SHARE = 0.02
NEGATIVE_PRICE_SHARE = 0.02
ABSURD_QUANTITY_SHARE = 0.01
ABSURD_QUANTITY = 10_000
ORPHAN_PRODUCT_SHARE = 0.02
ORPHAN_ORDER_SHARE = 0.01
ORPHAN_PRODUCT_ID = 9_999_999
ORPHAN_ORDER_ID_OFFSET = 1_000_000_000_000
VOLUME_DROP_KEEP_SHARE = 0.10
SCHEMA_DRIFT_RENAME = ("order_items", "unit_price", "price")
FUTURE_DAYS = 30
MISSING_VALUES_SHARE = 0.05

FAULT_DESCRIPTIONS: dict[Fault, str] = {
    Fault.STALE: f"every timestamp ends {STALE_DAYS} days before --as-of: no orders in the last {STALE_DAYS} days",
    Fault.NULLS: f"{NULL_SHARE:.0%} of orders.customer_id and {NULL_SHARE:.0%} of order_items.product_id are empty",
    Fault.DUPLICATES: f"{DUPLICATE_SHARE:.0%} of orders rows are written twice (same order_id)",
    Fault.OUT_OF_RANGE: (
        f"{NEGATIVE_PRICE_SHARE:.0%} of order lines have a negative unit_price and "
        f"{ABSURD_QUANTITY_SHARE:.0%} a quantity of {ABSURD_QUANTITY}"
    ),
    Fault.ORPHANS: (
        f"{ORPHAN_PRODUCT_SHARE:.0%} of order lines name product {ORPHAN_PRODUCT_ID} (not in products) and "
        f"{ORPHAN_ORDER_SHARE:.0%} name an order id not in orders"
    ),
    Fault.PII_LEAK: "the most popular product's category holds a customer's e-mail address",
    Fault.SCHEMA_DRIFT: "order_items.unit_price is renamed to price",
    Fault.VOLUME_DROP: f"only {VOLUME_DROP_KEEP_SHARE:.0%} of the usual orders in the last 24 hours before --as-of",
    Fault.FUTURE_TS: f"the last order is dated {FUTURE_DAYS} days after --as-of",
    Fault.MISSING_VALUES: f"{MISSING_VALUES_SHARE:.0%} of order lines have neither quantity nor unit_price",
}
