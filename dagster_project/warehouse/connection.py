"""Opening DuckDB the same way everywhere: bounded memory, bounded threads, spill folder beside the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_project.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, DEFAULT_DUCKDB_THREADS

if TYPE_CHECKING:  # quote_ident is wanted where no database is opened (`slo validate`): DuckDB loads when one is
    import duckdb


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB; embedded quotes are doubled, so any name is safe."""
    return '"' + name.replace('"', '""') + '"'


CATALOG = "warehouse"
# Source tables live in a separate landing file attached under this name, so the raw data (personal data included)
# never enters the file that is published: raw.<table> resolves to the landing file's main schema.
RAW_CATALOG = "raw"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def connect(
    path: Path,
    *,
    landing: Path | None = None,
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
    threads: int = DEFAULT_DUCKDB_THREADS,
    read_only: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose default catalog is the database at `path`, always named `warehouse`.

    DuckDB names a database after its file, so product_affinity.duckdb would clash with the schema product_affinity
    ("ambiguous reference"); attaching under a fixed alias makes schema.table names mean the same for any file name.
    With `landing`, the landing file is attached as `raw`. Timestamps are interpreted in UTC whatever the machine's
    zone.
    """
    import duckdb

    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:", config={"memory_limit": memory_limit, "threads": str(threads)})
    try:
        mode = " (READ_ONLY)" if read_only else ""
        con.execute(f"ATTACH {_literal(str(path))} AS {CATALOG}{mode}")
        if landing is not None:
            con.execute(f"ATTACH {_literal(str(landing))} AS {RAW_CATALOG}{mode}")
        con.execute(f"USE {CATALOG}")
        con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            con.execute(f"SET temp_directory = {_literal(str(path.parent / (path.name + '.tmp')))}")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")  # DuckDB draws one on a terminal otherwise
        yield con
    finally:
        con.close()


def resolve(qualified: str) -> tuple[str, str, str]:
    """(catalog, schema, table) of a 'schema.table' name; raw.<table> lives in the landing file, temp.<table> in
    the connection's temporary catalog."""
    schema, name = qualified.split(".", 1)
    if schema in (RAW_CATALOG, "temp"):
        return schema, "main", name
    return CATALOG, schema, name


def table_schema(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(column, type) pairs of a qualified table name 'schema.table'."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        list(resolve(table)),
    ).fetchall()
    return [(str(c), str(t)) for c, t in rows]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> object:
    """The first value of a query. fetchall, not fetchone: DuckDB 2 keeps a partly fetched result open and refuses
    the next statement on the connection."""
    rows = con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    return rows[0][0] if rows else None


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    catalog, schema, name = resolve(table)
    value = scalar(con, f"SELECT count(*) FROM {quote_ident(catalog)}.{quote_ident(schema)}.{quote_ident(name)}")
    assert isinstance(value, int)
    return value
