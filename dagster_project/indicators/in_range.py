"""in_range (validity): share of the present values between min and max (inclusive)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from dagster_project.indicators.base import (
    BatchColumn,
    Context,
    Definition,
    GxBound,
    Indicator,
    Part,
    Read,
    gx_share_met,
)
from dagster_project.indicators.lazy import exp, sql


def _bound(value: float) -> exp.Expr:
    """A whole-number bound as an integer literal (the same value): PostgreSQL reads `1.0` as numeric and casts every
    value of an integer column to numeric to compare it (the quantity check took 1.9x its hand-written time)."""
    if float(value).is_integer() and abs(value) < 2**53:
        return sql.lit(int(value))
    return sql.lit(value)


@dataclass(frozen=True)
class InRangeIndicator(Indicator):
    type: ClassVar[str] = "in_range"
    column: str
    min: float | None = None
    max: float | None = None
    nulls: str = "ignore"

    def _within(self, c: exp.Expr) -> exp.Expr:
        bounds: list[exp.Expr] = []
        if self.min is not None:
            bounds.append(exp.GTE(this=c.copy(), expression=_bound(self.min)))
        if self.max is not None:
            bounds.append(exp.LTE(this=c.copy(), expression=_bound(self.max)))
        return sql.all_of(bounds)

    def scan(self, ctx: Context) -> exp.Expr:
        c = sql.col(self.column)
        return sql.share(self._within(c), c, self.nulls)

    def failing_rows(self, ctx: Context) -> exp.Expr:
        c = sql.col(self.column)
        return sql.failing(self._within(c), c, self.nulls)

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return (Read(dataset, self.column, "number", ("column",)),)

    def gx_parts(self, bound: GxBound) -> tuple[tuple[Part, ...], tuple[BatchColumn, ...]]:
        kwargs = {"column": self.column, "min_value": self.min, "max_value": self.max, "mostly": bound.mostly}
        return (Part("ExpectColumnValuesToBeBetween", kwargs),), (BatchColumn(self.column, (self.column,)),)

    def gx_observed(self, results: Sequence[Mapping[str, Any]]) -> float:
        return gx_share_met(results[0], self.nulls)


DEFINITION = Definition("in_range", InRangeIndicator, unit="ratio", measured="scan")
