"""reconciliation (accuracy): |sum(column) - sum(reference_column)| / |sum(reference_column)|."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dagster_project.indicators.base import Context, Definition, Indicator, Read
from dagster_project.indicators.lazy import exp, sql, template

# Both sums zero (or empty): they agree. Only the reference zero: 100% apart.
_QUERY = template(
    """
    SELECT CASE WHEN coalesce(b.s, 0) = 0 THEN CASE WHEN coalesce(a.s, 0) = 0 THEN 0.0 ELSE 1.0 END
                ELSE abs(coalesce(a.s, 0) - b.s) / abs(b.s) END
    FROM (SELECT CAST(sum(c) AS DOUBLE) AS s FROM t) AS a, (SELECT CAST(sum(rc) AS DOUBLE) AS s FROM ref) AS b
    """
)


@dataclass(frozen=True)
class ReconciliationIndicator(Indicator):
    type: ClassVar[str] = "reconciliation"
    column: str
    reference_dataset: str
    reference_column: str

    def query(self, ctx: Context) -> exp.Query:
        columns = {"c": self.column, "rc": self.reference_column}
        query = sql.fill(_QUERY, columns, tables={"t": ctx.dataset, "ref": self.reference_dataset})
        assert isinstance(query, exp.Query)
        return query

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return (
            Read(dataset, self.column, "number", ("column",)),
            Read(
                self.reference_dataset, self.reference_column, "number", ("reference_column",), ("reference_dataset",)
            ),
        )


DEFINITION = Definition(
    "reconciliation",
    ReconciliationIndicator,
    unit="ratio",
    measured="query",
    gx_reason="spans two tables (GX's SQL path, which could, fails silently on DuckDB)",
    unbounded=True,
)
