"""What `slo init` observes in a database: per table its rows, and per column its nulls, distinct values, numeric
range, newest timestamp and lag, categorical values; candidate keys (a column, or a pair or triple of columns, unique
and never null); rows per day of the main timestamp column; values that look like personal data.

It runs on any engine adapter (engines/adapter.py: DuckDB, PostgreSQL, Spark): the tables and their type families
come from the adapter's catalog, every query is a sqlglot tree rendered in the adapter's dialect (indicators/sql.py),
and every query goes through the adapter's `fetch`, read-only and under a time limit, so profiling never writes and
never hangs. Only numbers and the few values of categorical columns are read back, so the same data gives the same
profile on every engine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlglot import exp

from dagster_project.engines.adapter import Column, EngineAdapter, EngineError, QueryTimedOut, TypeFamily
from dagster_project.engines.duckdb_adapter import open_adapter
from dagster_project.errors import SloError, UsageError
from dagster_project.indicators import sql
from dagster_project.indicators.no_pii import PII_PATTERNS
from dagster_project.warehouse.build_log import BUILD_LOG_SCHEMA

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
# Schemas that are not the product's: the service's own build log, a connection's temporary tables.
_NOT_THE_PRODUCT = {BUILD_LOG_SCHEMA, "temp"}
_FAMILIES: dict[TypeFamily, str] = {
    "integer": "number",
    "decimal": "number",
    "float": "number",
    "timestamp": "time",
    "date": "time",
    "text": "text",
}
_KEY_FAMILIES = {"number", "text", "time", "uuid"}
_BIGINT = exp.DataType.build("BIGINT")


class ProfileError(SloError):
    """A table could not be profiled (timed out, or the engine refused a query): exit 3 with the table named."""


def nameable(name: str) -> bool:
    return bool(name) and not name[0].isdigit() and set(name) <= _NAME_CHARS and len(name) <= 128


def whole_numbers(column: Column, dialect: str) -> bool:
    """An integer type, or a decimal without a fraction (how PostgreSQL and Parquet hold DuckDB's HUGEINT, UBIGINT)."""
    if column.family == "integer":
        return True
    if column.family != "decimal":
        return False
    try:
        built = exp.DataType.build(column.type, dialect=dialect)
    except Exception:
        return False
    params = [p.sql() for p in built.expressions]
    return len(params) == 2 and params[1] == "0"


def family(column: Column) -> str:
    """number, time, text, uuid or other: what the profile measures of a column."""
    if column.family in _FAMILIES:
        return _FAMILIES[column.family]
    return "uuid" if column.type.lower() == "uuid" else "other"


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str  # the engine's own spelling
    family: str  # number, time, text, uuid or other (`family` above)
    nulls: int
    distinct: int | None = None  # non-null distinct values (key candidates and text columns)
    minimum: float | None = None  # numbers
    maximum: float | None = None
    newest_epoch: float | None = None  # times: the newest value at or before the evaluation time
    future: int = 0  # times: values dated after the evaluation time plus the tolerance
    categories: tuple[str, ...] | None = None  # categorical text: its values, sorted
    engine_family: TypeFamily = "other"  # the adapter's type family: integer, float, ... (engines/adapter.py)
    integer: bool = False  # whole numbers only: an integer type, or a decimal of scale 0 (UBIGINT as NUMERIC(20,0))


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
    db: Path | str  # what was profiled: the DuckDB file, or the server's label
    as_of: datetime  # aware
    tables: tuple[TableProfile, ...]
    skipped_tables: tuple[str, ...] = ()  # tables a spec cannot name
    dialect: str = "duckdb"  # the engine's, in which ColumnProfile.type is spelt


def _catalog(adapter: EngineAdapter) -> tuple[dict[str, tuple[Column, ...]], list[str]]:
    """Every table a spec can name with its columns, and the tables it cannot name."""
    tables: dict[str, tuple[Column, ...]] = {}
    skipped: list[str] = []
    catalog = adapter.catalog()
    for dataset, columns in catalog.tables.items():
        schema, table = dataset.split(".", 1)
        if schema in _NOT_THE_PRODUCT or dataset in catalog.denied:  # nothing to profile in what we may not read
            continue
        if nameable(schema) and nameable(table):
            tables[dataset] = columns
        elif dataset not in skipped:
            skipped.append(dataset)
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


def _bigint(node: exp.Expr) -> exp.Expr:
    return exp.cast(node, _BIGINT)


# Rows per day back from the newest row at or before the evaluation time, as row_volume counts them (t, c and asof
# are placeholders; epoch_seconds is sql.EpochSeconds).
_DAILY = sql.template(
    "WITH anchor AS (SELECT max(epoch_seconds(c)) AS newest FROM t WHERE c <= asof) "
    "SELECT CAST(floor((anchor.newest - epoch_seconds(c)) / 86400) AS BIGINT) AS k, count(*) AS n FROM t, anchor "
    f"WHERE epoch_seconds(c) <= anchor.newest AND epoch_seconds(c) > anchor.newest - {86400 * VOLUME_DAYS} "
    "GROUP BY 1"
)


class _Profiler:
    def __init__(self, adapter: EngineAdapter, as_of: datetime, timeout_s: float) -> None:
        self.adapter, self.timeout_s = adapter, timeout_s
        self.as_of = as_of.astimezone(UTC).replace(tzinfo=None)  # the engines work in naive UTC

    def query(self, tree: exp.Expr) -> list[tuple[object, ...]]:
        return self.adapter.fetch(sql.render(tree, self.adapter.dialect), self.timeout_s, max_rows=None)

    def table(self, dataset: str, schema: tuple[Column, ...]) -> TableProfile:
        try:
            return self._table(dataset, schema)
        except QueryTimedOut as exc:
            raise ProfileError(
                f"profiling {dataset} {exc}; name fewer tables (--tables) or allow more (--timeout)"
            ) from None
        except EngineError as exc:
            raise ProfileError(f"profiling {dataset}: {exc}") from None

    def _table(self, dataset: str, schema: tuple[Column, ...]) -> TableProfile:
        t = sql.table(dataset)
        named = [c for c in schema if nameable(c.name)]
        now, later = sql.timestamp(self.as_of), sql.timestamp(self.as_of + FUTURE_TOLERANCE)
        parts: list[exp.Expr] = [sql.count()]
        for column in named:
            c, fam = sql.col(column.name), family(column)
            parts.append(exp.Sub(this=sql.count(), expression=sql.count(c.copy())))
            parts.append(sql.count_distinct([c.copy()]) if fam in _KEY_FAMILIES else exp.Null())
            if fam == "number":
                parts += [sql.as_double(exp.Min(this=c.copy())), sql.as_double(exp.Max(this=c.copy()))]
            elif fam == "time":
                newest = sql.filtered(exp.Max(this=c.copy()), exp.LTE(this=c.copy(), expression=now.copy()))
                parts += [sql.epoch(newest), sql.count_if(exp.GT(this=c.copy(), expression=later.copy()))]
        row = self.query(sql.select(*parts, from_=t))[0]
        rows = _int(row[0])
        values = iter(row[1:])
        columns = []
        for column in named:
            fam = family(column)
            nulls, distinct = _int(next(values)), next(values)
            col = ColumnProfile(
                column.name,
                column.type,
                fam,
                nulls,
                None if distinct is None else _int(distinct),
                engine_family=column.family,
                integer=whole_numbers(column, self.adapter.dialect),
            )
            if fam == "number":
                col = _with(col, minimum=_number(next(values)), maximum=_number(next(values)))
            elif fam == "time":
                latest, future = next(values), next(values)
                col = _with(col, newest_epoch=_number(latest), future=_int(future))
            distinct_n = col.distinct or 0
            if fam == "text" and 0 < distinct_n <= MAX_CATEGORIES and rows - nulls >= 2 * distinct_n:
                c = sql.col(column.name)
                found = self.query(
                    sql.select(sql.as_text(c.copy()), from_=t.copy()).distinct().where(sql.not_null(c.copy()))
                )
                col = _with(col, categories=tuple(sorted(str(v[0]) for v in found)))  # code points: every engine
            columns.append(col)
        keys, key_note = self._keys(t, rows, columns)
        time_column = _main_time_column(columns)
        return TableProfile(
            dataset=dataset,
            rows=rows,
            columns=tuple(columns),
            unnameable=tuple(c.name for c in schema if not nameable(c.name)),
            keys=keys,
            key_note=key_note,
            time_column=time_column,
            daily_rows=self._daily(dataset, time_column) if time_column is not None else (),
            pii_values=self._pii(t, [c.name for c in columns if c.engine_family == "text"]),
        )

    def _keys(
        self, t: exp.Expr, rows: int, columns: list[ColumnProfile]
    ) -> tuple[tuple[tuple[str, ...], ...], str | None]:
        """Single columns unique and never null (not times, not floats); else the first such pair, else triple."""
        if rows == 0:
            return (), None
        candidates = [
            c
            for c in columns
            if c.nulls == 0 and c.distinct is not None and c.family in _KEY_FAMILIES and c.engine_family != "float"
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
            counts = [sql.count_distinct([sql.col(c.name) for c in combo]) for combo in combos]
            try:
                found = self.query(sql.select(*counts, from_=t.copy()))[0]
            except QueryTimedOut as exc:
                return (), f"the search for a key of {size} columns {exc}"
            for combo, distinct in zip(combos, found, strict=True):
                if distinct == rows:
                    return (tuple(c.name for c in combo),), None
        return (), None

    def _daily(self, dataset: str, column: str) -> tuple[int, ...]:
        """Rows per day back from the newest row at or before the evaluation time, as row_volume counts them."""
        tree = sql.fill(_DAILY, {"c": column}, {"asof": sql.timestamp(self.as_of)}, tables={"t": dataset})
        counts = {_int(k): _int(n) for k, n in self.query(tree)}
        return tuple(counts.get(k, 0) for k in range(max(counts) + 1)) if counts else ()

    def _pii(self, t: exp.Expr, text_columns: list[str]) -> int | None:
        if not text_columns:
            return None
        pattern = sql.lit("|".join(f"(?:{PII_PATTERNS[name]})" for name in ("email", "phone")))
        hits: exp.Expr | None = None
        for name in text_columns:
            found = sql.Search(this=sql.as_text(sql.col(name)), expression=pattern.copy())
            hit = sql.coalesce(exp.cast(found, sql.INT), sql.lit(0))
            hits = hit if hits is None else exp.Add(this=hits, expression=hit)
        assert hits is not None
        total = _bigint(sql.coalesce(exp.Sum(this=_bigint(hits)), sql.lit(0)))
        return _int(self.query(sql.select(total, from_=t.copy()))[0][0])


def _with(col: ColumnProfile, **changes: object) -> ColumnProfile:
    return replace(col, **changes)  # type: ignore[arg-type]


def _main_time_column(columns: list[ColumnProfile]) -> str | None:
    times = [c for c in columns if c.family == "time" and c.newest_epoch is not None]
    if not times:
        return None
    return max(times, key=lambda c: (-c.nulls, c.newest_epoch or 0.0)).name


def profile_adapter(
    adapter: EngineAdapter,
    source: Path | str,
    as_of: datetime,
    tables: list[str] | None = None,
    timeout_s: float = 300.0,
) -> DatabaseProfile:
    """Profile `tables` (schema.table; default every table a spec can name) through `adapter`, read-only; `source`
    names the database in messages and in the starter's header."""
    try:
        catalog, skipped = _catalog(adapter)
    except QueryTimedOut as exc:
        raise ProfileError(f"{source}: reading the catalog {exc}") from None
    except EngineError as exc:
        raise ProfileError(f"{source}: cannot read its catalog: {exc}") from None
    if tables:
        unknown = [name for name in tables if name not in catalog]
        if unknown:
            known = ", ".join(sorted(catalog)) or "none"
            raise UsageError(f"--tables: {', '.join(unknown)} not in {source} (tables: {known})")
        chosen = list(dict.fromkeys(tables))
    else:
        chosen = sorted(catalog)
    if not chosen:
        raise UsageError(f"{source}: no tables to profile")
    profiler = _Profiler(adapter, as_of, timeout_s)
    profiles = tuple(profiler.table(name, catalog[name]) for name in chosen)
    return DatabaseProfile(source, as_of, profiles, tuple(skipped) if not tables else (), adapter.dialect)


def profile_database(
    db: Path, as_of: datetime, tables: list[str] | None = None, timeout_s: float = 300.0
) -> DatabaseProfile:
    """Profile the DuckDB database at `db` (and its .landing file beside it, as raw.*), opened as `slo check` opens
    it: read-only, external access off."""
    with open_adapter(db) as adapter:
        return profile_adapter(adapter, db, as_of, tables, timeout_s)
