"""SQL for each indicator on DuckDB. Every name is quoted and every value from a spec is a quoted literal, so a spec
cannot change the shape of a query; the only free SQL (custom indicators, consumer queries) runs on a connection that
is read-only and has external access switched off.

Ratios count only non-null values where a null is another dimension's concern (completeness), unless the SLO says
`nulls: fail` (then a null is a violation of a required column). A ratio over no rows
is 1.0 (nothing violates it): an empty table is the concern of volume and freshness SLOs, and a legitimately empty
product table (no pair bought together often enough) must not fail uniqueness or validity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dagster_project.slo.domain import Slo
from dagster_project.warehouse.connection import quote_ident

PII_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "phone": r"\+[0-9]{1,3}[ -]?[0-9][0-9 -]{6,}[0-9]",
    "iban": r"\b[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}\b",
    "credit_card": r"\b[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{1,4}\b",
}


def literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"unsupported literal {value!r}")
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def table_ref(dataset: str) -> str:
    schema, name = dataset.split(".", 1)
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def timestamp_literal(ts: datetime) -> str:
    return f"TIMESTAMP '{ts.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def _share(condition: str, of: str, nulls: str = "ignore") -> str:
    """Share of the rows where `of` is not null that meet `condition` (a null condition does not); 1.0 when there
    are none. With nulls="fail" the share is of all rows, so a null counts as a violation. count_if rather than
    avg(CASE ...): DuckDB can answer it from column statistics, several times faster."""
    judged = "count(*)" if nulls == "fail" else f"count({of})"
    return f"coalesce(coalesce(count_if({of} IS NOT NULL AND ({condition})), 0)::DOUBLE / nullif({judged}, 0), 1.0)"


def scan_expression(slo: Slo, as_of: datetime, text_columns: list[str]) -> str:
    """One aggregate over the SLO's dataset giving the observed value (a SCAN_KINDS indicator)."""
    p = slo.params
    if slo.kind == "max_age":
        # Only rows at or before the evaluation time: a back-dated check sees the data as it was then (as row_volume
        # does), and a row dated in the future cannot make stale data look fresh. The age is never negative.
        c, now = quote_ident(p["column"]), timestamp_literal(as_of)
        return f"epoch({now}) - epoch(max({c}) FILTER (WHERE {c} <= {now}))"
    if slo.kind == "non_null_ratio":
        present = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in p["columns"])
        return f"coalesce(count_if({present})::DOUBLE / nullif(count(*), 0), 1.0)"
    if slo.kind == "in_range":
        c = quote_ident(p["column"])
        bounds = [f"{c} >= {literal(p['min'])}"] if p.get("min") is not None else []
        bounds += [f"{c} <= {literal(p['max'])}"] if p.get("max") is not None else []
        return _share(" AND ".join(bounds), c, p.get("nulls", "ignore"))
    if slo.kind == "in_set":
        c = quote_ident(p["column"])
        if all(isinstance(v, int | float) for v in p["values"]):  # numbers compare as numbers: 1 = 1.0
            # TRY_CAST: a value that is not a number is simply not in the set (a violation), not an error.
            numbers = ", ".join(literal(float(v)) for v in p["values"])
            return _share(f"TRY_CAST({c} AS DOUBLE) IN ({numbers})", c, p.get("nulls", "ignore"))
        values = ", ".join(literal(str(v)) for v in p["values"])
        return _share(f"CAST({c} AS VARCHAR) IN ({values})", c, p.get("nulls", "ignore"))
    if slo.kind == "matches_pattern":
        c = quote_ident(p["column"])
        return _share(f"regexp_full_match(CAST({c} AS VARCHAR), {literal(p['regex'])})", c, p.get("nulls", "ignore"))
    if slo.kind == "not_in_future":
        # Seconds, not an INTERVAL literal: the tolerance may be fractional. A null is not judged (completeness's).
        c, now = quote_ident(p["column"]), timestamp_literal(as_of)
        return _share(f"epoch({c}) <= epoch({now}) + {float(p['tolerance'])!r}", c)
    if slo.kind == "uniqueness":
        # Keys with a null part are left out (a null key is completeness's concern), as for every other ratio.
        cols = ", ".join(quote_ident(c) for c in p["columns"])
        complete = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in p["columns"])
        return (
            f"coalesce(count(DISTINCT ({cols})) FILTER (WHERE {complete})::DOUBLE"
            f" / nullif(count(*) FILTER (WHERE {complete}), 0), 1.0)"
        )
    if slo.kind == "no_pii":
        columns = [c for c in (p.get("columns") or text_columns)]
        if not columns:
            return "0"
        pattern = literal("|".join(f"(?:{PII_PATTERNS[name]})" for name in p["patterns"]))
        t = table_ref(slo.dataset)
        # The matching rows of each column, counted over its distinct values: the pattern runs once per value, not
        # once per row (a category column of 10M rows has a few dozen values: 0.7 s -> 0.06 s at 10M order lines).
        # The sum is the same: a value's rows all match or all do not; nulls match nothing. A subquery computed once,
        # aggregated with max so that it fuses into the dataset's one scan (over no rows: 0).
        per_column = [
            f"(SELECT coalesce(sum(n * regexp_matches(v, {pattern})::INT), 0)"
            f" FROM (SELECT CAST({quote_ident(c)} AS VARCHAR) AS v, count(*) AS n FROM {t} GROUP BY v))"
            for c in columns
        ]
        return f"coalesce(max({' + '.join(per_column)}), 0)"
    raise ValueError(f"{slo.kind} is not a scan indicator")


