"""in_set: what a spec may write (pydantic); its meaning, its measurement: indicators/in_set.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import IndicatorSpec, Nulls, SqlName


class InSet(IndicatorSpec):
    type: Literal["in_set"]
    column: SqlName
    values: list[str | int | float] = Field(min_length=1)
    nulls: Nulls = "ignore"


MODEL = InSet
