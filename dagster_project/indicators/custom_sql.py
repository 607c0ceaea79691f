"""custom_sql (any dimension): the spec's own read-only SELECT, returning one row with one ratio column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from dagster_project.indicators.base import Definition, Indicator
from dagster_project.indicators.fields import IndicatorSpec


class CustomSql(IndicatorSpec):
    type: Literal["custom_sql"]
    sql: str = Field(min_length=1, description="A read-only SELECT returning one row with one ratio column.")


@dataclass(frozen=True)
class CustomSqlIndicator(Indicator):
    type: ClassVar[str] = "custom_sql"
    sql: str  # in the engine's dialect: free SQL is run as written, never translated

    def free_sql(self) -> str:
        return self.sql


DEFINITION = Definition(
    "custom_sql",
    CustomSql,
    CustomSqlIndicator,
    unit="ratio",
    measured="free_sql",
    gx_reason="SQL of its own (GX's SQL path fails silently on DuckDB)",
)
