"""Loading source files into the raw tables (the landing file), with one clear error for every way a file can be bad.

A file whose header drifted from the contract (a renamed, missing or extra column) still lands in raw, as it is:
the contract's columns that are there, cast strictly, and the others as they came. Drift is the schema SLOs' to
judge (a blocking one stops the build with the failure in the SLO table), and `require_contract_columns` stops
staging with one clear line naming the file when no SLO did. A file with none of the contract's columns is refused.

CSV values are read as text and cast in SQL, strictly: DuckDB's own casts round '1.7' to an integer and its CSV
reader drops the offset of '2026-11-27T06:00:00+02:00', both silently. An integer column accepts only whole numbers;
a timestamp with an offset is converted to UTC, one without is taken as UTC. When a cast fails, a second, ordered
pass finds the first bad value and its line, so the message names file, line, column and value.
Parquet columns must already have a type that converts without loss (checked against the file's schema).

Before a CSV file is parsed, one pass over its bytes checks that it is UTF-8 (a bad byte is reported with its line,
wherever it is) and that it ends with a line break: a file cut off mid-write ends mid-line, and its last value - a
price cut from 12.5 to 1 - would otherwise load as a valid, wrong number. So a CSV file must end with a newline.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.types as pat

from dagster_project.build_api import SourceColumn, SourceTable, find_source_file
from dagster_project.errors import SourceDataError
from dagster_project.warehouse.connection import RAW_CATALOG, quote_ident, row_count, table_schema

INTEGER_TYPES = ("BIGINT", "INTEGER")


@dataclass(frozen=True)
class LoadResult:
    table: str
    path: Path
    rows: int
    missing: tuple[str, ...] = ()  # contract columns the file lacks
    extra: tuple[str, ...] = ()  # columns the contract does not know, kept as they came


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
    names = [c.strip() for c in first]
    if any(not name.isprintable() for name in names):  # a quote left open swallows the lines after it
        raise SourceDataError(
            path, "line 1: the header has a column name with a line break or control character (a quote left open?)"
        )
    if "" in names:
        raise SourceDataError(path, f"header has an empty column name (column {names.index('') + 1})")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SourceDataError(path, f"header names a column twice: {', '.join(duplicates)}")
    return names


_CHUNK = 1 << 20


def _check_csv_bytes(path: Path) -> None:
    """UTF-8 throughout, ending with a line break (see the module docstring); SourceDataError with the line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before, last = 0, b""
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    # exc.start is within what the decoder held back (at most 3 bytes) plus this chunk.
                    held = len(exc.object) - len(chunk)
                    offset = max(exc.start - held, 0)
                    line = lines_before + chunk.count(b"\n", 0, offset) + 1
                    byte = exc.object[exc.start]
                    raise SourceDataError(
                        path, f"line {line}: is not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
                    ) from None
                lines_before += chunk.count(b"\n")
                last = chunk[-1:]
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise SourceDataError(
                    path, f"line {lines_before + 1}: is not UTF-8 text (cut off mid-character)"
                ) from None
    except IsADirectoryError:
        raise SourceDataError(path, "is a directory, not a file") from None
    except PermissionError:
        raise SourceDataError(path, "cannot be read (permission denied)") from None
    if last and last != b"\n":
        raise SourceDataError(
            path,
            f"line {lines_before + 1}: the file ends without a line break after its last line: "
            "cut off (a truncated file)? A CSV file must end with a newline",
        )


# What DuckDB's casts accept beyond plain values, and the contract does not: '1.7', '1e3', '0x1F', '1_000' as integers
# (rounded or converted), 'nan'/'inf' as prices, 'epoch'/'infinity' as timestamps.
_WHOLE_NUMBER = r"\s*[+-]?[0-9]+\s*"
_STARTS_WITH_DIGIT = r"^\s*[0-9]"


