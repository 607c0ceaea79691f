"""matches_pattern: what a spec may write (pydantic); its meaning, its measurement: indicators/matches_pattern.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import IndicatorSpec, Nulls, SqlName


class MatchesPattern(IndicatorSpec):
    type: Literal["matches_pattern"]
    column: SqlName
    regex: str = Field(min_length=1)
    nulls: Nulls = "ignore"


MODEL = MatchesPattern
