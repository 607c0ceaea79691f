"""The PostgreSQL and Spark adapters on real servers, with the built data product copied to each: the catalog, values
in UTC, read-only, time limits, and errors that are one clear line instead of a crash."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dagster_project.datagen.transfer import to_parquet_folder, to_postgres
from dagster_project.engines.adapter import EngineError
from dagster_project.engines.postgres import PostgresAdapter
from dagster_project.engines.spark import SparkAdapter, require_one_select
from dagster_project.engines.time_limit import QueryTimedOut
from dagster_project.settings import Settings
from dagster_project.spec.server import PostgresServer
from dagster_project.warehouse.connection import connect
from tests.server_support import PostgresCluster

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

FACTS = (
    "SELECT count(*), max(order_ts), sum(quantity * unit_price), count(DISTINCT order_id) FROM raw.order_items i "
    "JOIN raw.orders o USING (order_id)"
)


def _duckdb_facts(settings: Settings) -> tuple[object, ...]:
    with connect(settings.database, landing=settings.landing_database, read_only=True) as con:
        row = con.execute(FACTS).fetchall()[0]
    return tuple(row)


def _same_facts(got: tuple[object, ...], want: tuple[object, ...]) -> None:
    """Counts and timestamps exactly (naive UTC), the revenue sum to 1e-12."""
    assert (got[0], got[1], got[3]) == (want[0], want[1], want[3])
    assert got[2] == pytest.approx(want[2], rel=1e-12)


@pytest.fixture(scope="module")
def pg_product(postgres: PostgresCluster, built_product: Settings) -> str:
    """The built product (and its landing file as raw.*) copied into a fresh PostgreSQL database; its name."""
    db = postgres.create_database()
    to_postgres(built_product.database, postgres.dsn(db), landing=built_product.landing_database)
    return db


def _server(postgres: PostgresCluster, db: str, **changes: object) -> PostgresServer:
    fields: dict[str, object] = {
        "type": "postgres",
        "host": postgres.host,
        "port": postgres.port,
        "database": db,
        "user": postgres.user,
        "password_env": "SLO_TEST_PG_PASSWORD",
    }
    return PostgresServer.model_validate({**fields, **changes})


@pytest.fixture()
def pg(postgres: PostgresCluster, pg_product: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[PostgresAdapter]:
    monkeypatch.setenv("SLO_TEST_PG_PASSWORD", postgres.password)
    adapter = PostgresAdapter.open(_server(postgres, pg_product))
    yield adapter
    adapter.close()


def test_postgres_catalog_lists_the_copied_tables_with_their_type_families(pg: PostgresAdapter) -> None:
    catalog = pg.catalog()
    assert catalog.exists("raw.orders") and catalog.exists("product_affinity.product_pair_affinity")
    families = {c.name: c.family for c in catalog.columns("raw.orders")}
    assert families["order_ts"] == "timestamp"
    assert families["order_id"] == "integer"
    assert "channel" in catalog.text_columns("raw.orders")
    assert pg.same_type("TIMESTAMP", next(c for c in catalog.columns("raw.orders") if c.name == "order_ts"))


def test_postgres_gives_the_same_values_as_duckdb_with_timestamps_in_utc(
    pg: PostgresAdapter, built_product: Settings
) -> None:
    _same_facts(pg.fetch(FACTS, timeout_s=60)[0], _duckdb_facts(built_product))


def test_postgres_refuses_to_write_even_when_asked(pg: PostgresAdapter) -> None:
    with pytest.raises(EngineError, match="read-only transaction"):
        pg.fetch("CREATE TABLE raw.intruder AS SELECT 1 AS x", timeout_s=10)
    with pytest.raises(EngineError, match="read-only transaction"):
        pg.fetch("WITH gone AS (DELETE FROM raw.orders RETURNING 1) SELECT count(*) FROM gone", timeout_s=10)
    assert pg.fetch("SELECT count(*) FROM raw.orders", timeout_s=10)[0][0] > 0


def test_a_postgres_query_past_its_limit_is_cancelled_as_a_timeout(pg: PostgresAdapter) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimedOut, match="timed out after 500ms"):
        pg.fetch("SELECT pg_sleep(30)", timeout_s=0.5)
    assert time.monotonic() - started < 25  # cancelled, not waited out
    assert pg.fetch("SELECT 1", timeout_s=10) == [(1,)]  # the connection is still usable


def test_a_missing_postgres_table_is_an_error_naming_it(pg: PostgresAdapter) -> None:
    with pytest.raises(EngineError, match=r'relation "raw\.nothing" does not exist'):
        pg.fetch("SELECT count(*) FROM raw.nothing", timeout_s=10)


def test_postgres_errors_that_quote_data_are_redacted(pg: PostgresAdapter) -> None:
    with pytest.raises(EngineError) as caught:
        pg.fetch("SELECT CAST(channel || '-secret' AS integer) FROM raw.orders", timeout_s=10)
    assert "secret" not in str(caught.value) and "invalid input syntax" in str(caught.value)


def test_wrong_postgres_credentials_are_one_clear_error(
    postgres: PostgresCluster, pg_product: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLO_TEST_PG_PASSWORD", "not-the-password")
    with pytest.raises(EngineError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:\d+/t_\w+: .*password"):
        PostgresAdapter.open(_server(postgres, pg_product))
    monkeypatch.delenv("SLO_TEST_PG_PASSWORD")
    with pytest.raises(EngineError, match=r"environment variable SLO_TEST_PG_PASSWORD .* is not set"):
        PostgresAdapter.open(_server(postgres, pg_product))


def test_an_unreachable_postgres_server_is_one_clear_error(postgres: PostgresCluster, pg_product: str) -> None:
    from tests.prometheus_support import free_port

    server = _server(postgres, pg_product, port=free_port(), password_env=None, connect_timeout=2)
    with pytest.raises(EngineError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:\d+/"):
        PostgresAdapter.open(server)


def test_a_spec_cannot_hold_a_password() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="'password' cannot be written in a spec"):
        PostgresServer.model_validate({"type": "postgres", "database": "d", "password": "hunter2"})


# Spark: one local session for the whole test session.


@pytest.fixture(scope="module")
def spark_product(
    spark: SparkSession, built_product: Settings, tmp_path_factory: pytest.TempPathFactory
) -> SparkAdapter:
    folder = tmp_path_factory.mktemp("spark-tables")
    to_parquet_folder(built_product.database, folder, landing=built_product.landing_database)
    adapter = SparkAdapter(spark)
    adapter.register_parquet_tables(folder)
    return adapter


@pytest.mark.heavy
def test_spark_catalog_lists_the_registered_tables(spark_product: SparkAdapter) -> None:
    catalog = spark_product.catalog()
    assert catalog.exists("raw.orders") and catalog.exists("product_affinity.product_pair_affinity")
    families = {c.name: c.family for c in catalog.columns("raw.orders")}
    assert families["order_ts"] == "timestamp" and families["order_id"] == "integer"
    order_ts = next(c for c in catalog.columns("raw.orders") if c.name == "order_ts")
    assert spark_product.same_type("TIMESTAMP", order_ts)


@pytest.mark.heavy
def test_spark_catalog_reads_columns_without_resolving_each_table_through_the_catalog_api(
    spark_product: SparkAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """listTables and listColumns (with its deprecated dbName) resolved every table again: ~1-2 s per evaluation at
    20 tables. SHOW TABLES and the analysed table's schema give the same tables, columns and type spellings
    (CHAR/VARCHAR too)."""
    from dagster_project.engines.spark import family

    session = spark_product.session
    session.sql("CREATE DATABASE IF NOT EXISTS slo_probe")
    session.sql("CREATE TABLE IF NOT EXISTS slo_probe.codes (code VARCHAR(8), kind CHAR(2), n INT) USING parquet")
    try:
        want = {
            f"{d.name}.{t.name}": tuple(
                (c.name, c.dataType, family(c.dataType)) for c in session.catalog.listColumns(f"`{d.name}`.`{t.name}`")
            )
            for d in session.catalog.listDatabases()
            for t in session.catalog.listTables(d.name)
            if not t.isTemporary
        }

        def refused(*args: object, **kwargs: object) -> None:
            raise AssertionError("the catalog API resolves every table")

        monkeypatch.setattr(session.catalog, "listColumns", refused)
        monkeypatch.setattr(session.catalog, "listTables", refused)
        catalog = spark_product.catalog()
        got = {name: tuple((c.name, c.type, c.family) for c in cols) for name, cols in catalog.tables.items()}
        assert got == want
        assert "slo_probe.codes" in got
    finally:
        session.sql("DROP DATABASE IF EXISTS slo_probe CASCADE")


@pytest.mark.heavy
def test_spark_gives_the_same_values_as_duckdb_with_timestamps_in_utc(
    spark_product: SparkAdapter, built_product: Settings
) -> None:
    spark_sql = FACTS.replace("USING (order_id)", "ON i.order_id = o.order_id").replace(
        "DISTINCT order_id", "DISTINCT o.order_id"
    )
    _same_facts(spark_product.fetch(spark_sql, timeout_s=120)[0], _duckdb_facts(built_product))


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE raw.orders",
        "INSERT INTO raw.orders SELECT * FROM raw.orders",
        "SELECT 1; DROP TABLE raw.orders",
        "CREATE TABLE x AS SELECT 1",
    ],
)
def test_spark_refuses_anything_but_one_select_before_running_it(sql: str) -> None:
    with pytest.raises(EngineError, match=r"refused: Spark runs only one SELECT|not a valid Spark SQL"):
        require_one_select(sql)


@pytest.mark.heavy
def test_a_spark_query_past_its_limit_is_interrupted_as_a_timeout(spark_product: SparkAdapter) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimedOut, match="timed out after 1s"):
        # Many small tasks: Spark cancels a job between tasks (a running task is interrupted where it checks).
        spark_product.fetch("SELECT sum(hash(id, id * 2)) FROM range(0, 100000000000, 1, 4000)", timeout_s=1)
    assert time.monotonic() - started < 60
    assert spark_product.fetch("SELECT 1 AS one", timeout_s=30) == [(1,)]


@pytest.mark.heavy
def test_a_missing_spark_table_is_an_error_naming_it(spark_product: SparkAdapter) -> None:
    with pytest.raises(EngineError, match=r"TABLE_OR_VIEW_NOT_FOUND.*nothing"):
        spark_product.fetch("SELECT count(*) FROM raw.nothing", timeout_s=30)


def test_the_transfer_leaves_the_duckdb_files_untouched(built_product: Settings, tmp_path: Path) -> None:
    import hashlib

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    before = digest(built_product.database), digest(built_product.landing_database)
    copied = to_parquet_folder(built_product.database, tmp_path, landing=built_product.landing_database)
    assert "raw.orders" in copied and (tmp_path / "raw" / "orders" / "data.parquet").exists()
    assert (digest(built_product.database), digest(built_product.landing_database)) == before


def test_the_transfer_copies_exactly_the_tables_duckdb_shows_a_spec(built_product: Settings, tmp_path: Path) -> None:
    """The landing file's own marker (its build_log.owner) is not a raw.* table: copied, it became a raw.owner that
    DuckDB never shows, so the engines' catalogs differed."""
    from dagster_project.engines.duckdb_adapter import open_adapter

    with open_adapter(built_product.database, landing=built_product.landing_database) as adapter:
        shown = set(adapter.catalog().tables)
    copied = to_parquet_folder(built_product.database, tmp_path, landing=built_product.landing_database)
    assert "raw.owner" not in copied
    assert sorted(copied) == sorted(shown)


