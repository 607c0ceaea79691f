"""`slo init` on PostgreSQL and Spark: the built product copied to each engine gets the same starter SLOs as the DuckDB
file it came from (same datasets, columns, numbers, thresholds), the spec carries the `server:` block it was profiled
through, the database is only read (a read-only PostgreSQL role suffices), and a server that cannot be reached or
refuses the credentials is exit 2 on one line."""

from __future__ import annotations

import dataclasses
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from dagster_project.datagen.transfer import to_parquet_folder, to_postgres
from dagster_project.engines.adapter import Catalog
from dagster_project.engines.postgres import PostgresAdapter
from dagster_project.engines.spark import SparkAdapter
from dagster_project.engines.types import same_type
from dagster_project.errors import EXIT_OK, EXIT_USAGE
from dagster_project.scaffold.profile import DatabaseProfile, profile_adapter, profile_database
from dagster_project.scaffold.starter import starter_spec
from dagster_project.settings import Settings
from dagster_project.spec.server import PostgresServer
from tests.cli_support import run_slo
from tests.conftest import AS_OF
from tests.server_support import PostgresCluster, _free_port
from tests.test_init import sha256

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

READER = "slo_init_reader"
PASSWORD_ENV = "SLO_TEST_INIT_PASSWORD"


@dataclasses.dataclass(frozen=True)
class PgProduct:
    database: str
    reader_password: str


@pytest.fixture(scope="module")
def pg_product(postgres: PostgresCluster, built_product: Settings) -> PgProduct:
    """The built product copied into a fresh database, and a role that may only read it."""
    db = postgres.create_database()
    to_postgres(built_product.database, postgres.dsn(db), landing=built_product.landing_database)
    password = secrets.token_urlsafe(12)
    if not postgres.execute(f"SELECT 1 FROM pg_roles WHERE rolname = '{READER}'"):
        postgres.execute(f"CREATE ROLE {READER} LOGIN PASSWORD '{password}'")
    else:
        postgres.execute(f"ALTER ROLE {READER} PASSWORD '{password}'")
    postgres.execute(f'GRANT CONNECT ON DATABASE "{db}" TO {READER}')
    postgres.execute(f'REVOKE CREATE ON DATABASE "{db}" FROM PUBLIC', dbname=db)
    postgres.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC", dbname=db)
    listed = "SELECT DISTINCT schemaname FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    schemas = [row[0] for row in postgres.execute(listed, dbname=db)]
    for schema in schemas:
        postgres.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {READER}', dbname=db)
        postgres.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {READER}', dbname=db)
    return PgProduct(db, password)


