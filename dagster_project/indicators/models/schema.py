"""schema: what a spec may write (pydantic); its meaning, its measurement: indicators/schema.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import IndicatorSpec, SqlName, SqlType


class SchemaMatch(IndicatorSpec):
    type: Literal["schema"]
    columns: dict[SqlName, SqlType] = Field(min_length=1, description="Expected column -> DuckDB type name.")
    additional_columns: bool = Field(
        True,
        description="false: a column the table has but `columns` does not declare makes the schema fail "
        "(the share is then of the declared and the undeclared columns).",
    )


MODEL = SchemaMatch
