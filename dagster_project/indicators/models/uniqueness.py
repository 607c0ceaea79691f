"""uniqueness: what a spec may write (pydantic); its meaning, its measurement: indicators/uniqueness.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import IndicatorSpec, SqlName


class Uniqueness(IndicatorSpec):
    type: Literal["uniqueness"]
    columns: list[SqlName] = Field(min_length=1)


MODEL = Uniqueness
