"""metric (any dimension): one aggregate of one numeric column - sum, avg, min, max, stddev (sample), a percentile or
the count of distinct values - with a declared unit, bounded like any other SLO.

Nulls are ignored, as SQL's aggregates ignore them. No value to aggregate (no rows, or every value null; fewer than
two for stddev) is no value at all, an error result; the distinct count of nothing is 0, as SQL says.

The same number on DuckDB, PostgreSQL and Spark: sums are taken in the column's own type (exact for integers and
decimals) and only then made DOUBLE; avg is that sum divided by the count (one division, the same everywhere, where
each engine's avg of decimals rounds its own way); min, max and the distinct count are exact; the percentile is
sql.Percentile, bit for bit the same. stddev is each engine's stddev_samp, whose numerically stable algorithms may
differ in the last digits (about 1e-15 relative). A sum of a DOUBLE column depends on the order of addition, which
engines do not share: it too may differ in the last digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from dagster_project.indicators.base import Context, Definition, Indicator, Need, Read, Unit
from dagster_project.indicators.lazy import exp, sql

Aggregate = Literal["sum", "avg", "min", "max", "stddev", "percentile", "distinct_count"]


@dataclass(frozen=True)
class MetricIndicator(Indicator):
    type: ClassVar[str] = "metric"
    aggregate: str
    column: str
    percentile: float | None = None
    unit: Unit = "number"

    def scan(self, ctx: Context) -> exp.Expr:
        c = sql.col(self.column)
        if self.aggregate == "sum":
            return sql.as_double(exp.Sum(this=c))
        if self.aggregate == "avg":
            return sql.div(sql.as_double(exp.Sum(this=c)), sql.nullif(sql.count(c.copy()), sql.lit(0)))
        if self.aggregate == "min":
            return sql.as_double(exp.Min(this=c))
        if self.aggregate == "max":
            return sql.as_double(exp.Max(this=c))
        if self.aggregate == "stddev":
            return exp.StddevSamp(this=sql.as_double(c))
        if self.aggregate == "percentile":
            assert self.percentile is not None
            return sql.Percentile(this=sql.as_double(c), fraction=sql.lit(float(self.percentile)))
        if self.aggregate == "distinct_count":
            return sql.count_distinct([c])
        raise ValueError(f"unknown aggregate {self.aggregate!r}")

    def reads(self, dataset: str) -> tuple[Read, ...]:
        need: Need = "any" if self.aggregate == "distinct_count" else "number"
        return (Read(dataset, self.column, need, ("column",)),)

    def no_value(self, dataset: str) -> str:
        if self.aggregate == "stddev":
            return f"no value: {dataset} has fewer than two values of {self.column} (a sample stddev needs two)"
        return f"no value: {dataset} has no rows with a value of {self.column} to judge"


DEFINITION = Definition(
    "metric",
    MetricIndicator,
    unit="number",
    measured="scan",
    declared_unit=True,
    gx_reason="GX's column aggregates are not SQL's: its pandas quantiles take the nearest value, not an interpolated "
    "one, and its averages and sums of decimals round their own way",
)
