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

from pydantic import Field, model_validator

from dagster_project.indicators.base import Context, Definition, Indicator, Need, Read, Unit
from dagster_project.indicators.fields import IndicatorSpec, SqlName
from dagster_project.indicators.lazy import exp, sql

Aggregate = Literal["sum", "avg", "min", "max", "stddev", "percentile", "distinct_count"]


class Metric(IndicatorSpec):
    """One aggregate of one column, e.g. the 95th percentile of delivery time, with the unit it is measured in."""

    type: Literal["metric"]
    aggregate: Aggregate = Field(
        description="sum, avg, min, max, stddev (sample), percentile (give `percentile`) or distinct_count."
    )
    column: SqlName = Field(description="A numeric column (any column for distinct_count).")
    percentile: float | None = Field(
        default=None, ge=0, le=1, description="With aggregate percentile: which one, as a fraction (0.95)."
    )
    unit: Unit = Field(
        default="number",
        description="What the value is: number (any), count (never negative), ratio (0..1) or duration (the column "
        "holds seconds; bounds are written as durations, e.g. 2h).",
    )

    @model_validator(mode="after")
    def _percentile_with_its_aggregate(self) -> Metric:
        if self.aggregate == "percentile" and self.percentile is None:
            raise ValueError("aggregate percentile needs `percentile`, a fraction such as 0.95")
        if self.aggregate != "percentile" and self.percentile is not None:
            raise ValueError(f"`percentile` is for aggregate percentile, not {self.aggregate}")
        return self


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
    Metric,
    MetricIndicator,
    unit="number",
    measured="scan",
    declared_unit=True,
    gx_reason="GX's column aggregates are not SQL's: its pandas quantiles take the nearest value, not an interpolated "
    "one, and its averages and sums of decimals round their own way",
)
