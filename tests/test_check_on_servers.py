"""`slo check` where each product's data lives (its spec's `server:`): a product on PostgreSQL and one on Spark are
checked there with the numbers DuckDB gives; an unreachable server is one error result per SLO naming the product,
the server and the reason while the other products still run; credentials never sit in a spec; what an engine
cannot run is refused at its place before anything runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dagster_project.datagen.transfer import to_parquet_folder, to_postgres
from dagster_project.settings import Settings
from tests.cli_support import run_slo
from tests.prometheus_support import free_port
from tests.server_support import PostgresCluster

AS_OF = "2026-11-27T06:00:00Z"

SLOS = """
slos:
  - id: {product}_orders_fresh
    dimension: freshness
    dataset: raw.orders
    indicator: {{type: max_age, column: order_ts}}
    threshold: {{max: 24h}}
    severity: error
    objective: 0.99
  - id: {product}_orders_unique
    dimension: uniqueness
    dataset: raw.orders
    indicator: {{type: uniqueness, columns: [order_id]}}
    threshold: {{min: 1}}
    severity: error
    objective: 0.99
  - id: {product}_prices_valid
    dimension: validity
    dataset: raw.order_items
    indicator: {{type: in_range, column: unit_price, min: 0.01, max: 10000}}
    threshold: {{min: 0.99}}
    severity: warn
    objective: 0.99
  - id: {product}_items_known
    dimension: accuracy
    dataset: raw.order_items
    indicator:
      {{type: referential_integrity, column: order_id, reference_dataset: raw.orders, reference_column: order_id}}
    threshold: {{min: 0.99}}
    severity: warn
    objective: 0.99
