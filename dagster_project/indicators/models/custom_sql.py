"""custom_sql: what a spec may write (pydantic); its meaning, its measurement: indicators/custom_sql.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.base import Unit
from dagster_project.indicators.fields import IndicatorSpec


class CustomSql(IndicatorSpec):
    type: Literal["custom_sql"]
    sql: str = Field(min_length=1, description="A read-only SELECT returning one row with one number column.")
    unit: Unit = Field(
        default="ratio",
        description="What the number is: ratio (0..1, the default), count (never negative), number (any) or "
        "duration (seconds; bounds are written as durations, e.g. 2h).",
    )


MODEL = CustomSql