def _is_acceptable(column: SourceColumn, c: str) -> str:
    """SQL that is true when the non-null text `c` has the form the column's type allows (not yet its range)."""
    if column.duckdb_type in INTEGER_TYPES:
        return f"regexp_full_match({c}, '{_WHOLE_NUMBER}')"
    if column.duckdb_type == "DOUBLE":
        return f"coalesce(isfinite(TRY_CAST({c} AS DOUBLE)), false)"
    if column.duckdb_type == "TIMESTAMP":
        return (
            f"regexp_matches({c}, '{_STARTS_WITH_DIGIT}') AND coalesce(isfinite(TRY_CAST({c} AS TIMESTAMPTZ)), false)"
        )
    return "true"


def _cast(column: SourceColumn) -> str:
    """Strict cast of a text column to its contract type; a value of the wrong form raises (found by _first_bad)."""
    c = quote_ident(column.name)
    target = "TIMESTAMPTZ" if column.duckdb_type == "TIMESTAMP" else column.duckdb_type
    value = f"CAST({c} AS {target})"
    if column.duckdb_type == "TIMESTAMP":
        value = f"CAST({value} AS TIMESTAMP)"
    if column.duckdb_type == "VARCHAR":
        return value
    return f"CASE WHEN {c} IS NULL OR ({_is_acceptable(column, c)}) THEN {value} ELSE error('bad value') END"


def _problem(column: SourceColumn, value: str) -> str:
    """SQL for why a non-null text `value` does not load, or NULL when it does."""
    target = "TIMESTAMPTZ" if column.duckdb_type == "TIMESTAMP" else column.duckdb_type
    kind = "a whole number" if column.duckdb_type in INTEGER_TYPES else column.duckdb_type
    return (
        f"CASE WHEN NOT ({_is_acceptable(column, value)}) THEN 'cannot read ' || {_quoted(value)} || ' as {kind}' "
        f"WHEN TRY_CAST({value} AS {target}) IS NULL THEN {_quoted(value)} || ' is out of range for {kind}' END"
    )


def _quoted(value: str) -> str:
    """SQL for the text value between single quotes, as the message shows it."""
    return f"concat(chr(39), {value}, chr(39))"


def _csv_reader(header: list[str]) -> str:
    """read_csv over the file's own header order, every column as text; no sniffing, so errors are exact."""
    columns = "{" + ", ".join(f"'{name.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for name in header) + "}"
    return (
        f"read_csv($path, header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        f"columns = {columns}, null_padding = false)"
    )


def _select(table: SourceTable, text_source: bool, header: list[str]) -> str:
    """The contract's columns the file has, cast, in contract order; then the file's other columns unchanged."""
    present = [c for c in table.columns if c.name in header]
    if text_source:
        cast = [f"{_cast(c)} AS {quote_ident(c.name)}" for c in present]
    else:
        cast = [f"CAST({quote_ident(c.name)} AS {c.duckdb_type}) AS {quote_ident(c.name)}" for c in present]
    return ", ".join(cast + [quote_ident(h) for h in header if h not in table.column_names])


# Parquet types each contract type accepts without losing information (checked before any cast). Dictionary-encoded
# columns (pandas categoricals) count as their value type; an all-null column fits any type.
_PARQUET_ACCEPTS: dict[str, Callable[[pa.DataType], bool]] = {
    "BIGINT": pat.is_integer,
    "INTEGER": pat.is_integer,
    "DOUBLE": lambda t: pat.is_integer(t) or pat.is_floating(t) or pat.is_decimal(t),
    "VARCHAR": lambda t: pat.is_string(t) or pat.is_large_string(t),
    "TIMESTAMP": pat.is_timestamp,
}


def _check_parquet_types(path: Path, table: SourceTable) -> None:
    schema = pq.read_schema(path)
    for column in table.columns:
        if column.name not in schema.names:
            continue
        actual = schema.field(column.name).type
        value_type = actual.value_type if pat.is_dictionary(actual) else actual
        if not (pat.is_null(value_type) or _PARQUET_ACCEPTS[column.duckdb_type](value_type)):
            raise SourceDataError(path, f"column {column.name} has type {actual}; expected {column.duckdb_type}")


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMNS_FOUND = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def describe_duckdb_error(exc: duckdb.Error) -> str:
    """Shorten DuckDB's multi-line reader errors to 'line N: what is wrong'.

    The reason is the first line after DuckDB's header lines; the 'Original Line' it quotes is left out, since it can
    hold personal data and error messages end up in logs.
    """
    text = str(exc)
    where = f"line {m.group(1)}: " if (m := _CSV_LINE.search(text)) else ""
    if m := _COLUMNS_FOUND.search(text):
        return f"{where}expected {m.group(1)} fields, found {m.group(2)}"
    if where:
        lines = [ln.strip() for ln in text.splitlines()[1:]]
        reasons = [ln for ln in lines if ln and not ln.startswith(("Original Line", "Possible fixes", "*", "file ="))]
        if reasons:
            return where + reasons[0]
    return where + _first_line(text).split(": ", 1)[-1]


