"""in_set (validity): share of the present values in a set; numbers compare as numbers (1 = 1.0)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from dagster_project.indicators.base import (
    BatchColumn,
    Cast,
    Context,
    Definition,
    GxBound,
    Indicator,
    Part,
    Read,
    gx_share_met,
)
from dagster_project.indicators.lazy import exp, sql


@dataclass(frozen=True)
class InSetIndicator(Indicator):
    type: ClassVar[str] = "in_set"
    column: str
    values: tuple[str | int | float, ...]
    nulls: str = "ignore"

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in self.values)

    def _member(self, c: exp.Expr) -> exp.Expr:
        if self.numeric:
            # A value that is not a number is simply not in the set (a violation), not an error.
            numbers = [sql.lit(float(v)) for v in self.values]
            return exp.In(this=sql.NumberOrNull(this=c.copy()), expressions=numbers)
        words = [sql.lit(str(v)) for v in self.values]
        return exp.In(this=sql.as_text(c.copy()), expressions=words)

    def scan(self, ctx: Context) -> exp.Expr:
        c = sql.col(self.column)
        return sql.share(self._member(c), c, self.nulls)

    def failing_rows(self, ctx: Context) -> exp.Expr:
        c = sql.col(self.column)
        return sql.failing(self._member(c), c, self.nulls)

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return (Read(dataset, self.column, "any", ("column",)),)

    def gx_parts(self, bound: GxBound) -> tuple[tuple[Part, ...], tuple[BatchColumn, ...]]:
        cast: Cast = "DOUBLE" if self.numeric else "VARCHAR"
        column = BatchColumn(self.column, (self.column,), cast)
        values = [float(v) for v in self.values] if self.numeric else [str(v) for v in self.values]
        kwargs = {"column": column.name, "value_set": values, "mostly": bound.mostly}
        return (Part("ExpectColumnValuesToBeInSet", kwargs),), (column,)

    def gx_observed(self, results: Sequence[Mapping[str, Any]]) -> float:
        return gx_share_met(results[0], self.nulls)


DEFINITION = Definition("in_set", InSetIndicator, unit="ratio", measured="scan")
