"""Loading source files into the raw schema, with one clear error for every way a file can be bad.

The header is checked against the source contract before DuckDB reads the rows, so a renamed column is reported by
name rather than as a conversion error somewhere down the file. Values are read with the contract's types; DuckDB's
conversion errors are condensed to the file, line and column they are about.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from dagster_project.errors import SourceDataError
from dagster_project.sources import SourceTable, find_source_file
from dagster_project.warehouse.connection import quote_ident, row_count

RAW_SCHEMA = "raw"


@dataclass(frozen=True)
class LoadResult:
    table: str
    path: Path
    rows: int


def _header(path: Path) -> list[str]:
    try:
        if path.suffix == ".parquet":
            return list(pq.read_schema(path).names)
        with open(path, newline="", encoding="utf-8") as f:
            first = next(csv.reader(f), None)
    except IsADirectoryError:
        raise SourceDataError(path, "is a directory, not a file") from None
    except PermissionError:
        raise SourceDataError(path, "cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise SourceDataError(path, "is not UTF-8 text; expected a CSV file with a header row") from None
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) for a damaged file
        raise SourceDataError(path, f"cannot be read as {path.suffix[1:]}: {_first_line(str(exc))}") from None
    if not first:
        raise SourceDataError(path, "has no header row")
    return [c.strip() for c in first]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMN = re.compile(r'[Cc]olumn:? "?([A-Za-z0-9_]+)"?')
_CONVERT = re.compile(r"Could not convert string \"?'?([^\"']*)['\"]? to '?([A-Z0-9_]+)'?")


def describe_duckdb_error(exc: duckdb.Error) -> str:
    """Shorten DuckDB's multi-line reader errors to 'line N, column C: could not convert "x" to TYPE'."""
    text = str(exc)
    parts = []
    if m := _CSV_LINE.search(text):
        parts.append(f"line {m.group(1)}")
    if m := _COLUMN.search(text):
        parts.append(f"column {m.group(1)}")
    if m := _CONVERT.search(text):
        detail = f"could not convert {m.group(1)!r} to {m.group(2)}"
    else:
        detail = _first_line(text).split(": ", 1)[-1]
    return ", ".join(parts) + (": " if parts else "") + detail


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
    target = f"{RAW_SCHEMA}.{quote_ident(table.name)}"
    if path.suffix == ".parquet":
        select = ", ".join(
            f"CAST({quote_ident(c.name)} AS {c.duckdb_type}) AS {quote_ident(c.name)}" for c in table.columns
        )
        source_sql = f"SELECT {select} FROM read_parquet(?)"
    else:
        types = "{" + ", ".join(f"'{c.name}': '{c.duckdb_type}'" for c in table.columns) + "}"
        cols = ", ".join(quote_ident(c.name) for c in table.columns)
        source_sql = (
            f"SELECT {cols} FROM read_csv(?, header = true, auto_detect = true, types = {types}, null_padding = false)"
        )
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE OR REPLACE TABLE {target} AS {source_sql}", [str(path)])
        rows = row_count(con, f"{RAW_SCHEMA}.{table.name}")
        if rows == 0:
            raise SourceDataError(path, "has a header but no data rows")
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise SourceDataError(path, describe_duckdb_error(exc)) from None
    except SourceDataError:
        con.execute("ROLLBACK")
        raise
    return LoadResult(table=f"{RAW_SCHEMA}.{table.name}", path=path, rows=rows)
