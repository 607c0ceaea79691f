"""custom_sql (any dimension): the spec's own read-only SELECT, returning one row with one number column: a ratio
(0..1) unless the spec declares another unit (a count, a duration in seconds, any number)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dagster_project.indicators.base import Definition, Indicator, Unit


@dataclass(frozen=True)
class CustomSqlIndicator(Indicator):
    type: ClassVar[str] = "custom_sql"
    sql: str  # in the engine's dialect: free SQL is run as written, never translated
    unit: Unit = "ratio"

    def free_sql(self) -> str:
        return self.sql


DEFINITION = Definition(
    "custom_sql",
    CustomSqlIndicator,
    unit="ratio",
    measured="free_sql",
    declared_unit=True,
    gx_reason="SQL of its own (GX's SQL path fails silently on DuckDB)",
)