"""


def _spec(folder: Path, product: str, server: str) -> Path:
    path = folder / f"{product}.yaml"
    path.write_text(
        f"version: 1\ndata_product: {{id: {product}, owner: data-team}}\n{server}" + SLOS.format(product=product)
    )
    return path


def _observed(results: list[dict[str, object]], product: str) -> dict[str, object]:
    return {str(r["slo"]).removeprefix(f"{product}_"): r["observed"] for r in results if r["product"] == product}


def _check(folder: Path, built: Settings, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    done = run_slo(
        "check",
        "--json",
        "--no-record",
        "--as-of",
        AS_OF,
        "--db",
        str(built.database),
        env={"SLO_SPECS": str(folder), **(env or {})},
    )
    payload = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, payload, done.stderr


@pytest.fixture(scope="module")
def pg_database(postgres: PostgresCluster, built_product: Settings) -> str:
    db = postgres.create_database()
    to_postgres(built_product.database, postgres.dsn(db), landing=built_product.landing_database)
    return db


def _pg_server(postgres: PostgresCluster, db: str, port: int | None = None) -> str:
    return (
        f"server: {{type: postgres, host: 127.0.0.1, port: {port or postgres.port}, database: {db}, "
        f"user: {postgres.user}, password_env: SHOP_PG_PASSWORD, connect_timeout: 3}}\n"
    )


def test_a_product_on_postgres_is_checked_there_with_duckdbs_numbers(
    tmp_path: Path, postgres: PostgresCluster, pg_database: str, built_product: Settings
) -> None:
    _spec(tmp_path, "on_duckdb", "")
    _spec(tmp_path, "on_pg", _pg_server(postgres, pg_database))
    code, payload, stderr = _check(tmp_path, built_product, {"SHOP_PG_PASSWORD": postgres.password})
    assert code in (0, 1), stderr
    results = payload["results"]
    assert all(r["error"] is None for r in results), [r["error"] for r in results if r["error"]]
    assert _observed(results, "on_pg") == pytest.approx(_observed(results, "on_duckdb"), abs=1e-9)
    assert len(_observed(results, "on_pg")) == 4


def test_an_unreachable_server_is_an_error_per_slo_naming_product_and_server_and_the_rest_still_runs(
    tmp_path: Path, postgres: PostgresCluster, pg_database: str, built_product: Settings
) -> None:
    _spec(tmp_path, "on_duckdb", "")
    port = free_port()
    _spec(tmp_path, "on_pg", _pg_server(postgres, pg_database, port=port))
    code, payload, stderr = _check(tmp_path, built_product, {"SHOP_PG_PASSWORD": postgres.password})
    assert code == 1, stderr  # error SLOs that could not be judged block
    assert "Traceback" not in stderr
    by_product: dict[str, list[dict[str, object]]] = {}
    for r in payload["results"]:
        by_product.setdefault(str(r["product"]), []).append(r)
    assert all(r["error"] is None for r in by_product["on_duckdb"])
    errors = [str(r["error"]) for r in by_product["on_pg"]]
    assert len(errors) == 4
    for error in errors:  # where the SLO is written (as for every error result), then the product and server
        where, reason = error.split(": ", 1)
        assert where.startswith(str(tmp_path / "on_pg.yaml") + ":")
        assert reason.startswith(
            f"product on_pg: postgres 127.0.0.1:{port}/{pg_database}: cannot connect to PostgreSQL"
        )


def test_a_wrong_password_is_an_error_naming_the_server_and_never_the_password(
    tmp_path: Path, postgres: PostgresCluster, pg_database: str, built_product: Settings
) -> None:
    _spec(tmp_path, "on_pg", _pg_server(postgres, pg_database))
    code, payload, stderr = _check(tmp_path, built_product, {"SHOP_PG_PASSWORD": "s3cret-wrong"})
    assert code == 1 and "Traceback" not in stderr
    errors = [str(r["error"]) for r in payload["results"]]
    assert len(errors) == 4 and all("password authentication failed" in e for e in errors)
    assert "s3cret-wrong" not in json.dumps(payload) + stderr


def test_a_password_written_in_a_spec_is_refused_at_its_line(tmp_path: Path, built_product: Settings) -> None:
    spec = _spec(tmp_path, "on_pg", "server: {type: postgres, database: shop, password: hunter2}\n")
    code, _payload, stderr = _check(tmp_path, built_product)
    assert code == 2
    assert f"{spec}:3:" in stderr and "'password' cannot be written in a spec" in stderr
    assert "hunter2" not in stderr


def test_what_spark_cannot_run_is_refused_at_its_place_before_anything_runs(
    tmp_path: Path, built_product: Settings
) -> None:
    spec = tmp_path / "latency.yaml"
    spec.write_text(
        "version: 1\ndata_product: {id: lat, owner: t}\nserver: {type: spark, master: 'local[1]'}\n"
        "consumer_queries: [{id: q, use_case: u, sql: SELECT 1}]\n"
        "data_product_use_cases: []\n".replace("data_product_use_cases: []\n", "")
        + "slos:\n  - id: lat_q\n    dimension: performance\n    dataset: raw.orders\n"
        "    indicator: {type: build_duration}\n    threshold: {max: 1h}\n    severity: warn\n    objective: 0.9\n"
    )
    code, _payload, stderr = _check(tmp_path, built_product)
    assert code == 2
    assert f"{spec}:9:" in stderr and "build_duration cannot run on spark" in stderr


def test_a_built_product_cannot_say_its_data_lives_elsewhere(tmp_path: Path) -> None:
    spec = tmp_path / "built.yaml"
    spec.write_text(
        "version: 1\ndata_product: {id: built, owner: t}\nbuild: some.module:BUILD\n"
        "server: {type: postgres, database: shop}\n" + SLOS.format(product="built")
    )
    done = run_slo("validate", str(spec))
    assert done.returncode == 2
    assert f"{spec}:4:" in done.stdout and "cannot live on postgres" in done.stdout


@pytest.mark.heavy
def test_a_product_on_spark_is_checked_there_with_duckdbs_numbers(tmp_path: Path, built_product: Settings) -> None:
    tables = tmp_path / "lake"
    to_parquet_folder(built_product.database, tables, landing=built_product.landing_database)
    _spec(tmp_path, "on_duckdb", "")
    _spec(tmp_path, "on_spark", "server: {type: spark, master: 'local[2]', tables: lake}\n")  # relative to the spec
    code, payload, stderr = _check(tmp_path, built_product)
    assert code in (0, 1), stderr
    results = payload["results"]
    assert all(r["error"] is None for r in results), [r["error"] for r in results if r["error"]]
    assert _observed(results, "on_spark") == pytest.approx(_observed(results, "on_duckdb"), abs=1e-9)


def test_a_product_in_its_own_duckdb_file_is_checked_there_relative_to_its_spec(
    tmp_path: Path, built_product: Settings
) -> None:
    import shutil

    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(built_product.database, data / "shop.duckdb")
    shutil.copyfile(built_product.landing_database, data / "shop.duckdb.landing")
    specs = tmp_path / "specs"
    specs.mkdir()
    _spec(specs, "own_file", "server: {type: duckdb, path: ../data/shop.duckdb}\n")
    _spec(specs, "on_duckdb", "")
    before = (data / "shop.duckdb").read_bytes()
    code, payload, stderr = _check(specs, built_product)
    assert code in (0, 1), stderr
    results = payload["results"]
    assert all(r["error"] is None for r in results), [r["error"] for r in results if r["error"]]
    assert _observed(results, "own_file") == _observed(results, "on_duckdb")
    assert (data / "shop.duckdb").read_bytes() == before  # read-only

    _spec(specs, "own_file", "server: {type: duckdb, path: ../data/missing.duckdb}\n")
    code, _payload, stderr = _check(specs, built_product)
    assert code == 2 and "missing.duckdb does not exist" in stderr and "Traceback" not in stderr


def test_a_spec_that_does_not_fit_its_postgres_database_is_exit_2_at_its_place_before_anything_runs(
    tmp_path: Path, postgres: PostgresCluster, pg_database: str, built_product: Settings
) -> None:
    spec = _spec(tmp_path, "on_pg", _pg_server(postgres, pg_database))
    spec.write_text(spec.read_text().replace("column: unit_price", "column: unit_prize"))
    code, payload, stderr = _check(tmp_path, built_product, {"SHOP_PG_PASSWORD": postgres.password})
    assert code == 2 and payload == {}
    assert f"{spec}:" in stderr and "unit_prize" in stderr and "nothing was evaluated" in stderr


def test_a_table_the_role_may_not_read_is_an_error_naming_product_server_and_slo_and_the_rest_still_runs(
    tmp_path: Path, postgres: PostgresCluster, built_product: Settings
) -> None:
    db = postgres.create_database()
    to_postgres(built_product.database, postgres.dsn(db), landing=built_product.landing_database)
    role = f"reader_{db}"
    postgres.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'reader-pw'")
    postgres.execute(f"GRANT USAGE ON SCHEMA raw TO {role}; GRANT SELECT ON raw.orders TO {role}", dbname=db)
    server = _pg_server(postgres, db).replace(f"user: {postgres.user}", f"user: {role}")
    spec = _spec(tmp_path, "on_pg", server)
    code, payload, stderr = _check(tmp_path, built_product, {"SHOP_PG_PASSWORD": "reader-pw"})
    assert code in (0, 1), stderr  # evaluated (the denied SLOs are warnings): not refused as a spec mistake (2)
    assert "Traceback" not in stderr
    results = {str(r["slo"]): r for r in payload["results"]}
    assert len(results) == 4
    assert results["on_pg_orders_fresh"]["error"] is None and results["on_pg_orders_fresh"]["observed"] is not None
    assert results["on_pg_orders_unique"]["error"] is None
    for slo in ("on_pg_prices_valid", "on_pg_items_known"):
        error = str(results[slo]["error"])
        where, reason = error.split(": ", 1)
        assert where.startswith(str(spec) + ":")  # the SLO (the record's `slo`), and where it is written
        server_label = f"postgres 127.0.0.1:{postgres.port}/{db}"
        assert reason == f"product on_pg: {server_label}: permission denied for table order_items"
