"""The generator: deterministic bytes, the documented shape, planted pairs, and each fault doing what it says."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dagster_project.datagen import faults as F
from dagster_project.datagen.catalog import CATALOG, PLANTED_PAIRS
from dagster_project.datagen.faults import Fault
from dagster_project.datagen.generator import MAX_BASKET, customer_email
from dagster_project.sources import SOURCE_TABLES
from tests.conftest import AS_OF, make_sources


def _digests(folder: Path) -> dict[str, str]:
    # manifest.json names the output folder, so only the data files are compared.
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.suffix != ".json"}


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_same_seed_and_as_of_give_the_same_bytes(tmp_path: Path, file_format: str) -> None:
    a = make_sources(tmp_path / "a", orders=2_500, file_format=file_format, chunk_orders=1_000)
    b = make_sources(tmp_path / "b", orders=2_500, file_format=file_format, chunk_orders=1_000)
    assert _digests(a) == _digests(b)
    c = make_sources(tmp_path / "c", orders=2_500, file_format=file_format, chunk_orders=1_000, seed=7)
    assert _digests(c)["orders." + file_format] != _digests(a)["orders." + file_format]


def test_files_follow_the_source_contract(tmp_path: Path) -> None:
    src = make_sources(tmp_path, orders=2_000)
    con = duckdb.connect()
    for table in SOURCE_TABLES:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_csv('{src / table.name}.csv')").fetchall()]
        assert cols == list(table.column_names)
    assert [r[0] for r in con.execute(f"SELECT email FROM '{src}/customers.csv' WHERE customer_id = 1").fetchall()] == [
        customer_email(1)
    ]


def test_parquet_files_have_the_contract_types(tmp_path: Path) -> None:
    src = make_sources(tmp_path, orders=500, file_format="parquet")
    arrow_names = {
        "BIGINT": "int64",
        "INTEGER": "int32",
        "DOUBLE": "double",
        "VARCHAR": "string",
        "TIMESTAMP": "timestamp[ms]",  # Parquet has no seconds unit
    }
    for table in SOURCE_TABLES:
        schema = pq.read_schema(src / f"{table.name}.parquet")
        assert [(f.name, str(f.type)) for f in schema] == [(c.name, arrow_names[c.duckdb_type]) for c in table.columns]


def test_orders_end_at_as_of_and_baskets_hold_one_to_eight_lines(tmp_path: Path) -> None:
    src = make_sources(tmp_path, orders=3_000)
    con = duckdb.connect()
    lo, hi, n = con.execute(f"SELECT min(order_ts), max(order_ts), count(*) FROM '{src}/orders.csv'").fetchall()[0]
    assert n == 3_000
    as_of = AS_OF.replace(tzinfo=None)
    assert as_of - timedelta(hours=2) < hi <= as_of
    assert lo >= as_of - timedelta(days=90)
    smallest, largest = con.execute(
        f"SELECT min(n), max(n) FROM (SELECT count(*) n FROM '{src}/order_items.csv' GROUP BY order_id)"
    ).fetchall()[0]
    assert (smallest, largest) == (1, MAX_BASKET)


def test_planted_pairs_are_bought_together_far_above_chance(tmp_path: Path) -> None:
    src = make_sources(tmp_path, orders=5_000)
    con = duckdb.connect()
    total = con.execute(f"SELECT count(DISTINCT order_id) FROM '{src}/order_items.csv'").fetchall()[0][0]
    for a, b in PLANTED_PAIRS:
        n_a, n_b, n_ab = con.execute(
            f"""SELECT count(*) FILTER (WHERE has_a), count(*) FILTER (WHERE has_b),
                       count(*) FILTER (WHERE has_a AND has_b)
                FROM (SELECT bool_or(product_id = {a}) has_a, bool_or(product_id = {b}) has_b
                      FROM '{src}/order_items.csv' GROUP BY order_id)"""
        ).fetchall()[0]
        assert n_ab / total > 10 * (n_a / total) * (n_b / total), (a, b)


def _query(src: Path, sql: str) -> object:
    con = duckdb.connect()
    for t in SOURCE_TABLES:
        con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM read_csv('{src / t.name}.csv')")
    return con.execute(sql).fetchall()[0][0]


_AS_OF = f"TIMESTAMP '{AS_OF:%Y-%m-%d %H:%M:%S}'"
FAULT_EFFECTS: dict[Fault, str] = {
    Fault.STALE: f"SELECT max(order_ts) <= {_AS_OF} - INTERVAL {F.STALE_DAYS} DAY FROM orders",
    Fault.NULLS: "SELECT count(*) FILTER (WHERE customer_id IS NULL) > 0.02 * count(*) FROM orders",
    Fault.DUPLICATES: "SELECT count(*) - count(DISTINCT order_id) > 0.01 * count(*) FROM orders",
    Fault.OUT_OF_RANGE: f"SELECT bool_or(unit_price < 0) AND bool_or(quantity = {F.ABSURD_QUANTITY}) FROM order_items",
    Fault.ORPHANS: f"""SELECT bool_or(product_id = {F.ORPHAN_PRODUCT_ID})
                       AND bool_or(order_id NOT IN (SELECT order_id FROM orders)) FROM order_items""",
    Fault.PII_LEAK: f"SELECT count(*) = 1 FROM products WHERE category LIKE '%{customer_email(1)}'",
    Fault.VOLUME_DROP: f"""SELECT count(*) FILTER (WHERE order_ts > {_AS_OF} - INTERVAL 1 DAY)
                           < 0.3 * count(*) FILTER (WHERE order_ts BETWEEN {_AS_OF}
                           - INTERVAL 2 DAY AND {_AS_OF} - INTERVAL 1 DAY) FROM orders""",
    Fault.FUTURE_TS: f"""SELECT count(*) FILTER (WHERE order_ts > {_AS_OF}) = 1
                         AND max(order_ts) = {_AS_OF} + INTERVAL {F.FUTURE_DAYS} DAY FROM orders""",
    Fault.MISSING_VALUES: """SELECT count(*) FILTER (WHERE quantity IS NULL AND unit_price IS NULL) > 0.04 * count(*)
                             AND count(*) FILTER (WHERE (quantity IS NULL) <> (unit_price IS NULL)) = 0
                             FROM order_items""",
}


@pytest.mark.parametrize("fault", sorted(FAULT_EFFECTS))
def test_each_fault_damages_the_data_as_documented(tmp_path: Path, fault: Fault) -> None:
    clean = make_sources(tmp_path / "clean", orders=6_000)
    faulty = make_sources(tmp_path / "faulty", orders=6_000, faults=frozenset({fault}))
    assert _query(clean, FAULT_EFFECTS[fault]) is False
    assert _query(faulty, FAULT_EFFECTS[fault]) is True


def test_schema_drift_renames_unit_price(tmp_path: Path) -> None:
    src = make_sources(tmp_path, orders=500, faults=frozenset({Fault.SCHEMA_DRIFT}))
    header = (src / "order_items.csv").read_text().splitlines()[0]
    assert header == '"order_id","line_number","product_id","quantity","price"'


def test_every_fault_kind_has_a_test_and_a_description() -> None:
    assert set(F.FAULT_DESCRIPTIONS) == set(Fault)
    assert set(FAULT_EFFECTS) | {Fault.SCHEMA_DRIFT} == set(Fault)


def test_catalogue_ids_are_unique_and_planted_pairs_ordered() -> None:
    ids = [p.product_id for p in CATALOG]
    assert len(ids) == len(set(ids))
    assert all(a < b for a, b in PLANTED_PAIRS)