def _physical_line(path: Path, record: int) -> int:
    """The line a data record starts on (record 1 is the first after the header), counting quoted line breaks."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        previous_end, seen = 0, -1
        for row in reader:
            if row:
                seen += 1
                if seen == record:
                    return previous_end + 1
            previous_end = reader.line_num
    return record + 1


def _first_bad_value(con: duckdb.DuckDBPyConnection, path: Path, header: list[str], table: SourceTable) -> str | None:
    """'line N, column C: why' for the first value that does not load, in file order across all columns."""
    con.execute("SET preserve_insertion_order = true")
    try:
        problems = " UNION ALL ".join(
            f"SELECT record, {i} AS position, '{c.name}' AS name, {_problem(c, quote_ident(c.name))} AS problem "
            f"FROM records WHERE {quote_ident(c.name)} IS NOT NULL"
            for i, c in enumerate(table.columns)
            if c.duckdb_type != "VARCHAR" and c.name in header
        )
        rows = con.execute(
            f"""WITH records AS (SELECT row_number() OVER () AS record, * FROM {_csv_reader(header)})
                SELECT record, name, problem FROM ({problems}) WHERE problem IS NOT NULL
                ORDER BY record, position LIMIT 1""",
            {"path": str(path)},
        ).fetchall()
    except duckdb.Error:
        return None
    finally:
        con.execute("SET preserve_insertion_order = false")
    if not rows:
        return None
    record, name, problem = rows[0]
    return f"line {_physical_line(path, record)}, column {name}: {problem}"


def load_source(con: duckdb.DuckDBPyConnection, data_dir: Path, table: SourceTable) -> LoadResult:
    """Replace raw.<table> with the rows of its source file, or raise SourceDataError and leave it as it was."""
    if not data_dir.is_dir():
        raise SourceDataError(data_dir, "data directory not found")
    path = find_source_file(data_dir, table)
    if path is None:
        raise SourceDataError(data_dir / f"{table.name}.csv", "file not found (expected .csv or .parquet)")
    if path.is_file() and path.stat().st_size == 0:
        raise SourceDataError(path, "file is empty")
    if path.suffix == ".csv":
        _check_csv_bytes(path)
    header = _header(path)
    missing = tuple(c for c in table.column_names if c not in header)
    if len(missing) == len(table.column_names):
        raise SourceDataError(path, f"has none of the columns {', '.join(missing)}; found {', '.join(header)}")
    is_csv = path.suffix == ".csv"
    if not is_csv:
        _check_parquet_types(path, table)
    reader = _csv_reader(header) if is_csv else "read_parquet($path)"
    target = f"{RAW_CATALOG}.main.{quote_ident(table.name)}"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {target} AS SELECT {_select(table, is_csv, header)} FROM {reader}",
            {"path": str(path)},
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
    extra = tuple(h for h in header if h not in table.column_names)
    return LoadResult(table=f"{RAW_CATALOG}.{table.name}", path=path, rows=rows, missing=missing, extra=extra)


def require_contract_columns(con: duckdb.DuckDBPyConnection, data_dir: Path, table: SourceTable) -> None:
    """Before anything is built from raw.<table>: every contract column must be there, else one clear line."""
    found = [name for name, _type in table_schema(con, f"{RAW_CATALOG}.{table.name}")]
    missing = [c for c in table.column_names if c not in found]
    if missing:
        path = find_source_file(data_dir, table) or data_dir / f"{table.name}.csv"
        raise SourceDataError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(found)}")
