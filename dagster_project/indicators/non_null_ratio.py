"""non_null_ratio (completeness): share of the rows with every listed column present; 1.0 over no rows.

`missing_values` lists values that mean "missing" as much as a null does ('N/A', ''): a value is compared as text,
exactly (no trimming, case matters), so they are meant for text columns."""

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
    gx_count,
    read_columns,
)
from dagster_project.indicators.lazy import exp, sql


@dataclass(frozen=True)
class NonNullRatioIndicator(Indicator):
    type: ClassVar[str] = "non_null_ratio"
    columns: tuple[str, ...]
    missing_values: tuple[str, ...] = ()

    def _present(self, column: str) -> exp.Expr:
        c = sql.col(column)
        if not self.missing_values:
            return sql.not_null(c)
        listed = exp.In(this=sql.as_text(c.copy()), expressions=[sql.lit(v) for v in self.missing_values])
        return exp.and_(sql.not_null(c), exp.Not(this=exp.paren(listed, copy=False)), copy=False)

    def scan(self, ctx: Context) -> exp.Expr:
        present = sql.all_of([self._present(c) for c in self.columns])
        return sql.coalesce(
            sql.div(sql.as_double(sql.count_if(present)), sql.nullif(sql.count(), sql.lit(0))), sql.lit(1.0)
        )

    def failing_rows(self, ctx: Context) -> exp.Expr:
        present = sql.all_of([self._present(c) for c in self.columns])
        return exp.Not(this=exp.paren(present, copy=False))

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return read_columns(dataset, self.columns)

    def gx_refusal(self) -> str | None:
        if self.missing_values:
            return "GX's not-null expectation sees only nulls, not the missing_values"
        return None

    def gx_parts(self, bound: GxBound) -> tuple[tuple[Part, ...], tuple[BatchColumn, ...]]:
        # Rows with every column present = rows minus, for each column, the rows where it is the first null one.
        # Each part counts those: column k null among rows whose columns before k are present.
        parts = tuple(
            Part(
                "ExpectColumnValuesToNotBeNull", {"column": c, "mostly": bound.mostly}, not_null_first=self.columns[:k]
            )
            for k, c in enumerate(self.columns)
        )
        return parts, tuple(BatchColumn(c, (c,)) for c in self.columns)

    def gx_observed(self, results: Sequence[Mapping[str, Any]]) -> float:
        rows = gx_count(results[0], "element_count")
        first_nulls = sum(gx_count(r, "unexpected_count") for r in results)
        return 1.0 - first_nulls / rows if rows else 1.0


DEFINITION = Definition("non_null_ratio", NonNullRatioIndicator, unit="ratio", measured="scan")
