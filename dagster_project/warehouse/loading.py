"""Loading source files into the raw tables (the landing file), with one clear error for every way a file can be bad.

The header is checked against the source contract before DuckDB reads the rows, so a renamed column is reported by
name rather than as a conversion error somewhere down the file.

CSV values are read as text and cast in SQL, strictly: DuckDB's own casts round '1.7' to an integer and its CSV
reader drops the offset of '2026-11-27T06:00:00+02:00', both silently. An integer column accepts only whole numbers;
a timestamp with an offset is converted to UTC, one without is taken as UTC. When a cast fails, a second, ordered
pass finds the first bad value and its line, so the message names file, line, column and value.
Parquet columns must already have a type that converts without loss (checked against the file's schema).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from dagster_project.errors import SourceDataError
from dagster_project.sources import SourceColumn, SourceTable, find_source_file
from dagster_project.warehouse.connection import CATALOG, RAW_CATALOG, quote_ident, row_count

INTEGER_TYPES = ("BIGINT", "INTEGER")


@dataclass(frozen=True)
class LoadResult:
    table: str
    path: Path
    rows: int


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _header(path: Path) -> list[str]:
    try:
        if path.suffix == ".parquet":
            return list(pq.read_schema(path).names)
        with open(path, newline="", encoding="utf-8-sig") as f:  # DuckDB skips a byte-order mark; so do we
            first = next(csv.reader(f), None)
    except IsADirectoryError:
        raise SourceDataError(path, "is a directory, not a file") from None
    except PermissionError:
        raise SourceDataError(path, "cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise SourceDataError(path, "is not UTF-8 text; expected a CSV file with a header row") from None
    except (OSError, ValueError, csv.Error) as exc:  # pyarrow raises ArrowInvalid (a ValueError) for a damaged file
        raise SourceDataError(path, f"cannot be read as {path.suffix[1:]}: {_first_line(str(exc))}") from None
    if not first:
        raise SourceDataError(path, "has no header row")
    return [c.strip() for c in first]


def _cast(column: SourceColumn) -> str:
    """Strict cast of a text column to its contract type."""
    c = quote_ident(column.name)
    if column.duckdb_type == "TIMESTAMP":
        return f"CAST(CAST({c} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if column.duckdb_type in INTEGER_TYPES:
        message = f"column {column.name}: not a whole number: "
        return (
            f"CASE WHEN {c} IS NULL OR NOT (contains({c}, '.') OR contains(lower({c}), 'e')) "
            f"THEN CAST({c} AS {column.duckdb_type}) ELSE error('{message}' || {c}) END"
        )
    return f"CAST({c} AS {column.duckdb_type})"


def _is_bad(column: SourceColumn, value: str) -> str:
    """SQL that is true for a non-null text `value` that does not convert to the column's type."""
    if column.duckdb_type == "TIMESTAMP":
        return f"TRY_CAST({value} AS TIMESTAMPTZ) IS NULL"
    bad = f"TRY_CAST({value} AS {column.duckdb_type}) IS NULL"
    if column.duckdb_type in INTEGER_TYPES:
        bad += f" OR contains({value}, '.') OR contains(lower({value}), 'e')"
    return bad


def _csv_reader(header: list[str]) -> str:
    """read_csv over the file's own header order, every column as text; no sniffing, so errors are exact."""
    columns = "{" + ", ".join(f"'{name.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for name in header) + "}"
    return (
        f"read_csv($path, header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        f"columns = {columns}, null_padding = false)"
    )


def _select(table: SourceTable, text_source: bool) -> str:
    if text_source:
        return ", ".join(f"{_cast(c)} AS {quote_ident(c.name)}" for c in table.columns)
    return ", ".join(f"CAST({quote_ident(c.name)} AS {c.duckdb_type}) AS {quote_ident(c.name)}" for c in table.columns)