def test_a_whole_number_range_bound_compares_an_integer_column_without_casting_each_value(pg: PostgresAdapter) -> None:
    from dagster_project.indicators.sql import render
    from dagster_project.slo.plan import scan_query
    from tests.test_indicator_registry import make_slo

    slo = make_slo("in_range", dataset="raw.order_items", column="quantity", min=1.0, max=100.0)
    query = render(scan_query("raw.order_items", [slo], datetime(2026, 11, 27), []).fused, "postgres")
    plan = "\n".join(str(r[0]) for r in pg.con.execute(f"EXPLAIN (VERBOSE) {query}".encode()).fetchall())
    assert "quantity >= 1" in plan
    assert "::numeric" not in plan  # `quantity >= 1.0` made PostgreSQL cast every row's quantity to numeric


def test_not_in_future_compares_the_column_with_one_timestamp_without_per_row_arithmetic(pg: PostgresAdapter) -> None:
    from dagster_project.indicators.sql import render
    from dagster_project.slo.plan import scan_query
    from tests.test_indicator_registry import make_slo

    slo = make_slo("not_in_future", dataset="raw.orders", column="order_ts", tolerance=300.5)
    query = render(scan_query("raw.orders", [slo], datetime(2026, 11, 27), []).fused, "postgres")
    plan = "\n".join(str(r[0]) for r in pg.con.execute(f"EXPLAIN (VERBOSE) {query}".encode()).fetchall())
    assert "order_ts <= '2026-11-27 00:05:00.5'::timestamp without time zone" in plan
    assert "date_part" not in plan  # epoch seconds of every row made PostgreSQL's scan of raw.orders 1.3x its floor


@pytest.mark.heavy
def test_single_column_uniqueness_is_planned_by_spark_without_copying_every_row(spark_product: SparkAdapter) -> None:
    """A FILTER on count(DISTINCT ...) makes Spark rewrite the aggregate with an Expand (every row copied once per
    aggregate group): raw.orders' scan took 1.25x its hand-written floor at 1M for it. One column needs no FILTER."""
    from dagster_project.indicators.sql import render
    from dagster_project.slo.plan import scan_query
    from tests.test_indicator_registry import make_slo

    slos = [
        make_slo("uniqueness", dataset="raw.orders", columns=("order_id",)),
        make_slo("max_age", "raw.orders", column="order_ts"),
    ]
    query = render(scan_query("raw.orders", slos, datetime(2026, 11, 27), []).fused, "spark")
    plan = spark_product.session.sql(f"EXPLAIN {query}").collect()[0][0]
    assert "Expand" not in plan
    assert spark_product.fetch(query, timeout_s=120)[0][0] == 1.0
