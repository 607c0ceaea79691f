"""in_range: what a spec may write (pydantic); its meaning, its measurement: indicators/in_range.py."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from dagster_project.indicators.fields import IndicatorSpec, Nulls, SqlName


class InRange(IndicatorSpec):
    type: Literal["in_range"]
    column: SqlName
    min: float | None = None
    max: float | None = None
    nulls: Nulls = "ignore"

    @model_validator(mode="after")
    def _a_bound(self) -> InRange:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


MODEL = InRange
