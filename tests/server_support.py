"""Real PostgreSQL and Spark for the tests: one private PostgreSQL cluster and one local Spark session per test session.

The PostgreSQL cluster is made by `initdb` in a temporary folder and started by `pg_ctl` on a free loopback port,
with password authentication over TCP (a superuser `slo_admin` whose password only the fixture knows), so tests can
also try wrong credentials. Run as root (CI), the server runs as the `postgres` user the Debian package creates.
The Spark session is local (`local[2]`, UTC, no UI), shared by every test that asks for it.

With CI=true a missing server fails the test (`.ci/run` installs the Debian packages and PySpark comes with the
`spark` extra); elsewhere the test skips and says how to install it.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from dagster_project.engines.adapter import EngineAdapter

POSTGRES_INSTALL = "sudo apt-get install -y --no-install-recommends postgresql"
SPARK_INSTALL = "sudo apt-get install -y --no-install-recommends openjdk-17-jre-headless; pip install -e '.[spark]'"


def _missing(what: str, install: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed; .ci/run must install it ({install})")
    pytest.skip(f"{what} is not installed; to run this test: {install}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, or the newest Debian version folder."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(versions[-1]).parent if versions else None


@dataclass
class PostgresCluster:
    """A running private cluster: connect with `dsn()`; `create_database` gives each test its own database."""

    root: Path
    port: int
    password: str
    bin_dir: Path
    user: str = "slo_admin"
    host: str = "127.0.0.1"

    def dsn(self, dbname: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        return (
            f"host={self.host} port={self.port} dbname={dbname} user={user or self.user} "
            f"password={password if password is not None else self.password} connect_timeout=10"
        )

    def url(self, dbname: str = "postgres") -> str:
        """A postgresql:// URL without the password (which comes from PGPASSWORD, as the service expects)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def env(self) -> dict[str, str]:
        return {"PGPASSWORD": self.password}

    def execute(self, sql: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True) as con, con.cursor() as cur:
            cur.execute(sql.encode())  # bytes: a plain string, not a template, so a literal % is fine
            return list(cur.fetchall()) if cur.description else []

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its name."""
        name = name or f"t_{secrets.token_hex(6)}"
        self.execute(f'CREATE DATABASE "{name}"')
        return name


class ServerMissing(Exception):
    """A server the caller asked for is not installed: `what` is missing, `install` says how to install it."""

    def __init__(self, what: str, install: str) -> None:
        super().__init__(f"{what} is not installed; to install it: {install}")
        self.what, self.install = what, install


def _as_postgres_user() -> tuple[Callable[[], None] | None, int | None, int | None]:
    """initdb refuses to run as root: run the server as the `postgres` user then."""
    if os.geteuid() != 0:
        return None, None, None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root needs the `postgres` user to run a PostgreSQL server (the Debian package)"
        ) from None
    uid, gid = entry.pw_uid, entry.pw_gid

    def demote() -> None:
        os.setgid(gid)
        os.setuid(uid)

    return demote, uid, gid


def _run(args: list[str], demote: Callable[[], None] | None) -> None:
    done = subprocess.run(args, capture_output=True, text=True, preexec_fn=demote)
    if done.returncode != 0:
        raise AssertionError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip() or done.stdout}")


@contextmanager
def start_postgres_cluster(
    root: Path | None = None, settings: dict[str, str] | None = None
) -> Iterator[PostgresCluster]:
    """A private PostgreSQL cluster in `root` (a new temporary folder by default), stopped and removed at exit.

    Loopback only, password authentication over TCP, fsync off, UTC; `settings` are more server settings (-c).
    Raises ServerMissing when initdb/pg_ctl or psycopg is not installed; the tests' `postgres` fixture and the
    benchmarks both start their cluster here."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise ServerMissing("PostgreSQL (initdb, pg_ctl)", POSTGRES_INSTALL)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ServerMissing("psycopg", "pip install -e '.[dev]'") from None
    demote, uid, gid = _as_postgres_user()
    # Not under pytest's temporary folder: that is private to the user running pytest (0700), and the server may run
    # as `postgres`.
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="slo-test-postgres-"))
    else:
        root.mkdir(parents=True)
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    password = secrets.token_urlsafe(16)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if uid is not None and gid is not None:
        for path in (root, sockets, pwfile):
            os.chown(path, uid, gid)
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "slo_admin",
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            demote,
        )
        pwfile.unlink()
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 -c TimeZone=UTC"
        )
        options += "".join(f" -c {key}={value}" for key, value in (settings or {}).items())
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
            demote,
        )
        yield PostgresCluster(root=root, port=port, password=password, bin_dir=bin_dir)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True, preexec_fn=demote,
            )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    """One private PostgreSQL cluster for the whole test session, stopped at its end."""
    with ExitStack() as stack:
        try:
            cluster = stack.enter_context(start_postgres_cluster())
        except ServerMissing as missing:
            _missing(missing.what, missing.install)
        except RuntimeError as exc:  # root without the `postgres` user
            pytest.fail(str(exc))
        yield cluster


def java_available() -> bool:
    if os.environ.get("JAVA_HOME") and Path(os.environ["JAVA_HOME"], "bin", "java").exists():
        return True
    return shutil.which("java") is not None


@contextmanager
def start_spark_session(
    warehouse: Path, memory: str = "1g", app: str = "slo-tests", quiet: bool = True
) -> Iterator[SparkSession]:
    """A local Spark session (2 cores, UTC, no UI, loopback), stopped at exit. Raises ServerMissing without PySpark or
    Java; the tests' `spark` fixture and the benchmarks both start their session here."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ServerMissing("PySpark", SPARK_INSTALL) from None
    if not java_available():
        raise ServerMissing("Java (17 or newer)", SPARK_INSTALL)
    started = time.monotonic()
    session = (
        SparkSession.builder.master("local[2]")
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.driver.memory", memory)
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )
    if quiet:
        session.sparkContext.setLogLevel("ERROR")
    print(f"Spark session started in {time.monotonic() - started:.1f} s")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """One local Spark session (2 cores, UTC, no UI) for the whole test session."""
    with ExitStack() as stack:
        try:
            session = stack.enter_context(start_spark_session(tmp_path_factory.mktemp("spark-warehouse")))
        except ServerMissing as missing:
            _missing(missing.what, missing.install)
        yield session


@contextmanager
def copied_to_servers(
    db: Path, postgres: PostgresCluster, spark: SparkSession, folder: Path
) -> Iterator[tuple[EngineAdapter, EngineAdapter]]:
    """The tables of the DuckDB file `db` copied to a fresh database of the test cluster and to Parquet tables under
    `folder` registered in the shared Spark session: (a PostgreSQL adapter, a Spark adapter) over the same data. The
    PostgreSQL connection is closed after."""
    import psycopg

    from dagster_project.datagen.transfer import to_parquet_folder, to_postgres
    from dagster_project.engines.postgres import PostgresAdapter
    from dagster_project.engines.spark import SparkAdapter

    database = postgres.create_database()
    to_postgres(db, postgres.dsn(database))
    to_parquet_folder(db, folder)
    on_spark = SparkAdapter(spark)
    on_spark.register_parquet_tables(folder, replace=True)
    on_postgres = PostgresAdapter.from_connection(psycopg.connect(postgres.dsn(database)), "postgres")
    try:
        yield on_postgres, on_spark
    finally:
        on_postgres.close()
