"""Great Expectations on PostgreSQL (GX's SQL datasource) and on Spark (GX's Spark datasource): over a table made of
the awkward cases (a value with a trailing newline, NaN, text where numbers are expected, a compound key with a null
part) every SLO GX expresses gives the native engine's number on the same server; GX's sessions on PostgreSQL are
read-only and the password never reaches the GX files on disk; `slo check --engine gx` runs GX on a product's own
server."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from dagster_project.engines import gx, gx_batches
from dagster_project.engines.evaluate import evaluate
from dagster_project.engines.postgres import PostgresAdapter
from dagster_project.engines.spark import SparkAdapter
from dagster_project.indicators.registry import make
from dagster_project.settings import Settings
from dagster_project.slo.domain import Slo, Threshold
from dagster_project.slo.evaluation import Evaluation
from dagster_project.slo.plan import compile_plan
from tests.conftest import AS_OF
from tests.server_support import PostgresCluster

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

NAIVE_AS_OF = AS_OF.replace(tzinfo=None)

# id, code (text), n (numbers as text), qty (double), a, b (a compound key)
ROWS: list[tuple[Any, ...]] = [
    (1, "AB-1", "1", 1.5, "x", "y"),
    (2, "AB-2\n", "2.0", math.nan, "x", "y"),
    (3, "zz", "abc", 7.0, None, "y"),
    (4, None, None, None, "x", None),
    (5, "AB-3", " 3 ", 2.0, "p", "q"),
    (6, "AB-4", "4", 0.5, "p", "r"),
]

INDICATORS: dict[str, tuple[str, dict[str, Any]]] = {
    "pattern": ("matches_pattern", {"column": "code", "regex": "AB-[0-9]"}),
    "numbers_in_set": ("in_set", {"column": "n", "values": [1, 2, 3]}),
    "words_in_set": ("in_set", {"column": "code", "values": ["AB-1", "zz"], "nulls": "fail"}),
    "in_range": ("in_range", {"column": "qty", "min": 0.0, "max": 5.0}),
    "unique_key": ("uniqueness", {"columns": ["a", "b"]}),
    "unique_id": ("uniqueness", {"columns": ["id"]}),
    "complete": ("non_null_ratio", {"columns": ["a", "b", "code"]}),
}
# What the native engine says (and so GX must): the trailing newline is no full match, text is no number, NaN is
# out of range, a key with a null part is no key.
EXPECTED = {
    "pattern": 3 / 5,
    "numbers_in_set": 3 / 5,
    "words_in_set": 2 / 6,
    "in_range": 3 / 5,
    "unique_key": 3 / 4,
    "unique_id": 1.0,
    "complete": 4 / 6,
}


def _slos(dataset: str = "raw.edge") -> list[Slo]:
    return [
        Slo(
            id=name,
            product="edge",
            dimension="validity",
            dataset=dataset,
            indicator=make(kind, **params),
            threshold=Threshold.of("min", 0.99),
            severity="error",
            objective=0.99,
            windows_s=(86400.0,),
            protects=("goal", "g"),
        )
        for name, (kind, params) in INDICATORS.items()
    ]


def _values(evaluations: list[Evaluation]) -> dict[str, float | None]:
    assert [e.error for e in evaluations if e.error] == []
    return {e.slo.id: e.observed for e in evaluations}


def _gx_and_native(adapter: Any, root: Path) -> tuple[dict[str, float | None], dict[str, float | None]]:
    plan = compile_plan(_slos())
    on_gx, run = gx.evaluate_on(adapter, plan, NAIVE_AS_OF, root, build_docs=False)
    assert {e.engine for e in on_gx} == {"gx"} and run.checkpoints
    return _values(on_gx), _values(evaluate(adapter, plan, NAIVE_AS_OF))


def test_gx_regexes_read_as_each_engine_reads_them() -> None:
    anchored = r"^(?:\bAB-[0-9])\Z"
    assert gx_batches.regex_for(anchored, "postgres") == r"^(?:\yAB-[0-9])\Z"  # \b is a backspace there
    assert gx_batches.regex_for(anchored, "spark") == r"^(?:\bAB-[0-9])\z"  # Java's \Z allows a final newline


def test_gx_batch_query_keeps_text_that_is_no_number_present_and_out_of_every_set() -> None:
    from dagster_project.indicators.base import BatchColumn

    query = gx_batches.batch_query("raw.edge", [BatchColumn("n", ("n",), "DOUBLE")], "postgres")
    assert "Infinity" in query and 'AS "n"' in query and '"raw"."edge"' in query


@pytest.fixture(scope="module")
def pg_edge(postgres: PostgresCluster) -> str:
    database = postgres.create_database()
    postgres.execute(
        "CREATE SCHEMA raw; "
        "CREATE TABLE raw.edge (id integer, code text, n text, qty double precision, a text, b text)",
        database,
    )
    import psycopg

    with psycopg.connect(postgres.dsn(database), autocommit=True) as con:
        con.cursor().executemany("INSERT INTO raw.edge VALUES (%s, %s, %s, %s, %s, %s)", ROWS)
    return database


@pytest.mark.heavy
def test_gx_on_postgres_gives_the_native_numbers_through_its_sql_datasource(
    tmp_path: Path, postgres: PostgresCluster, pg_edge: str
) -> None:
    import psycopg

    adapter = PostgresAdapter.from_connection(psycopg.connect(postgres.dsn(pg_edge)), "127.0.0.1/edge")
    try:
        on_gx, native = _gx_and_native(adapter, tmp_path)
    finally:
        adapter.close()
    assert native == pytest.approx(EXPECTED, abs=1e-12)
    assert on_gx == pytest.approx(native, abs=1e-9)
    config = (tmp_path / "gx" / "great_expectations.yml").read_text()
    assert "type: postgres" in config and "${SLO_GX_POSTGRES_PASSWORD}" in config


@pytest.mark.heavy
def test_gx_on_postgres_is_read_only_and_keeps_no_password_on_disk(
    tmp_path: Path, postgres: PostgresCluster, pg_edge: str
) -> None:
    import great_expectations as gx_module
    import psycopg

    adapter = PostgresAdapter.from_connection(psycopg.connect(postgres.dsn(pg_edge)), "127.0.0.1/edge")
    try:
        gx.evaluate_on(adapter, compile_plan(_slos()), NAIVE_AS_OF, tmp_path)
        _url, runtime = gx.postgres_url(adapter.con.info)
    finally:
        adapter.close()
    for file in (tmp_path / "gx").rglob("*"):
        if file.is_file():
            assert postgres.password.encode() not in file.read_bytes(), file
    # The datasource GX keeps opens read-only UTC sessions (given the password at run time only).
    context = gx_module.get_context(mode="file", project_root_dir=str(tmp_path), runtime_environment=runtime)
    datasource: Any = context.data_sources.get(gx.gx_name("postgres", "127.0.0.1/edge"))
    with datasource.get_engine().connect() as con:
        assert con.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
        assert con.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
        with pytest.raises(Exception, match="read-only transaction"):
            con.exec_driver_sql("CREATE TABLE raw.written (x integer)")


@pytest.mark.heavy
def test_a_gx_user_runs_the_postgres_checkpoint_on_live_data_with_credentials_from_the_environment(
    tmp_path: Path, postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file context a check writes for a product on PostgreSQL reads the live table, not a snapshot: a row
    inserted after the check is in the next run a GX user starts, from another folder, with plain GX and only the
    environment variables the datasource names."""
    import great_expectations as gx_module
    import psycopg

    database = postgres.create_database()
    postgres.execute(
        "CREATE SCHEMA raw; "
        "CREATE TABLE raw.edge (id integer, code text, n text, qty double precision, a text, b text)",
        database,
    )
    with psycopg.connect(postgres.dsn(database), autocommit=True) as con:
        con.cursor().executemany("INSERT INTO raw.edge VALUES (%s, %s, %s, %s, %s, %s)", ROWS)
    adapter = PostgresAdapter.from_connection(psycopg.connect(postgres.dsn(database)), "127.0.0.1/live")
    try:
        gx.evaluate_on(adapter, compile_plan(_slos()), NAIVE_AS_OF, tmp_path / "state", build_docs=False)
    finally:
        adapter.close()
    assert not list((tmp_path / "state" / "gx").rglob("*.parquet"))  # no snapshot anywhere
    with psycopg.connect(postgres.dsn(database), autocommit=True) as con:
        con.execute("INSERT INTO raw.edge VALUES (7, 'AB-5', '1', 1.0, 's', 't')")

    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setenv(gx.USER_VARIABLE, postgres.user)
    monkeypatch.setenv(gx.PASSWORD_VARIABLE, postgres.password)  # token_urlsafe: nothing to URL-quote
    context = gx_module.get_context(mode="file", project_root_dir=str(tmp_path / "state"))
    result = context.checkpoints.get(gx.gx_name("edge")).run()
    outcomes = [r for v in result.run_results.values() for r in v.results]
    assert outcomes and [r.exception_info for r in outcomes if r.exception_info.get("raised_exception")] == []
    metas = [(getattr(r.expectation_config, "meta", None) or {}, r.result) for r in outcomes]
    rows = [result["element_count"] for meta, result in metas if meta.get("slo") == "in_range"]
    assert rows == [len(ROWS) + 1]  # the row inserted after the check: GX read the live table


