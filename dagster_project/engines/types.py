"""Comparing a spec's type names with an engine's, for schema SLOs on any engine.

A spec writes DuckDB type names (BIGINT, VARCHAR, DECIMAL(10,2), TIMESTAMP); each engine spells its own (bigint,
character varying, numeric(10,2), timestamp without time zone; Spark: bigint, string, decimal(10,2), timestamp).
Both are parsed by sqlglot in their own dialect and compared as types: widths matter (INTEGER is not BIGINT), a text
type matches any text type (VARCHAR, TEXT, STRING, character varying(n)), a decimal's precision and scale must match.
Spark has no timestamp without a zone by default (its TIMESTAMP is a point in time shown in the session's UTC): there
TIMESTAMP and TIMESTAMPTZ both match either of Spark's timestamp types.
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp

_T = exp.DataType.Type
_TEXT = {_T.TEXT, _T.VARCHAR, _T.CHAR, _T.NVARCHAR, _T.NCHAR, _T.NAME}
_TIMESTAMP = {_T.TIMESTAMP, _T.TIMESTAMPNTZ}
_TIMESTAMPTZ = {_T.TIMESTAMPTZ, _T.TIMESTAMPLTZ}


@lru_cache(maxsize=1024)
def canonical(type_name: str, dialect: str) -> str:
    """A spelling that is equal for equal types across dialects ('?' prefixed when sqlglot cannot parse it)."""
    try:
        built = exp.DataType.build(type_name, dialect=dialect)
    except Exception:
        return "?" + type_name.strip().lower()
    kind = built.this
    if kind in _TEXT:
        return "TEXT"
    if kind in _TIMESTAMP:
        return "TIMESTAMP" if dialect != "spark" else "TIMESTAMP*"
    if kind in _TIMESTAMPTZ:
        return "TIMESTAMPTZ" if dialect != "spark" else "TIMESTAMP*"
    if kind == _T.DECIMAL:
        params = [p.sql() for p in built.expressions]
        return f"DECIMAL({','.join(params) or '18,3'})"  # DuckDB's default precision and scale
    return built.sql(dialect="duckdb").upper()


def same_type(expected: str, actual: str, dialect: str) -> bool:
    """Whether a column the engine (`dialect`) reports as `actual` has the spec's type `expected` (DuckDB's names)."""
    want = canonical(expected, "duckdb")
    have = canonical(actual, dialect)
    if dialect == "spark" and want in ("TIMESTAMP", "TIMESTAMPTZ"):
        return have == "TIMESTAMP*"
    return want == have
