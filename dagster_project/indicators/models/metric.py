"""metric: what a spec may write (pydantic); its meaning, its measurement: indicators/metric.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dagster_project.indicators.base import Unit
from dagster_project.indicators.fields import IndicatorSpec, SqlName
from dagster_project.indicators.metric import Aggregate


class Metric(IndicatorSpec):
    """One aggregate of one column, e.g. the 95th percentile of delivery time, with the unit it is measured in."""

    type: Literal["metric"]
    aggregate: Aggregate = Field(
        description="sum, avg, min, max, stddev (sample), percentile (give `percentile`) or distinct_count."
    )
    column: SqlName = Field(description="A numeric column (any column for distinct_count).")
    percentile: float | None = Field(
        default=None, ge=0, le=1, description="With aggregate percentile: which one, as a fraction (0.95)."
    )
    unit: Unit = Field(
        default="number",
        description="What the value is: number (any), count (never negative), ratio (0..1) or duration (the column "
        "holds seconds; bounds are written as durations, e.g. 2h).",
    )

    @model_validator(mode="after")
    def _percentile_with_its_aggregate(self) -> Metric:
        if self.aggregate == "percentile" and self.percentile is None:
            raise ValueError("aggregate percentile needs `percentile`, a fraction such as 0.95")
        if self.aggregate != "percentile" and self.percentile is not None:
            raise ValueError(f"`percentile` is for aggregate percentile, not {self.aggregate}")
        return self


MODEL = Metric