@pytest.mark.heavy
def test_gx_on_spark_gives_the_native_numbers_through_its_spark_datasource(tmp_path: Path, spark: SparkSession) -> None:
    folder = tmp_path / "lake"
    (folder / "raw").mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute("CREATE TABLE edge (id INTEGER, code VARCHAR, n VARCHAR, qty DOUBLE, a VARCHAR, b VARCHAR)")
        con.executemany("INSERT INTO edge VALUES (?, ?, ?, ?, ?, ?)", ROWS)
        con.execute(f"COPY edge TO '{folder / 'raw' / 'edge.parquet'}' (FORMAT parquet)")
    adapter = SparkAdapter(spark)
    adapter.register_parquet_tables(folder, replace=True)
    on_gx, native = _gx_and_native(adapter, tmp_path)
    assert native == pytest.approx(EXPECTED, abs=1e-12)
    assert on_gx == pytest.approx(native, abs=1e-9)
    config = (tmp_path / "gx" / "great_expectations.yml").read_text()
    assert "type: spark" in config
    # GX persists each batch it reads; none is left cached in the shared session.
    assert spark._jsparkSession.sharedState().cacheManager().isEmpty()


@pytest.mark.heavy
def test_slo_check_with_gx_runs_gx_on_the_products_postgres_server(
    tmp_path: Path, postgres: PostgresCluster, built_product: Settings
) -> None:
    import json

    from dagster_project.datagen.transfer import to_postgres
    from tests.cli_support import run_slo
    from tests.test_check_on_servers import AS_OF as CHECK_AS_OF
    from tests.test_check_on_servers import _pg_server, _spec

    database = postgres.create_database()
    to_postgres(built_product.database, postgres.dsn(database), landing=built_product.landing_database)
    (tmp_path / "specs").mkdir()
    _spec(tmp_path / "specs", "on_duckdb", "")
    _spec(tmp_path / "specs", "on_pg", _pg_server(postgres, database))
    done = run_slo(
        "check", "--json", "--no-record", "--engine", "gx", "--as-of", CHECK_AS_OF, "--db", str(built_product.database),
        env={"SLO_SPECS": str(tmp_path / "specs"), "SHOP_PG_PASSWORD": postgres.password},
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    payload = json.loads(done.stdout)
    results = payload["results"]
    assert all(r["error"] is None for r in results), [r["error"] for r in results if r["error"]]
    engines = {(r["product"], str(r["slo"]).split("_", 2)[-1]): r["engine"] for r in results}
    # GX where it can (uniqueness, in_range), natively what it cannot express (freshness, referential integrity).
    for product in ("on_duckdb", "on_pg"):
        assert engines[(product, "orders_unique")] == engines[(product, "prices_valid")] == "gx"
        assert engines[(product, "orders_fresh")] == engines[(product, "items_known")] == "native"
    observed = {p: {str(r["slo"]).split("_", 2)[-1]: r["observed"] for r in results if r["product"] == p} for p in
                ("on_duckdb", "on_pg")}  # fmt: skip
    assert observed["on_pg"] == pytest.approx(observed["on_duckdb"], abs=1e-9)


def test_a_gx_run_that_fails_is_an_error_for_its_slos_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import great_expectations as gx_module

    from dagster_project.engines.duckdb_adapter import DuckDBAdapter

    with duckdb.connect() as con:
        con.execute("CREATE TEMP TABLE edge (id INTEGER, code VARCHAR, n VARCHAR, qty DOUBLE, a VARCHAR, b VARCHAR)")
        con.executemany("INSERT INTO edge VALUES (?, ?, ?, ?, ?, ?)", ROWS)

        def server_gone(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("server closed the connection unexpectedly")

        monkeypatch.setattr(gx_module.Checkpoint, "run", server_gone)
        rows = Slo(
            id="rows", product="edge", dimension="completeness", dataset="temp.edge",
            indicator=make("row_count"), threshold=Threshold.of("min", 1.0), severity="error", objective=0.99,
            windows_s=(86400.0,), protects=("goal", "g"),
        )  # fmt: skip
        evaluations, _run = gx.evaluate_on(
            DuckDBAdapter(con), compile_plan([*_slos("temp.edge"), rows]), NAIVE_AS_OF, tmp_path, build_docs=False
        )
    by_id = {e.slo.id: e for e in evaluations}
    assert {by_id[name].error for name in INDICATORS} == {"GX: server closed the connection unexpectedly"}
    assert by_id["rows"].error is None and by_id["rows"].observed == len(ROWS)  # native, unaffected


@pytest.mark.heavy
def test_gx_unable_to_connect_is_an_error_for_its_slos_and_the_native_ones_still_run(
    tmp_path: Path, postgres: PostgresCluster, pg_edge: str
) -> None:
    import psycopg

    # A role allowed one connection: the adapter holds it, so GX's own connection is refused.
    postgres.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'one_conn') THEN "
        "CREATE ROLE one_conn LOGIN PASSWORD 'one-secret' CONNECTION LIMIT 1; END IF; END $$",
        pg_edge,
    )
    postgres.execute("GRANT USAGE ON SCHEMA raw TO one_conn; GRANT SELECT ON raw.edge TO one_conn", pg_edge)
    rows = Slo(
        id="rows", product="edge", dimension="completeness", dataset="raw.edge", indicator=make("row_count"),
        threshold=Threshold.of("min", 1.0), severity="error", objective=0.99, windows_s=(86400.0,),
        protects=("goal", "g"),
    )  # fmt: skip
    con = psycopg.connect(postgres.dsn(pg_edge, user="one_conn", password="one-secret"))
    adapter = PostgresAdapter.from_connection(con, "127.0.0.1/edge")
    try:
        evaluations, _run = gx.evaluate_on(adapter, compile_plan([*_slos(), rows]), NAIVE_AS_OF, tmp_path)
    finally:
        adapter.close()
    by_id = {e.slo.id: e for e in evaluations}
    for name in INDICATORS:
        error = str(by_id[name].error)
        assert error.startswith("GX cannot open its postgres datasource: ") and "too many connections" in error
        assert "one-secret" not in error
    assert by_id["rows"].error is None and by_id["rows"].observed == len(ROWS)
