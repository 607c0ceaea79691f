"""What `slo init` observes in a database: per table its rows, and per column its nulls, distinct values, numeric
range, newest timestamp and lag, categorical values; candidate keys (a column, or a pair or triple of columns, unique
and never null); rows per day of the main timestamp column; values that look like personal data.

The database is opened the way `slo check` opens it (read-only, external access off, its .landing file attached as
`raw` when beside it), and every query runs under a time limit (engines/time_limit.py), so profiling never writes
and never hangs. Only numbers and the few values of categorical columns are read back.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from dagster_project.engines.native import open_for_checks
from dagster_project.engines.native_sql import PII_PATTERNS, literal, table_ref, timestamp_literal
from dagster_project.engines.time_limit import QueryTimedOut, time_limit
from dagster_project.errors import SloError, UsageError
from dagster_project.verify.database import family
from dagster_project.warehouse.build_log import BUILD_LOG_SCHEMA
from dagster_project.warehouse.connection import CATALOG, RAW_CATALOG, quote_ident

# What a spec can name (spec/models.py: SqlName, Dataset): other columns and tables are reported, not profiled.
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# A text column with at most this many distinct values, each seen at least twice on average, is categorical.
MAX_CATEGORIES = 20
# Rows per day are read for at most this many days back from the newest row.
VOLUME_DAYS = 91
# Rows dated more than this after the evaluation time are in the future (not_in_future's default tolerance).
FUTURE_TOLERANCE = timedelta(minutes=5)
# Columns tried together for a candidate key when no single column is one.
MAX_KEY_COLUMNS = 8
_KEY_FAMILIES = {"number", "text", "time", "UUID"}
_FLOATS = {"FLOAT", "DOUBLE", "REAL"}


class ProfileError(SloError):
    """A table could not be profiled (timed out, or DuckDB refused a query): exit 3 with the table named."""


def nameable(name: str) -> bool:
    return bool(name) and not name[0].isdigit() and set(name) <= _NAME_CHARS and len(name) <= 128


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str
    family: str  # number, time, text or the type itself (verify/database.py)
    nulls: int
    distinct: int | None = None  # non-null distinct values (key candidates and text columns)
    minimum: float | None = None  # numbers
    maximum: float | None = None
    newest_epoch: float | None = None  # times: the newest value at or before the evaluation time
    future: int = 0  # times: values dated after the evaluation time plus the tolerance
    categories: tuple[str, ...] | None = None  # categorical text: its values, sorted


@dataclass(frozen=True)
class TableProfile:
    dataset: str
    rows: int
    columns: tuple[ColumnProfile, ...]
    unnameable: tuple[str, ...] = ()  # columns a spec cannot name
    keys: tuple[tuple[str, ...], ...] = ()  # candidate keys, smallest first
    key_note: str | None = None  # why no key was searched for (a timeout)
    time_column: str | None = None  # the main timestamp column (most values, then the newest)
    daily_rows: tuple[int, ...] = ()  # rows per day back from the newest row of time_column: [0] is the last day
    pii_values: int | None = None  # text values that look like e-mail addresses or phone numbers

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class DatabaseProfile:
    db: Path
    as_of: datetime  # aware
    tables: tuple[TableProfile, ...]
    skipped_tables: tuple[str, ...] = ()  # tables a spec cannot name


def _dataset(catalog: str, schema: str, table: str) -> str | None:
    """schema.table as a spec names it (connection.resolve's inverse), or None when no spec can name it."""
    if catalog == RAW_CATALOG and schema == "main":
        return f"{RAW_CATALOG}.{table}"
    if catalog != CATALOG or schema in (RAW_CATALOG, "temp", BUILD_LOG_SCHEMA):
        return None  # another attached file; a schema named like the landing alias; the service's own build log
    return f"{schema}.{table}"


def _catalog(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """Every table a spec can name with its (column, type) pairs, and the tables it cannot name."""
    rows = con.execute(
        "SELECT c.database_name, c.schema_name, c.table_name, c.column_name, c.data_type FROM duckdb_columns() c "
        "JOIN duckdb_tables() t ON t.database_name = c.database_name AND t.schema_name = c.schema_name "
        "AND t.table_name = c.table_name WHERE NOT t.internal AND NOT t.temporary "
        "ORDER BY c.database_name, c.schema_name, c.table_name, c.column_index"
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    skipped: list[str] = []
    for catalog, schema, table, column, type_ in rows:
        dataset = _dataset(catalog, schema, table)
        if dataset is None or not (nameable(schema) and nameable(table)):
            if dataset is not None or (catalog == CATALOG and schema != BUILD_LOG_SCHEMA):
                name = f"{schema}.{table}"
                if name not in skipped:
                    skipped.append(name)
            continue
        tables.setdefault(dataset, []).append((column, type_))
    return tables, skipped


def _number(value: object) -> float | None:
    """A finite number, or None (no value, NaN or infinite)."""
    if value is None:
        return None
    number = float(str(value)) if not isinstance(value, int | float) else float(value)
    return number if math.isfinite(number) else None


def _int(value: object) -> int:
    assert isinstance(value, int), value
    return value


class _Profiler:
    def __init__(self, con: duckdb.DuckDBPyConnection, as_of: datetime, timeout_s: float) -> None:
        self.con, self.timeout_s = con, timeout_s
        self.as_of = as_of.astimezone(UTC).replace(tzinfo=None)  # the engines work in naive UTC

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with time_limit(self.con, self.timeout_s):
            return self.con.execute(sql).fetchall()

    def table(self, dataset: str, schema: list[tuple[str, str]]) -> TableProfile:
        try:
            return self._table(dataset, schema)
        except QueryTimedOut as exc:
            raise ProfileError(
                f"profiling {dataset} {exc}; name fewer tables (--tables) or allow more (--timeout)"
            ) from None
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ProfileError(f"profiling {dataset}: {first}") from None

    def _table(self, dataset: str, schema: list[tuple[str, str]]) -> TableProfile:
        t = table_ref(dataset)
        named = [(c, ty) for c, ty in schema if nameable(c)]
        now = timestamp_literal(self.as_of)
        later = timestamp_literal(self.as_of + FUTURE_TOLERANCE)
        parts = ["count(*)"]
        for c, ty in named:
            q, fam = quote_ident(c), family(ty)
            parts.append(f"count(*) - count({q})")
            parts.append(f"count(DISTINCT {q})" if fam in _KEY_FAMILIES else "NULL")
            if fam == "number":
                parts += [f"min({q})::DOUBLE", f"max({q})::DOUBLE"]
            elif fam == "time":
                parts += [
                    f"epoch(max({q}) FILTER (WHERE {q} <= {now}))",
                    f"count_if({q} > {later})",
                ]
        row = self.query(f"SELECT {', '.join(parts)} FROM {t}")[0]
        rows = _int(row[0])
        values = iter(row[1:])
        columns = []
        for c, ty in named:
            fam = family(ty)
            nulls, distinct = _int(next(values)), next(values)
            col = ColumnProfile(c, ty, fam, nulls, None if distinct is None else _int(distinct))
            if fam == "number":
                col = _with(col, minimum=_number(next(values)), maximum=_number(next(values)))
            elif fam == "time":
                newest, future = next(values), next(values)
                col = _with(col, newest_epoch=_number(newest), future=_int(future))
            distinct_n = col.distinct or 0
            if fam == "text" and 0 < distinct_n <= MAX_CATEGORIES and rows - nulls >= 2 * distinct_n:
                found = self.query(
                    f"SELECT DISTINCT CAST({quote_ident(c)} AS VARCHAR) FROM {t} WHERE "
                    f"{quote_ident(c)} IS NOT NULL ORDER BY 1"
                )
                col = _with(col, categories=tuple(str(v[0]) for v in found))
            columns.append(col)
        keys, key_note = self._keys(t, rows, columns)
        time_column = _main_time_column(columns)
        return TableProfile(
            dataset=dataset,
            rows=rows,
            columns=tuple(columns),
            unnameable=tuple(c for c, _ty in schema if not nameable(c)),
            keys=keys,
            key_note=key_note,
            time_column=time_column,
            daily_rows=self._daily(t, time_column) if time_column is not None else (),
            pii_values=self._pii(t, [c.name for c in columns if c.type == "VARCHAR"]),
        )

    def _keys(self, t: str, rows: int, columns: list[ColumnProfile]) -> tuple[tuple[tuple[str, ...], ...], str | None]:
        """Single columns unique and never null (not times, not floats); else the first such pair, else triple."""
        if rows == 0:
            return (), None
        candidates = [
            c
            for c in columns
            if c.nulls == 0 and c.distinct is not None and c.family in _KEY_FAMILIES and c.type not in _FLOATS
        ]
        singles = [c for c in candidates if c.distinct == rows and c.family != "time"]
        if singles:
            # Numbers first: an id rather than the e-mail address that happens to be unique too.
            numbers = [c for c in singles if c.family == "number"]
            return tuple((c.name,) for c in numbers or singles), None
        candidates = candidates[:MAX_KEY_COLUMNS]
        for size in (2, 3):
            # A set of columns can only be unique if the product of their distinct counts reaches the rows.
            combos = [
                combo
                for combo in itertools.combinations(candidates, size)
                if math.prod(c.distinct or 0 for c in combo) >= rows
            ]
            if not combos:
                continue
            counts = ", ".join(f"count(DISTINCT ({', '.join(quote_ident(c.name) for c in combo)}))" for combo in combos)
            try:
                found = self.query(f"SELECT {counts} FROM {t}")[0]
            except QueryTimedOut as exc:
                return (), f"the search for a key of {size} columns {exc}"
            for combo, distinct in zip(combos, found, strict=True):
                if distinct == rows:
                    return (tuple(c.name for c in combo),), None
        return (), None

    def _daily(self, t: str, column: str) -> tuple[int, ...]:
        """Rows per day back from the newest row at or before the evaluation time, as row_volume counts them."""
        c, now = quote_ident(column), timestamp_literal(self.as_of)
        found = self.query(
            f"WITH anchor AS (SELECT max(epoch({c})) AS now FROM {t} WHERE {c} <= {now}) "
            f"SELECT floor((anchor.now - epoch({c})) / 86400)::BIGINT AS k, count(*) FROM {t}, anchor "
            f"WHERE epoch({c}) <= anchor.now AND epoch({c}) > anchor.now - {86400 * VOLUME_DAYS} GROUP BY k"
        )
        counts = {_int(k): _int(n) for k, n in found}
        return tuple(counts.get(k, 0) for k in range(max(counts) + 1)) if counts else ()

    def _pii(self, t: str, text_columns: list[str]) -> int | None:
        if not text_columns:
            return None
        pattern = literal("|".join(f"(?:{PII_PATTERNS[name]})" for name in ("email", "phone")))
        hits = " + ".join(
            f"coalesce(regexp_matches(CAST({quote_ident(c)} AS VARCHAR), {pattern})::INT, 0)" for c in text_columns
        )
        return _int(self.query(f"SELECT coalesce(sum({hits}), 0)::BIGINT FROM {t}")[0][0])


def _with(col: ColumnProfile, **changes: object) -> ColumnProfile:
    return replace(col, **changes)  # type: ignore[arg-type]


def _main_time_column(columns: list[ColumnProfile]) -> str | None:
    times = [c for c in columns if c.family == "time" and c.newest_epoch is not None]
    if not times:
        return None
    return max(times, key=lambda c: (-c.nulls, c.newest_epoch or 0.0)).name


def profile_database(
    db: Path, as_of: datetime, tables: list[str] | None = None, timeout_s: float = 300.0
) -> DatabaseProfile:
    """Profile `tables` (schema.table; default every table a spec can name) of the database at `db`, read-only."""
    with open_for_checks(db) as con:
        catalog, skipped = _catalog(con)
        if tables:
            unknown = [name for name in tables if name not in catalog]
            if unknown:
                known = ", ".join(sorted(catalog)) or "none"
                raise UsageError(f"--tables: {', '.join(unknown)} not in {db} (tables: {known})")
            chosen = list(dict.fromkeys(tables))
        else:
            chosen = sorted(catalog)
        if not chosen:
            raise UsageError(f"{db}: no tables to profile")
        profiler = _Profiler(con, as_of, timeout_s)
        profiles = tuple(profiler.table(name, catalog[name]) for name in chosen)
    return DatabaseProfile(db, as_of, profiles, tuple(skipped) if not tables else ())
