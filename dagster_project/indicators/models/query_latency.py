"""query_latency: what a spec may write (pydantic); its meaning, its measurement: indicators/query_latency.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import Identifier, IndicatorSpec


class QueryLatency(IndicatorSpec):
    type: Literal["query_latency"]
    query: Identifier
    percentile: float = Field(default=95, gt=0, le=100)
    runs: int = Field(default=20, ge=1, le=10_000)


MODEL = QueryLatency
