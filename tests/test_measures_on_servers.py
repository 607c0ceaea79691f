"""The North Star and the goals are measured where the product's data lives: a check-only product on PostgreSQL shows
PostgreSQL's value in the report and on /metrics, never the deployment DuckDB's (which holds other numbers)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dagster_project.exporter import names as n
from dagster_project.exporter.server import Exporter, ExporterConfig
from dagster_project.report.build import reports
from dagster_project.spec.validate import validate
from tests.server_support import PostgresCluster
from tests.test_database_check import MINIMAL, make_database

AS_OF = datetime(2026, 11, 27, 6, tzinfo=UTC)


def _product_on_postgres(tmp_path: Path, postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = postgres.create_database()
    postgres.execute(
        "CREATE SCHEMA product_affinity; CREATE SCHEMA raw;"
        " CREATE TABLE product_affinity.north_star_daily (metric_date DATE, metric TEXT, value DOUBLE PRECISION);"
        " INSERT INTO product_affinity.north_star_daily"
        " VALUES ('2026-11-25', 'share', 0.2), ('2026-11-26', 'share', 0.4);"
        " CREATE TABLE product_affinity.cross_sell_recommendations"
        " (customer_key TEXT, rank BIGINT, product_id BIGINT, score DOUBLE PRECISION);"
        " CREATE TABLE raw.orders (order_id BIGINT, order_ts TIMESTAMP, channel TEXT, amount DOUBLE PRECISION)",
        dbname=db,
    )
    monkeypatch.setenv("SHOP_PG_PASSWORD", postgres.password)
    server = (
        f"server: {{type: postgres, host: 127.0.0.1, port: {postgres.port}, database: {db}, user: {postgres.user}, "
        "password_env: SHOP_PG_PASSWORD}\n"
    )
    spec = tmp_path / "shop.yaml"
    spec.write_text(MINIMAL.replace("semantic_model:\n", server + "semantic_model:\n", 1))
    return spec


def test_the_report_and_metrics_show_the_north_star_of_a_product_on_postgres_with_postgres_value(
    tmp_path: Path, postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = make_database(tmp_path / "warehouse.duckdb")  # its North Star table says 0.7
    specs, issues = validate([_product_on_postgres(tmp_path, postgres, monkeypatch)])
    assert issues == []
    spec = specs[0].spec
    assert spec.server is not None and spec.server.type == "postgres"

    (report,) = reports([spec], tmp_path / "results.sqlite", AS_OF, deployment, None)
    assert report.north_star is not None and report.north_star.error is None
    assert report.north_star.value == pytest.approx(0.3)  # avg(0.2, 0.4) on PostgreSQL, not DuckDB's 0.7
    assert [v for _day, v in report.star_trend] == pytest.approx([0.2, 0.4])

    exporter = Exporter(
        ExporterConfig(specs=[spec], results=tmp_path / "results.sqlite", database=deployment, as_of=AS_OF)
    )
    body = exporter.refresh().decode()
    star = [line for line in body.splitlines() if line.startswith(n.NORTH_STAR_VALUE.name + "{")]
    assert len(star) == 1 and float(star[0].rsplit(" ", 1)[1]) == pytest.approx(0.3), star
    goal = [line for line in body.splitlines() if line.startswith(n.GOAL_ACTUAL.name + "{")]
    assert len(goal) == 1 and float(goal[0].rsplit(" ", 1)[1]) == pytest.approx(0.3), goal


def test_a_product_whose_server_cannot_be_reached_has_its_measures_in_error_naming_product_and_server(
    tmp_path: Path, postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.prometheus_support import free_port

    deployment = make_database(tmp_path / "warehouse.duckdb")
    path = _product_on_postgres(tmp_path, postgres, monkeypatch)
    port = free_port()
    path.write_text(path.read_text().replace(f"port: {postgres.port}", f"port: {port}"))
    specs, issues = validate([path])
    assert issues == []
    (report,) = reports([specs[0].spec], tmp_path / "results.sqlite", AS_OF, deployment, None)
    assert report.north_star is not None and report.north_star.value is None
    assert str(report.north_star.error).startswith(f"product shop: postgres 127.0.0.1:{port}/")
