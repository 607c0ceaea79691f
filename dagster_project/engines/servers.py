"""Opening the engine a product's data lives on (its spec's `server:`), as an adapter: the deployment's DuckDB
database when the spec names none, a DuckDB file, a PostgreSQL database or Spark. Whatever goes wrong opening it
(a missing file, an unreachable server, a wrong password, PySpark or Java missing) is one EngineError naming the
server, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_project.engines.adapter import EngineAdapter, EngineError

if TYPE_CHECKING:  # a server is a spec's (pydantic) model: this module opens it, and needs no pydantic itself
    from dagster_project.spec.server import Server


def uses_deployment_database(server: Server | None) -> bool:
    """Whether the product's data is the deployment's DuckDB database (--db, SLO_DB, `db`)."""
    return server is None or (server.type == "duckdb" and server.path is None)


def server_key(server: Server | None) -> str:
    """A key equal for the same server ('' for the deployment's database): to open each server once."""
    return "" if uses_deployment_database(server) else server.model_dump_json()  # type: ignore[union-attr]


def label(server: Server | None, database: Path | None = None) -> str:
    """The server as messages name it: 'postgres db.example.com:5432/analytics', 'duckdb /data/flights.duckdb'."""
    if server is None or server.type == "duckdb":
        path = server.path if server is not None and server.path is not None else database
        return f"duckdb {path}"
    if server.type == "postgres":
        return f"postgres {server.host}:{server.port}/{server.database}"
    return f"spark {server.remote or server.master or 'local[*]'}"


@contextmanager
def open_server(server: Server | None, database: Path, landing: Path | None = None) -> Iterator[EngineAdapter]:
    """The adapter for `server` (relative paths were made absolute when the spec was loaded); `database` and
    `landing` are the deployment's DuckDB files, used when the spec names no server or a DuckDB one without a path."""
    if uses_deployment_database(server) or (server is not None and server.type == "duckdb"):
        import duckdb

        from dagster_project.engines.duckdb_adapter import open_adapter

        db = database if uses_deployment_database(server) else Path(server.path)  # type: ignore[union-attr,arg-type]
        if not db.is_file():
            raise EngineError(f"DuckDB database {db} does not exist")
        with ExitStack() as stack:
            try:
                adapter = stack.enter_context(
                    open_adapter(db, landing=landing if uses_deployment_database(server) else None)
                )
            except duckdb.Error as exc:
                raise EngineError(f"cannot open DuckDB database {db}: {str(exc).splitlines()[0]}") from None
            yield adapter
        return
    assert server is not None
    if server.type == "postgres":
        from dagster_project.engines.postgres import PostgresAdapter

        pg = PostgresAdapter.open(server)
        try:
            yield pg
        finally:
            pg.close()
        return
    from dagster_project.engines.spark import SparkAdapter

    spark = SparkAdapter.open(server, Path.cwd())  # `tables` is absolute already
    try:
        yield spark
    finally:
        spark.close()
