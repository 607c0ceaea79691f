"""query_availability: what a spec may write (pydantic); the rest: indicators/query_availability.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import Identifier, IndicatorSpec


class QueryAvailability(IndicatorSpec):
    type: Literal["query_availability"]
    query: Identifier
    runs: int = Field(default=20, ge=1, le=10_000)


MODEL = QueryAvailability