# Parquet types each contract type accepts without losing information (checked before any cast).
_PARQUET_KINDS: dict[str, tuple[str, ...]] = {
    "BIGINT": ("int", "uint"),
    "INTEGER": ("int", "uint"),
    "DOUBLE": ("int", "uint", "float", "double", "decimal"),
    "VARCHAR": ("string", "large_string"),
    "TIMESTAMP": ("timestamp",),
}


def _check_parquet_types(path: Path, table: SourceTable) -> None:
    schema = pq.read_schema(path)
    for column in table.columns:
        actual = str(schema.field(column.name).type)
        if not actual.startswith(_PARQUET_KINDS[column.duckdb_type]):
            raise SourceDataError(path, f"column {column.name} has type {actual}; expected {column.duckdb_type}")


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMNS_FOUND = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def describe_duckdb_error(exc: duckdb.Error) -> str:
    """Shorten DuckDB's multi-line reader errors to 'line N: what is wrong'."""
    text = str(exc)
    where = f"line {m.group(1)}: " if (m := _CSV_LINE.search(text)) else ""
    if m := _COLUMNS_FOUND.search(text):
        return f"{where}expected {m.group(1)} fields, found {m.group(2)}"
    return where + _first_line(text).split(": ", 1)[-1]


def _first_bad_value(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], table: SourceTable) -> str | None:
    """'line N, column C: cannot read 'v' as TYPE' for the first value that does not convert, in file order."""
    con.execute("SET preserve_insertion_order = true")
    try:
        for column in table.columns:
            value = quote_ident(column.name)
            rows = con.execute(
                f"""SELECT line, v FROM (
                        SELECT row_number() OVER () + 1 AS line, {value} AS v FROM {_csv_reader(header)}
                    ) WHERE v IS NOT NULL AND ({_is_bad(column, "v")}) ORDER BY line LIMIT 1""",
                {"path": str(path)},
            ).fetchall()
            if rows:
                line, bad = rows[0]
                kind = "a whole number" if column.duckdb_type in INTEGER_TYPES else column.duckdb_type
                return f"line {line}, column {column.name}: cannot read {bad!r} as {kind}"
        return None
    finally:
        con.execute("SET preserve_insertion_order = false")


def load_source(con: duckdb.DuckDBPyConnection, data_dir: Path, table: SourceTable) -> LoadResult:
    """Replace raw.<table> with the rows of its source file, or raise SourceDataError and leave it as it was."""
    if not data_dir.is_dir():
        raise SourceDataError(data_dir, "data directory not found")
    path = find_source_file(data_dir, table)
    if path is None:
        raise SourceDataError(data_dir / f"{table.name}.csv", "file not found (expected .csv or .parquet)")
    if path.is_file() and path.stat().st_size == 0:
        raise SourceDataError(path, "file is empty")
    header = _header(path)
    missing = [c for c in table.column_names if c not in header]
    if missing:
        raise SourceDataError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(header)}")
    is_csv = path.suffix == ".csv"
    if not is_csv:
        _check_parquet_types(path, table)
    reader = _csv_reader(header) if is_csv else "read_parquet($path)"
    target = f"{RAW_CATALOG}.main.{quote_ident(table.name)}"
    con.execute(f"DROP SCHEMA IF EXISTS {CATALOG}.{RAW_CATALOG} CASCADE")  # left by versions before the landing file
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {target} AS SELECT {_select(table, is_csv)} FROM {reader}", {"path": str(path)}
        )
        rows = row_count(con, f"{RAW_CATALOG}.{table.name}")
        if rows == 0:
            raise SourceDataError(path, "has a header but no data rows")
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        is_reader_error = _CSV_LINE.search(str(exc)) is not None
        detail = None if is_reader_error or not is_csv else _first_bad_value(con, path, header, table)
        raise SourceDataError(path, detail or describe_duckdb_error(exc)) from None
    except SourceDataError:
        con.execute("ROLLBACK")
        raise
    return LoadResult(table=f"{RAW_CATALOG}.{table.name}", path=path, rows=rows)
