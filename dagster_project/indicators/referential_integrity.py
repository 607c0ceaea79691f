"""referential_integrity (accuracy): share of the present keys found in the reference column; 1.0 with none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dagster_project.indicators.base import Context, Definition, Indicator, Read
from dagster_project.indicators.lazy import exp, sql, template

# A semi-join (IN) rather than a join to the distinct keys: measured 1.8x faster at 10M order lines on DuckDB; in
# WHERE, where every engine admits an IN subquery (Spark refuses one inside an aggregate). The reference column is
# qualified (a missing one is an error, not the outer column bound by the engine) and its nulls left out (with one,
# `IN` is null for every unmatched key).
_QUERY = template(
    """
    SELECT coalesce(CAST(m.n AS DOUBLE) / nullif(a.n, 0), 1.0)
    FROM (SELECT count(*) AS n FROM t AS d WHERE d.c IN (SELECT r.rc FROM ref AS r WHERE r.rc IS NOT NULL)) AS m,
         (SELECT count(d.c) AS n FROM t AS d) AS a
    """
)


@dataclass(frozen=True)
class ReferentialIntegrityIndicator(Indicator):
    type: ClassVar[str] = "referential_integrity"
    column: str
    reference_dataset: str
    reference_column: str

    def query(self, ctx: Context) -> exp.Query:
        columns = {"c": self.column, "rc": self.reference_column}
        query = sql.fill(_QUERY, columns, tables={"t": ctx.dataset, "ref": self.reference_dataset})
        assert isinstance(query, exp.Query)
        return query

    def failing_rows(self, ctx: Context) -> exp.Expr:
        """Orphans: a present key not in the reference column (whose nulls are left out, as in the query)."""
        reference = sql.col(self.reference_column, "r")
        known = sql.select(reference, from_=sql.table(self.reference_dataset, "r")).where(
            sql.not_null(reference.copy()), copy=False
        )
        c = sql.col(self.column)
        orphan = exp.Not(this=exp.In(this=c.copy(), query=exp.Subquery(this=known)))
        return exp.and_(sql.not_null(c), orphan, copy=False)

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return (
            Read(dataset, self.column, "key", ("column",)),
            Read(self.reference_dataset, self.reference_column, "key", ("reference_column",), ("reference_dataset",)),
        )


DEFINITION = Definition(
    "referential_integrity",
    ReferentialIntegrityIndicator,
    unit="ratio",
    measured="query",
    gx_reason="spans two tables (GX's SQL path, which could, fails silently on DuckDB)",
)
