"""Deterministic sample data for the Product Affinity data product.

Same seed, as-of and options give the same bytes. Orders are made in fixed-size chunks, each chunk drawing from its
own random stream keyed by (seed, chunk index), so memory is bounded by the chunk size and the output does not depend
on anything but the arguments. Order timestamps rise with the order id and end at --as-of.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.datagen import faults as F
from dagster_project.datagen.catalog import (
    CATALOG,
    PLANTED_ORDER_SHARE,
    PLANTED_PAIRS,
    PLANTED_PRODUCTS,
    PRODUCTS_PER_CATEGORY,
)
from dagster_project.datagen.faults import Fault
from dagster_project.datagen.writer import FileFormat, TableWriter
from dagster_project.sources import CUSTOMERS, ORDER_ITEMS, ORDERS, PRODUCTS, SourceTable

GENERATOR_VERSION = 1
CHUNK_ORDERS = 100_000
MAX_BASKET = 8
ORDERS_PER_CUSTOMER = 8
SAME_CATEGORY_SHARE = 0.6

_FIRST = np.array(
    [
        "Anna",
        "Ben",
        "Chloe",
        "David",
        "Emma",
        "Farid",
        "Grace",
        "Hugo",
        "Ines",
        "Jonas",
        "Kira",
        "Liam",
        "Maya",
        "Noah",
        "Olga",
        "Pablo",
        "Quinn",
        "Rosa",
        "Sami",
        "Tara",
        "Umar",
        "Vera",
        "Wen",
        "Yusuf",
    ]
)
_LAST = np.array(
    [
        "Berg",
        "Costa",
        "Diaz",
        "Evans",
        "Fischer",
        "Garcia",
        "Hansen",
        "Ito",
        "Jansen",
        "Kowalski",
        "Larsen",
        "Moreau",
        "Novak",
        "Okafor",
        "Petrov",
        "Rossi",
        "Silva",
        "Tanaka",
        "Weber",
        "Young",
    ]
)
_COUNTRIES = np.array(["DE", "FR", "GB", "NL", "ES", "IT", "SE", "PL", "US", "CA"])
_CHANNELS = np.array(["web", "app", "store"])

_TS = pa.timestamp("s")
_ARROW_TYPES = {
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "VARCHAR": pa.string(),
    "TIMESTAMP": _TS,
}


@dataclass(frozen=True)
class GeneratorConfig:
    out_dir: Path
    as_of: datetime
    orders: int = 5_000
    seed: int = 42
    days: int = 90
    customers: int | None = None
    faults: frozenset[Fault] = field(default_factory=frozenset)
    file_format: FileFormat = "csv"
    chunk_orders: int = CHUNK_ORDERS

    @property
    def customer_count(self) -> int:
        return self.customers if self.customers is not None else max(1, -(-self.orders // ORDERS_PER_CUSTOMER))


@dataclass(frozen=True)
class GenerationSummary:
    out_dir: Path
    files: dict[str, Path]
    rows: dict[str, int]
    manifest: Path


ProgressFn = Callable[[int, int], None]


def _schema(table: SourceTable, rename: dict[str, str] | None = None) -> pa.Schema:
    rename = rename or {}
    return pa.schema([(rename.get(c.name, c.name), _ARROW_TYPES[c.duckdb_type]) for c in table.columns])


def _epoch(ts: datetime) -> int:
    return int(ts.astimezone(UTC).timestamp())


def _background_weights() -> np.ndarray:
    """Popularity of each catalogue product: Zipf-like over a fixed order, planted products rare on their own."""
    ranks = np.random.default_rng(20240601).permutation(len(CATALOG))
    weights = 1.0 / (ranks + 5.0) ** 0.8
    for i, product in enumerate(CATALOG):
        if product.product_id in PLANTED_PRODUCTS:
            weights[i] *= 0.1
    normalised: np.ndarray = weights / weights.sum()
    return normalised


def customer_email(customer_id: int) -> str:
    """The e-mail the generator gives a customer (used by the pii_leak fault and by tests)."""
    first = _FIRST[customer_id % len(_FIRST)].lower()
    last = _LAST[(customer_id * 7) % len(_LAST)].lower()
    return f"{first}.{last}.{customer_id}@example.com"


def _customer_batch(rng: np.random.Generator, ids: np.ndarray, start_epoch: int) -> dict[str, pa.Array]:
    first = _FIRST[ids % len(_FIRST)]
    last = _LAST[(ids * 7) % len(_LAST)]
    id_text = pa.array(ids).cast(pa.string())
    full_name = pc.binary_join_element_wise(pa.array(first), pa.array(last), " ")
    email = pc.binary_join_element_wise(pc.utf8_lower(pa.array(first)), pc.utf8_lower(pa.array(last)), id_text, ".")
    email = pc.binary_join_element_wise(email, pa.array(["example.com"] * len(ids)), "@")
    digits = pa.array(rng.integers(1_000_000, 9_999_999, len(ids))).cast(pa.string())
    phone = pc.binary_join_element_wise(pa.array(["+1-555"] * len(ids)), digits, "-")
    signup = start_epoch - rng.integers(0, 365 * 86_400, len(ids))
    return {
        "customer_id": pa.array(ids, pa.int64()),
        "full_name": full_name,
        "email": email,
        "phone": phone,
        "country": pa.array(_COUNTRIES[rng.integers(0, len(_COUNTRIES), len(ids))]),
        "signup_ts": pa.array(signup, pa.int64()).cast(_TS),
    }


def _masked(values: np.ndarray, mask: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    return pa.array(values, arrow_type, mask=mask)


class _OrderChunkMaker:
    """Makes one chunk of orders and their lines; all randomness comes from the chunk's own stream."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.faults = config.faults
        end = config.as_of - timedelta(days=F.STALE_DAYS) if Fault.STALE in self.faults else config.as_of
        self.end_epoch = _epoch(end)
        self.future_epoch = _epoch(config.as_of + timedelta(days=F.FUTURE_DAYS))
        self.span = config.days * 86_400
        self.start_epoch = self.end_epoch - self.span
        self.weights = _background_weights()
        self.product_ids = np.array([p.product_id for p in CATALOG], dtype=np.int64)
        self.list_prices = np.array([p.list_price for p in CATALOG])
        self.index_of = {p.product_id: i for i, p in enumerate(CATALOG)}
        self.pair_a = np.array([self.index_of[a] for a, _ in PLANTED_PAIRS])
        self.pair_b = np.array([self.index_of[b] for _, b in PLANTED_PAIRS])

    def make(self, chunk: int, start: int, n: int) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, chunk, 1])
        idx = np.arange(start, start + n, dtype=np.int64)
        order_id = idx + 1
        ts = self.start_epoch + ((idx + rng.random(n)) / cfg.orders * self.span).astype(np.int64)
        customer = 1 + (cfg.customer_count * rng.random(n) ** 2).astype(np.int64)
        channel = _CHANNELS[rng.choice(len(_CHANNELS), n, p=[0.55, 0.3, 0.15])]

        sizes = 1 + np.minimum(rng.poisson(2.9, n), MAX_BASKET - 1)
        planted = rng.random(n) < PLANTED_ORDER_SHARE
        sizes[planted] = np.maximum(sizes[planted], 2)
        lines = int(sizes.sum())
        offsets = np.cumsum(sizes) - sizes
        product_index = rng.choice(len(CATALOG), lines, p=self.weights)
        # Shoppers stay in a category more often than not: other lines follow the first line's category by chance.
        first_category = np.repeat(product_index[offsets] // PRODUCTS_PER_CATEGORY, sizes)
        same = (rng.random(lines) < SAME_CATEGORY_SHARE) & (np.arange(lines) != np.repeat(offsets, sizes))
        product_index[same] = first_category[same] * PRODUCTS_PER_CATEGORY + rng.integers(
            0, PRODUCTS_PER_CATEGORY, int(same.sum())
        )
        which = rng.integers(0, len(PLANTED_PAIRS), int(planted.sum()))
        product_index[offsets[planted]] = self.pair_a[which]
        product_index[offsets[planted] + 1] = self.pair_b[which]
        line_order = np.repeat(order_id, sizes)
        line_number = (np.arange(lines) - np.repeat(offsets, sizes) + 1).astype(np.int32)
        quantity = (1 + np.minimum(rng.geometric(0.65, lines) - 1, 9)).astype(np.int32)
        discount = rng.choice(np.array([1.0, 0.9, 0.8]), lines, p=[0.7, 0.2, 0.1])
        unit_price = np.round(self.list_prices[product_index] * discount, 2)
        product_id = self.product_ids[product_index]

        # Faults, each touching only its own column with its own draws.
        no_customer = np.zeros(n, dtype=bool)
        no_product = np.zeros(lines, dtype=bool)
        if Fault.NULLS in self.faults:
            no_customer = rng.random(n) < F.NULL_SHARE
            no_product = rng.random(lines) < F.NULL_SHARE
        if Fault.OUT_OF_RANGE in self.faults:
            negative = rng.random(lines) < F.NEGATIVE_PRICE_SHARE
            unit_price[negative] = -unit_price[negative]
            quantity[rng.random(lines) < F.ABSURD_QUANTITY_SHARE] = F.ABSURD_QUANTITY
        if Fault.ORPHANS in self.faults:
            product_id[rng.random(lines) < F.ORPHAN_PRODUCT_SHARE] = F.ORPHAN_PRODUCT_ID
            orphan_order = rng.random(lines) < F.ORPHAN_ORDER_SHARE
            line_order[orphan_order] += F.ORPHAN_ORDER_ID_OFFSET
        if Fault.FUTURE_TS in self.faults and start + n == cfg.orders:
            ts[-1] = self.future_epoch
        no_values = np.zeros(lines, dtype=bool)
        if Fault.MISSING_VALUES in self.faults:  # a stream of its own: the other faults' draws stay as they were
            no_values = np.random.default_rng([cfg.seed, chunk, 3]).random(lines) < F.MISSING_VALUES_SHARE
        keep = np.ones(n, dtype=bool)
        if Fault.VOLUME_DROP in self.faults:
            last_day = ts >= self.end_epoch - 86_400
            keep = ~last_day | (rng.random(n) < F.VOLUME_DROP_KEEP_SHARE)
        order_rows = np.flatnonzero(keep)
        if Fault.DUPLICATES in self.faults:
            again = order_rows[rng.random(len(order_rows)) < F.DUPLICATE_SHARE]
            order_rows = np.sort(np.concatenate([order_rows, again]), kind="stable")
        line_rows = np.flatnonzero(np.repeat(keep, sizes))

        orders = {
            "order_id": pa.array(order_id[order_rows], pa.int64()),
            "customer_id": _masked(customer[order_rows], no_customer[order_rows], pa.int64()),
            "order_ts": pa.array(ts[order_rows], pa.int64()).cast(_TS),
            "channel": pa.array(channel[order_rows]),
        }
        items = {
            "order_id": pa.array(line_order[line_rows], pa.int64()),
            "line_number": pa.array(line_number[line_rows], pa.int32()),
            "product_id": _masked(product_id[line_rows], no_product[line_rows], pa.int64()),
            "quantity": _masked(quantity[line_rows], no_values[line_rows], pa.int32()),
            "unit_price": _masked(unit_price[line_rows], no_values[line_rows], pa.float64()),
        }
        return orders, items


def _product_columns(faults: frozenset[Fault]) -> dict[str, pa.Array]:
    categories = [p.category for p in CATALOG]
    if Fault.PII_LEAK in faults:
        most_popular = int(np.argmax(_background_weights()))
        categories[most_popular] = f"{categories[most_popular]} {customer_email(1)}"
    return {
        "product_id": pa.array([p.product_id for p in CATALOG], pa.int64()),
        "product_name": pa.array([p.product_name for p in CATALOG]),
        "category": pa.array(categories),
        "list_price": pa.array([p.list_price for p in CATALOG], pa.float64()),
    }


def generate(config: GeneratorConfig, progress: ProgressFn | None = None) -> GenerationSummary:
    if config.orders < 1:
        raise ValueError("--orders must be at least 1")
    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    ext = config.file_format
    paths = {t.name: out / f"{t.name}.{ext}" for t in (CUSTOMERS, PRODUCTS, ORDERS, ORDER_ITEMS)}
    for table in (CUSTOMERS, PRODUCTS, ORDERS, ORDER_ITEMS):  # never leave a stale file of the other format
        other = out / f"{table.name}.{'parquet' if ext == 'csv' else 'csv'}"
        other.unlink(missing_ok=True)
    rename = {F.SCHEMA_DRIFT_RENAME[1]: F.SCHEMA_DRIFT_RENAME[2]} if Fault.SCHEMA_DRIFT in config.faults else {}
    maker = _OrderChunkMaker(config)
    rows: dict[str, int] = {}

    with TableWriter(paths["products"], _schema(PRODUCTS), ext) as w:
        w.write(_product_columns(config.faults))
        rows["products"] = w.rows

    with TableWriter(paths["customers"], _schema(CUSTOMERS), ext) as w:
        n_customers = config.customer_count
        for chunk, start in enumerate(range(0, n_customers, config.chunk_orders)):
            ids = np.arange(start + 1, min(start + config.chunk_orders, n_customers) + 1, dtype=np.int64)
            w.write(_customer_batch(np.random.default_rng([config.seed, chunk, 2]), ids, maker.start_epoch))
        rows["customers"] = w.rows

    with (
        TableWriter(paths["orders"], _schema(ORDERS), ext) as wo,
        TableWriter(paths["order_items"], _schema(ORDER_ITEMS, rename), ext) as wi,
    ):
        for chunk, start in enumerate(range(0, config.orders, config.chunk_orders)):
            n = min(config.chunk_orders, config.orders - start)
            orders, items = maker.make(chunk, start, n)
            if rename:
                items = {rename.get(k, k): v for k, v in items.items()}
            wo.write(orders)
            wi.write(items)
            if progress:
                progress(start + n, config.orders)
        rows["orders"], rows["order_items"] = wo.rows, wi.rows

    manifest = out / "manifest.json"
    manifest.write_text(json.dumps(_manifest(config, rows), indent=2, sort_keys=True) + "\n")
    return GenerationSummary(out_dir=out, files=paths, rows=rows, manifest=manifest)


def reproduce_command(config: GeneratorConfig) -> str:
    """The command line that regenerates these exact bytes (given the same generator version)."""
    as_of = config.as_of.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [
        f"slo generate-data --out {config.out_dir}",
        f"--orders {config.orders}",
        f"--seed {config.seed}",
        f"--days {config.days}",
        f"--as-of {as_of}",
        f"--format {config.file_format}",
    ]
    if config.customers is not None:
        parts.append(f"--customers {config.customers}")
    parts += [f"--fault {f}" for f in sorted(config.faults)]
    return " ".join(parts)


def _manifest(config: GeneratorConfig, rows: dict[str, int]) -> dict[str, object]:
    return {
        "command": reproduce_command(config),
        "chunk_orders": config.chunk_orders,
        "generator_version": GENERATOR_VERSION,
        "seed": config.seed,
        "as_of": config.as_of.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orders": config.orders,
        "customers": config.customer_count,
        "days": config.days,
        "format": config.file_format,
        "faults": sorted(str(f) for f in config.faults),
        "fault_descriptions": {str(f): F.FAULT_DESCRIPTIONS[f] for f in sorted(config.faults)},
        "rows": rows,
        "planted_pairs": [list(p) for p in PLANTED_PAIRS],
        "planted_order_share": PLANTED_ORDER_SHARE,
    }
