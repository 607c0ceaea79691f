"""max_age: what a spec may write (pydantic); its meaning, its measurement: indicators/max_age.py."""

from __future__ import annotations

from typing import Literal

from dagster_project.indicators.fields import IndicatorSpec, SqlName


class MaxAge(IndicatorSpec):
    type: Literal["max_age"]
    column: SqlName


MODEL = MaxAge
