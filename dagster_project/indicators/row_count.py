"""row_count (completeness): the number of rows in the dataset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dagster_project.indicators.base import Context, Definition, Indicator
from dagster_project.indicators.lazy import exp, sql


@dataclass(frozen=True)
class RowCountIndicator(Indicator):
    type: ClassVar[str] = "row_count"

    def scan(self, ctx: Context) -> exp.Expr:
        return sql.count()


DEFINITION = Definition("row_count", RowCountIndicator, unit="count", measured="scan", gx_reason="not mapped to GX yet")
