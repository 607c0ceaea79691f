"""matches_pattern (validity): share of the present values, as text, that the regex matches in full."""

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


def _anchored(regex: str) -> str:
    """The native engine full-matches; GX's pandas path searches. \\Z, not $, which also matches before a newline."""
    return f"^(?:{regex})\\Z"


@dataclass(frozen=True)
class MatchesPatternIndicator(Indicator):
    type: ClassVar[str] = "matches_pattern"
    column: str
    regex: str
    nulls: str = "ignore"

    def scan(self, ctx: Context) -> exp.Expr:
        c = sql.col(self.column)
        return sql.share(sql.FullMatch(this=sql.as_text(c.copy()), expression=sql.lit(self.regex)), c, self.nulls)

    def failing_rows(self, ctx: Context) -> exp.Expr:
        c = sql.col(self.column)
        return sql.failing(sql.FullMatch(this=sql.as_text(c.copy()), expression=sql.lit(self.regex)), c, self.nulls)

    def reads(self, dataset: str) -> tuple[Read, ...]:
        return (Read(dataset, self.column, "any", ("column",)),)

    def gx_parts(self, bound: GxBound) -> tuple[tuple[Part, ...], tuple[BatchColumn, ...]]:
        column = BatchColumn(self.column, (self.column,), "VARCHAR")
        kwargs = {"column": column.name, "regex": _anchored(self.regex), "mostly": bound.mostly}
        return (Part("ExpectColumnValuesToMatchRegex", kwargs),), (column,)

    def gx_observed(self, results: Sequence[Mapping[str, Any]]) -> float:
        return gx_share_met(results[0], self.nulls)


DEFINITION = Definition("matches_pattern", MatchesPatternIndicator, unit="ratio", measured="scan")
