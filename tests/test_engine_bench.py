"""The engine benchmark's floor and query count (benchmarks/engine_bench.py), on a real build copied to each engine:
the hand-written floor, transpiled from DuckDB's, gives the plan's numbers on DuckDB, PostgreSQL and Spark, and each
dataset with scan indicators reaches the engine as exactly one fused query."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from benchmarks.engine_bench import (
    Engine,
    duckdb_engine,
    floor_sql,
    postgres_engine,
    prepare,
    spark_engine,
)
from benchmarks.eval_bench import load_plan
from dagster_project.settings import Settings
from tests.conftest import AS_OF
from tests.server_support import PostgresCluster

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

NAIVE_AS_OF = AS_OF.replace(tzinfo=None)


def _prepared_on(engine: Engine) -> None:
    """prepare() stops (SystemExit) when the floor's numbers differ from ours by more than 1e-9, or a dataset's scan
    indicators do not reach the engine as one fused query; then each fused query's datasets are as planned."""
    plan = load_plan()
    result, _state = prepare(engine, plan, 4_000, NAIVE_AS_OF)
    scanned = [dataset for dataset, _slos in plan.scans]
    assert result.scan_datasets == len(scanned) == 12
    assert result.catalog_reads == 1
    assert result.errors == []
    named = [q["datasets"] for q in result.queries]
    for dataset in scanned:  # the one fused query names only its dataset (the PII sub-selects read it again)
        assert sum(1 for names in named if set(names) == {dataset}) >= 1
    assert set(result.engine_scans) == set(scanned)


def test_the_floor_in_postgres_and_spark_sql_is_the_duckdb_floor_rewritten() -> None:
    metrics = {
        "full": "coalesce(count_if(regexp_full_match(k, '^[0-9a-f]{16}$')) / nullif(count(k), 0), 1.0)",
        "age": "epoch(TIMESTAMP '2026-11-27 00:00:00') - epoch(max(ts))",
        "pairs": "count(DISTINCT (a, b))",
    }
    postgres = floor_sql("s.t", metrics, "postgres")
    assert "COUNT(*) FILTER(WHERE k ~ '^[0-9a-f]{16}$')" in postgres
    assert "REGEXP_FULL_MATCH" not in postgres.upper()
    spark = floor_sql("s.t", metrics, "spark")
    assert "k RLIKE '^[0-9a-f]{16}$'" in spark
    assert "UNIX_MICROS(MAX(ts)) / 1000000.0" in spark  # unix_timestamp would drop the fraction of a second
    assert "COUNT(DISTINCT a, b)" in spark


def test_the_engine_floor_gives_our_numbers_on_duckdb(built_product: Settings) -> None:
    with duckdb_engine(built_product.database) as engine:
        _prepared_on(engine)


def test_the_engine_floor_gives_our_numbers_on_postgres(built_product: Settings, postgres: PostgresCluster) -> None:
    with postgres_engine(built_product.database, postgres.dsn, postgres.create_database()) as engine:
        _prepared_on(engine)


@pytest.mark.heavy
def test_the_engine_floor_gives_our_numbers_on_spark(
    built_product: Settings, spark: SparkSession, tmp_path: Path
) -> None:
    with spark_engine(built_product.database, spark, tmp_path / "parquet") as engine:
        _prepared_on(engine)
