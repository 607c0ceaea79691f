"""The private servers the engine and store tests share: a PostgreSQL cluster that checks passwords, and a local
Spark session in UTC."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.server_support import PostgresCluster, ServerMissing, _missing, start_postgres_cluster

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def test_the_private_postgres_cluster_answers_on_loopback_with_its_password(postgres: PostgresCluster) -> None:
    import psycopg

    db = postgres.create_database()
    with psycopg.connect(postgres.dsn(db)) as con:
        row = con.execute("SELECT current_database(), current_setting('TimeZone'), inet_server_addr()::text").fetchone()
    assert row is not None
    assert row[0] == db
    assert row[1] == "UTC"
    assert row[2].startswith("127.0.0.1")


def test_the_private_postgres_cluster_refuses_a_wrong_password(postgres: PostgresCluster) -> None:
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres.dsn(password="wrong")).close()


def test_a_cluster_started_outside_pytest_takes_settings_and_is_stopped_and_removed_at_exit() -> None:
    """start_postgres_cluster (what the fixture and the benchmarks use): its settings apply, and at exit the server is
    stopped and its folder removed."""
    import psycopg

    try:
        with start_postgres_cluster(settings={"work_mem": "7MB"}) as cluster:
            assert cluster.execute("SHOW work_mem") == [("7MB",)]
            assert cluster.execute("SHOW TimeZone") == [("UTC",)]
            dsn, root = cluster.dsn(), cluster.root
    except ServerMissing as missing:
        _missing(missing.what, missing.install)
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn).close()


@pytest.mark.heavy
def test_the_shared_spark_session_is_local_and_in_utc(spark: SparkSession) -> None:
    assert spark.sparkContext.master == "local[2]"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.sql("SELECT CAST(TIMESTAMP '2026-11-27 06:00:00' AS BIGINT) AS s").collect()[0]["s"] == 1795759200
