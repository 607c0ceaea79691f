"""Product tables against independent brute-force computations in plain Python on random small datasets.

The datasets go through the real loader and staging SQL, and include what makes affinity easy to get wrong:
a product on two lines of one order, single-item orders, lines naming unknown products or orders.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.product.params import AffinityParams as BuildParams
from dagster_project.product.tables import BUILT_TABLES
from dagster_project.settings import DEFAULT_SALT
from dagster_project.sources import SOURCE_TABLES
from dagster_project.warehouse.connection import connect
from dagster_project.warehouse.loading import load_source
from tests.conftest import AS_OF

TOL = 1e-12


@dataclass(frozen=True)
class Order:
    order_id: int
    customer_id: int
    order_ts: datetime


@dataclass(frozen=True)
class Item:
    order_id: int
    line_number: int
    product_id: int
    quantity: int
    unit_price: float

    @property
    def revenue(self) -> float:
        return self.quantity * self.unit_price


@dataclass
class Dataset:
    customer_ids: list[int]
    products: dict[int, str]  # product_id -> category
    orders: list[Order]
    items: list[Item]

    def valid_lines(self) -> list[tuple[Order, Item]]:
        """Lines of known orders naming known products: what the product tables are built from."""
        orders = {o.order_id: o for o in self.orders}
        return [(orders[i.order_id], i) for i in self.items if i.order_id in orders and i.product_id in self.products]


def random_dataset(seed: int) -> Dataset:
    rnd = random.Random(seed)
    categories = [f"cat{c}" for c in range(rnd.randint(1, 4))]
    products = {100 + i: rnd.choice(categories) for i in range(rnd.randint(3, 9))}
    customer_ids = list(range(1, rnd.randint(2, 6)))
    orders: list[Order] = []
    items: list[Item] = []
    base = AS_OF.replace(tzinfo=None) - timedelta(days=40)
    for order_id in range(1, rnd.randint(5, 40)):
        ts = base + timedelta(seconds=rnd.randint(0, 39 * 86_400))
        orders.append(Order(order_id, rnd.choice(customer_ids), ts))
        size = 1 if rnd.random() < 0.3 else rnd.randint(2, 6)
        for line in range(1, size + 1):
            product = 999 if rnd.random() < 0.05 else rnd.choice(list(products))  # 999: an unknown product
            items.append(Item(order_id, line, product, rnd.randint(1, 3), round(rnd.uniform(1, 50), 2)))
        if size >= 2 and rnd.random() < 0.3:  # the same product on a second line
            last = items[-1]
            items.append(Item(order_id, size + 1, last.product_id, last.quantity, last.unit_price))
    items.append(Item(10_000, 1, 100, 1, 1.0))  # a line of an unknown order
    return Dataset(customer_ids, products, orders, items)


def write_dataset(ds: Dataset, folder: Path) -> Path:
    folder.mkdir(parents=True)
    rows: dict[str, list[list[object]]] = {
        "customers": [
            [c, f"Name {c}", f"c{c}@example.com", f"+1-555-{c:07d}", "DE", "2025-01-01 00:00:00"]
            for c in ds.customer_ids
        ],
        "products": [[p, f"P{p}", c, 1.0] for p, c in ds.products.items()],
        "orders": [[o.order_id, o.customer_id, o.order_ts.strftime("%Y-%m-%d %H:%M:%S"), "web"] for o in ds.orders],
        "order_items": [[i.order_id, i.line_number, i.product_id, i.quantity, i.unit_price] for i in ds.items],
    }
    for table in SOURCE_TABLES:
        with open(folder / f"{table.name}.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(table.column_names)
            writer.writerows(rows[table.name])
    return folder


def build(folder: Path, db: Path, params: BuildParams) -> duckdb.DuckDBPyConnection:
    with connect(db, landing=db.with_suffix(".landing")) as con:
        for table in SOURCE_TABLES:
            load_source(con, folder, table)
        for spec in BUILT_TABLES:
            spec.build(con, params)
    return duckdb.connect(str(db), read_only=True)


Pair = tuple[Any, Any]
Ratios = tuple[int, float, float, float, float]  # pair_orders, support, confidence_ab, confidence_ba, lift


def brute_force_affinity(baskets: dict[int, set[Any]], min_pair_orders: int) -> dict[Pair, Ratios]:
    total = len([b for b in baskets.values() if b])
    containing: dict[Any, int] = defaultdict(int)
    together: dict[Pair, int] = defaultdict(int)
    for items in baskets.values():
        for item in items:
            containing[item] += 1
        for a, b in combinations(sorted(items), 2):
            together[(a, b)] += 1
    return {
        (a, b): (n, n / total, n / containing[a], n / containing[b], (n / containing[a]) / (containing[b] / total))
        for (a, b), n in together.items()
        if n >= min_pair_orders
    }


def assert_affinity_equal(actual: list[tuple[Any, ...]], expected: dict[Pair, Ratios]) -> None:
    got = {(r[0], r[1]): r[2:] for r in actual}
    assert set(got) == set(expected)
    for key, (n, *ratios) in expected.items():
        assert got[key][0] == n, key
        for x, y in zip(got[key][1:], ratios, strict=True):
            assert abs(x - y) <= TOL, (key, x, y)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("min_pair_orders", [1, 2])
def test_affinity_equals_brute_force(tmp_path: Path, seed: int, min_pair_orders: int) -> None:
    ds = random_dataset(seed)
    params = BuildParams(as_of=AS_OF, min_pair_orders=min_pair_orders)
    con = build(write_dataset(ds, tmp_path / "src"), tmp_path / "db.duckdb", params)
    product_baskets: dict[int, set[Any]] = defaultdict(set)
    category_baskets: dict[int, set[Any]] = defaultdict(set)
    for order, item in ds.valid_lines():
        product_baskets[order.order_id].add(item.product_id)
        category_baskets[order.order_id].add(ds.products[item.product_id])
    assert_affinity_equal(
        con.execute("SELECT * FROM product_affinity.product_pair_affinity").fetchall(),
        brute_force_affinity(product_baskets, min_pair_orders),
    )
    assert_affinity_equal(
        con.execute("SELECT * FROM product_affinity.category_affinity").fetchall(),
        brute_force_affinity(category_baskets, min_pair_orders),
    )


def customer_key(customer_id: int) -> str:
    """The documented key, computed independently: 16 hex digits of SHA-256(salt || id)."""
    return hashlib.sha256(f"{DEFAULT_SALT}{customer_id}".encode()).hexdigest()[:16]


@pytest.mark.parametrize("seed", range(10))
def test_customer_metrics_equal_brute_force(tmp_path: Path, seed: int) -> None:
    ds = random_dataset(seed)
    con = build(write_dataset(ds, tmp_path / "src"), tmp_path / "db.duckdb", BuildParams(as_of=AS_OF))
    orders: dict[int, set[int]] = defaultdict(set)
    spend: dict[int, float] = defaultdict(float)
    categories: dict[int, set[str]] = defaultdict(set)
    times: dict[int, list[datetime]] = defaultdict(list)
    for order, item in ds.valid_lines():
        orders[order.customer_id].add(order.order_id)
        spend[order.customer_id] += item.revenue
        categories[order.customer_id].add(ds.products[item.product_id])
        times[order.customer_id].append(order.order_ts)
    customer_of = {customer_key(c): c for c in ds.customer_ids}
    rows = con.execute("SELECT * FROM product_affinity.customer_metrics").fetchall()
    as_of = AS_OF.replace(tzinfo=None)
    seen = set()
    for key, n_orders, freq, total, aov, n_cats, first, last in rows:
        cid = customer_of[key]
        seen.add(cid)
        assert n_orders == len(orders[cid])
        tenure_days = max((as_of - min(times[cid])).total_seconds() / 86_400, 1.0)
        assert abs(freq - n_orders * 30 / tenure_days) <= 1e-9
        assert abs(total - spend[cid]) <= 1e-9
        assert abs(aov - spend[cid] / n_orders) <= 1e-9
        assert n_cats == len(categories[cid])
        assert (first, last) == (min(times[cid]), max(times[cid]))
    assert seen == set(orders)


@pytest.mark.parametrize("seed", range(10))
def test_north_star_daily_equals_brute_force(tmp_path: Path, seed: int) -> None:
    ds = random_dataset(seed)
    con = build(write_dataset(ds, tmp_path / "src"), tmp_path / "db.duckdb", BuildParams(as_of=AS_OF))
    revenue: dict[int, float] = defaultdict(float)
    categories: dict[int, set[str]] = defaultdict(set)
    day_of: dict[int, date] = {}
    for order, item in ds.valid_lines():
        revenue[order.order_id] += item.revenue
        categories[order.order_id].add(ds.products[item.product_id])
        day_of[order.order_id] = order.order_ts.date()
    expected: dict[tuple[date, str], float] = defaultdict(float)
    for order_id, day in day_of.items():
        cross = len(categories[order_id]) >= 2
        expected[(day, "total_revenue")] += revenue[order_id]
        expected[(day, "orders")] += 1
        expected[(day, "cross_sell_revenue")] += revenue[order_id] if cross else 0.0
        expected[(day, "cross_sell_orders")] += 1 if cross else 0
    for day in set(day_of.values()):
        expected[(day, "cross_sell_revenue_share")] = (
            expected[(day, "cross_sell_revenue")] / expected[(day, "total_revenue")]
        )
    got = {(r[0], r[1]): r[2] for r in con.execute("SELECT * FROM product_affinity.north_star_daily").fetchall()}
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert abs(got[key] - value) <= 1e-9, key


@pytest.mark.parametrize("seed", range(10))
def test_recommendations_follow_the_documented_formula(tmp_path: Path, seed: int) -> None:
    ds = random_dataset(seed + 100)
    k, neighbours = 3, 2
    params = BuildParams(
        as_of=AS_OF, min_pair_orders=1, recommendations_per_customer=k, neighbours_per_product=neighbours
    )
    con = build(write_dataset(ds, tmp_path / "src"), tmp_path / "db.duckdb", params)
    baskets: dict[int, set[Any]] = defaultdict(set)
    bought: dict[int, set[int]] = defaultdict(set)
    for order, item in ds.valid_lines():
        baskets[order.order_id].add(item.product_id)
        bought[order.customer_id].add(item.product_id)
    edges: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for (a, b), (_n, _s, conf_ab, conf_ba, lift) in brute_force_affinity(baskets, 1).items():
        if lift > 1:
            edges[a].append((conf_ab, b))
            edges[b].append((conf_ba, a))
    top = {p: sorted(e, key=lambda x: (-x[0], x[1]))[:neighbours] for p, e in edges.items()}
    expected: dict[int, list[tuple[int, float]]] = {}
    for customer, products in bought.items():
        score: dict[int, float] = defaultdict(float)
        for p in products:
            for conf, q in top.get(p, []):
                if q not in products:
                    score[q] += conf
        ranked = sorted(((q, s / len(products)) for q, s in score.items() if s > 0), key=lambda x: (-x[1], x[0]))
        if ranked:
            expected[customer] = ranked[:k]
    customer_of = {customer_key(c): c for c in ds.customer_ids}
    rows = con.execute("SELECT * FROM product_affinity.cross_sell_recommendations ORDER BY customer_key, rank")
    got: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for key, rank, product, score_value in rows.fetchall():
        cid = customer_of[key]
        assert rank == len(got[cid]) + 1
        got[cid].append((product, score_value))
    assert set(got) == set(expected)
    for customer, exp in expected.items():
        assert [p for p, _ in got[customer]] == [p for p, _ in exp]
        assert all(abs(a - b) <= 1e-12 for (_, a), (_, b) in zip(got[customer], exp, strict=True))


def test_every_built_table_is_in_the_registry_once() -> None:
    names = [t.name for t in BUILT_TABLES]
    assert len(names) == len(set(names))
