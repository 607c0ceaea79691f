"""row_count (completeness): the number of rows in the dataset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from dagster_project.indicators.base import Context, Definition, Indicator
from dagster_project.indicators.fields import IndicatorSpec
from dagster_project.indicators.lazy import exp, sql


class RowCount(IndicatorSpec):
    """The number of rows in the dataset, e.g. at least the catalogue's size."""

    type: Literal["row_count"]


@dataclass(frozen=True)
class RowCountIndicator(Indicator):
    type: ClassVar[str] = "row_count"

    def scan(self, ctx: Context) -> exp.Expr:
        return sql.count()


DEFINITION = Definition(
    "row_count", RowCount, RowCountIndicator, unit="count", measured="scan", gx_reason="not mapped to GX yet"
)