def _init(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_slo("init", "--as-of", AS_OF.isoformat(), "--product", "sample", *args, cwd=cwd, env=env, timeout=600)


def _pg_args(postgres: PostgresCluster, database: str, port: int | None = None) -> list[str]:
    return [
        "--server", "postgres", "--host", postgres.host, "--port", str(port or postgres.port), "--database", database,
        "--user", READER, "--password-env", PASSWORD_ENV,
    ]  # fmt: skip


def _pg_server(postgres: PostgresCluster, pg_product: PgProduct) -> PostgresServer:
    return PostgresServer(
        type="postgres",
        host=postgres.host,
        port=postgres.port,
        database=pg_product.database,
        user=READER,
        password_env=PASSWORD_ENV,
    )


def _pg_catalog(postgres: PostgresCluster, pg_product: PgProduct) -> Catalog:
    with pytest.MonkeyPatch.context() as env:
        env.setenv(PASSWORD_ENV, pg_product.reader_password)
        adapter = PostgresAdapter.open(_pg_server(postgres, pg_product))
    try:
        return adapter.catalog()
    finally:
        adapter.close()


def _snapshot(postgres: PostgresCluster, db: str) -> list[tuple[Any, ...]]:
    """Every table of the database with its row count and the md5 of its rows: what a write would change."""
    tables = postgres.execute(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
        "ORDER BY 1, 2",
        dbname=db,
    )
    out = []
    for schema, table in tables:
        ref = f'"{schema}"."{table}"'
        out += postgres.execute(
            f"SELECT '{schema}.{table}', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
            f"FROM {ref} t",
            dbname=db,
        )
    return out


def _comparable(text: str) -> list[Any]:
    """The starter's SLOs, schema SLOs with their column names only (each engine spells its types: _types_match),
    and every comment line but the header's."""
    slos = []
    for slo in yaml.safe_load(text)["slos"]:
        slo = {**slo, "indicator": dict(slo["indicator"])}
        if slo["indicator"]["type"] == "schema":
            slo["indicator"]["columns"] = list(slo["indicator"]["columns"])
        slos.append(slo)
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    header_end = next(i for i, line in enumerate(comments) if line.startswith("# to what your consumers need"))
    body = comments[header_end + 1 :]
    return [slos, [line for line in body if not line.startswith("# Where the data lives")]]


def _types_match(other: dict[str, Any], catalog: Catalog, dialect: str) -> None:
    """Each type a schema SLO writes for the other engine is what that engine reports for the column, as a schema SLO
    compares them there (engines/types.py): the SLO passes on it."""
    for slo in other.values():
        if slo["indicator"]["type"] != "schema":
            continue
        actual = {c.name: c.type for c in catalog.columns(slo["dataset"])}
        for name, written in slo["indicator"]["columns"].items():
            assert same_type(written, actual[name], dialect), (slo["dataset"], name, written, actual[name])


def _numbers(profile: DatabaseProfile) -> list[Any]:
    """What the profile observed, without how each engine spells a column's type."""
    return [
        dataclasses.replace(t, columns=tuple(dataclasses.replace(c, type="", engine_family="other") for c in t.columns))
        for t in profile.tables
    ]


def _same_starter(duck_text: str, other_text: str, catalog: Catalog, dialect: str) -> None:
    duck, other = yaml.safe_load(duck_text), yaml.safe_load(other_text)
    duck_slos, other_slos = _comparable(duck_text), _comparable(other_text)
    assert other_slos[0] == duck_slos[0]
    assert other_slos[1] == duck_slos[1]  # every observation in the comments: the same numbers
    assert [s["id"] for s in other["slos"]] == [s["id"] for s in duck["slos"]]
    _types_match({s["id"]: s for s in other["slos"]}, catalog, dialect)


def test_the_product_on_postgres_gets_the_same_starter_slos_as_its_duckdb_file_through_a_read_only_role(
    tmp_path: Path, postgres: PostgresCluster, pg_product: PgProduct, built_product: Settings
) -> None:
    db = built_product.database
    before_duck, before_pg = sha256(db), _snapshot(postgres, pg_product.database)
    duck_out, pg_out = tmp_path / "duck.yaml", tmp_path / "pg.yaml"
    assert _init(tmp_path, "--db", str(db), "-o", str(duck_out)).returncode == EXIT_OK
    env = {PASSWORD_ENV: pg_product.reader_password}
    result = _init(tmp_path, *_pg_args(postgres, pg_product.database), "-o", str(pg_out), env=env)
    assert result.returncode == EXIT_OK, result.stderr
    _same_starter(duck_out.read_text(), pg_out.read_text(), _pg_catalog(postgres, pg_product), "postgres")
    spec = yaml.safe_load(pg_out.read_text())
    assert spec["server"] == {
        "type": "postgres",
        "host": postgres.host,
        "port": postgres.port,
        "database": pg_product.database,
        "user": READER,
        "password_env": PASSWORD_ENV,
    }
    assert pg_product.reader_password not in pg_out.read_text()
    assert f"the password from ${PASSWORD_ENV}, never written here" in pg_out.read_text()
    datasets = {s["dataset"] for s in spec["slos"]}
    assert {"raw.orders", "staging.order_lines", "product_affinity.product_pair_affinity"} <= datasets
    assert not any(d.startswith("build_log.") for d in datasets)
    # Only read: the role cannot write, and nothing changed.
    assert postgres.execute(f"SELECT rolsuper FROM pg_roles WHERE rolname = '{READER}'") == [(False,)]
    assert _snapshot(postgres, pg_product.database) == before_pg
    assert sha256(db) == before_duck


def test_profiling_postgres_observes_the_numbers_duckdb_observes(
    postgres: PostgresCluster, pg_product: PgProduct, built_product: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, pg_product.reader_password)
    server = _pg_server(postgres, pg_product)
    duck = profile_database(built_product.database, AS_OF)
    adapter = PostgresAdapter.open(server)
    try:
        pg = profile_adapter(adapter, "pg", AS_OF, [t.dataset for t in duck.tables])
    finally:
        adapter.close()
    assert _numbers(pg) == _numbers(duck)
    assert pg.dialect == "postgres"


def test_a_server_that_cannot_be_reached_or_refuses_the_credentials_is_exit_2_on_one_line(
    tmp_path: Path, postgres: PostgresCluster, pg_product: PgProduct
) -> None:
    out = tmp_path / "pg.yaml"
    cases = [
        (_pg_args(postgres, pg_product.database), {PASSWORD_ENV: "wrong"}, "password authentication failed"),
        (_pg_args(postgres, pg_product.database, port=_free_port()), {PASSWORD_ENV: "x"}, "cannot connect"),
        (_pg_args(postgres, pg_product.database), {}, f"environment variable {PASSWORD_ENV}"),
        (["--server", "postgres", "--master", "local[1]", "--database", "d"], {}, "--master is for --server spark"),
        (["--server", "spark", "--database", "d"], {}, "--database is for --server postgres"),
    ]
    for args, env, message in cases:
        result = _init(tmp_path, *args, "-o", str(out), env=env)
        assert result.returncode == EXIT_USAGE, (args, result.stderr)
        assert message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
        assert not out.exists()


def test_a_server_file_is_read_like_the_flags(tmp_path: Path, postgres: PostgresCluster, pg_product: PgProduct) -> None:
    server = {
        "type": "postgres",
        "host": postgres.host,
        "port": postgres.port,
        "database": pg_product.database,
        "user": READER,
        "password_env": PASSWORD_ENV,
    }
    (tmp_path / "server.yaml").write_text(yaml.safe_dump({"server": server}))
    out = tmp_path / "pg.yaml"
    env = {PASSWORD_ENV: pg_product.reader_password}
    result = _init(tmp_path, "--server-file", "server.yaml", "--tables", "raw.orders", "-o", str(out), env=env)
    assert result.returncode == EXIT_OK, result.stderr
    assert yaml.safe_load(out.read_text())["server"] == server
    # A password cannot be written in the file either: one line, exit 2.
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"server": {**server, "password": "secret"}}))
    result = _init(tmp_path, "--server-file", "bad.yaml", "-o", str(tmp_path / "bad_out.yaml"))
    assert result.returncode == EXIT_USAGE
    assert re.fullmatch(r"error: bad\.yaml: server: .*password_env.*\n", result.stderr), result.stderr


