"""The spec against a database on every engine: the same small mismatches (a missing dataset or column, a column of the
wrong type family for max_age or in_range, custom SQL or a measure that does not bind) are reported at the same
file:line and path on PostgreSQL and Spark as on DuckDB, in the engine's own type names, and a spec that fits passes
on all three. The same small database is copied to each engine (datagen/transfer.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dagster_project.datagen.transfer import to_parquet_folder, to_postgres
from dagster_project.engines.adapter import EngineAdapter
from dagster_project.engines.duckdb_adapter import open_adapter
from dagster_project.engines.postgres import PostgresAdapter
from dagster_project.engines.spark import SparkAdapter
from dagster_project.spec.validate import SpecIssue, validate
from dagster_project.verify.database import adapter_issues, database_issues
from tests.server_support import PostgresCluster
from tests.test_database_check import EXTRA_SLOS, MINIMAL, MISTAKES, make_database, write_spec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES = ["postgres", pytest.param("spark", marks=pytest.mark.heavy)]

# What the engine calls raw.orders.channel (VARCHAR in DuckDB).
TEXT_TYPE = {"duckdb": "VARCHAR", "postgres": "text", "spark": "string"}

# The mistakes of tests/test_database_check.py checked here, with what every engine's message starts with and a word
# it contains (engines word their binding errors their own way, but each names the misspelt column).
NEUTRAL = {
    "missing_table": ("dataset 'raw.order' does not exist in ", ""),
    "missing_column": (
        "column 'ordered_at' does not exist in raw.orders (has amount, channel, order_id, order_ts)",
        "",
    ),
    "max_age_on_text": ("max_age needs a timestamp or date column: raw.orders.channel is {text}", ""),
    "range_on_text": ("in_range needs a numeric column: raw.orders.channel is {text}", ""),
    "custom_sql_missing_column": ("SQL does not run here: ", "amount_eur"),
    "custom_sql_text": ("SQL returns {text}, not a number", ""),
    "measure_misspelt_column": ("expression does not run on product_affinity.north_star_daily: ", "valeu"),
    "time_dimension_text": ("the North Star's time dimension needs a timestamp or date column", ""),
}


@pytest.fixture(scope="module")
def small_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_database(tmp_path_factory.mktemp("engines-db") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def pg_database(postgres: PostgresCluster, small_database: Path) -> str:
    db = postgres.create_database()
    to_postgres(small_database, postgres.dsn(db), landing=small_database.with_name(small_database.name + ".landing"))
    return db


@pytest.fixture(scope="module")
def spark_adapter(
    spark: SparkSession, small_database: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SparkAdapter]:
    folder = tmp_path_factory.mktemp("engines-spark")
    datasets = to_parquet_folder(
        small_database, folder, landing=small_database.with_name(small_database.name + ".landing")
    )
    adapter = SparkAdapter(spark, label="local[2]")
    adapter.register_parquet_tables(folder, replace=True)
    yield adapter
    # The session is shared: leave no small tables behind for the modules that register the built product's.
    for dataset in datasets:
        schema, table = dataset.split(".", 1)
        spark.sql(f"DROP TABLE IF EXISTS `{schema}`.`{table}`")


@pytest.fixture()
def engine(request: pytest.FixtureRequest) -> Iterator[tuple[EngineAdapter, str]]:
    """(an open adapter on the small database, the place its messages name)."""
    name = request.param
    if name == "spark":
        adapter: SparkAdapter = request.getfixturevalue("spark_adapter")
        yield adapter, "local[2]"
        return
    import psycopg

    cluster: PostgresCluster = request.getfixturevalue("postgres")
    db: str = request.getfixturevalue("pg_database")
    label = f"{cluster.host}:{cluster.port}/{db}"
    pg = PostgresAdapter.from_connection(psycopg.connect(cluster.dsn(db)), label=label)
    try:
        yield pg, label
    finally:
        pg.close()


def _where(issue: SpecIssue) -> tuple[str, int, int, str]:
    return (issue.file, issue.line, issue.column, issue.path)


def test_adapter_issues_on_duckdb_are_the_database_check(tmp_path: Path, small_database: Path) -> None:
    old, new, *_ = MISTAKES["range_on_text"]
    specs, issues = validate([write_spec(tmp_path / "spec", (MINIMAL + EXTRA_SLOS).replace(old, new, 1))])
    assert issues == []
    with open_adapter(small_database) as adapter:
        assert adapter_issues(specs, adapter) == database_issues(specs, small_database) != []


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_spec_that_fits_the_database_passes_on_every_engine(
    tmp_path: Path, small_database: Path, engine: tuple[EngineAdapter, str]
) -> None:
    specs, issues = validate([write_spec(tmp_path / "spec", MINIMAL + EXTRA_SLOS)])
    assert issues == []
    assert database_issues(specs, small_database) == []
    adapter, _place = engine
    assert [str(i) for i in adapter_issues(specs, adapter)] == []


@pytest.mark.parametrize("mistake", sorted(NEUTRAL))
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_spec_that_does_not_fit_is_reported_at_the_same_place_on_every_engine(
    tmp_path: Path, small_database: Path, engine: tuple[EngineAdapter, str], mistake: str
) -> None:
    adapter, place = engine
    old, new, _needle, path, _message = MISTAKES[mistake]
    specs, issues = validate([write_spec(tmp_path / "spec", (MINIMAL + EXTRA_SLOS).replace(old, new, 1))])
    assert issues == []
    on_duckdb = database_issues(specs, small_database)
    on_engine = adapter_issues(specs, adapter)
    assert [_where(i) for i in on_engine] == [_where(i) for i in on_duckdb]
    (issue,) = on_engine
    assert issue.path == path
    start, word = NEUTRAL[mistake]
    assert issue.message.startswith(start.format(text=TEXT_TYPE[adapter.name])), issue.message
    assert word in issue.message
    if mistake == "missing_table":
        assert issue.message == f"dataset 'raw.order' does not exist in {place}"
        assert on_duckdb[0].message == f"dataset 'raw.order' does not exist in {small_database}"
