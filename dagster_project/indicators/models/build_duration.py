"""build_duration: what a spec may write (pydantic); its meaning, its measurement: indicators/build_duration.py."""

from __future__ import annotations

from typing import Literal

from dagster_project.indicators.fields import IndicatorSpec


class BuildDuration(IndicatorSpec):
    type: Literal["build_duration"]


MODEL = BuildDuration
