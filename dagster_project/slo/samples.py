"""Failed-row samples (spec: samples): the one bounded query that finds the keys of a few failing rows, as a
dialect-neutral tree like every other query of the plan.

`SELECT <keys> FROM <dataset> WHERE <the indicator's failing-row condition> [AND <the SLO's where/partition>]
ORDER BY <keys> LIMIT <n>`. Only the key columns are selected, and of those only the ones not marked as PII (spec:
pii_columns): a PII key is shown as *** and its values never leave the engine. Nulls sort first on every engine, so
DuckDB, PostgreSQL and Spark return the same keys (text keys follow the engine's collation).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dagster_project.indicators.base import Context
from dagster_project.indicators.lazy import exp, sql
from dagster_project.slo.domain import Slo
from dagster_project.slo.plan import condition


def sample_query(slo: Slo, as_of: datetime, text_columns: Sequence[str] = ()) -> exp.Select | None:
    """The sample query of an SLO at `as_of` (naive UTC); None when it declares no samples or its indicator judges
    no single row."""
    keys = slo.samples
    if keys is None:
        return None
    rows = None if slo.filter is None else condition(slo.filter, as_of)
    failing = slo.indicator.failing_rows(Context(slo.dataset, as_of, tuple(text_columns), rows))
    if failing is None:
        return None
    shown: list[exp.Expr] = [sql.col(k) for k in keys.keys if k not in keys.masked]
    query = sql.select(*(shown or [exp.alias_(sql.lit(1), "masked")]), from_=sql.table(slo.dataset))
    where = [exp.paren(failing, copy=False)] + ([] if rows is None else [exp.paren(rows.copy(), copy=False)])
    query = query.where(sql.all_of(where), copy=False)
    query = query.order_by(*(exp.Ordered(this=sql.col(k), nulls_first=True) for k in keys.keys), copy=False)
    return query.limit(keys.limit, copy=False)
