"""non_null_ratio (completeness): share of the rows with every listed column present; 1.0 over no rows.

`missing_values` lists values that mean "missing" as much as a null does ('N/A', ''): a value is compared as text,
exactly (no trimming, case matters), so they are meant for text columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

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
from dagster_project.indicators.fields import IndicatorSpec, SqlName
from dagster_project.indicators.lazy import exp, sql


class NonNullRatio(IndicatorSpec):
    type: Literal["non_null_ratio"]
    columns: list[SqlName] = Field(min_length=1)
    missing_values: list[str] = Field(
        default_factory=list,
        description="Values that count as missing besides null, compared as text exactly, e.g. ['N/A', ''].",
    )

    @field_validator("missing_values", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        """A number or a boolean would be compared as text in each engine's own spelling (0.0 is '0.0' on DuckDB and
        '0' on PostgreSQL): the spec says the text, quoted."""
        if isinstance(value, list):
            for v in value:
                if v is not None and not isinstance(v, str):
                    raise ValueError(
                        f"missing values are compared as text: quote {v!r} as the text it is stored as, e.g. '{v}'"
                    )
        return value


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


DEFINITION = Definition("non_null_ratio", NonNullRatio, NonNullRatioIndicator, unit="ratio", measured="scan")
