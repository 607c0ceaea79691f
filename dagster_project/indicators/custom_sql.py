"""custom_sql (any dimension): the spec's own read-only SELECT, returning one row with one number column: a ratio
(0..1) unless the spec declares another unit (a count, a duration in seconds, any number)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from dagster_project.indicators.base import Definition, Indicator, Unit
from dagster_project.indicators.fields import IndicatorSpec


class CustomSql(IndicatorSpec):
    type: Literal["custom_sql"]
    sql: str = Field(min_length=1, description="A read-only SELECT returning one row with one number column.")
    unit: Unit = Field(
        default="ratio",
        description="What the number is: ratio (0..1, the default), count (never negative), number (any) or "
        "duration (seconds; bounds are written as durations, e.g. 2h).",
    )


@dataclass(frozen=True)
class CustomSqlIndicator(Indicator):
    type: ClassVar[str] = "custom_sql"
    sql: str  # in the engine's dialect: free SQL is run as written, never translated
    unit: Unit = "ratio"

    def free_sql(self) -> str:
        return self.sql


DEFINITION = Definition(
    "custom_sql",
    CustomSql,
    CustomSqlIndicator,
    unit="ratio",
    measured="free_sql",
    declared_unit=True,
    gx_reason="SQL of its own (GX's SQL path fails silently on DuckDB)",
)
