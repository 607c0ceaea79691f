"""Copying a DuckDB data product (and its landing file) to another engine, table for table, values unchanged: into a
PostgreSQL database, or into a folder of Parquet tables that Spark reads (`server: {type: spark, tables: ...}`).

Used by the cross-engine tests and the engine benchmarks to put the very same generated data on every engine. The
DuckDB files are opened read-only; the target must be ours (a database or folder made for the copy).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster_project.warehouse.connection import RAW_CATALOG, connect, quote_ident

_COPY_BLOCK = 1 << 20
# DuckDB types PostgreSQL has no name for: the smallest of its types that holds every value.
_POSTGRES_TYPES = {
    "UTINYINT": "SMALLINT", "TINYINT": "SMALLINT", "USMALLINT": "INTEGER", "UINTEGER": "BIGINT",
    "UBIGINT": "NUMERIC(20, 0)", "HUGEINT": "NUMERIC(38, 0)", "UHUGEINT": "NUMERIC(39, 0)",
}  # fmt: skip


def postgres_type(duckdb_type: str) -> str:
    from sqlglot import exp

    if duckdb_type in _POSTGRES_TYPES:
        return _POSTGRES_TYPES[duckdb_type]
    return exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="postgres")


def _tables(con: Any) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(catalog, schema, table, [(column, DuckDB type)]) of every table a spec can name (as the DuckDB adapter's
    catalog shows them): the database's, and the landing file's main schema as raw.*."""
    rows = con.execute(
        "SELECT database_name, schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE NOT internal AND database_name IN ('warehouse', 'raw') ORDER BY database_name, schema_name, "
        "table_name, column_index"
    ).fetchall()
    tables: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for catalog, schema, table, column, type_ in rows:
        if catalog == RAW_CATALOG and schema != "main":
            continue  # the landing file's own marker (build_log.owner): no raw.* table a spec can name
        tables.setdefault((catalog, schema, table), []).append((column, type_))
    return [(c, s, t, cols) for (c, s, t), cols in tables.items()]


def _dataset(catalog: str, schema: str, table: str) -> tuple[str, str]:
    return (RAW_CATALOG, table) if catalog == RAW_CATALOG else (schema, table)


def _source(catalog: str, schema: str, table: str) -> str:
    return ".".join(quote_ident(p) for p in (catalog, schema, table))


def _blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while block := handle.read(_COPY_BLOCK):
            yield block


def to_postgres(db: Path, conninfo: str, landing: Path | None = None) -> list[str]:
    """Every table of `db` (and `landing` as raw.*) created and filled in the PostgreSQL database `conninfo`; the
    datasets copied, as schema.table. Through CSV (DuckDB writes it, COPY reads it): fast, and exact for numbers,
    text and timestamps."""
    import psycopg

    copied = []
    with (
        connect(db, landing=landing, read_only=True) as con,
        psycopg.connect(conninfo, autocommit=False) as pg,
        tempfile.TemporaryDirectory(prefix="slo-transfer-") as tmp,
    ):
        for catalog, schema, table, columns in _tables(con):
            target_schema, target_table = _dataset(catalog, schema, table)
            target = f"{quote_ident(target_schema)}.{quote_ident(target_table)}"
            definition = ", ".join(f"{quote_ident(name)} {postgres_type(type_)}" for name, type_ in columns)
            csv = Path(tmp) / "table.csv"
            con.execute(f"COPY (SELECT * FROM {_source(catalog, schema, table)}) TO '{csv}' (FORMAT csv, HEADER)")
            with pg.cursor() as cur:
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(target_schema)}".encode())
                cur.execute(f"CREATE TABLE {target} ({definition})".encode())
                with cur.copy(f"COPY {target} FROM STDIN WITH (FORMAT csv, HEADER)".encode()) as copy:
                    for block in _blocks(csv):
                        copy.write(block)
                cur.execute(f"ANALYZE {target}".encode())
            pg.commit()
            copied.append(f"{target_schema}.{target_table}")
    return copied


def to_parquet_folder(db: Path, folder: Path, landing: Path | None = None) -> list[str]:
    """Every table of `db` (and `landing` as raw.*) as <folder>/<schema>/<table>/data.parquet; the datasets copied."""
    copied = []
    with connect(db, landing=landing, read_only=True) as con:
        for catalog, schema, table, _columns in _tables(con):
            target_schema, target_table = _dataset(catalog, schema, table)
            out = folder / target_schema / target_table / "data.parquet"
            out.parent.mkdir(parents=True, exist_ok=True)
            path = str(out).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM {_source(catalog, schema, table)}) TO '{path}' (FORMAT parquet)")
            copied.append(f"{target_schema}.{target_table}")
    return copied