def single_query(slo: Slo, as_of: datetime) -> str:
    """The query for an indicator that needs its own (not row_volume's special windows, not timed queries)."""
    p = slo.params
    t = table_ref(slo.dataset)
    if slo.kind == "row_volume":
        # Periods end at the newest row at or before the evaluation time, not at the evaluation time: a table loaded
        # once a day and checked every hour has the same volume all day (whether data stopped arriving is the
        # freshness SLOs' concern). Rows after the evaluation time are left out, as max_age leaves them out.
        ts, period, periods = quote_ident(p["timestamp_column"]), float(p["period"]), int(p["baseline_periods"])
        return f"""
            WITH anchor AS (
                SELECT max(epoch({ts})) AS now FROM {t} WHERE {ts} <= {timestamp_literal(as_of)}
            ),
            buckets AS (
                SELECT floor((anchor.now - epoch({ts})) / {period}) AS k, count(*) AS n FROM {t}, anchor
                WHERE epoch({ts}) <= anchor.now AND epoch({ts}) > anchor.now - {period * (periods + 1)}
                GROUP BY k
            )
            SELECT coalesce(sum(n) FILTER (WHERE k = 0), 0)
                   / nullif(coalesce(sum(n) FILTER (WHERE k BETWEEN 1 AND {periods}), 0) / {periods}, 0)
            FROM buckets"""
    if slo.kind == "referential_integrity":
        c, ref = quote_ident(p["column"]), table_ref(p["reference_dataset"])
        rc = quote_ident(p["reference_column"])
        # A semi-join (IN) rather than a join to the distinct keys: measured 1.8x faster at 10M order lines.
        # The reference column is qualified (a missing one is an error, not the outer column bound by DuckDB) and
        # its nulls left out (with one, `IN` is null for every unmatched key, and count_if of only nulls is null).
        return f"""
            SELECT coalesce(
                coalesce(count_if(d.{c} IN (SELECT r.{rc} FROM {ref} r WHERE r.{rc} IS NOT NULL)), 0)::DOUBLE
                / nullif(count(d.{c}), 0), 1.0)
            FROM {t} d"""
    if slo.kind == "reconciliation":
        c, ref = quote_ident(p["column"]), table_ref(p["reference_dataset"])
        rc = quote_ident(p["reference_column"])
        # Both sums zero (or empty): they agree. Only the reference zero: 100% apart.
        return f"""
            SELECT CASE WHEN coalesce(b.s, 0) = 0 THEN CASE WHEN coalesce(a.s, 0) = 0 THEN 0.0 ELSE 1.0 END
                        ELSE abs(coalesce(a.s, 0) - b.s) / abs(b.s) END
            FROM (SELECT sum({c})::DOUBLE AS s FROM {t}) a, (SELECT sum({rc})::DOUBLE AS s FROM {ref}) b"""
    if slo.kind == "custom_sql":
        return str(p["sql"])
    raise ValueError(f"{slo.kind} has no single query")
