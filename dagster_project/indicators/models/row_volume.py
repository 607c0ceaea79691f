"""row_volume: what a spec may write (pydantic); its meaning, its measurement: indicators/row_volume.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import Duration, IndicatorSpec, SqlName


class RowVolume(IndicatorSpec):
    """Rows in the period ending at the newest row (at or before the evaluation time) divided by the mean of the
    `baseline_periods` periods before it: the volume of what arrived, the same all day for a table loaded daily."""

    type: Literal["row_volume"]
    timestamp_column: SqlName
    period: Duration = "1d"
    baseline_periods: int = Field(default=7, ge=1, le=366)


MODEL = RowVolume
