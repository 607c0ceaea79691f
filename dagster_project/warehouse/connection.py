"""Opening DuckDB the same way everywhere: bounded memory, bounded threads, spill folder beside the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB; embedded quotes are doubled, so any name is safe."""
    return '"' + name.replace('"', '""') + '"'


CATALOG = "warehouse"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def connect(
    path: Path, *, memory_limit: str = "1500MB", threads: int = 2, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose default catalog is the database at `path`, always named `warehouse`.

    DuckDB names a database after its file, so product_affinity.duckdb would clash with the schema product_affinity
    ("ambiguous reference"); attaching under a fixed alias makes schema.table names mean the same for any file name.
    """
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:", config={"memory_limit": memory_limit, "threads": str(threads)})
    try:
        mode = " (READ_ONLY)" if read_only else ""
        con.execute(f"ATTACH {_literal(str(path))} AS {CATALOG}{mode}")
        con.execute(f"USE {CATALOG}")
        if not read_only:
            con.execute(f"SET temp_directory = {_literal(str(path.parent / (path.name + '.tmp')))}")
        con.execute("SET preserve_insertion_order = false")
        yield con
    finally:
        con.close()


def table_schema(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(column, type) pairs of a qualified table name 'schema.table'."""
    schema, name = table.split(".", 1)
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [CATALOG, schema, name],
    ).fetchall()
    return [(str(c), str(t)) for c, t in rows]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> object:
    """The first value of a query. fetchall, not fetchone: DuckDB 2 keeps a partly fetched result open and refuses
    the next statement on the connection."""
    rows = con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    return rows[0][0] if rows else None


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    schema, name = table.split(".", 1)
    value = scalar(con, f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(name)}")
    assert isinstance(value, int)
    return value
