"""not_in_future: what a spec may write (pydantic); its meaning, its measurement: indicators/not_in_future.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dagster_project.indicators.fields import Duration, IndicatorSpec, SqlName


class NotInFuture(IndicatorSpec):
    """Share of rows whose `column` is at most `tolerance` after the evaluation time (nulls are not judged): a row
    dated in the future is invalid, and freshness (max_age) leaves it out rather than count it as fresh."""

    type: Literal["not_in_future"]
    column: SqlName
    tolerance: Duration = Field(default="5m", description="Clock skew allowed between the sources and the checker.")


MODEL = NotInFuture