@pytest.fixture(scope="module")
def spark_tables(spark: SparkSession, built_product: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("init-spark-tables")
    to_parquet_folder(built_product.database, folder, landing=built_product.landing_database)
    return folder


@pytest.mark.heavy
def test_the_product_as_spark_parquet_gets_the_same_starter_slos_as_its_duckdb_file(
    spark: SparkSession, spark_tables: Path, built_product: Settings
) -> None:
    db = built_product.database
    before = sha256(db)
    duck = profile_database(db, AS_OF)
    adapter = SparkAdapter(spark)
    adapter.register_parquet_tables(spark_tables, replace=True)
    on_spark = profile_adapter(adapter, "spark local[2]", AS_OF, [t.dataset for t in duck.tables])
    assert [t.dataset for t in on_spark.tables] == [t.dataset for t in duck.tables]
    assert _numbers(on_spark) == _numbers(duck)
    _same_starter(starter_spec(duck, "sample"), starter_spec(on_spark, "sample"), adapter.catalog(), "spark")
    assert sha256(db) == before


@pytest.mark.heavy
def test_slo_init_on_spark_writes_its_server_block_with_the_tables_folder_relative_to_the_spec(
    tmp_path: Path, spark_tables: Path
) -> None:
    out = tmp_path / "specs" / "lake.yaml"
    args = ["--server", "spark", "--master", "local[1]", "--tables-folder", str(spark_tables), "--tables", "raw.orders"]
    result = _init(tmp_path, *args, "-o", str(out))
    assert result.returncode == EXIT_OK, result.stderr
    server = yaml.safe_load(out.read_text())["server"]
    assert server["type"] == "spark" and server["master"] == "local[1]"
    assert (out.parent / server["tables"]).resolve() == spark_tables.resolve()
    assert not Path(server["tables"]).is_absolute()
    assert {s["dataset"] for s in yaml.safe_load(out.read_text())["slos"]} == {"raw.orders"}


@pytest.mark.heavy
def test_slo_init_on_spark_leaves_no_spark_warehouse_in_the_folder_it_was_run_from(
    tmp_path: Path, spark_tables: Path
) -> None:
    cwd = tmp_path / "here"
    cwd.mkdir()
    out = tmp_path / "specs" / "lake.yaml"
    args = ["--server", "spark", "--master", "local[1]", "--tables-folder", str(spark_tables), "--tables", "raw.orders"]
    result = _init(cwd, *args, "-o", str(out))
    assert result.returncode == EXIT_OK, result.stderr
    assert out.is_file()
    assert sorted(p.name for p in cwd.iterdir()) == []  # no spark-warehouse/ (nor anything else) where it ran
